/** Messages taken in hand per write: a cancel can stop any message further back than 1.5 chunks. */
export const IN_HAND_CHUNK = 20;

/**
 * A lane's messages taken in hand (see takeInHand) a chunk ahead of the one being sent: the write
 * for the next chunk, and the fsync that must follow it before those messages go out, run while
 * this chunk is sent, instead of stalling the lane once every chunk.
 */
export class InHandWindow {
  /** Asked for, taken or not (a message cancelled before its chunk was taken is refused). */
  private readonly asked = new Set<string>();
  private readonly taken = new Set<string>();
  private ahead: Promise<void> | undefined;

  constructor(private readonly take: (ids: string[]) => Promise<Set<string>>) {}

  /**
   * Whether the lane may send `id`, the head of its queue: in hand, taken now if it was not asked
   * for yet. `upcoming` is what the lane will send after it, in order; when fewer than half a chunk
   * of them are in hand, the next chunk is taken in the background.
   */
  async holds(id: string, upcoming: string[]): Promise<boolean> {
    if (!this.taken.has(id)) await this.ahead; // the chunk on its way may hold it
    if (!this.asked.has(id)) await this.takeChunk([id, ...upcoming.filter((u) => !this.asked.has(u))]);
    let ready = 0;
    while (ready < upcoming.length && this.asked.has(upcoming[ready]!)) ready++;
    if (this.ahead === undefined && ready < IN_HAND_CHUNK && ready < upcoming.length) {
      const ahead = this.takeChunk(upcoming.slice(ready).filter((u) => !this.asked.has(u))).finally(() => {
        if (this.ahead === ahead) this.ahead = undefined;
      });
      ahead.catch(() => undefined); // seen by the next holds() or by settled()
      this.ahead = ahead;
    }
    return this.taken.has(id);
  }

  /** Once no write is on its way: whether `id` is in hand (to be released if the lane stops before sending it). */
  async settled(): Promise<(id: string) => boolean> {
    await this.ahead?.catch(() => undefined);
    return (id) => this.taken.has(id);
  }

  private async takeChunk(ids: string[]): Promise<void> {
    const chunk = ids.slice(0, IN_HAND_CHUNK);
    for (const id of chunk) this.asked.add(id);
    try {
      for (const id of await this.take(chunk)) this.taken.add(id);
    } catch (error) {
      // Not known to be in hand: asked again when the lane reaches them.
      for (const id of chunk) this.asked.delete(id);
      throw error;
    }
  }
}
