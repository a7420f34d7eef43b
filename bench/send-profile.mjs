// Where the time of one accepted send goes: the server runs under --cpu-prof during a send load,
// and every CPU sample is put in one bucket by the frames on its stack (see CATEGORIES).
import fs from 'node:fs';
import path from 'node:path';

/**
 * Checked in order against the frames of a sample's stack, from the root down, so that a bucket
 * holds everything called under it: the dispatcher's SQL counts as dispatch, the key lookup's as
 * auth. Leaf rules (SQL, commit) apply to what is left.
 */
const CATEGORIES = [
  { name: 'dispatch', test: (f) => /\/(delivery|whatsapp)\//.test(f.url) || /\/core\/queue\//.test(f.url) },
  { name: 'auth', test: (f) => /\/(http\/auth|http\/early-auth|core\/key-cache)\.js$/.test(f.url) || f.functionName === 'authenticate' },
];
const LEAF = [
  { name: 'commit (fsync, transaction)', test: (f) => /\/store\/(group-commit|wal-flusher|after-commit)\.js$/.test(f.url) || /\/(begin|commit)Transaction|releaseConnection/.test(f.functionName) },
  { name: 'SQL (Kysely, driver, SQLite/pg)', test: (f) => /node_modules\/(kysely|better-sqlite3|pg|pg-protocol|pg-pool)\//.test(f.url) || /\/store\//.test(f.url) },
  { name: 'core (plan checks, ids)', test: (f) => /\/dist\/core\//.test(f.url) },
  { name: 'HTTP, validation, JSON', test: (f) => /node_modules\/(fastify|@fastify|fast-json-stringify|ajv|find-my-way|light-my-request|avvio|secure-json-parse|fast-querystring|pino)/.test(f.url) || /\/dist\/http\//.test(f.url) || /^node:(_http|http|net|stream|internal\/(http|streams|stream_base))/.test(f.url) || /_http_|internal\/streams|stream_base_commons|net\.js/.test(f.url) },
];

function categoryOf(stack) {
  for (const frame of stack) for (const c of CATEGORIES) if (c.test(frame)) return c.name;
  // Innermost first: the frame doing the work names the bucket.
  for (let i = stack.length - 1; i >= 0; i--) for (const c of LEAF) if (c.test(stack[i])) return c.name;
  const leaf = stack[stack.length - 1];
  if (leaf && /garbage collector/.test(leaf.functionName)) return 'GC';
  if (leaf && /\(idle\)|\(program\)/.test(leaf.functionName)) return leaf.functionName;
  return 'other';
}

/** Now on the clock V8's profiles use (CLOCK_MONOTONIC, shared by the processes of the machine), in µs. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/** CPU time (user + system) a process has used so far, in µs (Linux /proc; null elsewhere). */
export function processCpuUs(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime, fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
  } catch {
    return null;
  }
}

/**
 * Each bucket's share of the busy samples taken in [from, to] by the .cpuprofile files in `dir`
 * (a sample's time is wall time: on a loaded machine it includes waits for a core, so only the
 * shares are used, applied to a CPU time measured without the profiler).
 */
export function profileShares(dir, from, to) {
  const totals = new Map();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const memo = new Map();
    const bucketOf = (id) => {
      if (!memo.has(id)) {
        const stack = [];
        for (let at = id; at !== undefined; at = parent.get(at)) stack.unshift(byId.get(at).callFrame);
        memo.set(id, categoryOf(stack));
      }
      return memo.get(id);
    };
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      at += profile.timeDeltas[i];
      if (at < from || at > to) return;
      const bucket = bucketOf(id);
      if (bucket === '(idle)') return;
      totals.set(bucket, (totals.get(bucket) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    });
  }
  const busy = [...totals.values()].reduce((s, us) => s + us, 0) || 1;
  return [...totals].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, share: us / busy }));
}
