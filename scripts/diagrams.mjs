// scripts/diagrams.mjs: write diagrams/<machine>.md from the compiled machine definitions.
// Run with `npm run diagrams` (it builds first). test/machines/diagrams.test.ts checks the files.
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderMachine } from '../dist/machines/diagram.js';
import { DIAGRAMS } from '../dist/machines/index.js';

const out = fileURLToPath(new URL('../diagrams/', import.meta.url));
mkdirSync(out, { recursive: true });
for (const { file, machine, title } of DIAGRAMS) {
  writeFileSync(out + file, renderMachine(machine, title));
  console.log(`wrote diagrams/${file}`);
}
