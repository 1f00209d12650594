// src/audit/probe.ts: run one catalogue case against any HTTP/1.1 server over a raw socket, and
// report what came back: the status of each response, and whether the server closed (and, for a
// case with a field rule, whether the answers' fields keep it). Also the check, before any case,
// that a server is there at all.
// Deliberately dumb: bytes go out exactly as written, and responses are split by their own
// framing (Content-Length, chunked, or the close), so nothing normalises either side.

import { connect } from 'node:net';
import type { Answer, EdgeCase } from './catalogue.js';

export interface ProbeResult {
  readonly statuses: number[];
  readonly closes: boolean;
  /** Set when the server's bytes could not be read as responses. */
  readonly problem?: string | undefined;
}

interface ProbeOptions {
  /** Give up after this long. */
  readonly timeoutMs?: number;
  /** Quiet time after the expected responses before deciding the server keeps the connection. */
  readonly settleMs?: number;
}

/** A response's field lines, names lower-cased, values trimmed. */
type Fields = readonly (readonly [string, string])[];

type Parsed = { kind: 'response'; status: number; fields: Fields; end: number } | { kind: 'incomplete' } | { kind: 'bad'; problem: string };

/**
 * One response starting at `from`; `closed` says whether the stream has ended (a body to the
 * close); `toHead` that it answers a HEAD, so it ends with its head (RFC 9110 §9.3.2).
 */
function parseResponse(buffer: Buffer, from: number, closed: boolean, toHead: boolean): Parsed {
  const headEnd = buffer.indexOf('\r\n\r\n', from, 'latin1');
  if (headEnd === -1)
    return closed && buffer.length > from ? { kind: 'bad', problem: 'a response head was cut off' } : { kind: 'incomplete' };
  const head = buffer.toString('latin1', from, headEnd);
  const status = /^HTTP\/\d\.\d (\d{3})/.exec(head);
  if (status === null) return { kind: 'bad', problem: `not a status line: ${JSON.stringify(head.split('\r\n')[0])}` };
  const code = Number(status[1]);
  const bodyStart = headEnd + 4;
  const fields: Fields = head
    .split('\r\n')
    .slice(1)
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
    });
  const done = (end: number): Parsed => ({ kind: 'response', status: code, fields, end });
  if (toHead || (code >= 100 && code < 200) || code === 204 || code === 304) return done(bodyStart);
  const field = (name: string) => fields.find(([n]) => n === name)?.[1];
  if (/chunked/i.test(field('transfer-encoding') ?? '')) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', at, 'latin1');
      if (lineEnd === -1) return { kind: 'incomplete' };
      const size = parseInt(buffer.toString('latin1', at, lineEnd), 16);
      if (Number.isNaN(size)) return { kind: 'bad', problem: 'a chunk size is not hexadecimal' };
      if (size === 0) {
        const trailerEnd = buffer.indexOf('\r\n\r\n', lineEnd, 'latin1');
        return trailerEnd === -1 ? { kind: 'incomplete' } : done(trailerEnd + 4);
      }
      at = lineEnd + 2 + size + 2;
      if (at > buffer.length) return { kind: 'incomplete' };
    }
  }
  const length = field('content-length');
  if (length !== undefined) {
    const end = bodyStart + Number(length);
    return buffer.length >= end ? done(end) : { kind: 'incomplete' };
  }
  return closed ? done(buffer.length) : { kind: 'incomplete' };
}

const count = (fields: Fields, name: string) => fields.filter(([n]) => n === name).length;

/** What breaks the case's field rule in these answers, or undefined when they keep it. */
function breaksFieldRule(edge: EdgeCase, statuses: readonly number[], answers: readonly Fields[]): string | undefined {
  const heads = edge.headAnswers ?? [];
  switch (edge.fieldRule) {
    case undefined:
      return undefined;
    case 'head-length-as-get':
      for (const h of heads) {
        if (h === 0 || answers[h] === undefined) continue;
        const length = answers[h]!.find(([n]) => n === 'content-length')?.[1];
        const getLength = answers[h - 1]!.find(([n]) => n === 'content-length')?.[1];
        if (length !== undefined && length !== getLength) {
          return `HEAD got Content-Length ${length}, GET ${getLength === undefined ? 'none' : getLength}`;
        }
      }
      return undefined;
    case 'framed-once':
      for (const [i, fields] of answers.entries()) {
        const status = statuses[i]!;
        if (heads.includes(i) || (status >= 100 && status < 200) || status === 204 || status === 304) continue;
        const framing = count(fields, 'content-length') + count(fields, 'transfer-encoding');
        if (framing > 1) return `response ${i + 1} has ${framing} framing fields`;
        if (count(fields, 'connection') > 1) return `response ${i + 1} has ${count(fields, 'connection')} Connection fields`;
      }
      return undefined;
  }
}

/**
 * Why nothing can be audited at host:port, or undefined when a connection opens there. Checked
 * once before the cases run: without a server, every case would fail alike and hide the cause.
 */
export function whyUnreachable(host: string, port: number, timeoutMs = 3000): Promise<string | undefined> {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (why: string | undefined) => {
      clearTimeout(deadline);
      socket.destroy();
      resolve(why);
    };
    const deadline = setTimeout(() => done(`nothing answers at ${where}: no connection within ${timeoutMs} ms`), timeoutMs);
    socket.on('connect', () => done(undefined));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done(`nothing is listening on ${where} (connection refused)`);
      else if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') done(`${host} does not resolve (${error.code})`);
      else done(`cannot connect to ${where}: ${error.message}`);
    });
  });
}

export function probe(host: string, port: number, edge: EdgeCase, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const settleMs = options.settleMs ?? 200;
  return new Promise((resolve) => {
    const socket = connect({ host, port, allowHalfOpen: true });
    let buffer = Buffer.alloc(0);
    let read = 0;
    let closed = false;
    let done = false;
    let sentRest = edge.thenSend === undefined;
    const statuses: number[] = [];
    const answers: Fields[] = [];
    let settle: NodeJS.Timeout | undefined;
    const finish = (result: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(settle);
      socket.destroy();
      const broken = result.problem === undefined ? breaksFieldRule(edge, statuses, answers) : undefined;
      resolve(broken === undefined ? result : { ...result, problem: broken });
    };
    const deadline = setTimeout(
      () => finish({ statuses, closes: false, problem: closed ? undefined : `no end within ${timeoutMs} ms` }),
      timeoutMs,
    );
    const look = () => {
      for (;;) {
        const parsed = parseResponse(buffer, read, closed, edge.headAnswers?.includes(statuses.length) === true);
        if (parsed.kind === 'bad') return finish({ statuses, closes: closed, problem: parsed.problem });
        if (parsed.kind === 'incomplete') break;
        statuses.push(parsed.status);
        answers.push(parsed.fields);
        read = parsed.end;
        if (!sentRest) {
          sentRest = true;
          socket.write(Buffer.from(edge.thenSend!, 'latin1'));
        }
      }
      if (closed) {
        const trailing = buffer.length - read;
        return finish({ statuses, closes: true, problem: trailing > 0 ? `${trailing} bytes after the last response` : undefined });
      }
      clearTimeout(settle);
      // Once the answers expected have come, a server that keeps the connection stays quiet.
      if (statuses.length >= edge.statuses.length) settle = setTimeout(() => finish({ statuses, closes: false }), settleMs);
    };
    socket.on('connect', () => socket.write(Buffer.from(edge.send, 'latin1')));
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      look();
    });
    const onEnd = () => {
      closed = true;
      look();
    };
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // A reset after the answers is a close (some servers close without reading what is left).
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
      finish({ statuses, closes: false, problem: error.message });
    });
  });
}

/**
 * `pass`: what came back is the answer the case expects (waitstate's); `allowed`: it is another
 * answer the RFC permits (`alsoAllowed`); `FAIL`: neither, or the bytes could not be read.
 */
export type Verdict = 'pass' | 'allowed' | 'FAIL';

export function verdict(edge: EdgeCase, result: ProbeResult): Verdict {
  if (result.problem !== undefined) return 'FAIL';
  if (isAnswer(edge, result)) return 'pass';
  return allowedAnswer(edge, result) === undefined ? 'FAIL' : 'allowed';
}

/** The answer of `alsoAllowed` that came back, if one did. */
export function allowedAnswer(edge: EdgeCase, result: ProbeResult): Answer | undefined {
  return result.problem === undefined ? edge.alsoAllowed?.find((answer) => isAnswer(answer, result)) : undefined;
}

function isAnswer(answer: Pick<Answer, 'statuses' | 'closes'>, result: ProbeResult): boolean {
  return (
    result.closes === answer.closes &&
    result.statuses.length === answer.statuses.length &&
    result.statuses.every((status, i) => status === answer.statuses[i])
  );
}
