// test/package/require.test.ts: the package loads from CommonJS too, through Node's require(esm)
// (Node 20.19+, 22.12+), without a warning: its module graph has no top-level await. Inside the
// repository the package resolves its own name, so the script below loads it as a user would.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

const script = `
const { serve, OptionError } = require('waitstate');
if (typeof serve !== 'function' || typeof OptionError !== 'function') throw new Error('exports missing');
(async () => {
  const server = await serve(() => new Response('from require'), { listen: ['127.0.0.1:0'], threads: 0 });
  const response = await fetch(server.addresses[0].url);
  console.log(response.status, await response.text());
  await server.close();
})();
`;

it('require("waitstate") serves an app, and says nothing on stderr', () => {
  const result = spawnSync(process.execPath, ['--input-type=commonjs', '-e', script], { cwd: root, encoding: 'utf8', timeout: 15_000 });
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe('200 from require\n');
  expect(result.status).toBe(0);
});
