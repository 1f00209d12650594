// scripts/diagrams.mjs: write diagrams/<machine>.md from the compiled machine definitions,
// and embed them in docs/architecture.md. Run with `npm run diagrams` (it builds first);
// test/observe/diagrams.test.ts checks both.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DIAGRAMS, renderMachine, withDiagrams } from '../dist/src/observe/diagram.js';

const out = fileURLToPath(new URL('../diagrams/', import.meta.url));
mkdirSync(out, { recursive: true });
for (const { file, machine, title } of DIAGRAMS) {
  writeFileSync(out + file, renderMachine(machine, title));
  console.log(`wrote diagrams/${file}`);
}
const architecture = fileURLToPath(new URL('../docs/architecture.md', import.meta.url));
writeFileSync(architecture, withDiagrams(readFileSync(architecture, 'utf8'), DIAGRAMS));
console.log('wrote the diagrams into docs/architecture.md');
