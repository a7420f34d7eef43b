// The PostgreSQL reference for accepted sends (issue 20): 50 clients, each committing a transaction
// of two single-row inserts through `pg` as fast as it can, in the database the send bench uses.
import pg from 'pg';

export async function pgTwoInsertRate(url, { clients = 50, seconds = 10 } = {}) {
  const setup = new pg.Client({ connectionString: url });
  await setup.connect();
  await setup.query('CREATE TABLE IF NOT EXISTS bench_ref_a (id bigserial primary key, v text not null, at bigint not null)');
  await setup.query('CREATE TABLE IF NOT EXISTS bench_ref_b (id bigserial primary key, v text not null, at bigint not null)');
  const pool = Array.from({ length: clients }, () => new pg.Client({ connectionString: url }));
  await Promise.all(pool.map((c) => c.connect()));
  const latencies = [];
  let stop = false;
  const loop = async (client, n) => {
    for (let i = 0; !stop; i++) {
      const started = performance.now();
      await client.query('BEGIN');
      await client.query('INSERT INTO bench_ref_a (v, at) VALUES ($1, $2)', [`ref ${n} ${i}`, Date.now()]);
      await client.query('INSERT INTO bench_ref_b (v, at) VALUES ($1, $2)', [`ref ${n} ${i}`, Date.now()]);
      await client.query('COMMIT');
      latencies.push(performance.now() - started);
    }
  };
  const running = pool.map((c, n) => loop(c, n));
  await new Promise((r) => setTimeout(r, 1000));
  latencies.length = 0;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const done = latencies.length;
  const elapsed = performance.now() - started;
  stop = true;
  await Promise.all(running);
  await Promise.all(pool.map((c) => c.end()));
  await setup.query('DROP TABLE bench_ref_a, bench_ref_b');
  await setup.end();
  const sorted = latencies.slice(0, done).sort((a, b) => a - b);
  return { rps: (done / elapsed) * 1000, p50: sorted[Math.floor(done * 0.5)] ?? 0, p99: sorted[Math.floor(done * 0.99)] ?? 0 };
}
