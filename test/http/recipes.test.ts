import { execFile } from 'node:child_process';
import os from 'node:os';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../helpers/databases.js';
import { readmeBlocks, shellCommands } from '../helpers/readme-examples.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

const run = promisify(execFile);

/** The README's recipes, in the order they appear. */
const [shell, uptimeKuma, homeAssistant, esp32, githubActions] = readmeBlocks('Recipes');

/** Arduino's UrlEncode library: everything but letters, digits and -_.~ as %XX of its UTF-8 bytes. */
function arduinoUrlEncode(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => (/[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** One HTTP/1.1 exchange over a raw socket, byte for byte as the client writes it. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('data', (chunk) => {
      answer += chunk;
      const headEnd = answer.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(answer)?.[1];
      if (headEnd >= 0 && length !== undefined && Buffer.byteLength(answer.slice(headEnd + 4)) >= Number(length)) {
        socket.end();
        resolve(answer);
      }
    });
    socket.on('error', reject);
    socket.write(request);
  });
}

for (const dialect of testDialects()) {
  describe(`README recipes against a listening server (${dialect})`, () => {
    let t: TestApp;
    let key: string;
    let base: string;
    let port: number;

    beforeAll(async () => {
      t = await startTestApp(dialect);
      key = (await t.createAccount('unlimited')).apiKey;
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      port = (t.app.server.address() as net.AddressInfo).port;
      base = `http://127.0.0.1:${port}`;
    });
    afterAll(() => t.close());

    async function sentMessage(answer: string) {
      const id = /^Message Sent\. Message id: (\S+)\n?$/.exec(answer)?.[1];
      expect(id, `answer: ${answer}`).toBeDefined();
      const row = await t.runtime.store.db.selectFrom('messages').selectAll().where('id', '=', id!).executeTakeFirstOrThrow();
      return row;
    }

    it('the shell one-liner sends and prints CallMeBot\'s answer', async () => {
      expect(shell!.lang).toBe('sh');
      const [command] = shellCommands(shell!.code);
      const { stdout } = await run('bash', ['-c', command!.replaceAll('http://localhost:3000', base)], { env: { ...process.env, KEY: key }, timeout: 15_000 });
      expect(await sentMessage(stdout)).toMatchObject({ recipient: '12125551234', text: `Backup finished on ${os.hostname()}` });
    });

    it("Uptime Kuma's CallMeBot notification: the pasted endpoint plus &text=<encoded alert>", async () => {
      const endpoint = uptimeKuma!.code.trim().replace('http://your-server:3000', base).replace('YOUR_API_KEY', key);
      const alert = '[Home server] [🔴 Down] connect ECONNREFUSED 10.0.0.2:443 & retrying';
      // Uptime Kuma's provider: axios.get(callMeBotEndpoint + "&text=" + encodeURIComponent(msg))
      const res = await fetch(`${endpoint}&text=${encodeURIComponent(alert)}`, { headers: { 'user-agent': 'Uptime-Kuma/1.23.16' } });
      expect(res.status).toBe(200);
      expect(await sentMessage(await res.text())).toMatchObject({ recipient: '12125551234', text: alert });
    });

    it("Home Assistant's RESTful notify: GET resource with the message as text and data as query fields", async () => {
      const yaml = homeAssistant!.code;
      const field = (name: string) => new RegExp(`^\\s*${name}: "?([^"\\n]+)"?$`, 'm').exec(yaml)?.[1];
      expect(field('method')).toBe('GET');
      // HA: data = {message_param_name: message}, updated with `data`; GET sends it as params (form-encoded, + for space).
      const params = new URLSearchParams({ [field('message_param_name')!]: 'Door opened: hall (22:04)', phone: field('phone')!, apikey: field('apikey')!.replace('YOUR_API_KEY', key) });
      const resource = field('resource')!.replace('http://your-server:3000', base);
      const res = await fetch(`${resource}?${params.toString()}`, { headers: { 'user-agent': 'HomeAssistant/2026.11 httpx/0.28.1 Python/3.13' } });
      expect(res.status).toBe(200);
      expect(await sentMessage(await res.text())).toMatchObject({ recipient: '12125551234', text: 'Door opened: hall (22:04)' });
    });

    it("an ESP32 HTTPClient sketch: the GET it writes on the wire", async () => {
      const url = /http\.begin\("([^"]+)" \+ urlEncode\(text\)\)/.exec(esp32!.code)?.[1];
      expect(url).toBeDefined();
      const target = new URL(url!.replace('192.168.1.10:3000', `127.0.0.1:${port}`).replace('YOUR_API_KEY', key) + arduinoUrlEncode('Temp 31°C > limit'));
      const answer = await rawRequest(
        port,
        `GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: ESP32HTTPClient\r\nConnection: keep-alive\r\nAccept-Encoding: identity;q=1,chunked;q=0.1,*;q=0\r\n\r\n`,
      );
      expect(answer).toMatch(/^HTTP\/1\.1 200 /);
      expect(answer).toMatch(/\r\ncontent-type: text\/plain; charset=utf-8\r\n/i);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      expect(await sentMessage(body)).toMatchObject({ recipient: '12125551234', text: 'Temp 31°C > limit' });
    });

    describe('the GitHub Actions step', () => {
      const script = () => {
        const lines = githubActions!.code.split('\n');
        const start = lines.findIndex((l) => /^\s*run: \|\s*$/.test(l));
        return lines
          .slice(start + 1)
          .filter((l) => l.trim() !== '')
          .map((l) => l.trim())
          .join('\n');
      };
      // What Actions substitutes before bash runs the script.
      const expand = (values: Record<string, string>) => script().replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_m, name: string) => {
        if (!(name in values)) throw new Error(`the step uses ${name}, which this test does not provide`);
        return values[name]!;
      });
      const values = (apiKey: string) => ({
        'secrets.MESSAGEAPI_URL': base,
        'secrets.WHATSAPP_PHONE': '+1 212 555 1234',
        'secrets.MESSAGEAPI_KEY': apiKey,
        'github.repository': 'acme/shop',
        'github.workflow': 'CI',
        'github.ref_name': 'main',
      });

      it('sends the failure message', async () => {
        const { stdout } = await run('bash', ['-e', '-c', expand(values(key))], { timeout: 15_000 });
        expect(await sentMessage(stdout)).toMatchObject({ recipient: '12125551234', text: 'acme/shop: CI failed on main' });
      });

      it('fails the step with the error line when the key is wrong', async () => {
        const failure = await run('bash', ['-e', '-c', expand(values('msg_wrong'))], { timeout: 15_000 }).then(
          () => undefined,
          (error: { code: number; stdout: string }) => error,
        );
        expect(failure?.code).toBe(22);
        expect(failure?.stdout).toMatch(/^Error: .*\(invalid_api_key\)/);
      });
    });
  });
}
