import { describe, expect, it } from 'vitest';
import { SessionOwnership, type OwnershipSettings } from '../../src/core/scale-out/session-ownership.js';
import { fairShare, planShare } from '../../src/core/scale-out/fair-share.js';
import { MemoryLeaseBackend } from '../helpers/memory-lease-backend.js';

const SETTINGS: OwnershipSettings = { leaseMs: 20_000, renewMs: 5_000, marginMs: 5_000, maxReleasesPerTick: 10 };
const STEP_MS = 250;
const SESSIONS = Array.from({ length: 1000 }, (_, i) => `acc_${String(i).padStart(4, '0')}`);

/** A deterministic stream of numbers in [0, 1), so every run simulates the same thing. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

interface SimProcess {
  ownership: SessionOwnership;
  nextTick: number;
  /** Paused (SIGSTOP): no ticks, but its clock and what it believes it holds go on. */
  paused: boolean;
  dead: boolean;
}

/**
 * Many gateway processes over one lease table under a fake clock. Each process runs the real
 * SessionOwnership (planner, renewals, fence); only the table is a map and time is simulated.
 * After every tick of every process, no session may be sendable from two processes.
 */
class Simulation {
  now = 1_000_000;
  readonly backend = new MemoryLeaseBackend();
  readonly processes: SimProcess[] = [];
  private readonly random = seeded(18);
  checks = 0;

  async add(): Promise<SimProcess> {
    const id = `p${String(this.processes.length).padStart(2, '0')}`;
    const ownership = new SessionOwnership(this.backend, SETTINGS, () => this.now, (error) => {
      throw error;
    }, id);
    await ownership.start({ sessions: async () => SESSIONS }, { timer: false });
    const p: SimProcess = { ownership, nextTick: this.now + Math.floor(this.random() * SETTINGS.renewMs), paused: false, dead: false };
    this.processes.push(p);
    this.check();
    return p;
  }

  async run(ms: number): Promise<void> {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += STEP_MS;
      for (const p of this.processes) {
        if (p.dead || p.paused || p.nextTick > this.now) continue;
        p.nextTick += SETTINGS.renewMs;
        await p.ownership.tick();
        this.check();
      }
      this.check();
    }
  }

  /** No session sendable from two processes, nor believed held (unexpired) by two, at this instant. */
  check(): void {
    this.checks++;
    const sendable = new Map<string, number>();
    const believed = new Map<string, number>();
    for (const p of this.processes) {
      if (p.dead) continue;
      for (const lease of p.ownership.heldLeases()) {
        if (lease.validUntil >= this.now) believed.set(lease.accountId, (believed.get(lease.accountId) ?? 0) + 1);
        if (p.ownership.sendToken(lease.accountId) !== null) sendable.set(lease.accountId, (sendable.get(lease.accountId) ?? 0) + 1);
      }
    }
    for (const [id, n] of sendable) if (n > 1) throw new Error(`${id} sendable from ${n} processes at ${this.now}`);
    for (const [id, n] of believed) if (n > 1) throw new Error(`${id} believed held by ${n} processes at ${this.now}`);
  }

  live(): SimProcess[] {
    return this.processes.filter((p) => !p.dead);
  }

  holders(): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of this.live()) for (const l of p.ownership.heldLeases()) out.set(l.accountId, p.ownership.id);
    return out;
  }

  counts(): number[] {
    return this.live().map((p) => p.ownership.heldLeases().length);
  }
}

function moved(before: Map<string, string>, after: Map<string, string>): number {
  let n = 0;
  for (const id of SESSIONS) if (before.get(id) !== after.get(id)) n++;
  return n;
}

function expectEven(sim: Simulation): void {
  const counts = sim.counts();
  const even = SESSIONS.length / counts.length;
  expect(counts.reduce((a, b) => a + b, 0), 'every session held').toBe(SESSIONS.length);
  for (const c of counts) {
    expect(c).toBeGreaterThanOrEqual(Math.floor(even * 0.9));
    expect(c).toBeLessThanOrEqual(Math.ceil(even * 1.1));
  }
}

describe('spreading sessions over processes (simulated, fake clock)', () => {
  it('the planner: takes free ones up to the share, hands back extras a few a tick, never takes a live lease', () => {
    expect(fairShare(1000, 10)).toBe(100);
    expect(fairShare(1000, 11)).toBe(91);
    const sessions = ['a', 'b', 'c', 'd', 'e', 'f'];
    const now = 100;
    // alone: everything free is taken
    expect(planShare({ me: 'p1', now, liveProcesses: ['p1'], sessions, leases: [], held: new Set(), maxReleases: 2 }).acquire).toEqual(sessions);
    // a second live process: p1 holds all six, hands back two (bounded) towards its share of three
    const all = new Set(sessions);
    const p1 = planShare({ me: 'p1', now, liveProcesses: ['p1', 'p2'], sessions, leases: sessions.map((s) => ({ accountId: s, owner: 'p1', expiresAt: now + 10 })), held: all, maxReleases: 1 });
    expect(p1.release).toHaveLength(2); // half the excess of three, rounded up, above the floor of one
    expect(p1.acquire).toEqual([]);
    // p2 takes nothing another live lease holds, but takes expired and free ones
    const leases = [
      { accountId: 'a', owner: 'p1', expiresAt: now + 10 },
      { accountId: 'b', owner: 'p1', expiresAt: now - 1 },
    ];
    expect(planShare({ me: 'p2', now, liveProcesses: ['p1', 'p2'], sessions, leases, held: new Set(), maxReleases: 2 }).acquire).toEqual(['b', 'c', 'd']);
    // pinned (a link in progress) stays whatever the share (and counts in it); a session no longer to run goes back
    const pinned = planShare({ me: 'p1', now, liveProcesses: ['p1', 'p2'], sessions: ['a', 'b'], leases: [], held: new Set(['a', 'b', 'x', 'y']), pinned: new Set(['y']), maxReleases: 5 });
    // (of the extras, only as many as p2 is short of the share: one)
    expect(pinned.release.sort()).toEqual(['b', 'x']);
    // a process that looks live but holds nothing because it just died keeps its leases past its
    // heartbeat; one that still holds its share is not short, so nothing is handed to it
    const full = planShare({ me: 'p2', now, liveProcesses: ['p1', 'p2'], sessions, leases: ['a', 'b', 'c'].map((s) => ({ accountId: s, owner: 'p1', expiresAt: now + 10 })), held: new Set(['d', 'e', 'f', 'g']), maxReleases: 5 });
    expect(full.release).toEqual(['g']);
  });

  it('1,000 sessions over 10 processes end within ±10 % of even; a join or a leave moves about its share and no more; no session is ever held by two at once', async () => {
    const sim = new Simulation();
    for (let i = 0; i < 10; i++) {
      await sim.add();
      await sim.run(1_000);
    }
    await sim.run(60_000);
    expectEven(sim);

    // A join: the newcomer ends with about its share, and only about that much moves.
    let before = sim.holders();
    const joined = await sim.add();
    await sim.run(60_000);
    expectEven(sim);
    const joinShare = SESSIONS.length / 11;
    const joinMoves = moved(before, sim.holders());
    expect(joined.ownership.heldLeases().length).toBeGreaterThanOrEqual(Math.floor(joinShare * 0.9));
    expect(joinMoves).toBeLessThanOrEqual(Math.ceil(joinShare * 1.1));
    console.log(`join: ${joinMoves} sessions moved (share ${joinShare.toFixed(1)})`);

    // A crash (SIGKILL): its sessions wait for their leases to expire, then the others take them, and nothing else moves.
    before = sim.holders();
    const victim = sim.live()[3]!;
    const victimHeld = victim.ownership.heldLeases().length;
    victim.dead = true;
    const crashedAt = sim.now;
    let takenOverAt: number | null = null;
    while (sim.now - crashedAt < 60_000) {
      await sim.run(STEP_MS);
      if (takenOverAt === null && sim.holders().size === SESSIONS.length) takenOverAt = sim.now;
    }
    expect(takenOverAt, 'all of the dead process’s sessions taken over').not.toBeNull();
    expect(takenOverAt! - crashedAt).toBeLessThanOrEqual(SETTINGS.leaseMs + SETTINGS.renewMs + STEP_MS);
    expectEven(sim);
    const crashMoves = moved(before, sim.holders());
    expect(crashMoves).toBeLessThanOrEqual(Math.ceil(victimHeld * 1.1));
    console.log(`crash: ${victimHeld} held by the dead process, ${crashMoves} moved, all taken over ${(takenOverAt! - crashedAt) / 1000} s after`);

    // A graceful leave (SIGTERM): leases handed back at once, taken at the others' next tick.
    before = sim.holders();
    const leaving = sim.live()[0]!;
    const leavingHeld = leaving.ownership.heldLeases().length;
    await leaving.ownership.stop();
    leaving.dead = true;
    const leftAt = sim.now;
    await sim.run(SETTINGS.renewMs + STEP_MS);
    expect(sim.holders().size, `all taken within one renewal after the leave (${(sim.now - leftAt) / 1000} s)`).toBe(SESSIONS.length);
    await sim.run(60_000);
    expectEven(sim);
    expect(moved(before, sim.holders())).toBeLessThanOrEqual(Math.ceil(leavingHeld * 1.1));

    // A pause (SIGSTOP) longer than the lease: it stops sending before its leases can move, finds them gone on waking, and takes its share again.
    const sleeper = sim.live()[2]!;
    sleeper.paused = true;
    const pausedAt = sim.now;
    await sim.run(SETTINGS.leaseMs - SETTINGS.marginMs + STEP_MS);
    expect(sleeper.ownership.heldLeases().every((l) => sleeper.ownership.sendToken(l.accountId) === null), 'nothing sendable from the paused process').toBe(true);
    await sim.run(30_000);
    sleeper.paused = false;
    sleeper.nextTick = sim.now;
    await sim.run(120_000);
    expect(sleeper.ownership.stats.lost).toBeGreaterThan(0);
    expectEven(sim);
    console.log(`pause: ${(sim.now - pausedAt) / 1000} s simulated; ${sim.checks} checks of one holder per session`);
  }, 60_000);
});
