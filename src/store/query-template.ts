import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Database } from './schema.js';

type Args = Record<string, unknown>;

const MARKER = '\u0000arg:';

/**
 * A query on the hot path, built with Kysely once per database and then run with new values:
 * the builder is called with a marker in place of each argument, and the markers' positions in
 * the compiled parameters say where each value goes. Same SQL for both dialects as any Kysely
 * query; only the building and compiling are skipped on later runs. The query's shape must not
 * depend on the values (no `in` lists of varying length).
 */
export function queryTemplate<A extends Args, R>(build: (db: Kysely<Database>, args: A) => Compilable<R>) {
  // Each parameter is either an argument's name, or a constant the builder wrote into the query itself.
  const compiledFor = new WeakMap<object, { compiled: CompiledQuery<R>; order: Array<{ arg: string } | { constant: unknown }> }>();
  return (db: Kysely<Database>, args: A): Promise<QueryResult<R>> => {
    const key = db.getExecutor().adapter;
    let entry = compiledFor.get(key);
    if (!entry) {
      const markers = new Proxy({} as A, { get: (_t, name) => `${MARKER}${String(name)}` });
      const compiled = build(db, markers).compile();
      const order = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARKER) ? { arg: p.slice(MARKER.length) } : { constant: p }));
      entry = { compiled, order };
      compiledFor.set(key, entry);
    }
    const parameters = entry.order.map((p) => ('arg' in p ? args[p.arg] : p.constant));
    return db.executeQuery<R>({ ...entry.compiled, parameters });
  };
}
