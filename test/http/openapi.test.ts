import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/http/error-registry.js';
import { startTestApp, type TestApp } from '../helpers/test-app.js';

/**
 * The OpenAPI document as the server serves it: linted by Redocly (redocly.yaml: the recommended
 * rules, no errors and no warnings), complete operation by operation, and good enough to
 * generate a typed client that compiles against a call to every endpoint
 * (openapi-client.calls.ts.txt). The document does not depend on the database, so one dialect
 * is enough; sandbox mode, so its routes are in it too.
 */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const CALLS = path.join(import.meta.dirname, 'openapi-client.calls.ts.txt');
const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;

interface Operation {
  operationId?: string;
  summary?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: { required?: boolean; content: Record<string, { schema: { properties?: Record<string, unknown> } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown; example?: unknown; examples?: Record<string, { value: { code: string } }> }> }>;
}
type Document = {
  servers?: Array<{ url: string }>;
  info: { description: string };
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

describe('the OpenAPI document at /openapi.json', () => {
  let t: TestApp;
  let document: Document;
  let workDir: string;
  const operations: Array<{ method: string; path: string; op: Operation }> = [];

  beforeAll(async () => {
    t = await startTestApp('sqlite');
    const answer = await t.inject({ method: 'GET', url: '/openapi.json' });
    expect(answer.statusCode).toBe(200);
    document = answer.json();
    for (const [p, item] of Object.entries(document.paths)) for (const method of METHODS) if (item[method]) operations.push({ method, path: p, op: item[method]! });
    fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
    workDir = fs.mkdtempSync(path.join(ROOT, '.tmp', 'openapi-'));
    fs.writeFileSync(path.join(workDir, 'openapi.json'), answer.body);
  }, 30_000);

  afterAll(async () => {
    await t?.close();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('passes redocly lint with the recommended rules: no errors, no warnings', async () => {
    const cli = path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
    const result = await run(process.execPath, [cli, 'lint', path.join(workDir, 'openapi.json'), '--config', path.join(ROOT, 'redocly.yaml'), '--format', 'json'], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout: string; stderr: string }) => error);
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }> };
    const problems = report.problems.map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it('has servers, shared schemas, and an intro that starts with authentication and a quick start', () => {
    expect(document.servers?.length).toBeGreaterThan(0);
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['Error', 'Message', 'Delivery', 'Session', 'Settings', 'SendResult', 'Account', 'ApiKey']));
    expect(document.info.description).toMatch(/^\*\*Authentication\.\*\* Send your API key in the `X-API-Key` header/);
    expect(document.info.description).toMatch(/\*\*Quick start\*\*[^]*```\ncurl [^\n]+\/api\/v1\/send\ncurl [^\n]+\/send\.php\?apikey=[^\n]+\n```/);
  });

  it('gives every operation an id, a summary, a described success with an example, and its own error codes', () => {
    expect(operations.length).toBeGreaterThan(40);
    const ids = new Set<string>();
    for (const { method, path: p, op } of operations) {
      const where = `${method.toUpperCase()} ${p}`;
      expect(op.operationId, where).toMatch(/^[a-zA-Z]+$/);
      ids.add(op.operationId!);
      expect(op.summary, where).toBeTruthy();
      const success = op.responses['200'];
      expect(success?.description, where).not.toBe('Default Response');
      const media = Object.values(success?.content ?? {})[0];
      expect(media?.example ?? media?.examples, `${where}: success example`).toBeDefined();
      const failures = Object.entries(op.responses).filter(([status]) => status.startsWith('4') || status.startsWith('5'));
      expect(failures.length, where).toBeGreaterThan(0);
      for (const [status, response] of failures) {
        // /whatsapp.php answers in text/plain as CallMeBot does: `Error: <sentence> (<code>)`.
        const plain = response.content?.['text/plain'];
        if (plain && !response.content?.['application/json']) {
          const code = /\(([a-z_]+)\)\n$/.exec(String(plain.example))?.[1];
          expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], `${where} ${status}`).toBe(Number(status));
          continue;
        }
        const errorMedia = response.content!['application/json']!;
        expect(JSON.stringify(errorMedia.schema), `${where} ${status}`).toContain('#/components/schemas/Error');
        const codes = [...(/one of: (.+)$/.exec(response.description)?.[1] ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
        expect(codes.length, `${where} ${status}`).toBeGreaterThan(0);
        // Each listed code really answers with this status, and each has an example.
        for (const code of codes) expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS], `${where} ${code}`).toBe(Number(status));
        const exampleCodes = errorMedia.example ? [(errorMedia.example as { code: string }).code] : Object.values(errorMedia.examples ?? {}).map((e) => e.value.code);
        expect(exampleCodes.sort(), `${where} ${status}`).toEqual([...codes].sort());
      }
      if (op.requestBody) {
        expect(Object.keys(op.responses), `${where}: a body can be too large or of the wrong type`).toEqual(expect.arrayContaining(['413', '415']));
      }
    }
    expect(ids.size).toBe(operations.length);
  });

  it('declares the query key on /send.php, /whatsapp.php and /api/v1/status only, and documents the /send.php form body', () => {
    const withQueryKey = operations.filter(({ op }) => (op.security ?? []).some((s) => 'apiKeyQuery' in s)).map(({ method, path: p }) => `${method} ${p}`);
    expect(withQueryKey.sort()).toEqual(['get /api/v1/status', 'get /send.php', 'get /whatsapp.php', 'post /send.php']);
    const body = document.paths['/send.php']!.post!.requestBody!;
    expect(body.required, 'the fields may all come in the query string').toBe(false);
    const form = body.content['application/x-www-form-urlencoded']!.schema;
    expect(Object.keys(form.properties ?? {})).toEqual(expect.arrayContaining(['recipient', 'apikey', 'text', 'file', 'document', 'filename']));
    for (const field of ['apikey', 'file', 'document'] as const) expect((form.properties![field] as { description?: string }).description, field).toBeTruthy();
  });

  it('generates a TypeScript client that type-checks against a call to every endpoint', async () => {
    const calls = fs.readFileSync(CALLS, 'utf8');
    const called = new Set([...calls.matchAll(/api\.(GET|POST|PATCH|PUT|DELETE)\('([^']+)'/g)].map((m) => `${m[1]!.toLowerCase()} ${m[2]}`));
    const missing = operations.map(({ method, path: p }) => `${method} ${p}`).filter((key) => !called.has(key));
    expect(missing, 'add a call to test/http/openapi-client.calls.ts.txt').toEqual([]);

    fs.writeFileSync(path.join(workDir, 'api.d.ts'), astToString(await openapiTS(document as never)));
    fs.writeFileSync(path.join(workDir, 'calls.ts'), calls);
    fs.writeFileSync(
      path.join(workDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['calls.ts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', path.join(workDir, 'tsconfig.json')], { cwd: workDir }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  }, 60_000);
});
