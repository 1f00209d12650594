#!/usr/bin/env node
// src/audit/cli.ts: `waitstate-audit http://HOST:PORT [--cases FILE] [--json]`: run the edge-case
// catalogue (or the cases in FILE, a JSON array of the same shape) against any HTTP/1.1 server
// over raw sockets, one case at a time, and print expected / got / verdict per case with a
// summary. A verdict is `pass` (waitstate's answer), `allowed` (another answer the RFC permits)
// or `FAIL`. Exits 1 when a case fails, 2 on bad usage. The server should answer 200 to any
// well-formed request (a hello app).

import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { CATALOGUE, type EdgeCase } from './catalogue.js';
import { allowedAnswer, probe, verdict, type ProbeResult, type Verdict } from './probe.js';

const USAGE = 'Usage: waitstate-audit http://HOST:PORT [--cases FILE] [--json]';

class UsageError extends Error {}

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

function readCases(path: string): EdgeCase[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--cases: cannot read ${path}: ${(error as Error).message}`);
  }
  type CaseInput = Pick<EdgeCase, 'id' | 'send' | 'statuses' | 'closes'> & Partial<EdgeCase>;
  const valid = (c: unknown): c is CaseInput =>
    c !== null &&
    typeof c === 'object' &&
    typeof (c as CaseInput).id === 'string' &&
    typeof (c as CaseInput).send === 'string' &&
    Array.isArray((c as CaseInput).statuses) &&
    typeof (c as CaseInput).closes === 'boolean' &&
    ((c as CaseInput).alsoAllowed === undefined || Array.isArray((c as CaseInput).alsoAllowed));
  if (!Array.isArray(parsed) || !parsed.every(valid)) {
    throw new UsageError(`--cases: ${path} must hold a JSON array of cases with id, send, statuses and closes (alsoAllowed an array)`);
  }
  return parsed.map((c: CaseInput) => ({ area: 'Request line', title: c.id, rfc: '', decidedBy: '', ...c }));
}

export async function audit(url: string, cases: readonly EdgeCase[]): Promise<AuditRow[]> {
  const { hostname, port, protocol } = new URL(url);
  if (protocol !== 'http:') throw new UsageError(`only http:// targets can be audited (got ${protocol})`);
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  const rows: AuditRow[] = [];
  for (const edge of cases) {
    const got = await probe(host, Number(port || 80), edge);
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
    else if (arg === '--cases') casesFile = argv[++i];
    else if (arg.startsWith('--cases=')) casesFile = arg.slice('--cases='.length);
    else if (arg === '--help' || arg === '-h') {
      out(USAGE);
      return 0;
    } else if (arg.startsWith('--')) throw new UsageError(`${arg} is not an option. ${USAGE}`);
    else if (target === undefined) target = arg;
    else throw new UsageError(`give one server, not two. ${USAGE}`);
  }
  if (target === undefined) throw new UsageError(`name the server to audit. ${USAGE}`);
  if (casesFile === '') throw new UsageError('--cases needs a file name');
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
      process.stderr.write(`waitstate-audit: error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
