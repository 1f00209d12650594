// test/package/peers.test.ts: @statelyai/inspect is an optional peer, needed by `inspect` alone, and
// hono one needed by the waitstate/hono entry alone.
// No module imports it statically, so without it the package loads and serves (WebSockets too:
// ws is a dependency); asking for the inspector then fails with one line naming the package.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** `node --import` this to run as if the optional peer were not installed. */
const withoutPeers = ['--import', join(root, 'test/fixtures/without-peers.mjs')];
const NEEDS_PEERS = 'inspect: needs the optional package @statelyai/inspect: npm i @statelyai/inspect';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The static imports in `source` of a value (not `import type`) from @statelyai/inspect. */
function staticPeerImports(source: string): string[] {
  const statements = source.matchAll(/^\s*(?:import|export)(\s+type\b)?[^'";]*?(?:from\s+)?['"]([^'"]+)['"]/gm);
  return [...statements].filter((m) => m[1] === undefined && /^@statelyai\/inspect(\/|$)/.test(m[2]!)).map((m) => m[0].trim());
}

describe('the optional peer', () => {
  it('is imported statically nowhere in src/ or machines/', () => {
    const found = [...sources(join(root, 'src')), ...sources(join(root, 'machines'))].flatMap((file) =>
      staticPeerImports(readFileSync(file, 'utf8')).map((line) => `${relative(root, file)}: ${line}`),
    );
    expect(found).toEqual([]);
  });

  it('the check finds a static import, and lets a type import and a dynamic import() pass', () => {
    expect(staticPeerImports("import { createBrowserInspector } from '@statelyai/inspect';\nimport '@statelyai/inspect';\n")).toHaveLength(
      2,
    );
    expect(
      staticPeerImports("import type { Inspector } from '@statelyai/inspect';\nconst s = await import('@statelyai/inspect');\n"),
    ).toEqual([]);
  });

  it('without it, the package serves; inspect fails naming it', () => {
    const script = `
      import { serve } from 'waitstate';
      const server = await serve(() => new Response('no peers needed'), { listen: ['127.0.0.1:0'], threads: 0 });
      const response = await fetch(server.addresses[0].url);
      console.log(await response.text());
      await server.close();
      await serve(() => new Response(''), { listen: ['127.0.0.1:0'], threads: 0, inspect: 0 }).then(
        (s) => s.close().then(() => console.log('inspect started')),
        (error) => console.log(error.code, error.message),
      );`;
    const result = spawnSync(process.execPath, [...withoutPeers, '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`no peers needed\nWS_ERR_OPTION ${NEEDS_PEERS}\n`);
  });

  it('hono is loaded by the waitstate/hono entry alone: without it, that entry fails naming it, and the package serves', () => {
    const honoImports = [...sources(join(root, 'src')), ...sources(join(root, 'machines'))]
      .filter((file) => /from ['"]hono(\/|['"])/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    expect(honoImports).toEqual(['src/hono.ts']);
    const script = `import('waitstate/hono').then(() => console.log('loaded'), (error) => console.log(error.code, error.message));`;
    const result = spawnSync(process.execPath, [...withoutPeers, '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.stdout).toBe("ERR_MODULE_NOT_FOUND Cannot find package 'hono/ws'\n");
  });

  it('without it, waitstate-serve --inspect exits 1 with one line naming it', () => {
    const args = ['dist/src/cli/serve.js', '--listen=127.0.0.1:0', '--threads=0', '--inspect=0', 'test/fixtures/apps.mjs:plain'];
    const result = spawnSync(process.execPath, [...withoutPeers, ...args], { cwd: root, encoding: 'utf8', timeout: 15_000 });
    expect(result.stderr).toBe(`waitstate-serve: error: --${NEEDS_PEERS}\n`);
    expect(result.status).toBe(1);
  });
});
