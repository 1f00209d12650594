// The console logger: every line stamped with its time and level, as text (a stack indented under
// its entry) or as one pino JSON line, and used only when serve() is given no logger of its own.
import { hostname } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { consoleLogger, jsonLine, serializeError, textLine, type Logger } from '../../src/config/console-log.js';
import { resolveOptions } from '../../src/config/options.js';
import { OptionError } from '../../src/errors.js';

const TIME = Date.UTC(2026, 10, 28, 8, 3, 19, 123);
const ISO_LINE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (ERROR|WARN |INFO ) /;
const origin = { pid: 4242, hostname: 'web-1' };

/** A logger writing into an array, at a fixed time. */
function recorded(format: 'text' | 'json'): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  return { lines, logger: consoleLogger(format, { write: (line: string) => void lines.push(line) }, () => TIME) };
}

function failing(): Error {
  const error = new Error('boom', { cause: new TypeError('inner') });
  return Object.assign(error, { code: 'E_DEMO' });
}

afterEach(() => vi.restoreAllMocks());

describe('text lines', () => {
  it('start with the UTC time to the millisecond and the level, padded to one width', () => {
    expect(textLine('info', TIME, ['Serving on http://127.0.0.1:8080'])).toBe(
      '2026-11-28T08:03:19.123Z INFO  Serving on http://127.0.0.1:8080\n',
    );
    expect(textLine('warn', TIME, ['w'])).toBe('2026-11-28T08:03:19.123Z WARN  w\n');
    expect(textLine('error', TIME, ['e'])).toBe('2026-11-28T08:03:19.123Z ERROR e\n');
  });

  it('show an error as console does, its stack, fields and cause indented under the entry', () => {
    const line = textLine('error', TIME, ['waitstate: GET /a: app error:', failing()]);
    const [first, ...rest] = line.trimEnd().split('\n');
    expect(first).toBe('2026-11-28T08:03:19.123Z ERROR waitstate: GET /a: app error: Error: boom');
    expect(rest.length).toBeGreaterThan(3);
    for (const continued of rest) expect(continued).toMatch(/^ {2}/);
    expect(line).toMatch(/\n {6}at /);
    expect(line).toContain("code: 'E_DEMO'");
    expect(line).toContain('[cause]: TypeError: inner');
  });

  it('let no line of a message pass for an entry of its own', () => {
    const line = textLine('info', TIME, ['a\n2026-11-28T08:03:19.123Z ERROR forged\r\nb\rc']);
    expect(line.split('\n').filter((l) => ISO_LINE.test(l))).toHaveLength(1);
    expect(line).toBe('2026-11-28T08:03:19.123Z INFO  a\n  2026-11-28T08:03:19.123Z ERROR forged\n  b\n  c\n');
  });

  it('take strings as they are, without printf placeholders', () => {
    expect(textLine('error', TIME, ['GET /a%sb%d:', 'x'])).toBe('2026-11-28T08:03:19.123Z ERROR GET /a%sb%d: x\n');
  });
});

describe('JSON lines', () => {
  const parse = (line: string) => {
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    return JSON.parse(line) as Record<string, unknown>;
  };

  it("are pino's: level number, time in ms, pid, hostname, msg", () => {
    expect(jsonLine('info', TIME, ['Serving on http://127.0.0.1:8080'], origin)).toBe(
      `{"level":30,"time":${TIME},"pid":4242,"hostname":"web-1","msg":"Serving on http://127.0.0.1:8080"}\n`,
    );
    expect(parse(jsonLine('warn', TIME, ['w'], origin))['level']).toBe(40);
    expect(parse(jsonLine('error', TIME, ['e'], origin))['level']).toBe(50);
  });

  it('serialize an error as pino does (type, message and stack with their causes, its fields), in one line', () => {
    const record = parse(jsonLine('error', TIME, ['waitstate: GET /a: app error: E_DEMO:', failing()], origin));
    expect(record['msg']).toBe('waitstate: GET /a: app error: E_DEMO: boom');
    const err = record['err'] as Record<string, unknown>;
    expect(err['type']).toBe('Error');
    expect(err['message']).toBe('boom: inner');
    expect(err['code']).toBe('E_DEMO');
    expect(err['stack']).toMatch(/^Error: boom\n {4}at [^]*\ncaused by: TypeError: inner\n {4}at /);
    expect(Object.keys(record)).toEqual(['level', 'time', 'pid', 'hostname', 'err', 'msg']);
  });

  it('name the class: a subclass by its constructor, an error rebuilt from a worker thread by its name', () => {
    class DatabaseError extends Error {}
    expect(serializeError(new DatabaseError('x'))['type']).toBe('DatabaseError');
    const rebuilt = new Error('y');
    rebuilt.name = 'RangeError';
    expect(serializeError(rebuilt)['type']).toBe('RangeError');
  });

  it("list an AggregateError's errors, and survive cycles and BigInts", () => {
    const aggregate = serializeError(new AggregateError([new Error('a'), new RangeError('b')], 'both'));
    expect((aggregate['aggregateErrors'] as { type: string; message: string }[]).map((e) => [e.type, e.message])).toEqual([
      ['Error', 'a'],
      ['RangeError', 'b'],
    ]);
    const looped = Object.assign(new Error('loop'), { self: undefined as unknown, count: 10n });
    looped.self = looped;
    const cyclic: Record<string, unknown> = { name: 'cyclic' };
    cyclic['again'] = cyclic;
    const record = parse(jsonLine('error', TIME, [looped, cyclic], origin));
    expect(record['err']).toMatchObject({ type: 'Error', message: 'loop', self: '[Circular]', count: '10' });
    expect(record['msg']).toBe("loop <ref *1> { name: 'cyclic', again: [Circular *1] }");
  });
});

describe('the default logger', () => {
  it('writes stamped text lines to stderr, json when logFormat says so, pid and hostname included', () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((line: string | Uint8Array) => {
      written.push(String(line));
      return true;
    });
    const stdout = vi.spyOn(process.stdout, 'write');
    resolveOptions({}).logger.info('hello');
    resolveOptions({ logFormat: 'json' }).logger.error('bad:', new Error('worse'));
    resolveOptions({ logFormat: 'json', logLevel: 'warn' }).logger.info('filtered out');
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z INFO {2}hello\n$/);
    expect(JSON.parse(written[1]!)).toMatchObject({ level: 50, pid: process.pid, hostname: hostname(), msg: 'bad: worse' });
    expect(stdout).not.toHaveBeenCalled();
  });

  it("passes a logger of the user's the arguments as they are, unstamped", () => {
    const calls: unknown[][] = [];
    const own = { error: (...a: unknown[]) => void calls.push(a), warn() {}, info() {} };
    const error = new Error('x');
    resolveOptions({ logger: own, logFormat: 'json' }).logger.error('waitstate: failed:', error);
    expect(calls).toEqual([['waitstate: failed:', error]]);
  });

  it('refuses an unknown logFormat, naming the option', () => {
    expect(() => resolveOptions({ logFormat: 'xml' })).toThrow(OptionError);
    expect(() => resolveOptions({ logFormat: 'xml' })).toThrow(/logFormat: must be one of text, json \(got "xml"\)/);
  });

  it('writes one whole line per call to the output it is given', () => {
    const text = recorded('text');
    text.logger.warn('careful');
    expect(text.lines).toEqual(['2026-11-28T08:03:19.123Z WARN  careful\n']);
    const json = recorded('json');
    json.logger.warn('careful');
    expect(json.lines).toHaveLength(1);
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: 40, time: TIME, msg: 'careful' });
  });
});
