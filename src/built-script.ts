// src/built-script.ts: the JavaScript file of one of our entry points (a worker thread, a
// cluster process, the server --reload restarts), for code that starts it. Threads and processes
// run the built file, also when the caller itself runs from TypeScript sources (vitest), which is
// why `npm test` builds first.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function builtScript(name: 'workers/worker.js' | 'server/cluster-worker.js' | 'cli/serve.js' | 'cli/reload-register.js'): string {
  for (const candidate of [new URL(`./${name}`, import.meta.url), new URL(`../dist/src/${name}`, import.meta.url)]) {
    const path = fileURLToPath(candidate);
    if (existsSync(path)) return path;
  }
  throw new Error(`waitstate: ${name} is not built; run \`npm run build\``);
}
