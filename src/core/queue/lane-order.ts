/** A lane sends high before normal before low, and within one priority in acceptance order. */
export function byPriorityThenOrder(a: { priority: number; seq: number }, b: { priority: number; seq: number }): number {
  return a.priority - b.priority || Number(a.seq) - Number(b.seq);
}
