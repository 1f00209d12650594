// src/audit/catalogue-doc.ts: the catalogue section of docs/edge-cases.md, rendered from the
// cases. `npm run docs:edge-cases` writes it between its markers; test/functional/catalogue.test.ts
// fails when the page is stale.

import { CATALOGUE, type EdgeCase } from './catalogue.js';

const CATALOGUE_START = '<!-- catalogue:start (generated from src/audit/catalogue.ts by `npm run docs:edge-cases`) -->';
const CATALOGUE_END = '<!-- catalogue:end -->';

const SHOWN_BYTES = 90;

/** The bytes as a reader can see them: CR, LF, TAB and other controls escaped, long runs cut. */
function shownBytes(bytes: string): string {
  const escaped = bytes
    .replace(/\\/g, '\\\\')
    .replace(/\r/g, '\\r')
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t')
    .replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/(.)\1{19,}/g, (run, c: string) => `${c}…(${run.length}×)`);
  const cut = escaped.length > SHOWN_BYTES ? `${escaped.slice(0, SHOWN_BYTES)}…` : escaped;
  return '`' + cut.replace(/\|/g, '\\|').replace(/`/g, "'") + '`';
}

function answer(answer: Pick<EdgeCase, 'statuses' | 'closes'>): string {
  return `${answer.statuses.join(', ')}${answer.closes ? ', close' : ''}`;
}

/** waitstate's answer, then the others the RFC allows (waitstate-audit calls them `allowed`). */
function answers(edge: EdgeCase): string {
  const byRule = new Map<string, string[]>();
  for (const a of edge.alsoAllowed ?? []) byRule.set(a.why, [...(byRule.get(a.why) ?? []), answer(a)]);
  const others = [...byRule].map(([why, shown]) => `${shown.join(' or ')} (${why})`);
  return others.length === 0 ? answer(edge) : `${answer(edge)}; also allowed: ${others.join('; ')}`;
}

function renderCatalogue(): string {
  const lines = [
    CATALOGUE_START,
    '',
    `${CATALOGUE.length} cases. Each is sent over a raw socket by the test suite (test/functional/catalogue.test.ts),`,
    'which checks the answers, the close and, for a refusal, the error code waitstate logs. Where the',
    'RFC also allows other answers, they follow the answer with the rule that allows them.',
  ];
  const areas = [...new Set(CATALOGUE.map((c) => c.area))];
  for (const area of areas) {
    lines.push('', `### ${area}`, '', '| case | bytes sent | answer | rule | decided by |', '|---|---|---|---|---|');
    for (const edge of CATALOGUE.filter((c) => c.area === area)) {
      const sent =
        edge.thenSend === undefined ? shownBytes(edge.send) : `${shownBytes(edge.send)}, after the 100: ${shownBytes(edge.thenSend)}`;
      const decided = edge.code === undefined ? edge.decidedBy : `\`${edge.code}\`; ${edge.decidedBy}`;
      lines.push(
        `| \`${edge.id}\`: ${edge.title} | ${sent} | ${answers(edge).replace(/\|/g, '\\|')} | ${edge.rfc} | ${decided.replace(/\|/g, '\\|')} |`,
      );
    }
  }
  lines.push('', CATALOGUE_END);
  return lines.join('\n');
}

/** `page` with its catalogue section replaced by a fresh rendering. */
export function withCatalogue(page: string): string {
  const start = page.indexOf(CATALOGUE_START);
  const end = page.indexOf(CATALOGUE_END);
  if (start === -1 || end === -1) throw new Error('docs/edge-cases.md has no catalogue markers');
  return page.slice(0, start) + renderCatalogue() + page.slice(end + CATALOGUE_END.length);
}
