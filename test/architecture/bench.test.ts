// test/architecture/bench.test.ts: every bench the npm scripts run still loads: its imports from
// the shared bench modules resolve and it answers --help with its usage. The benches are not run
// here (speed is measured by `npm run bench*`, never asserted in tests), so without this a moved
// helper breaks a bench unseen until someone measures.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
/** The bench files the npm scripts name. */
const BENCHES = [
  ...new Set(Object.values(scripts).flatMap((command) => [...command.matchAll(/node (bench\/[\w-]+\.mjs)/g)].map((m) => m[1]!))),
];

describe('the benches', () => {
  it('are named by the npm scripts', () => {
    expect(BENCHES.length).toBeGreaterThanOrEqual(5);
  });
  it.each(BENCHES)('%s loads and prints its usage for --help', (bench) => {
    const result = spawnSync(process.execPath, [bench, '--help'], { cwd: root, encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr + result.stdout).toMatch(/^usage: node bench\//m);
    expect(result.status).toBe(0);
  });
});
