// The machines as tables of decisions: pure `transition()` tests asserting the next state and the
// actions it asks the shell for (no actor, socket or timer), and a reachability check.
import { describe, expect, it } from 'vitest';
import { getShortestPaths } from 'xstate/graph';
import { initialTransition, transition, type AnyStateMachine } from 'xstate';
import { channelMachine, isBodyTooSlow, isHeadLate, type ChannelEvent, type RequestProgress } from '../../machines/channel.js';
import { dispatcherMachine, type DispatcherEvent } from '../../machines/dispatcher.js';
import { parserMachine, type ParserEvent } from '../../machines/parser.js';
import { taskMachine, type TaskEvent } from '../../machines/task.js';
import { complete, error, head } from './fixtures.js';
import { HANDSHAKE } from '../../src/http/websocket.js';

const deadlines = { headerTimeoutMs: 30_000, bodyMinRate: 240, bodyGraceMs: 5_000 };
const input = { shell: {} as never, deadlines, handlerTimeoutMs: 1000 };

function walk(machine: AnyStateMachine, events: { type: string }[]): { state: string; actions: string[] } {
  const [initial, entry] = initialTransition(machine, input);
  let snapshot = initial;
  let actions: string[] = entry.map((a) => a.type);
  for (const event of events) {
    const [next, executed] = transition(machine, snapshot, event);
    snapshot = next;
    actions = executed.map((a) => a.type);
  }
  return { state: String(snapshot.value), actions };
}

describe('channel machine', () => {
  const c = (...events: ChannelEvent[]) => walk(channelMachine, events);
  it('starts reading', () => expect(c()).toEqual({ state: 'reading', actions: ['resumeReading'] }));
  it('parses input only while reading or awaiting a body', () => {
    expect(c({ type: 'socket.data' }).actions).toEqual(['parseInput']);
    expect(c(complete, { type: 'socket.data' })).toEqual({ state: 'dispatched', actions: [] });
  });
  it('invites the body with 100 Continue only when none of it has arrived (RFC 9110 §10.1.1)', () => {
    expect(c({ type: 'request.head', expectsContinue: true, bodyStarted: false })).toEqual({
      state: 'awaiting-continue',
      actions: ['writeContinue'],
    });
    expect(c({ type: 'request.head', expectsContinue: true, bodyStarted: true })).toEqual({ state: 'reading', actions: [] });
    expect(c({ type: 'request.head', expectsContinue: false, bodyStarted: false })).toEqual({ state: 'reading', actions: [] });
  });
  it('runs a complete request as a task', () => expect(c(complete)).toEqual({ state: 'dispatched', actions: ['startTask'] }));
  it('answers a refused request, then closes when flushed', () => {
    expect(c({ type: 'request.invalid', error })).toEqual({ state: 'pending-close', actions: ['writeErrorResponse', 'closeWhenFlushed'] });
  });
  it('reads the next request after a persistent response, flushing first when backed up', () => {
    const done = (persistent: boolean, backlog: boolean): ChannelEvent => ({
      type: 'task.done',
      keepAlive: persistent,
      closeDelimited: false,
      pipelined: false,
      backlog,
    });
    expect(c(complete, done(true, false))).toEqual({ state: 'reading', actions: ['resumeReading'] });
    expect(c(complete, done(true, true))).toEqual({ state: 'flushing', actions: [] });
    expect(c(complete, done(true, true), { type: 'output.drained', pipelined: false })).toEqual({
      state: 'reading',
      actions: ['resumeReading'],
    });
    expect(c(complete, done(false, false))).toEqual({ state: 'pending-close', actions: ['closeWhenFlushed'] });
  });
  it('never times out a running task; closes idle channels', () => {
    expect(c(complete, { type: 'channel.timeout' }).state).toBe('dispatched');
    expect(c({ type: 'channel.timeout' })).toEqual({ state: 'closed', actions: ['release'] });
  });
  describe('a connection the app takes over (upgradeWebSocket(), RFC 6455)', () => {
    const upgraded: ChannelEvent = { type: 'task.upgraded' };
    it('hands the connection over when the task ends upgraded, and parses no request again', () => {
      expect(c(complete, upgraded)).toEqual({ state: 'upgraded', actions: ['upgradeConnection'] });
      expect(c(complete, upgraded, { type: 'socket.data' })).toEqual({ state: 'upgraded', actions: [] });
    });
    it('is left to ws: no channel_timeout, deadline or shedding', () => {
      expect(c(complete, upgraded, { type: 'channel.timeout' })).toEqual({ state: 'upgraded', actions: [] });
      const late = { type: 'deadline.check', now: 100_000, headSince: 1, bodySince: 0, bodyBytes: 0 } as const;
      expect(c(complete, upgraded, late)).toEqual({ state: 'upgraded', actions: [] });
      expect(c(complete, upgraded, { type: 'server.shedding', requestBegun: false })).toEqual({ state: 'upgraded', actions: [] });
    });
    it('closes the WebSocket with 1001 when the server stops, also one upgraded while it was stopping (RFC 6455 §7.4.1)', () => {
      expect(c(complete, upgraded, { type: 'server.closing', idle: true })).toEqual({
        state: 'upgraded',
        actions: ['closeWebSocket'],
      });
      expect(c(complete, { type: 'server.closing', idle: false }, upgraded)).toEqual({
        state: 'upgraded',
        actions: ['upgradeConnection', 'closeWebSocket'],
      });
    });
    it('ends when its socket closes', () => {
      expect(c(complete, upgraded, { type: 'socket.closed' })).toEqual({ state: 'closed', actions: ['release'] });
    });
  });
  it('tells the app a half-closed client left, and keeps it until its response is out (RFC 9112 §9.6)', () => {
    expect(c(complete, { type: 'socket.ended', requestSpooling: false })).toEqual({ state: 'dispatched', actions: ['signalClientLeft'] });
    expect(c({ type: 'socket.ended', requestSpooling: false }).state).toBe('closed');
  });
  describe('deadlines of a request on its way in (RFC 9110 §15.5.9)', () => {
    const check = (progress: Omit<RequestProgress, 'now'>): ChannelEvent => ({ type: 'deadline.check', now: 100_000, ...progress });
    const late = { state: 'pending-close', actions: ['writeTimeoutResponse', 'closeWhenFlushed'] };
    it('answers 408 and closes when the head is late, not before', () => {
      expect(c(check({ headSince: 70_000, bodySince: 0, bodyBytes: 0 }))).toEqual(late);
      expect(c(check({ headSince: 70_001, bodySince: 0, bodyBytes: 0 }))).toEqual({ state: 'reading', actions: [] });
    });
    it('answers 408 and closes when the body is too slow past its grace period, also after 100 Continue', () => {
      const slow = check({ headSince: 0, bodySince: 94_000, bodyBytes: 1439 });
      expect(c(slow)).toEqual(late);
      expect(c(check({ headSince: 0, bodySince: 94_000, bodyBytes: 1440 })).state).toBe('reading');
      expect(c(check({ headSince: 0, bodySince: 95_001, bodyBytes: 0 })).state).toBe('reading');
      expect(c({ type: 'request.head', expectsContinue: true, bodyStarted: false }, slow)).toEqual(late);
    });
    it('never cuts a request that is already running', () => {
      expect(c(complete, check({ headSince: 1, bodySince: 1, bodyBytes: 0 }))).toEqual({
        state: 'dispatched',
        actions: [],
      });
    });
  });
  it('sheds at connection_limit: 408 for a begun head, a silent close for an idle connection', () => {
    expect(c({ type: 'server.shedding', requestBegun: true })).toEqual({
      state: 'pending-close',
      actions: ['writeTimeoutResponse', 'closeWhenFlushed'],
    });
    expect(c({ type: 'server.shedding', requestBegun: false })).toEqual({ state: 'closed', actions: ['release'] });
    expect(c(complete, { type: 'server.shedding', requestBegun: false }).state).toBe('dispatched');
  });
  it('closes idle channels at shutdown and busy ones only after their response', () => {
    expect(c({ type: 'server.closing', idle: true }).state).toBe('closed');
    expect(c({ type: 'server.closing', idle: false }).state).toBe('reading');
    expect(c(complete, { type: 'server.closing', idle: true }).state).toBe('dispatched');
  });
  it('aborts the task when the socket dies under it', () => {
    expect(c(complete, { type: 'socket.closed' })).toEqual({ state: 'closed', actions: ['abortTask', 'release'] });
  });
  it('parses nothing once closing (CVE-2024-49768)', () => {
    expect(c({ type: 'request.invalid', error }, { type: 'socket.data' }).actions).toEqual([]);
  });
});

describe('parser machine', () => {
  const p = (...events: ParserEvent[]) => walk(parserMachine, events);
  it('chooses the body phase from the framing (RFC 9112 §6.3)', () => {
    expect(p({ type: 'head.parsed', head: head({ kind: 'chunked' }) })).toEqual({ state: 'body-chunked', actions: ['beginBody'] });
    expect(p({ type: 'head.parsed', head: head({ kind: 'length', length: 5 }) })).toEqual({ state: 'body-fixed', actions: ['beginBody'] });
    expect(p({ type: 'head.parsed', head: head({ kind: 'none' }) })).toEqual({ state: 'complete', actions: ['deliverRequest'] });
  });
  it('delivers a complete body, then resets for the next request', () => {
    expect(p({ type: 'head.parsed', head: head({ kind: 'length', length: 5 }) }, { type: 'body.complete' }).actions).toEqual([
      'deliverRequest',
    ]);
    expect(p({ type: 'head.parsed', head: head({ kind: 'none' }) }, { type: 'parser.reset' }).state).toBe('head');
  });
  it('ends in error on a bad head or a bad chunked body, and stays there', () => {
    expect(p({ type: 'head.failed', error })).toEqual({ state: 'error', actions: ['rejectRequest'] });
    expect(p({ type: 'head.parsed', head: head({ kind: 'chunked' }) }, { type: 'body.failed', error })).toEqual({
      state: 'error',
      actions: ['rejectRequest'],
    });
    expect(p({ type: 'head.failed', error }, { type: 'parser.reset' }).state).toBe('error');
  });
});

describe('task machine', () => {
  const k = (...events: TaskEvent[]) => walk(taskMachine, events);
  const start: TaskEvent = { type: 'task.start' };
  it('calls the app, writes the head, pumps the body, reports done', () => {
    expect(k(start).actions).toEqual(['callApp']);
    expect(k(start, { type: 'app.responded', problem: undefined })).toEqual({ state: 'streaming', actions: ['writeHead', 'pumpBody'] });
    expect(k(start, { type: 'app.responded', problem: undefined }, { type: 'body.finished', short: false })).toEqual({
      state: 'done',
      actions: ['reportDone'],
    });
  });
  it('answers 500 when the app fails before the head or returns something unsendable', () => {
    expect(k(start, { type: 'app.threw', error: new Error() })).toEqual({
      state: 'failed',
      actions: ['logAppError', 'writeServerError', 'reportFailed'],
    });
    expect(k(start, { type: 'app.responded', problem: new Error('status 0') })).toEqual({
      state: 'failed',
      actions: ['logAppError', 'writeServerError', 'cancelBody', 'reportFailed'],
    });
  });
  it('ends upgraded when the app answers with the 101 of upgradeWebSocket()', () => {
    expect(k(start, { type: 'app.upgraded' })).toEqual({ state: 'upgraded', actions: ['reportUpgraded'] });
    expect(k(start, { type: 'app.responded', problem: undefined }, { type: 'app.upgraded' }).state).toBe('streaming');
  });
  it("answers a refused WebSocket handshake that escaped the app as the client's fault, not with 500 (RFC 6455 §4.2.2)", () => {
    expect(k(start, { type: 'app.refused', refusal: HANDSHAKE.version })).toEqual({
      state: 'failed',
      actions: ['refuseHandshake', 'reportFailed'],
    });
  });
  it('tells the app when the client half-closes, and goes on to answer it', () => {
    expect(k(start, { type: 'client.left' })).toEqual({ state: 'running', actions: ['signalClientLeft'] });
    expect(k(start, { type: 'app.responded', problem: undefined }, { type: 'client.left' })).toEqual({
      state: 'streaming',
      actions: ['signalClientLeft'],
    });
  });
  it('stops waiting for the app when the client is gone', () => {
    expect(k(start, { type: 'client.gone' })).toEqual({ state: 'failed', actions: ['cancelApp', 'reportFailed'] });
    expect(k(start, { type: 'app.responded', problem: undefined }, { type: 'client.gone' })).toEqual({
      state: 'failed',
      actions: ['cancelBody', 'cancelApp', 'reportFailed'],
    });
  });
  it('answers 503 past handler_timeout before the head, and closes after it', () => {
    expect(k(start, { type: 'deadline.check', elapsedMs: 999 })).toEqual({ state: 'running', actions: [] });
    expect(k(start, { type: 'deadline.check', elapsedMs: 1000 })).toEqual({
      state: 'failed',
      actions: ['logHandlerTimeout', 'cancelApp', 'writeUnavailable', 'reportFailed'],
    });
    expect(k(start, { type: 'app.responded', problem: undefined }, { type: 'deadline.check', elapsedMs: 1000 })).toEqual({
      state: 'failed',
      actions: ['logHandlerTimeout', 'cancelBody', 'cancelApp', 'reportFailed'],
    });
  });
  it('fails without a 500 once the head is out (the connection closes)', () => {
    const streaming = [start, { type: 'app.responded', problem: undefined }] as TaskEvent[];
    expect(k(...streaming, { type: 'body.failed', error: new Error() })).toEqual({
      state: 'failed',
      actions: ['logAppError', 'reportFailed'],
    });
    expect(k(...streaming, { type: 'body.finished', short: true })).toEqual({ state: 'failed', actions: ['reportFailed'] });
  });
});

describe('deadline guards', () => {
  const at = (headSince: number, bodySince: number, bodyBytes: number): RequestProgress => ({
    now: 10_000,
    headSince,
    bodySince,
    bodyBytes,
  });
  it('a head is late from header_timeout after its first byte; 0 turns it off', () => {
    expect(isHeadLate(at(0, 0, 0), deadlines)).toBe(false);
    expect(isHeadLate(at(1, 0, 0), { ...deadlines, headerTimeoutMs: 9_999 })).toBe(true);
    expect(isHeadLate(at(1, 0, 0), { ...deadlines, headerTimeoutMs: 10_000 })).toBe(false);
    expect(isHeadLate(at(1, 0, 0), { ...deadlines, headerTimeoutMs: 0 })).toBe(false);
  });
  it('a body is too slow only past its grace period, below the average rate since it began; 0 turns it off', () => {
    const tight = { headerTimeoutMs: 0, bodyMinRate: 100, bodyGraceMs: 2_000 };
    expect(isBodyTooSlow(at(0, 8_001, 0), tight)).toBe(false); // 1.999 s: in its grace period
    expect(isBodyTooSlow(at(0, 8_000, 199), tight)).toBe(true); // 2 s at 100 B/s: 200 needed
    expect(isBodyTooSlow(at(0, 8_000, 200), tight)).toBe(false);
    expect(isBodyTooSlow(at(0, 1, 0), { ...tight, bodyMinRate: 0 })).toBe(false);
    expect(isBodyTooSlow(at(0, 0, 0), tight)).toBe(false);
  });
});

describe('dispatcher machine', () => {
  const d = (...events: DispatcherEvent[]) => walk(dispatcherMachine, events);
  const submit = (idle: number): DispatcherEvent => ({ type: 'task.submitted', job: {}, idle });
  const free = (queued: number): DispatcherEvent => ({ type: 'worker.free', queued });
  const returned = (idle: number): DispatcherEvent => ({ type: 'task.returned', job: {}, idle });
  it('starts saturated: tasks wait until a worker reports ready', () => {
    expect(d(submit(0))).toEqual({ state: 'saturated', actions: ['enqueueTask', 'warnQueueDepth'] });
    expect(d(free(0))).toEqual({ state: 'available', actions: [] });
  });
  it('runs a task at once in a free slot; the last free slot makes it saturated', () => {
    expect(d(free(0), free(0), submit(2))).toEqual({ state: 'available', actions: ['runTask'] });
    expect(d(free(0), submit(1))).toEqual({ state: 'saturated', actions: ['runTask'] });
  });
  it('gives a freed worker the oldest waiting task, and becomes available when none waits', () => {
    expect(d(submit(0), free(1))).toEqual({ state: 'saturated', actions: ['runNextQueued'] });
    expect(d(submit(0), free(1), free(0))).toEqual({ state: 'available', actions: [] });
  });
  it('puts a handed-back task in a free slot, or at the front of the queue without a warning', () => {
    expect(d(free(0), returned(2))).toEqual({ state: 'available', actions: ['runTask'] });
    expect(d(free(0), returned(1))).toEqual({ state: 'saturated', actions: ['runTask'] });
    expect(d(free(0), returned(0))).toEqual({ state: 'saturated', actions: ['requeueTask'] });
    expect(d(submit(0), returned(0))).toEqual({ state: 'saturated', actions: ['requeueTask'] });
  });
  it('queues when the idle count it is told is zero, whatever it believed', () => {
    expect(d(free(0), submit(0))).toEqual({ state: 'saturated', actions: ['enqueueTask', 'warnQueueDepth'] });
  });
  it('stops its workers when the pool closes', () => {
    expect(d({ type: 'pool.closing' })).toEqual({ state: 'stopped', actions: ['stopWorkers'] });
  });
});

describe('every state is reachable', () => {
  const serializeState = (s: { value: unknown }) => JSON.stringify(s.value);
  const channelEvents: ChannelEvent[] = [
    { type: 'socket.data' },
    { type: 'socket.ended', requestSpooling: false },
    { type: 'socket.closed' },
    { type: 'request.head', expectsContinue: true, bodyStarted: false },
    complete,
    { type: 'request.invalid', error },
    { type: 'input.incomplete' },
    { type: 'task.done', keepAlive: true, closeDelimited: false, pipelined: false, backlog: true },
    { type: 'task.done', keepAlive: false, closeDelimited: false, pipelined: false, backlog: false },
    { type: 'task.failed' },
    { type: 'output.drained', pipelined: false },
    { type: 'output.ended' },
    { type: 'linger.expired' },
    { type: 'server.closing', idle: true },
    { type: 'channel.timeout' },
    { type: 'server.shedding', requestBegun: true },
    { type: 'deadline.check', now: 100_000, headSince: 1, bodySince: 0, bodyBytes: 0 },
  ];
  const parserEvents: ParserEvent[] = [
    { type: 'head.parsed', head: head({ kind: 'chunked' }) },
    { type: 'head.parsed', head: head({ kind: 'length', length: 1 }) },
    { type: 'head.parsed', head: head({ kind: 'none' }) },
    { type: 'head.failed', error },
    { type: 'body.complete' },
    { type: 'body.failed', error },
    { type: 'parser.reset' },
  ];
  const taskEvents: TaskEvent[] = [
    { type: 'task.start' },
    { type: 'app.responded', problem: undefined },
    { type: 'app.responded', problem: new Error('x') },
    { type: 'app.threw', error },
    { type: 'body.finished', short: false },
    { type: 'body.failed', error },
    { type: 'client.gone' },
    { type: 'client.left' },
    { type: 'deadline.check', elapsedMs: 1000 },
  ];
  const dispatcherEvents: DispatcherEvent[] = [
    { type: 'task.submitted', job: {}, idle: 0 },
    { type: 'task.submitted', job: {}, idle: 2 },
    { type: 'task.returned', job: {}, idle: 0 },
    { type: 'worker.free', queued: 0 },
    { type: 'worker.free', queued: 1 },
    { type: 'pool.closing' },
  ];
  it.each([
    ['dispatcher', dispatcherMachine, dispatcherEvents, ['available', 'saturated', 'stopped']],
    [
      'channel',
      channelMachine,
      channelEvents,
      ['reading', 'awaiting-continue', 'dispatched', 'flushing', 'pending-close', 'lingering', 'closed'],
    ],
    ['parser', parserMachine, parserEvents, ['head', 'body-fixed', 'body-chunked', 'complete', 'error']],
    ['task', taskMachine, taskEvents, ['queued', 'running', 'streaming', 'done', 'failed']],
  ] as const)('%s', (_name, machine, events, states) => {
    const paths = getShortestPaths(machine as AnyStateMachine, { input, serializeState, events } as never);
    expect(new Set(paths.map((p) => String(p.state.value)))).toEqual(new Set(states));
  });
});
