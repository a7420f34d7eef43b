import { describe, expect, it } from 'vitest';
import { IN_HAND_CHUNK, InHandWindow } from '../../src/delivery/in-hand-window.js';

/** A take() whose writes the test finishes by hand; `refused` ids were cancelled before their write. */
function controlledTake(refused: Set<string> = new Set()) {
  const calls: Array<{ ids: string[]; finish(): void; fail(error: Error): void }> = [];
  const take = (ids: string[]) =>
    new Promise<Set<string>>((resolve, reject) => {
      calls.push({ ids, finish: () => resolve(new Set(ids.filter((id) => !refused.has(id)))), fail: reject });
    });
  return { take, calls };
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A window over two chunks of messages whose first chunk is in hand; the second is on its way. */
async function firstChunkInHand() {
  const { take, calls } = controlledTake();
  const window = new InHandWindow(take);
  const queue = ids(0, 2 * IN_HAND_CHUNK);
  const first = window.holds(queue[0]!, queue.slice(1));
  await tick();
  calls[0]!.finish();
  await first;
  return { window, calls, queue };
}

describe('a lane taking messages in hand ahead of sending them', () => {
  it('waits for the first chunk, then asks for the next while the lane sends, and never asks twice for one message', async () => {
    const { take, calls } = controlledTake();
    const window = new InHandWindow(take);
    const queue = ids(0, 3 * IN_HAND_CHUNK);
    const first = window.holds(queue[0]!, queue.slice(1));
    await tick();
    expect(calls.map((c) => c.ids)).toEqual([ids(0, IN_HAND_CHUNK)]);
    calls[0]!.finish();
    await expect(first).resolves.toBe(true);
    // Fewer than a chunk is in hand beyond the head: the next chunk is asked for, and the lane does not wait for it.
    expect(calls.map((c) => c.ids)).toEqual([ids(0, IN_HAND_CHUNK), ids(IN_HAND_CHUNK, 2 * IN_HAND_CHUNK)]);
    for (let i = 1; i < IN_HAND_CHUNK; i++) await expect(window.holds(queue[i]!, queue.slice(i + 1))).resolves.toBe(true);
    expect(calls).toHaveLength(2);
    // The head is in the chunk on its way: the lane waits for that write, not for a new one.
    const next = window.holds(queue[IN_HAND_CHUNK]!, queue.slice(IN_HAND_CHUNK + 1));
    let answered = false;
    void next.then(() => (answered = true));
    await tick();
    expect(answered).toBe(false);
    calls[1]!.finish();
    await expect(next).resolves.toBe(true);
    expect(calls.map((c) => c.ids)).toEqual([ids(0, IN_HAND_CHUNK), ids(IN_HAND_CHUNK, 2 * IN_HAND_CHUNK), ids(2 * IN_HAND_CHUNK, 3 * IN_HAND_CHUNK)]);
  });

  it('answers false for a message cancelled before its chunk was taken, without asking for it again', async () => {
    const { take, calls } = controlledTake(new Set(['m2']));
    const window = new InHandWindow(take);
    const queue = ids(0, 5);
    const first = window.holds('m0', queue.slice(1));
    await tick();
    calls[0]!.finish();
    expect(await first).toBe(true);
    expect(await window.holds('m1', queue.slice(2))).toBe(true);
    expect(await window.holds('m2', queue.slice(3))).toBe(false);
    expect(await window.holds('m3', queue.slice(4))).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('reports which unsent messages are in hand once the chunk on its way has landed, so a stopping lane can release them', async () => {
    const { window, calls, queue } = await firstChunkInHand();
    expect(calls).toHaveLength(2); // the second chunk is on its way
    const settled = window.settled();
    let answered = false;
    void settled.then(() => (answered = true));
    await tick();
    expect(answered).toBe(false);
    calls[1]!.finish();
    const held = await settled;
    expect(queue.slice(1).every(held)).toBe(true);
    expect(held('m-not-in-the-queue')).toBe(false);
  });

  it('asks again for a chunk whose write failed, and lets the lane hear of a failure it waits on', async () => {
    const { window, calls, queue } = await firstChunkInHand();
    calls[1]!.fail(new Error('SQLITE_BUSY: database is locked'));
    await tick();
    await window.holds(queue[1]!, queue.slice(2));
    // Not in hand after all: asked for again, in the background.
    expect(calls.map((c) => c.ids)).toEqual([ids(0, IN_HAND_CHUNK), ids(IN_HAND_CHUNK, 2 * IN_HAND_CHUNK), ids(IN_HAND_CHUNK, 2 * IN_HAND_CHUNK)]);
    for (let i = 2; i < IN_HAND_CHUNK; i++) await window.holds(queue[i]!, queue.slice(i + 1));
    const waiting = window.holds(queue[IN_HAND_CHUNK]!, queue.slice(IN_HAND_CHUNK + 1));
    calls[2]!.fail(new Error('SQLITE_FULL: database or disk is full'));
    await expect(waiting).rejects.toThrow('SQLITE_FULL');
    const again = window.holds(queue[IN_HAND_CHUNK]!, queue.slice(IN_HAND_CHUNK + 1));
    await tick();
    expect(calls).toHaveLength(4);
    expect(calls[3]!.ids).toEqual(ids(IN_HAND_CHUNK, 2 * IN_HAND_CHUNK));
    calls[3]!.finish();
    await expect(again).resolves.toBe(true);
  });
});
