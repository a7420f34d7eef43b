import type { RenderedEmail } from './disconnect-email.js';

export interface RestrictionEmailInput {
  /** When WhatsApp says the timelock ends (ISO), if it said. */
  until: string | null;
  at: number;
  publicUrl: string | undefined;
}

const esc = (value: string) => value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The e-mail sent when WhatsApp starts restricting the number from new chats (reach-out timelock). */
export function renderRestrictionEmail(input: RestrictionEmailInput): RenderedEmail {
  const when = new Date(input.at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const lifts = input.until ? `WhatsApp says it lifts at ${input.until.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}.` : 'WhatsApp did not say when it lifts; it usually does within hours to a few days.';
  const subject = 'WhatsApp restricted your number from starting new chats';
  const lines = [
    `At ${when} WhatsApp restricted your number from starting new chats (a "reach-out timelock", error 463).`,
    lifts,
    '',
    'What it means: messages to people who already chat with you still go; messages to numbers you never chatted with are refused (code reachout_restricted) until it lifts. MessageAPI refuses them before they reach WhatsApp and never retries them, since retries make a restriction longer.',
    '',
    'What to do: pause campaigns to new numbers, send only to people who expect your messages, and prefer replies to conversations they started.',
    input.publicUrl ? `The dashboard (${input.publicUrl}/) shows the restriction and the new-chat cap on its Overview.` : "The dashboard's Overview shows the restriction and the new-chat cap.",
  ];
  const html = `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">
<h2 style="margin:0 0 12px">${esc(subject)}</h2>
${lines
  .filter((l) => l !== '')
  .map((l) => `<p>${esc(l)}</p>`)
  .join('\n')}
</body></html>`;
  return { subject, text: lines.join('\n'), html };
}
