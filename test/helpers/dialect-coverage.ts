import type { Reporter, TestModule } from 'vitest/node';
import type { Dialect } from '../../src/store/dialect.js';

const REQUIRED: Dialect[] = ['sqlite', 'postgres'];

/** In CI both databases are required, whatever TEST_DIALECTS says (it narrows local loops only). */
export function refuseNarrowedDialectsInCi(wanted: Dialect[]): void {
  if (!process.env.CI) return;
  const missing = REQUIRED.filter((d) => !wanted.includes(d));
  if (missing.length > 0) {
    throw new Error(`CI runs the suite on every database; TEST_DIALECTS=${process.env.TEST_DIALECTS ?? ''} leaves out ${missing.join(', ')}. Unset it.`);
  }
}

/**
 * Counts the passed tests of each dialect by name (every test over the store names its dialect in
 * parentheses, as `describe(\`… (${dialect})\`)` does) and, with `CI` set, fails the run when a
 * dialect passed none: a PostgreSQL that silently ran nothing is a failure, not a green run.
 */
export default class DialectCoverageReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, _errors: unknown, reason: 'passed' | 'interrupted' | 'failed'): void {
    if (reason === 'interrupted') return;
    const passed = Object.fromEntries(REQUIRED.map((d) => [d, 0])) as Record<Dialect, number>;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        if (test.result().state !== 'passed') continue;
        for (const dialect of REQUIRED) if (test.fullName.includes(`(${dialect})`)) passed[dialect] += 1;
      }
    }
    const summary = REQUIRED.map((d) => `${d} ${passed[d]}`).join(', ');
    const missing = REQUIRED.filter((d) => passed[d] === 0);
    if (!process.env.CI) return;
    if (missing.length > 0) {
      console.error(`\nCI: no test passed on ${missing.join(' or ')} (tests passed per database: ${summary}). Both databases must run in CI.\n`);
      process.exitCode = 1;
    } else {
      console.log(`\nTests passed per database: ${summary}.\n`);
    }
  }
}
