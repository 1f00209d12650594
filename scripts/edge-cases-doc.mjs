// scripts/edge-cases-doc.mjs: write the catalogue section of docs/edge-cases.md from the cases.
// Run with `npm run docs:edge-cases` (it builds first). test/functional/catalogue.test.ts checks it.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withCatalogue } from '../dist/src/audit/catalogue-doc.js';

const path = fileURLToPath(new URL('../docs/edge-cases.md', import.meta.url));
writeFileSync(path, withCatalogue(readFileSync(path, 'utf8')));
console.log('wrote the catalogue section of docs/edge-cases.md');
