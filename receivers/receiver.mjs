// MessageAPI webhook receiver for Node.js 18+ (standard library only).
// Run: WEBHOOK_SECRET=whsec_... node receiver.mjs   (listens on HOST:PORT, default 127.0.0.1:8080)
// A MessageAPI server on the same machine refuses 127.0.0.1 as a private address unless it runs
// with ALLOW_PRIVATE_URLS=true (a test setting: it lets anyone with an account reach your local
// network); then use http://127.0.0.1:8080/ as webhook URL.
// Each verified event becomes one JSON line in webhooks.log next to this file.
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// Your signing secret from Settings → Webhooks. A WEBHOOK_SECRET environment variable wins if set.
const SECRET = process.env.WEBHOOK_SECRET || 'whsec_REPLACE_ME';
const PORT = Number(process.env.PORT || 8080);
// Loopback by default: put an HTTPS reverse proxy (nginx, Caddy) in front, or set HOST=0.0.0.0.
const HOST = process.env.HOST || '127.0.0.1';
const LOG = fileURLToPath(new URL('webhooks.log', import.meta.url));
const TOLERANCE = 5 * 60; // seconds: a request signed longer ago (or ahead) may be a captured replay
const MAX_BODY = 1024 * 1024;

if (SECRET.includes('REPLACE_ME')) {
  console.error('Set WEBHOOK_SECRET (or the SECRET line at the top of receiver.mjs) first.');
  process.exit(1);
}
const KEY = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');

// Delivery is at-least-once, so the same event can arrive twice: remember every logged
// webhook-id. Reading them back from the log makes this survive restarts.
const seen = new Set();
if (existsSync(LOG)) {
  for (const line of readFileSync(LOG, 'utf8').split('\n')) {
    try { seen.add(JSON.parse(line).webhookId); } catch { /* blank or torn line */ }
  }
}

function verified(headers, body) {
  const id = headers['webhook-id'], ts = headers['webhook-timestamp'], sigs = headers['webhook-signature'];
  if (!id || !sigs || !/^\d+$/.test(ts ?? '')) return false;
  if (Math.abs(Date.now() / 1000 - Number(ts)) > TOLERANCE) return false;
  const expected = Buffer.from(createHmac('sha256', KEY).update(`${id}.${ts}.`).update(body).digest('base64'));
  // The header may carry several space-separated "v1,<base64>" signatures; one match is enough.
  return sigs.split(' ').some((entry) => {
    const [version, sig] = entry.split(',');
    const given = Buffer.from(sig ?? '');
    // Constant-time compare, so an attacker can't learn the signature byte by byte from timings.
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const server = createServer((req, res) => {
  const reply = (status, text) => res.writeHead(status, { 'content-type': 'text/plain' }).end(`${text}\n`);
  if (req.method !== 'POST') return reply(405, 'POST only');
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => { size += chunk.length; if (size <= MAX_BODY) chunks.push(chunk); });
  req.on('end', () => {
    if (size > MAX_BODY) return reply(413, 'too large');
    const body = Buffer.concat(chunks); // verify the raw bytes: re-serialised JSON would not match
    if (!verified(req.headers, body)) return reply(401, 'invalid signature'); // never log the body
    let event;
    try { event = JSON.parse(body.toString('utf8')); } catch { return reply(400, 'invalid JSON'); }
    const id = req.headers['webhook-id'];
    if (seen.has(id)) return reply(200, 'duplicate'); // 2xx, so the sender stops retrying
    try {
      // Synchronous check-and-append: no other request can run in between, so no double lines.
      appendFileSync(LOG, JSON.stringify({ webhookId: id, receivedAt: new Date().toISOString(), event }) + '\n');
    } catch (err) {
      console.error(`cannot write ${LOG}: ${err.message}`);
      return reply(500, 'cannot write log'); // non-2xx: the sender will retry later
    }
    seen.add(id);
    reply(200, 'ok');
  });
});
// PORT=0 lets the system pick a free port; the line below says which one was bound.
server.listen(PORT, HOST, () => console.log(`Webhook receiver listening on http://${HOST}:${server.address().port}/`));
