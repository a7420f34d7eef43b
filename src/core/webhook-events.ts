/** The events of SPEC §5 that every receiver has always had: on unless the account chooses otherwise. */
export const DEFAULT_WEBHOOK_EVENTS = ['message.received', 'message.sent', 'message.failed', 'session.disconnected'] as const;

/** The events of SPEC §11: opt-in, so that no existing receiver is surprised by a shape it never saw. */
export const OPT_IN_WEBHOOK_EVENTS = [
  'message.delivered',
  'message.read',
  'message.played',
  'message.reaction',
  'message.edited',
  'message.revoked',
  'poll.vote',
  'account.restricted',
  'account.restriction_lifted',
] as const;

export const ALL_WEBHOOK_EVENTS: readonly string[] = [...DEFAULT_WEBHOOK_EVENTS, ...OPT_IN_WEBHOOK_EVENTS];

/** The account's choice as stored (`accounts.webhook_events`, JSON; null: the defaults). */
export function chosenEvents(stored: string | null): ReadonlySet<string> {
  if (stored === null) return new Set(DEFAULT_WEBHOOK_EVENTS);
  try {
    const value = JSON.parse(stored) as unknown;
    if (Array.isArray(value)) return new Set(value.filter((v): v is string => typeof v === 'string'));
  } catch {
    // A damaged value falls back to the defaults rather than silencing every event.
  }
  return new Set(DEFAULT_WEBHOOK_EVENTS);
}

/** Known names only, each once, in the order of the list above (so the stored value is canonical). */
export function canonicalEvents(names: readonly string[]): string[] {
  const wanted = new Set(names);
  return ALL_WEBHOOK_EVENTS.filter((name) => wanted.has(name));
}
