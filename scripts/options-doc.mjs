// scripts/options-doc.mjs: write docs/options.md and docs/from-waitress.md from the options table.
// Run with `npm run docs:options` (it builds first). test/cli/options-doc.test.ts checks the file.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderFromWaitressDoc, renderOptionsDoc } from '../dist/src/config/options-doc.js';

writeFileSync(fileURLToPath(new URL('../docs/options.md', import.meta.url)), renderOptionsDoc());
writeFileSync(fileURLToPath(new URL('../docs/from-waitress.md', import.meta.url)), renderFromWaitressDoc());
console.log('wrote docs/options.md and docs/from-waitress.md');
