// Where a process's CPU goes while `fn` runs: V8's sampling profiler (node:inspector), each sample
// put in one bucket by the first rule that matches a frame of its stack. Stacks end at the last
// await, so buckets say whose code ran (Kysely, the SQLite engine, undici…) more than which phase.
import inspector from 'node:inspector';

export async function profileCpu(fn, intervalUs = 250) {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
  const cpu = process.cpuUsage();
  let value, used, profile;
  try {
    value = await fn();
  } finally {
    used = process.cpuUsage(cpu);
    ({ profile } = await post('Profiler.stop'));
    session.disconnect();
  }
  return { value, profile, cpuUs: used.user + used.system };
}

/**
 * rules: [[name, (frame) => boolean]], in priority order: a sample goes to the first rule that
 * matches any frame of its stack (so "commit" wins over "SQLite engine" for the COMMIT statement).
 * Returns name → share of the busy (non-idle) samples, largest first.
 */
export function classify(profile, rules) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const time = new Map();
  profile.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const out = new Map();
  let busy = 0;
  for (const [id, t] of time) {
    if (byId.get(id).callFrame.functionName === '(idle)') continue;
    busy += t;
    const frames = [];
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) frames.push(byId.get(cur).callFrame);
    const name = rules.find(([, match]) => frames.some(match))?.[0] ?? 'other';
    out.set(name, (out.get(name) ?? 0) + t);
  }
  return new Map([...out].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / busy]));
}

export const fnIs = (...names) => (f) => names.includes(f.functionName);
export const urlHas = (...parts) => (f) => parts.some((p) => f.url.includes(p));
export const both = (a, b) => (f) => a(f) && b(f);
