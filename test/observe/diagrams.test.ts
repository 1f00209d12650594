// diagrams/ is generated from the machine definitions; this fails when it is stale.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIAGRAMS, renderMachine, withDiagrams } from '../../src/observe/diagram.js';

describe('diagrams/ matches the machines', () => {
  it.each(DIAGRAMS.map((d) => [d.file, d] as const))('%s is up to date (run `npm run diagrams`)', (file, d) => {
    const onDisk = readFileSync(new URL(`../../diagrams/${file}`, import.meta.url), 'utf8');
    expect(onDisk).toBe(renderMachine(d.machine, d.title));
  });
  it('docs/architecture.md embeds them as they are (run `npm run diagrams`)', () => {
    const page = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    expect(page).toBe(withDiagrams(page, DIAGRAMS));
    expect(page.match(/```mermaid/g)?.length).toBeGreaterThanOrEqual(DIAGRAMS.length);
  });
  it('shows every state, guard and RFC-carrying description of the channel', () => {
    const text = renderMachine(DIAGRAMS[0]!.machine, 'x');
    for (const word of ['awaiting-continue', 'pending-close', 'wantsContinue', 'isClosing', 'RFC 9110 §10.1.1'])
      expect(text).toContain(word);
  });
});
