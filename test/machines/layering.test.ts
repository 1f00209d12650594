// machines/ stays pure (the folder is the layer): xstate, sibling machine files, and
// only *types* from src/http/. No node: module, no timers, no I/O. Fails even without lint.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const dir = fileURLToPath(new URL('../../machines/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('machines/ is pure', () => {
  test('the folder holds the three machines', () => {
    expect(files).toEqual(expect.arrayContaining(['channel.ts', 'parser.ts', 'task.ts', 'table.ts']));
  });
  test.each(files)('%s imports only xstate, siblings, and types from src/http', (f) => {
    const src = readFileSync(dir + f, 'utf8');
    for (const m of src.matchAll(/^\s*(import|export)(\s+type)?[^'"]*from\s+['"]([^'"]+)['"]/gm)) {
      const [, , typeOnly, specifier] = m;
      if (specifier === 'xstate' || specifier!.startsWith('xstate/') || /^\.\/[a-z-]+\.js$/.test(specifier!)) continue;
      expect(specifier, `${f}: ${specifier}`).toMatch(/^\.\.\/src\/http\/[a-z-]+\.js$/);
      expect(typeOnly, `${f}: values from ${specifier} must not be imported`).toBeDefined();
    }
    expect(src).not.toMatch(/\brequire\(|\bimport\(/);
  });
  test.each(files)('%s uses no timers, process, or sockets', (f) => {
    const src = readFileSync(dir + f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    expect(src).not.toMatch(/\b(setTimeout|setInterval|setImmediate|queueMicrotask|process\.|Date\.now|performance\.|console\.)/);
  });
});
