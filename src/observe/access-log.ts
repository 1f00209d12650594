// src/observe/access-log.ts: the access log, one Apache Combined Log Format line per request answered by
// the app. Waitress has none and points to Paste's TransLogger; this is its analogue, kept in the
// server rather than around the app so that it sees what was really sent (status, body bytes) in
// every mode: inline, worker threads and processes alike.
//
//   %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"
//   203.0.113.7 - - [25/Nov/2026:06:28:25 +0000] "GET /x?q=1 HTTP/1.1" 200 13 "-" "curl/8.5"

import { createWriteStream, openSync } from 'node:fs';
import { optionError, type LogOutput, type OptionName, type Spelling } from '../config/options.js';

interface AccessRecord {
  /** The client (after trusted proxy headers). */
  readonly remoteAddress: string;
  /** When the request was received (ms since the epoch). */
  readonly time: number;
  readonly method: string;
  readonly target: string;
  readonly version: string;
  readonly status: number;
  /** Body bytes sent, framing excluded; 0 prints as "-" (%b). */
  readonly bodyBytes: number;
  readonly referer: string | undefined;
  readonly userAgent: string | undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `[10/Oct/2000:13:55:36 -0700]`, in the server's local time zone (as Apache writes it). */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return (
    `[${pad(d.getDate())}/${MONTHS[d.getMonth()]!}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}]`
  );
}

/** Apache's escaping of logged request data: `"` and `\` backslashed, other non-printables as \xhh. */
export function clfEscape(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, (c) => {
    if (c === '"' || c === '\\') return `\\${c}`;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : encodeURIComponent(c);
  });
}

export function combinedLine(r: AccessRecord): string {
  const quoted = (value: string | undefined) => (value === undefined || value === '' ? '"-"' : `"${clfEscape(value)}"`);
  return (
    `${r.remoteAddress} - - ${clfTime(r.time)} "${clfEscape(`${r.method} ${r.target} HTTP/${r.version}`)}" ` +
    `${r.status} ${r.bodyBytes === 0 ? '-' : r.bodyBytes} ${quoted(r.referer)} ${quoted(r.userAgent)}\n`
  );
}

export interface OpenedLog {
  readonly output: LogOutput;
  /** Finish writing (a file we opened is closed; a given stream is left open). */
  close(): Promise<void>;
}

/**
 * The output for a log option (accessLog, trace): '-' is stdout, another string a file appended
 * to (opened now, so that a path that cannot be written fails start-up naming `option`), an
 * object its own output.
 */
export function openLogOutput(
  option: OptionName,
  target: string | LogOutput,
  onError: (error: Error) => void,
  spelling: Spelling,
): OpenedLog | undefined {
  if (typeof target !== 'string') return { output: target, close: async () => {} };
  if (target === '') return undefined;
  if (target === '-') return { output: process.stdout, close: async () => {} };
  let fd: number;
  try {
    fd = openSync(target, 'a');
  } catch (error) {
    throw optionError(spelling, option, `cannot open ${target}: ${(error as Error).message}`);
  }
  const stream = createWriteStream('', { fd, flags: 'a' });
  stream.on('error', onError);
  return { output: stream, close: () => new Promise<void>((resolve) => stream.end(resolve)) };
}
