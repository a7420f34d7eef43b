import { useState } from 'preact/hooks';
import { Card, CopyButton, PageHeader } from '../components/ui';
import { useAuth } from '../session';

const KEY = 'YOUR_API_KEY';

function examples(base: string): Array<{ id: string; label: string; code: string; note: string }> {
  return [
    {
      id: 'browser',
      label: 'Browser',
      note: 'Paste into the address bar. Handy for a first test; prefer the header in programs (a URL ends up in history and logs).',
      code: `${base}/send.php?recipient=12125551234&apikey=${KEY}&text=Hello%20from%20MessageAPI`,
    },
    {
      id: 'curl',
      label: 'cURL',
      note: 'Any shell. Add -H "Idempotency-Key: order-42" to make a retry safe.',
      code: `curl -X POST ${base}/api/v1/send \\
  -H "X-API-Key: ${KEY}" \\
  -H "Content-Type: application/json" \\
  -d '{"recipient": "12125551234", "text": "Hello from MessageAPI"}'`,
    },
    {
      id: 'php',
      label: 'PHP',
      note: 'PHP 7.4 or later with the curl extension.',
      code: `<?php
$ch = curl_init('${base}/api/v1/send');
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_HTTPHEADER => ['X-API-Key: ${KEY}', 'Content-Type: application/json'],
    CURLOPT_POSTFIELDS => json_encode(['recipient' => '12125551234', 'text' => 'Hello from MessageAPI']),
]);
$answer = json_decode(curl_exec($ch), true);
echo $answer['success'] ? "Sent: {$answer['messageId']}\\n" : "Error: {$answer['error']}\\n";`,
    },
    {
      id: 'python',
      label: 'Python',
      note: 'Python 3, standard library only: nothing to install.',
      code: `import json
import urllib.error
import urllib.request

request = urllib.request.Request(
    "${base}/api/v1/send",
    data=json.dumps({"recipient": "12125551234", "text": "Hello from MessageAPI"}).encode(),
    headers={"X-API-Key": "${KEY}", "Content-Type": "application/json"},
    method="POST",
)
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
except urllib.error.HTTPError as error:  # 4xx/5xx still carry the JSON error
    answer = json.load(error)
print(answer["messageId"] if answer["success"] else answer["error"])`,
    },
    {
      id: 'node',
      label: 'Node.js',
      note: 'Node.js 18 or later (built-in fetch), as an ES module.',
      code: `const response = await fetch('${base}/api/v1/send', {
  method: 'POST',
  headers: { 'X-API-Key': '${KEY}', 'Content-Type': 'application/json' },
  body: JSON.stringify({ recipient: '12125551234', text: 'Hello from MessageAPI' }),
});
const answer = await response.json();
console.log(answer.success ? answer.messageId : answer.error);`,
    },
    {
      id: 'sheets',
      label: 'Google Sheets',
      note:
        'Extensions → Apps Script, paste, save, reload the sheet: a WhatsApp menu appears. Select rows (number in column A, text in B) and choose WhatsApp → Send selected rows; the result goes to column C. It sends only when you choose it, never when the sheet recalculates. Google runs it on its own servers, so this server must be reachable from the internet at the address below (not localhost).',
      code: `function onOpen() {
  SpreadsheetApp.getUi().createMenu('WhatsApp').addItem('Send selected rows', 'sendSelectedRows').addToUi();
}

function sendSelectedRows() {
  const sheet = SpreadsheetApp.getActiveSheet();
  const range = sheet.getActiveRange();
  const rows = sheet.getRange(range.getRow(), 1, range.getNumRows(), 2).getValues();
  rows.forEach(function (row, i) {
    const response = UrlFetchApp.fetch('${base}/api/v1/send', {
      method: 'post',
      contentType: 'application/json',
      headers: { 'X-API-Key': '${KEY}' },
      payload: JSON.stringify({ recipient: String(row[0]), text: String(row[1]) }),
      muteHttpExceptions: true,
    });
    const answer = JSON.parse(response.getContentText());
    sheet.getRange(range.getRow() + i, 3).setValue(answer.success ? answer.status : answer.error);
  });
}`,
    },
  ];
}

export function QuickStartPage() {
  const { auth } = useAuth();
  const list = examples(auth.baseUrl);
  const [tab, setTab] = useState(list[0]!.id);
  const current = list.find((e) => e.id === tab) ?? list[0]!;

  const onKey = (event: KeyboardEvent) => {
    const index = list.findIndex((e) => e.id === tab);
    const next = event.key === 'ArrowRight' ? index + 1 : event.key === 'ArrowLeft' ? index - 1 : undefined;
    if (next === undefined) return;
    event.preventDefault();
    const id = list[(next + list.length) % list.length]!.id;
    setTab(id);
    document.getElementById(`tab-${id}`)?.focus();
  };

  return (
    <>
      <PageHeader
        title="Quick start"
        lead={
          <>
            Send a WhatsApp message from anywhere. Replace <code>{KEY}</code> with a key from <a href="/keys">API keys</a> and the number with one that has
            WhatsApp (country code, digits only).
          </>
        }
      />
      <Card>
        <div role="tablist" aria-label="Examples" class="tabs" onKeyDown={onKey}>
          {list.map((e) => (
            <button
              key={e.id}
              id={`tab-${e.id}`}
              role="tab"
              type="button"
              aria-selected={e.id === tab}
              aria-controls={`panel-${e.id}`}
              tabIndex={e.id === tab ? 0 : -1}
              class="tab"
              onClick={() => setTab(e.id)}
            >
              {e.label}
            </button>
          ))}
        </div>
        <div role="tabpanel" id={`panel-${current.id}`} aria-labelledby={`tab-${current.id}`} class="tabpanel">
          <p class="hint">{current.note}</p>
          <div class="code">
            {/* Scrolls sideways on a phone: focusable, so the keyboard can scroll it too. */}
            <pre tabIndex={0} role="region" aria-label={`${current.label} example`}>
              <code>{current.code}</code>
            </pre>
            <div class="code-copy">
              <CopyButton text={current.code} />
            </div>
          </div>
        </div>
      </Card>
      <Card title="What comes back">
        <pre class="code-inline" tabIndex={0} role="region" aria-label="A successful answer">
          <code>{`{"success": true, "messageId": "…", "status": "sent"}`}</code>
        </pre>
        <p class="hint">
          Errors are <code>{`{"success": false, "error": "…", "code": "…"}`}</code> with a sentence you can act on. Images: <code>/api/v1/send/image</code> with{' '}
          <code>file</code>; PDFs: <code>/api/v1/send/document</code> with <code>document</code>. The full reference is at{' '}
          <a href="/docs" target="_blank" rel="noreferrer">
            /docs
          </a>
          .
        </p>
      </Card>
    </>
  );
}
