// src/cli/reload-register.ts: preloaded (`node --import`) into the server that `waitstate-serve
// --reload` runs, in its main thread, each worker thread and each process (they inherit node's
// flags): it registers src/cli/reload-hooks.ts, which reports every file the app imports.
import { register } from 'node:module';
import { RELOAD_REPORT_ENV } from './reload-hooks.js';

const report = process.env[RELOAD_REPORT_ENV];
// Hooks arrived in Node 20.6; before, the reloader watches the app module alone.
if (report !== undefined && typeof register === 'function') {
  register('./reload-hooks.js', import.meta.url, { data: { report } });
}
