// src/cli/reload-hooks.ts: module hooks (node:module register) for `waitstate-serve --reload`:
// each file the app imports is appended to the report file the reloader reads, one path a line,
// so that it watches exactly those. Hooks run in a thread of their own, so a file, written with
// appends under PIPE_BUF, is how every thread and process reports to one reader.
import { appendFileSync } from 'node:fs';
import type { InitializeHook, LoadHook } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Where the reloader wants the paths (set in the server's environment). */
export const RELOAD_REPORT_ENV = 'WAITSTATE_RELOAD_REPORT';

/** waitstate's own files (dist/) are not the app's. */
const OURS = new URL('../../', import.meta.url).href;

let report: string | undefined;

export const initialize: InitializeHook<{ report: string }> = (data) => {
  report = data.report;
};

export const load: LoadHook = (url, context, nextLoad) => {
  // Reported before it is compiled: a file with a syntax error is watched too, to restart once it is fixed.
  if (report !== undefined && url.startsWith('file:') && !url.includes('/node_modules/') && !url.startsWith(OURS)) {
    try {
      appendFileSync(report, fileURLToPath(url) + '\n');
    } catch {
      // The reloader is gone: nothing to report to.
    }
  }
  return nextLoad(url, context);
};
