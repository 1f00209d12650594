// test/http/layering.test.ts: src/http/ is sans-I/O (the folder is the layer). A bad
// import fails here even without lint.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const dir = fileURLToPath(new URL('../../src/http/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('src/http/ has no I/O', () => {
  test('the folder holds the codec files', () => {
    expect(files).toEqual(
      expect.arrayContaining(['chunked.ts', 'date.ts', 'errors.ts', 'grammar.ts', 'head.ts', 'response.ts', 'types.ts']),
    );
  });
  test.each(files)('%s imports only siblings, and no node: module', (f) => {
    const src = readFileSync(dir + f, 'utf8');
    const specifiers = [...src.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    for (const s of specifiers) expect(s, `${f}: ${s}`).toMatch(/^\.\/[a-z-]+\.js$/);
    expect(src).not.toMatch(/\brequire\(|\bimport\(/);
  });
  test.each(files)('%s uses no timers, process, or sockets', (f) => {
    const src = readFileSync(dir + f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    expect(src).not.toMatch(/\b(setTimeout|setInterval|setImmediate|queueMicrotask|process\.|Date\.now|performance\.)/);
  });
});
