#!/usr/bin/env node
// src/cli/trace.ts: `waitstate-trace FILE [--connection N] [--html OUT]`: a trace written by the
// `trace` option, as a readable timeline per connection (or of one connection), or with --html
// as a self-contained page that steps through one connection over its machine diagrams (the
// first connection of the trace when --connection names none, which it says on stderr):
//
//   connection 7
//       0.412 ms  channel  reading   --socket.data-->       reading
//       0.431 ms  parser   head      --head.parsed-->       complete
//
// Exits 1 when the file cannot be read or holds no such connection, 2 on bad usage.

import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { renderTraceHtml } from '../observe/trace-html.js';
import type { TraceLine } from '../observe/trace.js';

const USAGE = 'Usage: waitstate-trace FILE [--connection N] [--html OUT]';

class UsageError extends Error {}

export function readTrace(text: string): TraceLine[] {
  const lines: TraceLine[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      throw new Error(`line ${i + 1} is not JSON`);
    }
    const l = line as TraceLine;
    if (typeof l.t !== 'number' || typeof l.actor !== 'string' || typeof l.event !== 'string') {
      throw new Error(`line ${i + 1} is not a trace line (t, connection, actor, from, event, to)`);
    }
    lines.push(l);
  }
  return lines;
}

/** The timeline of each connection in `lines` (all, or only `connection`), times from its first line. */
export function renderTimeline(lines: readonly TraceLine[], connection?: number): string {
  const ids = [...new Set(lines.map((l) => l.connection))].filter((id) => connection === undefined || id === connection);
  const out: string[] = [];
  for (const id of ids) {
    const own = lines.filter((l) => l.connection === id);
    const start = own[0]!.t;
    const width = (pick: (l: TraceLine) => string) => Math.max(...own.map((l) => pick(l).length));
    const [actorWidth, fromWidth, eventWidth] = [width((l) => l.actor), width((l) => l.from), width((l) => `--${l.event}-->`)];
    out.push(id === null ? 'server (no connection)' : `connection ${id}`);
    for (const l of own) {
      const time = `${(l.t - start).toFixed(3)} ms`.padStart(12);
      out.push(`${time}  ${l.actor.padEnd(actorWidth)}  ${l.from.padEnd(fromWidth)}  ${`--${l.event}-->`.padEnd(eventWidth)}  ${l.to}`);
    }
    out.push('');
  }
  return out.join('\n');
}

function main(
  argv: readonly string[],
  out: (text: string) => void = console.log,
  note: (text: string) => void = (text) => process.stderr.write(`${text}\n`),
): number {
  let file: string | undefined;
  let connection: number | undefined;
  let html: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--html' || arg.startsWith('--html=')) {
      html = arg === '--html' ? argv[++i] : arg.slice('--html='.length);
      if (html === undefined || html === '') throw new UsageError(`--html needs a file to write. ${USAGE}`);
      continue;
    }
    const value = arg.startsWith('--connection=') ? arg.slice('--connection='.length) : arg === '--connection' ? argv[++i] : undefined;
    if (value !== undefined || arg === '--connection') {
      if (value === undefined || !/^\d+$/.test(value)) throw new UsageError(`--connection needs a connection number. ${USAGE}`);
      connection = Number(value);
    } else if (arg === '--help' || arg === '-h') {
      out(USAGE);
      return 0;
    } else if (arg.startsWith('--')) throw new UsageError(`${arg} is not an option. ${USAGE}`);
    else if (file === undefined) file = arg;
    else throw new UsageError(`give one trace file. ${USAGE}`);
  }
  if (file === undefined) throw new UsageError(`name the trace file. ${USAGE}`);
  const lines = readTrace(readFileSync(file, 'utf8'));
  if (html !== undefined) {
    const ids = [...new Set(lines.map((l) => l.connection).filter((id) => id !== null))];
    const id = connection ?? ids[0];
    if (id === undefined) throw new Error(`${file} holds no connection`);
    if (connection === undefined && ids.length > 1) {
      const listed = ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, …` : ids.join(', ');
      note(
        `waitstate-trace: ${file} has ${ids.length} connections (${listed}); the page shows the first, ${id}: pick another with --connection N`,
      );
    }
    writeFileSync(html, renderTraceHtml(lines, id));
    out(`wrote ${html}: connection ${id}, open it in a browser`);
    return 0;
  }
  const timeline = renderTimeline(lines, connection);
  if (timeline === '')
    throw new Error(connection === undefined ? `${file} holds no trace lines` : `${file} has no connection ${connection}`);
  out(timeline.trimEnd());
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`waitstate-trace: error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  }
}
