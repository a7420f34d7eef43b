import type { DestinationStream } from 'pino';

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that the request line already shows. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'req', 'res', 'responseTime', 'err']);
/** Requests seen but not yet answered; bounded so a flood of unanswered ones cannot grow it. */
const MAX_PENDING = 1000;

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  reqId?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  err?: { message?: string; stack?: string };
  [field: string]: unknown;
}

function clock(time: number | undefined): string {
  return new Date(time ?? Date.now()).toISOString().slice(11, 19);
}

function extras(line: LogLine): string {
  const fields = Object.entries(line).filter(([key]) => !SHOWN.has(key));
  return fields.map(([key, value]) => ` ${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`).join('');
}

/**
 * A pino destination for a person at a terminal: one line per request ("GET /path → 200 (3 ms)", from
 * Fastify's "incoming request" and "request completed" pair) and one per other event, with the time
 * and level in front. Lines arrive already redacted (the logger's streamWrite hook runs first).
 */
export function prettyLogStream(out: { write(text: string): unknown } = process.stdout): DestinationStream {
  const pending = new Map<string, { method?: string; url?: string }>();
  return {
    write(text: string) {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        out.write(text);
        return;
      }
      const head = `${clock(line.time)} ${LEVEL_NAMES[line.level ?? 30] ?? 'INFO '}`;
      if (line.msg === 'incoming request' && line.reqId && line.req) {
        if (pending.size >= MAX_PENDING) pending.delete(pending.keys().next().value!);
        pending.set(line.reqId, line.req);
        return;
      }
      if (line.msg === 'request completed' && line.res) {
        const req = (line.reqId && pending.get(line.reqId)) || {};
        if (line.reqId) pending.delete(line.reqId);
        const took = line.responseTime === undefined ? '' : ` (${line.responseTime < 10 ? line.responseTime.toFixed(1) : Math.round(line.responseTime)} ms)`;
        out.write(`${head} ${req.method ?? '?'} ${req.url ?? '?'} → ${line.res.statusCode ?? '?'}${took}\n`);
        return;
      }
      const error = line.err ? `\n${line.err.stack ?? line.err.message ?? ''}` : '';
      out.write(`${head} ${line.msg ?? ''}${extras(line)}${error}\n`);
    },
  };
}
