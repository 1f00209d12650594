#!/usr/bin/env node
// src/audit/cli.ts: `waitstate-audit http://HOST:PORT [--cases FILE] [--json]`: run the edge-case
// catalogue (or the cases in FILE, a JSON array of the same shape) against any HTTP/1.1 server
// over raw sockets, one case at a time, and print expected / got / verdict per case with a
// summary. A verdict is `pass` (waitstate's answer), `allowed` (another answer the RFC permits)
// or `FAIL`. Exits 1 when a case fails, 2 when the audit cannot run (bad usage, a bad cases
// file, no server at the address). The server should answer 200 to any well-formed request (a hello app).

import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CATALOGUE, FIELD_RULES, type EdgeCase } from './catalogue.js';
import { allowedAnswer, probe, verdict, whyUnreachable, type ProbeResult, type Verdict } from './probe.js';

const USAGE = 'Usage: waitstate-audit http://HOST:PORT [--cases FILE] [--json]';

const HELP = `${USAGE}

Send each case of waitstate's edge-case catalogue to the HTTP/1.1 server at http://HOST:PORT,
one at a time over a raw socket, and print per case what the RFC expects, what came back, and a
verdict: pass (the answer waitstate gives), allowed (another answer the RFC permits, with the
rule) or FAIL. The server should answer 200 to any well-formed request (a hello app). Plain
HTTP only: for a server behind TLS, audit its http:// address.

Options:
  --cases FILE, --cases=FILE  run the cases in FILE, a JSON array, instead of the catalogue
                              (the format, with an example, is in docs/audit.md)
  --json                      print a JSON report (target, counts, and per case what was
                              expected, what came back and the verdict) instead of the table
  -h, --help                  print this help and exit

Exit codes:
  0  every case passed or got an allowed answer
  1  a case failed
  2  the audit did not run: a bad argument or cases file, or no server at HOST:PORT`;

interface AuditRow {
  id: string;
  title: string;
  rfc: string;
  expected: { statuses: readonly number[]; closes: boolean };
  got: ProbeResult;
  verdict: Verdict;
  /** Why the answer is allowed, when the verdict is `allowed`. */
  why?: string | undefined;
}

/** The fields a case may have: those of the catalogue's cases. */
const CASE_FIELDS = new Set([
  'id',
  'area',
  'title',
  'send',
  'thenSend',
  'statuses',
  'closes',
  'rfc',
  'decidedBy',
  'code',
  'alsoAllowed',
  'headAnswers',
  'fieldRule',
]);

const isStatuses = (v: unknown) => Array.isArray(v) && v.every((s) => Number.isInteger(s) && s >= 100 && s <= 999);
function isAnswer(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const answer = v as Record<string, unknown>;
  return isStatuses(answer['statuses']) && typeof answer['closes'] === 'boolean' && typeof answer['why'] === 'string';
}

/** What is wrong with one case of a cases file, or undefined when it can run. */
function caseProblem(c: unknown): string | undefined {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return 'must be an object';
  const field = (name: string) => (c as Record<string, unknown>)[name];
  const unknown = Object.keys(c).find((name) => !CASE_FIELDS.has(name));
  if (unknown !== undefined) return `${JSON.stringify(unknown)} is not a field of a case (those are ${[...CASE_FIELDS].join(', ')})`;
  if (typeof field('id') !== 'string') return 'id must be a string';
  if (typeof field('send') !== 'string') return 'send must be a string';
  if (!isStatuses(field('statuses'))) return 'statuses must be an array of status codes';
  if (typeof field('closes') !== 'boolean') return 'closes must be true or false';
  for (const name of ['area', 'title', 'thenSend', 'rfc', 'decidedBy', 'code']) {
    if (field(name) !== undefined && typeof field(name) !== 'string') return `${name} must be a string`;
  }
  const alsoAllowed = field('alsoAllowed');
  if (alsoAllowed !== undefined && !(Array.isArray(alsoAllowed) && alsoAllowed.every(isAnswer))) {
    return 'alsoAllowed must be an array of { statuses, closes, why }';
  }
  const headAnswers = field('headAnswers');
  if (headAnswers !== undefined && !(Array.isArray(headAnswers) && headAnswers.every((i) => Number.isInteger(i) && i >= 0))) {
    return 'headAnswers must be an array of response indexes (0 for the first)';
  }
  const fieldRule = field('fieldRule');
  if (fieldRule !== undefined && !(FIELD_RULES as readonly unknown[]).includes(fieldRule)) {
    return `fieldRule must be ${FIELD_RULES.map((rule) => JSON.stringify(rule)).join(' or ')}`;
  }
  return undefined;
}

function readCases(path: string): EdgeCase[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`--cases: cannot read ${path}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error(`--cases: ${path} must hold a JSON array of one case or more`);
  for (const [i, c] of (parsed as unknown[]).entries()) {
    const problem = caseProblem(c);
    if (problem === undefined) continue;
    const id = (c as { id?: unknown } | null)?.id;
    throw new Error(`--cases: ${path}: case ${i + 1}${typeof id === 'string' ? ` (${id})` : ''}: ${problem}`);
  }
  type CaseInput = Pick<EdgeCase, 'id' | 'send' | 'statuses' | 'closes'> & Partial<EdgeCase>;
  return (parsed as CaseInput[]).map((c): EdgeCase => ({ area: 'Request line', title: c.id, rfc: '', decidedBy: '', ...c }));
}

/** The host and port of the server to audit, from its http:// URL as the user wrote it. */
function parseTarget(text: string): { host: string; port: number } {
  const notAUrl = `${text} is not a URL such as http://HOST:PORT`;
  if (!text.includes('://')) throw new Error(URL.canParse(`http://${text}`) ? `${text} has no scheme: write http://${text}` : notAUrl);
  if (!URL.canParse(text)) throw new Error(notAUrl);
  const { hostname, port, protocol } = new URL(text);
  if (protocol === 'https:') {
    throw new Error(`waitstate-audit speaks plain HTTP, not https: audit the server at its http:// address (got ${text})`);
  }
  if (protocol !== 'http:') throw new Error(`only http:// servers can be audited (got ${text})`);
  return { host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port || 80) };
}

export async function audit(url: string, cases: readonly EdgeCase[]): Promise<AuditRow[]> {
  const { host, port } = parseTarget(url);
  const unreachable = await whyUnreachable(host, port);
  if (unreachable !== undefined) throw new Error(unreachable);
  const rows: AuditRow[] = [];
  for (const edge of cases) {
    const got = await probe(host, port, edge);
    const result = verdict(edge, got);
    rows.push({
      id: edge.id,
      title: edge.title,
      rfc: edge.rfc,
      expected: { statuses: edge.statuses, closes: edge.closes },
      got,
      verdict: result,
      ...(result === 'allowed' ? { why: allowedAnswer(edge, got)?.why } : {}),
    });
  }
  return rows;
}

const shown = (statuses: readonly number[], closes: boolean, problem?: string) =>
  `${statuses.length === 0 ? 'nothing' : statuses.join(', ')}${closes ? ', close' : ''}${problem === undefined ? '' : ` (${problem})`}`;

export function renderTable(rows: readonly AuditRow[]): string {
  const lines = ['| case | rule | expected | got | verdict |', '|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(
      `| \`${r.id}\` | ${r.rfc} | ${shown(r.expected.statuses, r.expected.closes)} | ${shown(r.got.statuses, r.got.closes, r.got.problem)} | ${r.verdict === 'FAIL' ? '**FAIL**' : r.verdict} |`,
    );
  }
  const { passed, allowed, failed } = tally(rows);
  lines.push('', `${passed} passed, ${allowed} allowed, ${failed} failed`);
  return lines.join('\n');
}

export function tally(rows: readonly AuditRow[]): { passed: number; allowed: number; failed: number } {
  const count = (v: Verdict) => rows.filter((r) => r.verdict === v).length;
  return { passed: count('pass'), allowed: count('allowed'), failed: count('FAIL') };
}

export async function main(argv: readonly string[], out: (text: string) => void = console.log): Promise<number> {
  let target: string | undefined;
  let casesFile: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--cases' || arg.startsWith('--cases=')) {
      casesFile = arg === '--cases' ? argv[++i] : arg.slice('--cases='.length);
      if (casesFile === undefined || casesFile === '' || casesFile.startsWith('--')) throw new Error('--cases needs a file name');
    } else if (arg === '--help' || arg === '-h') {
      out(HELP);
      return 0;
    } else if (arg.startsWith('--')) throw new Error(`${arg} is not an option. ${USAGE}`);
    else if (target === undefined) target = arg;
    else throw new Error(`give one server, not two. ${USAGE}`);
  }
  if (target === undefined) throw new Error(`name the server to audit. ${USAGE}`);
  const rows = await audit(target, casesFile === undefined ? CATALOGUE : readCases(casesFile));
  const counts = tally(rows);
  out(json ? JSON.stringify({ target, ...counts, cases: rows }, null, 2) : renderTable(rows));
  return counts.failed === 0 ? 0 : 1;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      // Exit 1 says a case failed; anything that stops the audit before a verdict is 2.
      process.stderr.write(`waitstate-audit: error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
