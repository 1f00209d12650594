// test/helpers/announce-skips.ts: vitest's global setup. Before any test runs, one line on stderr
// per system tool that is missing, naming the test file that skips for want of it: the default
// reporter only counts skipped tests, and a count does not say what to install. stderr, so that a
// JSON report on stdout stays JSON.
import { skipWarnings } from './tools.js';

export default function announceSkippedTests(): void {
  for (const line of skipWarnings()) process.stderr.write(`${line}\n`);
}
