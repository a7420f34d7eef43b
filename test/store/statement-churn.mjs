// Child process of native-objects.test.ts: many distinct SQL texts through a Store on a SQLite
// file (Kysely prepares each one; the WAL checkpointer's worker runs meanwhile), the event loop
// turning between batches, then a normal close and exit. Prints one JSON line at the end.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [root, file, countArg] = process.argv.slice(2);
const { Store } = await import(pathToFileURL(path.join(root, 'dist/store/store.js')).href);
const { sql } = await import('kysely');

const store = Store.open(`sqlite:${file}`);
await store.migrate();
const count = Number(countArg);
let sum = 0;
for (let i = 0; i < count; i += 1) {
  const { rows } = await sql`select ${sql.lit(i)} as n`.execute(store.db);
  sum += rows[0].n;
  if (i % 500 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
}
await store.close();
console.log(JSON.stringify({ count, sum, rssMb: Math.round(process.memoryUsage().rss / 1e6) }));
