/**
 * Which sessions a process should hand back or take on one tick: a pure function, so the balance
 * can be checked under a fake clock with many simulated processes (test/unit/scale-out-simulation).
 *
 * Each process aims at `ceil(sessions / live processes)`. Over it, it hands back the extras, at most
 * `maxReleases` a tick (gradual, so a join moves sessions over several ticks rather than at once).
 * Under it, it takes sessions nobody holds (free, or whose lease expired), up to the target and
 * without a bound, so a dead process's sessions are taken over in one tick. Nobody ever takes a
 * session another live lease holds, and a process never goes below the target by handing back, nor
 * above it by taking: between the two nothing moves, so there is no flapping.
 */
export interface LeaseView {
  accountId: string;
  owner: string;
  expiresAt: number;
}

export interface ShareInput {
  me: string;
  now: number;
  /** Ids of the processes with a fresh heartbeat (this one included or not: it is counted anyway). */
  liveProcesses: string[];
  /** Every session that should run somewhere. */
  sessions: string[];
  leases: LeaseView[];
  /** What this process holds now. */
  held: ReadonlySet<string>;
  /** Sessions this process keeps whatever the share (a link in progress). */
  pinned?: ReadonlySet<string>;
  /** At least this many extras may go back per tick (more when the excess is large: half of it). */
  maxReleases: number;
}

export interface SharePlan {
  target: number;
  release: string[];
  acquire: string[];
}

export function fairShare(sessions: number, processes: number): number {
  return Math.ceil(sessions / Math.max(1, processes));
}

export function planShare(input: ShareInput): SharePlan {
  const processes = new Set(input.liveProcesses);
  processes.add(input.me);
  const wanted = new Set(input.sessions);
  const target = fairShare(wanted.size, processes.size);
  const pinned = input.pinned ?? new Set<string>();
  const release: string[] = [];
  // Held but no longer to run (unlinked, logged out elsewhere): handed back whatever the share.
  for (const id of input.held) if (!wanted.has(id) && !pinned.has(id)) release.push(id);
  const keeping = [...input.held].filter((id) => wanted.has(id) || pinned.has(id));
  let count = keeping.length;
  // Extras go back only as far as other live processes are short of the target: a process that
  // looks live but holds nothing because it just died (its heartbeat is not stale yet) is not short,
  // since its leases outlive its heartbeat; handing sessions to it would only stop them.
  const now = input.now;
  const heldBy = new Map<string, number>();
  for (const l of input.leases) if (l.expiresAt >= now && l.owner !== input.me) heldBy.set(l.owner, (heldBy.get(l.owner) ?? 0) + 1);
  let shortfall = 0;
  for (const p of processes) if (p !== input.me) shortfall += Math.max(0, target - (heldBy.get(p) ?? 0));
  if (count > target && shortfall > 0) {
    // The newest names first, so two processes agree on nothing and need not: any extras will do.
    const movable = keeping.filter((id) => !pinned.has(id)).sort().reverse();
    const excess = Math.min(count - target, shortfall);
    const extras = Math.min(excess, Math.max(input.maxReleases, Math.ceil(excess / 2)), movable.length);
    release.push(...movable.slice(0, extras));
    count -= extras;
  }
  const acquire: string[] = [];
  if (count < target) {
    const leased = new Map(input.leases.map((l) => [l.accountId, l]));
    for (const id of [...wanted].sort()) {
      if (count >= target) break;
      if (input.held.has(id)) continue;
      const lease = leased.get(id);
      if (lease && lease.expiresAt >= input.now && lease.owner !== input.me) continue;
      acquire.push(id);
      count++;
    }
  }
  return { target, release, acquire };
}
