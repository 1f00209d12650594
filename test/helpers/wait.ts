// test/helpers/wait.ts: small waits shared by functional tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** Poll `check` every 20 ms until it holds or `ms` pass; returns its last answer. */
export async function until(check: () => boolean, ms = 5000): Promise<boolean> {
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/**
 * Point os.tmpdir() (TMPDIR) at a fresh directory for this test file, so the temp files the
 * server makes can be watched; restored and removed afterwards. Returns a getter for its path.
 */
export function watchedTmpdir(prefix: string): () => string {
  let dir = '';
  const original = process.env['TMPDIR'];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    process.env['TMPDIR'] = dir;
  });
  afterAll(() => {
    if (original === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = original;
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}
