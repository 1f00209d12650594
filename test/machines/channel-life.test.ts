// The life of a connection as the channel machine decides it: persistence (persists(), RFC 9112
// §9.3), what a FIN and a shutdown mean (RFC 9112 §9.6) and the lingering close, as pure
// `transition()` walks (no actor, socket or timer): the state after each event, the actions it
// asks the shell for, and the facts the machine remembers.
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyStateMachine } from 'xstate';
import { channelMachine, persists, type ChannelEvent, type ConnectionFacts, type ExchangeFacts } from '../../machines/channel.js';
import { complete, error } from './fixtures.js';

const input = { shell: {} as never, deadlines: { headerTimeoutMs: 30_000, bodyMinRate: 240, bodyGraceMs: 5_000 } };

interface Step {
  readonly state: string;
  readonly actions: string[];
  readonly peerEnded: boolean;
  readonly serverClosing: boolean;
  /** For startTask: whether it is told the client left (the context it runs with). */
  readonly clientLeft?: boolean;
}

/** Every step of a walk from the initial state: what each event led to. */
function walk(...events: ChannelEvent[]): Step[] {
  const machine = channelMachine as AnyStateMachine;
  let [snapshot] = initialTransition(machine, input);
  const steps: Step[] = [];
  for (const event of events) {
    const [next, actions] = transition(machine, snapshot, event);
    snapshot = next;
    // Each executed action carries the context it runs with (xstate's ExecutableActionObject).
    const executed = actions as unknown as { type: string; info: { context: ConnectionFacts } }[];
    const started = executed.find((a) => a.type === 'startTask');
    const context = snapshot.context as ConnectionFacts;
    steps.push({
      state: String(snapshot.value),
      actions: executed.map((a) => a.type),
      peerEnded: context.peerEnded,
      serverClosing: context.serverClosing,
      ...(started && { clientLeft: started.info.context.peerEnded }),
    });
  }
  return steps;
}

/** Where a walk ends, and what its last event asked for. */
function end(...events: ChannelEvent[]): { state: string; actions: string[] } {
  const last = walk(...events).at(-1)!;
  return { state: last.state, actions: last.actions };
}

const done = (exchange: Partial<ExchangeFacts> & { backlog?: boolean } = {}): ChannelEvent => ({
  type: 'task.done',
  keepAlive: true,
  closeDelimited: false,
  pipelined: false,
  backlog: false,
  ...exchange,
});
const fin: ChannelEvent = { type: 'socket.ended', requestSpooling: false };
const incomplete: ChannelEvent = { type: 'input.incomplete' };
const closing = (idle: boolean): ChannelEvent => ({ type: 'server.closing', idle });
const drained = (pipelined: boolean): ChannelEvent => ({ type: 'output.drained', pipelined });
const ended: ChannelEvent = { type: 'output.ended' };
const closed: ChannelEvent = { type: 'socket.closed' };
const expired: ChannelEvent = { type: 'linger.expired' };

describe('persists() (RFC 9112 §9.3)', () => {
  const open: ConnectionFacts = { peerEnded: false, serverClosing: false };
  const exchange = (facts: Partial<ExchangeFacts> = {}): ExchangeFacts => ({
    keepAlive: true,
    closeDelimited: false,
    pipelined: false,
    ...facts,
  });
  const cases: [string, ExchangeFacts, ConnectionFacts, boolean][] = [
    ['§9.3: HTTP/1.1 without Connection: close (or HTTP/1.0 with keep-alive) persists', exchange(), open, true],
    ['§9.3: with a request pipelined behind it, too', exchange({ pipelined: true }), open, true],
    ['§9.3: Connection: close, or HTTP/1.0 without keep-alive, closes', exchange({ keepAlive: false }), open, false],
    ['§9.3: a request asking to close closes, whatever was pipelined', exchange({ keepAlive: false, pipelined: true }), open, false],
    ['§6.3 rule 8: a body delimited by the close closes', exchange({ closeDelimited: true }), open, false],
    ['§9.6: a server that is stopping closes after the response in progress', exchange(), { ...open, serverClosing: true }, false],
    ['§9.6: a stopping server closes even with requests pipelined', exchange({ pipelined: true }), { ...open, serverClosing: true }, false],
    ['§9.6: after a FIN with nothing pipelined before it, nothing more comes: close', exchange(), { ...open, peerEnded: true }, false],
    [
      '§9.3.2: requests pipelined before a FIN keep it open to be answered',
      exchange({ pipelined: true }),
      { ...open, peerEnded: true },
      true,
    ],
    [
      '§6.3 rule 8: a close-delimited body closes even with requests pipelined before a FIN',
      exchange({ closeDelimited: true, pipelined: true }),
      { ...open, peerEnded: true },
      false,
    ],
  ];
  it.each(cases)('RFC 9112 %s', (_, exchangeFacts, connection, expected) => {
    expect(persists(exchangeFacts, connection)).toBe(expected);
  });

  it('is the guard of task.done: the facts the task reports decide, with what the machine remembers', () => {
    expect(end(complete, done()).state).toBe('reading');
    expect(end(complete, done({ keepAlive: false })).state).toBe('pending-close');
    expect(end(complete, done({ closeDelimited: true })).state).toBe('pending-close');
    expect(end(complete, closing(false), done({ pipelined: true })).state).toBe('pending-close');
    expect(end(complete, fin, done()).state).toBe('pending-close');
    expect(end(complete, fin, done({ pipelined: true })).state).toBe('reading');
  });
});

describe('a FIN from the client (RFC 9112 §9.6)', () => {
  it('while idle: closes at once, nothing to answer', () => {
    expect(end(fin)).toEqual({ state: 'closed', actions: ['release'] });
  });

  it('in the middle of a request: closes, the rest will never come', () => {
    expect(end({ type: 'socket.data' }, fin)).toEqual({ state: 'closed', actions: ['release'] });
    expect(end({ type: 'request.head', expectsContinue: true, bodyStarted: false }, fin)).toEqual({
      state: 'closed',
      actions: ['release'],
    });
  });

  it('after a whole request whose body is still being written to disk: it runs, told the client left, then close', () => {
    const spoolingFin: ChannelEvent = { type: 'socket.ended', requestSpooling: true };
    expect(walk(spoolingFin, complete, done())).toEqual([
      { state: 'reading', actions: [], peerEnded: true, serverClosing: false },
      { state: 'dispatched', actions: ['startTask'], peerEnded: true, serverClosing: false, clientLeft: true },
      { state: 'pending-close', actions: ['closeWhenFlushed'], peerEnded: true, serverClosing: false },
    ]);
    const invited = { type: 'request.head', expectsContinue: true, bodyStarted: false } as const;
    expect(walk(invited, spoolingFin, complete).map((s) => [s.state, s.clientLeft])).toEqual([
      ['awaiting-continue', undefined],
      ['awaiting-continue', undefined],
      ['dispatched', true],
    ]);
  });

  it('during a running request: the task is told, the response still goes, then the connection closes lingering', () => {
    expect(walk(complete, fin, done(), ended, closed)).toEqual([
      { state: 'dispatched', actions: ['startTask'], peerEnded: false, serverClosing: false, clientLeft: false },
      { state: 'dispatched', actions: ['signalClientLeft'], peerEnded: true, serverClosing: false },
      { state: 'pending-close', actions: ['closeWhenFlushed'], peerEnded: true, serverClosing: false },
      { state: 'lingering', actions: ['linger'], peerEnded: true, serverClosing: false },
      { state: 'closed', actions: ['release'], peerEnded: true, serverClosing: false },
    ]);
  });

  it('after a pipelined burst: every request before it is answered, each told the client left, then close', () => {
    const steps = walk(complete, fin, done({ pipelined: true }), complete, done({ pipelined: true }), complete, done(), ended);
    expect(steps.map((s) => s.state)).toEqual([
      'dispatched',
      'dispatched',
      'reading',
      'dispatched',
      'reading',
      'dispatched',
      'pending-close',
      'lingering',
    ]);
    expect(steps.filter((s) => s.clientLeft !== undefined).map((s) => s.clientLeft)).toEqual([false, true, true]);
  });

  it('after a pipelined burst that ends in part of a request: the whole ones are answered, then close', () => {
    // The last response may still be in the output buffer: it is flushed before the close.
    expect(end(complete, fin, done({ pipelined: true }), incomplete)).toEqual({ state: 'pending-close', actions: ['closeWhenFlushed'] });
    expect(
      end(complete, fin, done({ pipelined: true }), { type: 'request.head', expectsContinue: true, bodyStarted: false }, incomplete),
    ).toEqual({
      state: 'closed',
      actions: ['release'],
    });
  });

  it('while a response waits for a slow client: closes once drained, unless more was pipelined before it', () => {
    const flushing = [complete, done({ backlog: true }), fin];
    expect(walk(...flushing).at(-1)).toMatchObject({ state: 'flushing', peerEnded: true });
    expect(end(...flushing, drained(false))).toEqual({ state: 'closed', actions: ['release'] });
    expect(end(...flushing, drained(true))).toEqual({ state: 'reading', actions: ['resumeReading'] });
  });

  it('without a FIN, bytes that hold no whole request are simply awaited', () => {
    expect(end(complete, done({ pipelined: true }), incomplete)).toEqual({ state: 'reading', actions: [] });
  });
});

describe('the server closing (RFC 9112 §9.6)', () => {
  it('while idle: closes at once', () => {
    expect(end(closing(true))).toEqual({ state: 'closed', actions: ['release'] });
  });

  it('while a request runs: its response goes, saying Connection: close, and the connection closes', () => {
    expect(walk(complete, closing(true)).at(-1)).toEqual({ state: 'dispatched', actions: [], peerEnded: false, serverClosing: true });
    expect(end(complete, closing(true), done())).toEqual({ state: 'pending-close', actions: ['closeWhenFlushed'] });
    expect(end(complete, closing(true), done({ pipelined: true })).state).toBe('pending-close');
  });

  it('with part of a head buffered: the request is awaited and answered, then the connection closes', () => {
    const steps = walk(closing(false), incomplete, complete, done());
    expect(steps.map((s) => [s.state, s.serverClosing])).toEqual([
      ['reading', true],
      ['reading', true],
      ['dispatched', true],
      ['pending-close', true],
    ]);
  });

  it('while a response waits for a slow client: closes once drained; a request pipelined before is still read', () => {
    const flushing = [complete, done({ backlog: true }), closing(false)];
    expect(end(...flushing, drained(false))).toEqual({ state: 'closed', actions: ['release'] });
    expect(end(...flushing, drained(true))).toEqual({ state: 'reading', actions: ['resumeReading'] });
  });
});

describe('the lingering close (RFC 9112 §9.6)', () => {
  const lingering = [{ type: 'request.invalid', error } as ChannelEvent, ended];

  it('ends the write side only when the output says so, then lingers', () => {
    expect(end(lingering[0]!)).toEqual({ state: 'pending-close', actions: ['writeErrorResponse', 'closeWhenFlushed'] });
    expect(end(lingering[0]!, expired)).toEqual({ state: 'pending-close', actions: [] });
    expect(end(...lingering)).toEqual({ state: 'lingering', actions: ['linger'] });
  });

  it('is closed by the peer', () => {
    expect(end(...lingering, fin)).toEqual({ state: 'lingering', actions: [] });
    expect(end(...lingering, fin, closed)).toEqual({ state: 'closed', actions: ['release'] });
  });

  it('expires', () => {
    expect(end(...lingering, expired)).toEqual({ state: 'closed', actions: ['release'] });
  });

  it('parses nothing while lingering (CVE-2024-49768)', () => {
    expect(end(...lingering, { type: 'socket.data' })).toEqual({ state: 'lingering', actions: [] });
  });
});
