/** The disconnect e-mail of SPEC §6: what happened, to which number, when, and how to re-link. */
export interface DisconnectEmailInput {
  phone: string | null;
  reason: 'logged_out' | 'connection_lost';
  at: number;
  /** PUBLIC_URL, when the operator set it. */
  publicUrl: string | undefined;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const REASONS: Record<DisconnectEmailInput['reason'], string> = {
  logged_out: 'The number was unlinked from the phone (WhatsApp > Linked devices), or WhatsApp logged this device out.',
  connection_lost: 'The connection to WhatsApp was lost and could not be restored automatically.',
};

export function renderDisconnectEmail(input: DisconnectEmailInput): RenderedEmail {
  const number = input.phone ? `+${input.phone}` : 'your WhatsApp number';
  const when = new Date(input.at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const dashboard = input.publicUrl ? `${input.publicUrl}/` : null;
  const subject = `WhatsApp disconnected: ${number} can no longer send messages`;
  const steps = [
    dashboard ? `Open ${dashboard} and sign in.` : 'Open your MessageAPI dashboard and sign in.',
    'Go to "WhatsApp connection" and press "Link".',
    'On your phone open WhatsApp > Settings > Linked devices > Link a device, and scan the QR code (or use the pairing code).',
  ];
  const apiHint = `You can also link through the API: POST ${input.publicUrl ?? ''}/api/v1/session/link with your X-API-Key.`;
  const text = [
    `${number} was disconnected from MessageAPI at ${when}.`,
    '',
    `Why: ${REASONS[input.reason]} (reason: ${input.reason})`,
    '',
    'Until you link it again, sends answer "not_connected" and no incoming messages arrive.',
    '',
    'To link it again:',
    ...steps.map((s, i) => `  ${i + 1}. ${s}`),
    '',
    apiHint,
    '',
    'You get this e-mail because disconnect e-mails are on for your account; you can switch them off on the dashboard\'s WhatsApp connection page.',
  ].join('\n');
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">
<h2 style="margin:0 0 12px">${esc(number)} was disconnected</h2>
<p><strong>When:</strong> ${esc(when)}<br><strong>Why:</strong> ${esc(REASONS[input.reason])} <code>${esc(input.reason)}</code></p>
<p>Until you link it again, sends answer <code>not_connected</code> and no incoming messages arrive.</p>
<p><strong>To link it again:</strong></p>
<ol>${steps.map((s) => `<li>${linkify(s, dashboard)}</li>`).join('')}</ol>
<p style="color:#555">${esc(apiHint)}</p>
<p style="color:#777;font-size:13px">You get this e-mail because disconnect e-mails are on for your account; you can switch them off on the dashboard's WhatsApp connection page.</p>
</body></html>`;
  return { subject, text, html };
}

function esc(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function linkify(step: string, dashboard: string | null): string {
  const escaped = esc(step);
  if (!dashboard) return escaped;
  const href = esc(dashboard);
  return escaped.replace(href, `<a href="${href}">${href}</a>`);
}
