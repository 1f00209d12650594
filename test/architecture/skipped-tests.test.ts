// test/architecture/skipped-tests.test.ts: a test that skips for want of a system tool is named
// at run start (test/helpers/announce-skips.ts), so every test file that looks for a tool must be
// listed in TESTS_NEEDING_TOOLS; and the line says what is missing, how to install it, what skips.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { skipWarnings, TESTS_NEEDING_TOOLS, titleSayingWhy, type SystemTool } from '../helpers/tools.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.test.ts') ? [path] : [];
  });
}

const absent: SystemTool = { name: 'no-such-tool-here', places: ['/nonexistent/no-such-tool-here'], apt: 'no-such-package' };

describe('tests skipped for want of a system tool say why', () => {
  test('every test file that looks for a tool is announced at run start', () => {
    const looking = walk(join(root, 'test'))
      .filter((file) => /\bfindTool\(/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file))
      .sort();
    expect(looking).toEqual(Object.keys(TESTS_NEEDING_TOOLS).sort());
  });

  test('one line per missing tool: what, how to install it, which file skips', () => {
    expect(skipWarnings({ 'test/functional/x.test.ts': [absent] })).toEqual([
      'waitstate tests: no-such-tool-here not found (apt-get install -y no-such-package): test/functional/x.test.ts will be skipped',
    ]);
    const sh: SystemTool = { name: 'sh', places: ['/bin/sh'], apt: 'dash' };
    expect(skipWarnings({ 'test/functional/x.test.ts': [sh] })).toEqual([]);
    expect(titleSayingWhy('behind x', [sh])).toBe('behind x');
    expect(titleSayingWhy('behind x', [sh, absent])).toBe(
      'behind x: SKIPPED, no-such-tool-here not installed (apt-get install -y no-such-package; .ci/run does)',
    );
  });
});
