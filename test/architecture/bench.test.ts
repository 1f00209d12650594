// test/architecture/bench.test.ts: every bench the npm scripts run still loads: its imports from
// the shared bench modules resolve and it answers --help with its usage; so does every other bench
// file whose header shows how to run it (codec.mjs, the servers the drivers start). None is run
// here (speed is measured by `npm run bench*`, never asserted in tests), so without this a moved
// helper breaks a bench unseen until someone measures.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scripts = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts;
/** The bench files the npm scripts name. */
const BENCHES = [
  ...new Set(Object.values(scripts).flatMap((command) => [...command.matchAll(/node (bench\/[\w-]+\.mjs)/g)].map((m) => m[1]!))),
];

/** Every bench file whose header shows how to run it: the drivers above, those run by hand, and the servers and load processes the drivers start. */
const RUNNABLE = readdirSync(`${root}bench`)
  .filter((name) => name.endsWith('.mjs'))
  .filter((name) => readFileSync(`${root}bench/${name}`, 'utf8').split('\n').slice(0, 30).join('\n').includes(`node bench/${name}`));

describe('the benches', () => {
  it('are named by the npm scripts', () => {
    expect(BENCHES.length).toBeGreaterThanOrEqual(5);
  });
  it.each(BENCHES)('%s loads and prints its usage for --help', (bench) => {
    const result = spawnSync(process.execPath, [bench, '--help'], { cwd: root, encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr + result.stdout).toMatch(/^usage: node bench\//m);
    expect(result.status).toBe(0);
  });
  it('that show how to run them include the drivers run by hand', () => {
    expect(RUNNABLE).toEqual(expect.arrayContaining(['channel-cost.mjs', 'codec.mjs', 'cpuprofile.mjs', 'server.mjs']));
  });
  it.each(RUNNABLE)('%s answers --help with its usage, not a crash or a run', (name) => {
    const result = spawnSync(process.execPath, [`bench/${name}`, '--help'], { cwd: root, encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr + result.stdout).toMatch(new RegExp(`^usage: node bench/${name.replace('.', '\\.')}`, 'm'));
    expect(result.signal).toBeNull();
  });
});
