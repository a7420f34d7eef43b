import type { Config } from '../config.js';
import { isMediaError } from './url-policy/media-error.js';
import { resolveAllowedAddresses, systemLookup, type LookupFn } from './url-policy/resolve-host.js';
import { addressPolicy, checkUrlWithPolicy } from './url-policy/url-check.js';
import { newWebhookSecret, secretPrefix } from './webhook-secret.js';
import type { Store, Tx } from '../store/store.js';
import type { Account } from './accounts.js';
import { AppError } from './errors.js';
import { parseRecipient } from './recipients.js';
import type { SecretBox } from './secret-box.js';
import { ALL_WEBHOOK_EVENTS, canonicalEvents, chosenEvents } from './webhook-events.js';

export interface SettingsDeps {
  store: Store;
  config: Config;
  box: SecretBox;
  /** Resolves webhook hosts at setting time; the system resolver unless a test injects one. */
  lookup?: LookupFn;
}

/** SPEC §5 `GET /api/v1/settings`, plus whether mail is on at all and whether a 410 stopped the URL. */
export interface SettingsView {
  email: string;
  plan: string;
  webhookUrl: string | null;
  webhookSecretPrefix: string | null;
  /** `stopped`: the receiver answered 410 Gone; setting the URL again resumes deliveries. */
  webhookState: 'none' | 'active' | 'stopped';
  webhookStoppedAt: string | null;
  disconnectEmail: boolean;
  mailConfigured: boolean;
  allowedRecipients?: string[];
  webhookEvents: string[];
  inlineMediaMaxBytes: number;
  inlineMediaLimit: number;
}

export async function readSettings(deps: SettingsDeps, accountId: string, db: Tx = deps.store.db): Promise<SettingsView> {
  const row = await db
    .selectFrom('accounts')
    .leftJoin('webhook_retired_urls', 'webhook_retired_urls.account_id', 'accounts.id')
    .select([
      'accounts.email',
      'accounts.plan',
      'accounts.webhook_url',
      'accounts.webhook_secret',
      'accounts.disconnect_email',
      'accounts.webhook_events',
      'accounts.inline_media_max_bytes',
      'webhook_retired_urls.url as retired_url',
      'webhook_retired_urls.at as retired_at',
    ])
    .where('accounts.id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `No account with id ${accountId}.`);
  const stopped = row.webhook_url !== null && row.retired_url === row.webhook_url;
  const view: SettingsView = {
    email: row.email,
    plan: row.plan,
    webhookUrl: row.webhook_url,
    webhookSecretPrefix: row.webhook_secret ? secretPrefix(deps.box.decrypt(row.webhook_secret)) : null,
    webhookState: row.webhook_url === null ? 'none' : stopped ? 'stopped' : 'active',
    webhookStoppedAt: stopped && row.retired_at !== null ? new Date(row.retired_at).toISOString() : null,
    disconnectEmail: row.disconnect_email === 1,
    mailConfigured: deps.config.smtpUrl !== undefined,
    webhookEvents: canonicalEvents([...chosenEvents(row.webhook_events)]),
    inlineMediaMaxBytes: Number(row.inline_media_max_bytes),
    inlineMediaLimit: deps.config.inboundMedia.inlineMaxBytes,
  };
  if (deps.config.plans[row.plan as Account['plan']]?.maxRecipients != null) {
    const recipients = await db.selectFrom('allowed_recipients').select('recipient').where('account_id', '=', accountId).orderBy('created_at').execute();
    view.allowedRecipients = recipients.map((r) => r.recipient);
  }
  return view;
}

export interface SettingsPatch {
  webhookUrl?: string | null;
  disconnectEmail?: boolean;
  webhookEvents?: string[];
  inlineMediaMaxBytes?: number;
}

/**
 * Changes an account's settings. A webhook URL needs a plan with webhooks and passes the SSRF
 * guard (its host is resolved too, so a name pointing at a private address is refused now
 * rather than at the first delivery). The first URL an account gets comes with a new secret,
 * returned this once.
 */
export async function updateSettings(deps: SettingsDeps, account: Account, patch: SettingsPatch): Promise<SettingsView & { webhookSecret?: string }> {
  let url: string | null | undefined;
  if (patch.webhookUrl !== undefined) {
    const raw = patch.webhookUrl === null ? '' : patch.webhookUrl.trim();
    url = raw === '' ? null : await checkWebhookUrl(deps, account, raw);
  }
  let events: string[] | undefined;
  if (patch.webhookEvents !== undefined) {
    events = canonicalEvents(patch.webhookEvents);
    const unknown = patch.webhookEvents.filter((e) => !events!.includes(e));
    if (unknown.length > 0) throw new AppError('invalid_parameter', `Invalid parameter: webhookEvents — unknown event ${unknown[0]}; known: ${ALL_WEBHOOK_EVENTS.join(', ')}.`);
  }
  const inlineCap = deps.config.inboundMedia.inlineMaxBytes;
  if (patch.inlineMediaMaxBytes !== undefined && patch.inlineMediaMaxBytes > inlineCap) {
    throw new AppError('invalid_parameter', `Invalid parameter: inlineMediaMaxBytes — this server inlines files of at most ${inlineCap} bytes (INBOUND_MEDIA_INLINE_MAX_BYTES); larger ones are fetched by their link.`);
  }
  return deps.store.write(async (tx) => {
    let secret: string | undefined;
    if (url !== undefined) {
      const current = await tx.selectFrom('accounts').select('webhook_secret').where('id', '=', account.id).executeTakeFirstOrThrow();
      const set: { webhook_url: string | null; webhook_secret?: string } = { webhook_url: url };
      if (url !== null && current.webhook_secret === null) {
        secret = newWebhookSecret();
        set.webhook_secret = deps.box.encrypt(secret);
      }
      await tx.updateTable('accounts').set(set).where('id', '=', account.id).execute();
      // Setting a URL (again) is how a user says the receiver is back after a 410.
      await tx.deleteFrom('webhook_retired_urls').where('account_id', '=', account.id).execute();
    }
    if (events !== undefined) await tx.updateTable('accounts').set({ webhook_events: JSON.stringify(events) }).where('id', '=', account.id).execute();
    if (patch.inlineMediaMaxBytes !== undefined) await tx.updateTable('accounts').set({ inline_media_max_bytes: patch.inlineMediaMaxBytes }).where('id', '=', account.id).execute();
    if (patch.disconnectEmail !== undefined) {
      await tx.updateTable('accounts').set({ disconnect_email: patch.disconnectEmail ? 1 : 0 }).where('id', '=', account.id).execute();
    }
    const view = await readSettings(deps, account.id, tx);
    return secret === undefined ? view : { ...view, webhookSecret: secret };
  });
}

/** A new signing secret, shown this once; the old one stops signing at once. */
export async function rotateWebhookSecret(deps: SettingsDeps, account: Account): Promise<string> {
  requireWebhookPlan(deps.config, account);
  const secret = newWebhookSecret();
  await deps.store.write((tx) => tx.updateTable('accounts').set({ webhook_secret: deps.box.encrypt(secret) }).where('id', '=', account.id).execute());
  return secret;
}

/** Frees one of a Personal account's recipient slots. */
export async function removeAllowedRecipient(deps: SettingsDeps, account: Account, raw: string): Promise<void> {
  const recipient = parseRecipient(raw).value;
  const result = await deps.store.write((tx) =>
    tx.deleteFrom('allowed_recipients').where('account_id', '=', account.id).where('recipient', '=', recipient).executeTakeFirst(),
  );
  if (Number(result.numDeletedRows) === 0) throw new AppError('not_found', `${recipient} is not on this account's Recipients list (see the dashboard's Recipients page).`);
}

export function requireWebhookPlan(config: Config, account: Account): void {
  if (!config.plans[account.plan].webhooks) {
    throw new AppError('plan_restriction', `Webhooks need the Unlimited plan; this account is on ${account.plan}.`);
  }
}

async function checkWebhookUrl(deps: SettingsDeps, account: Account, raw: string): Promise<string> {
  requireWebhookPlan(deps.config, account);
  if (raw.length > 2048) throw new AppError('invalid_parameter', 'Invalid parameter: webhookUrl must be at most 2048 characters long.');
  const allowed = addressPolicy(deps.config.allowPrivateUrls);
  try {
    const url = checkUrlWithPolicy(raw, 'webhook URL', allowed);
    await resolveAllowedAddresses(url, 'webhook URL', deps.lookup ?? systemLookup, allowed);
    return url.href;
  } catch (error) {
    if (isMediaError(error) && error.code === 'invalid_url') throw new AppError('invalid_url', error.message);
    // A name that does not resolve yet is accepted: every delivery checks it again.
    if (isMediaError(error)) {
      return checkUrlWithPolicy(raw, 'webhook URL', allowed).href;
    }
    throw error;
  }
}
