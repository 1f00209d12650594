// docs/options.md is generated from the options table; this fails when it is stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderOptionsDoc } from '../../src/options-doc.js';
import { OPTIONS, snakeOf } from '../../src/options.js';

describe('docs/options.md', () => {
  const onDisk = readFileSync(new URL('../../docs/options.md', import.meta.url), 'utf8');
  it('matches the options table (run `npm run docs:options`)', () => {
    expect(onDisk).toBe(renderOptionsDoc());
  });
  it('lists every option under its three names', () => {
    for (const name of Object.keys(OPTIONS)) {
      expect(onDisk).toContain(`| \`${name}\` | \`--`);
      expect(onDisk).toContain(`\`${snakeOf(name)}\``);
    }
  });
});
