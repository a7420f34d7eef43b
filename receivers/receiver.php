<?php
// MessageAPI webhook receiver for PHP 7.4+ (no extensions beyond the defaults).
// Shared hosting: upload this file (and .htaccess) to a web folder and use its URL as webhook URL.
// Local test: php -S 127.0.0.1:8080 receiver.php
// A MessageAPI server on the same machine refuses 127.0.0.1 as a private address unless it runs
// with ALLOW_PRIVATE_URLS=true (a test setting: it lets anyone with an account reach your local
// network); then use http://127.0.0.1:8080/ as webhook URL.
// Each verified event becomes one JSON line in webhooks-<16 hex>.log next to this file.

// Your signing secret from Settings → Webhooks. A WEBHOOK_SECRET environment variable wins if set.
$secret = getenv('WEBHOOK_SECRET') ?: 'whsec_REPLACE_ME';

// The log holds your messages. Its name is derived from the secret, so nobody can guess its URL,
// and .htaccess also denies *.log on Apache. On nginx add: location ~ \.log$ { deny all; }
$log = __DIR__ . '/webhooks-' . substr(hash('sha256', $secret), 0, 16) . '.log';
$tolerance = 5 * 60; // seconds: a request signed longer ago (or ahead) may be a captured replay

function reply(int $status, string $text): void
{
    http_response_code($status);
    header('Content-Type: text/plain');
    exit("$text\n"); // a fixed short text: never echo what was posted
}

if (strpos($secret, 'REPLACE_ME') !== false) reply(500, 'Set WEBHOOK_SECRET or the $secret line first.');
if ($_SERVER['REQUEST_METHOD'] !== 'POST') { header('Allow: POST'); reply(405, 'POST only'); }

// Verify the raw bytes: a re-serialised JSON body would not match the signature.
$body = file_get_contents('php://input');
$id = $_SERVER['HTTP_WEBHOOK_ID'] ?? '';
$ts = $_SERVER['HTTP_WEBHOOK_TIMESTAMP'] ?? '';
$key = base64_decode(preg_replace('/^whsec_/', '', $secret));
$expected = base64_encode(hash_hmac('sha256', "$id.$ts.$body", $key, true));
$valid = false;
// The header may carry several space-separated "v1,<base64>" signatures; one match is enough.
foreach (explode(' ', $_SERVER['HTTP_WEBHOOK_SIGNATURE'] ?? '') as $entry) {
    [$version, $sig] = array_pad(explode(',', $entry, 2), 2, '');
    // hash_equals is constant-time, so timings don't reveal how much of a guess was right.
    $valid = $valid || ($version === 'v1' && hash_equals($expected, $sig));
}
if (!$valid || $id === '' || !ctype_digit($ts) || abs(time() - (int) $ts) > $tolerance) {
    reply(401, 'invalid signature'); // and nothing is logged
}
$event = json_decode($body);
if (json_last_error() !== JSON_ERROR_NONE) reply(400, 'invalid JSON');

// Delivery is at-least-once, so the same event can arrive twice: skip a webhook-id already in
// the log. The exclusive lock makes check-and-append one step for concurrent requests.
$fh = fopen($log, 'c+');
if (!$fh || !flock($fh, LOCK_EX)) reply(500, 'cannot open log'); // non-2xx: the sender retries
$flags = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE;
// Every line starts {"webhookId":<id>, and JSON escapes newlines inside strings, so this is exact.
$duplicate = strpos("\n" . stream_get_contents($fh), "\n{\"webhookId\":" . json_encode($id, $flags) . ',') !== false;
if (!$duplicate) {
    $receivedAt = date_create('now', timezone_open('UTC'))->format('Y-m-d\TH:i:s.v\Z');
    $line = json_encode(['webhookId' => $id, 'receivedAt' => $receivedAt, 'event' => $event], $flags) . "\n";
    fseek($fh, 0, SEEK_END);
    if (fwrite($fh, $line) !== strlen($line)) reply(500, 'cannot write log');
    fflush($fh);
}
flock($fh, LOCK_UN);
fclose($fh);
reply(200, $duplicate ? 'duplicate' : 'ok'); // 2xx either way, so the sender stops retrying
