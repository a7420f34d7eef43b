#!/usr/bin/env python3
"""MessageAPI webhook receiver for Python 3.8+ (standard library only).

Run: WEBHOOK_SECRET=whsec_... python3 receiver.py   (listens on HOST:PORT, default 127.0.0.1:8080)
A MessageAPI server on the same machine refuses 127.0.0.1 as a private address unless it runs
with ALLOW_PRIVATE_URLS=true (a test setting: it lets anyone with an account reach your local
network); then use http://127.0.0.1:8080/ as webhook URL.
Each verified event becomes one JSON line in webhooks.log next to this file.
"""
import base64, hashlib, hmac, json, os, re, threading, time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Your signing secret from Settings → Webhooks. A WEBHOOK_SECRET environment variable wins if set.
SECRET = os.environ.get("WEBHOOK_SECRET") or "whsec_REPLACE_ME"
PORT = int(os.environ.get("PORT") or 8080)
# Loopback by default: put an HTTPS reverse proxy (nginx, Caddy) in front, or set HOST=0.0.0.0.
HOST = os.environ.get("HOST") or "127.0.0.1"
LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "webhooks.log")
TOLERANCE = 5 * 60  # seconds: a request signed longer ago (or ahead) may be a captured replay
MAX_BODY = 1024 * 1024

if "REPLACE_ME" in SECRET:
    raise SystemExit("Set WEBHOOK_SECRET (or the SECRET line at the top of receiver.py) first.")
KEY = base64.b64decode(SECRET[len("whsec_"):] if SECRET.startswith("whsec_") else SECRET)

# Delivery is at-least-once, so the same event can arrive twice: remember every logged
# webhook-id. Reading them back from the log makes this survive restarts.
seen, lock = set(), threading.Lock()
if os.path.exists(LOG):
    with open(LOG, encoding="utf-8") as f:
        for line in f:
            try:
                seen.add(json.loads(line)["webhookId"])
            except (ValueError, KeyError, TypeError):
                pass  # blank or torn line


def verified(headers, body):
    msg_id, ts, sigs = headers.get("webhook-id"), headers.get("webhook-timestamp", ""), headers.get("webhook-signature", "")
    if not msg_id or not re.fullmatch(r"[0-9]+", ts) or abs(time.time() - int(ts)) > TOLERANCE:
        return False
    digest = hmac.new(KEY, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest)
    # The header may carry several space-separated "v1,<base64>" signatures; one match is enough.
    # compare_digest is constant-time, so timings don't reveal how much of a guess was right.
    return any(version == "v1" and hmac.compare_digest(expected, sig.encode())
               for version, _, sig in (entry.partition(",") for entry in sigs.split(" ")))


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, text):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(text.encode() + b"\n")

    def do_GET(self):
        self.reply(405, "POST only")

    def do_POST(self):
        length = self.headers.get("Content-Length", "0")
        if not (length.isascii() and length.isdigit()) or int(length) > MAX_BODY:
            return self.reply(413, "too large or no Content-Length")
        body = self.rfile.read(int(length))  # verify the raw bytes: re-serialised JSON would not match
        if not verified(self.headers, body):
            return self.reply(401, "invalid signature")  # never log the body
        try:
            event = json.loads(body)
        except ValueError:
            return self.reply(400, "invalid JSON")
        msg_id = self.headers["webhook-id"]
        received_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = json.dumps({"webhookId": msg_id, "receivedAt": received_at, "event": event}, ensure_ascii=False, separators=(",", ":"))
        with lock:  # check-and-append as one step, so two concurrent retries can't both be logged
            duplicate = msg_id in seen
            try:
                if not duplicate:
                    with open(LOG, "a", encoding="utf-8") as f:
                        f.write(line + "\n")
                    seen.add(msg_id)
            except OSError as err:
                self.log_error("cannot write %s: %s", LOG, err)
                return self.reply(500, "cannot write log")  # non-2xx: the sender will retry later
        self.reply(200, "duplicate" if duplicate else "ok")  # 2xx either way, so the sender stops retrying


if __name__ == "__main__":
    ThreadingHTTPServer.request_queue_size = 128  # the default backlog of 5 makes bursts wait ~1 s
    server = ThreadingHTTPServer((HOST, PORT), Handler)
    # PORT=0 lets the system pick a free port; the line below says which one was bound.
    print(f"Webhook receiver listening on http://{HOST}:{server.server_address[1]}/", flush=True)
    server.serve_forever()
