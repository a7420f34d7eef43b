import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

type Effect = () => void;

/** The effects registered by the write now running in each open transaction. */
const current = new WeakMap<Kysely<Database>, Effect[]>();

/**
 * Something a write must do in JavaScript once its changes are true (wake a worker, answer a
 * waiting request, count a metric). A write may run more than once (group commit re-runs a batch
 * after one write throws), so it must not do these itself: it registers them here, and the store
 * runs them once, after the commit that holds the write is durable. A write that is rolled back,
 * or run again, drops what it registered.
 */
export function afterCommit(tx: Kysely<Database>, effect: Effect): void {
  const effects = current.get(tx);
  if (!effects) throw new Error('afterCommit() needs the transaction of a store.write()');
  effects.push(effect);
}

/** The store's side: from now on, what a write registers on `tx` goes into a fresh list. */
export function collectEffects(tx: Kysely<Database>): Effect[] {
  const effects: Effect[] = [];
  current.set(tx, effects);
  return effects;
}

/** Runs committed effects; one that throws does not keep the others from running. */
export function runEffects(effects: Effect[]): void {
  for (const effect of effects) {
    try {
      effect();
    } catch (error) {
      process.emitWarning(`an after-commit effect threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }
}
