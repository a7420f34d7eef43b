import type { Dialect } from '../../src/store/dialect.js';

/** Both databases unless TEST_DIALECTS narrows it (e.g. TEST_DIALECTS=sqlite for a quick local loop). */
export function testDialects(): Dialect[] {
  const wanted = (process.env.TEST_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  const known: Dialect[] = ['sqlite', 'postgres'];
  const unknown = wanted.filter((d) => !known.includes(d as Dialect));
  if (unknown.length > 0) throw new Error(`TEST_DIALECTS names unknown dialects: ${unknown.join(', ')}`);
  return known.filter((d) => wanted.includes(d));
}
