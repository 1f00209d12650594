// scripts/options-doc.mjs: write docs/options.md from the options table.
// Run with `npm run docs:options` (it builds first). test/cli/options-doc.test.ts checks the file.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderOptionsDoc } from '../dist/src/options-doc.js';

writeFileSync(fileURLToPath(new URL('../docs/options.md', import.meta.url)), renderOptionsDoc());
console.log('wrote docs/options.md');
