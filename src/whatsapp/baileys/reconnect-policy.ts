export interface ReconnectPolicyOptions {
  /** First delay after a failure. */
  baseDelayMs: number;
  /** The delay never grows past this. */
  maxDelayMs: number;
  /** How long a session may keep failing before it ends `disconnected` / `connection_lost`. */
  giveUpAfterMs: number;
}

export const DEFAULT_RECONNECT_POLICY: ReconnectPolicyOptions = { baseDelayMs: 2_000, maxDelayMs: 60_000, giveUpAfterMs: 10 * 60_000 };

/**
 * Exponential backoff with "equal jitter": the n-th delay is between half and all of
 * min(max, base·2ⁿ⁻¹), so sessions that dropped together do not come back in lockstep.
 */
export function backoffDelay(policy: ReconnectPolicyOptions, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * What to do after the `attempt`-th failure of a run of failures that began at `failingSince`:
 * wait `delayMs` (never past the give-up point), or give up.
 */
export function nextReconnect(
  policy: ReconnectPolicyOptions,
  attempt: number,
  failingSince: number,
  now: number,
  random: () => number = Math.random,
): { giveUp: true } | { giveUp: false; delayMs: number } {
  const deadline = failingSince + policy.giveUpAfterMs;
  if (now >= deadline) return { giveUp: true };
  return { giveUp: false, delayMs: Math.min(backoffDelay(policy, attempt, random), deadline - now) };
}
