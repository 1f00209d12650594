// machines/channel.ts: the life of one connection.
//
// Rules of this file:
// 1. Every decision about this connection's lifecycle is a transition here: when bytes are
//    parsed, when a 100 Continue is owed, when a request runs, whether the connection persists,
//    when it closes. The shell (src/connection/channel.ts) reports facts as events and carries out the
//    named actions; it never decides.
// 2. No I/O: socket writes, pauses and closes are named actions provided with `.provide()`.
//    Facts a guard needs (is the response persistent? is output backed up?) travel in the
//    event payload, so every guard is a pure function of its event and of the limits the
//    channel was started with (its context, which never changes).
// 3. Responses leave in request order because requests are handled one at a time: bytes that
//    arrive while a request is `dispatched` or `flushing` are only buffered, and `reading` parses
//    the next pipelined request when it is entered again (RFC 9112 §9.3.2).
// 4. After a refusal or a close decision nothing more is parsed (`pending-close` ignores
//    `socket.data`): a request smuggled behind a bad one is never answered (CVE-2024-49768).
// 5. Time: a connection idle between requests is closed by the supervisor's `channel.timeout`;
//    a request on its way in must keep to its deadlines, which the supervisor's deadline sweep
//    reports as facts (`deadline.check`: when the head and body began, how much body came) and
//    the guards here judge against the limits in the context. A late request gets 408 and the
//    connection closes; a request already running is never cut by these (its own limit is the
//    task's handler_timeout).
//
//   reading ──request.head [wantsContinue]──▶ awaiting-continue
//      │ ▲                                          │
//      │ └──────── task.done [persistent] ─┐        │ request.complete
//  request.complete                        │        ▼
//      └────────────────────────────▶ dispatched ──task.done [backlog]──▶ flushing ──output.drained──▶ reading
//   request.invalid / deadline.check [late] / server.shedding / task.failed / task.done [closing]
//      ──▶ pending-close ──socket.closed──▶ closed

import { setup } from 'xstate';
import { notProvided } from './stubs.js';
import type { HttpError, RequestHead } from '../src/http/types.js';

/**
 * What `request.complete` carries to `startTask`: the request as the shell received it. The
 * machine decides nothing on it and only hands it over, as a value rather than something the
 * shell keeps for it. machines/ may import types from src/http alone, so the request is named by
 * its head here; the shell runs the machine with its own request type (the URL, the connection's
 * info and the body besides), and since the runtime passes the event it was sent to the entry
 * action, `startTask` gets back exactly the value the shell sent.
 */
export interface ChannelRequest {
  readonly head: RequestHead;
}

/** What the shell must do for a connection. */
export interface ChannelEffects<R extends ChannelRequest = ChannelRequest> {
  parseInput(): void;
  resumeReading(): void;
  writeContinue(): void;
  writeErrorResponse(error: HttpError): void;
  /** 408: the head or body missed its deadline, or the connection is shed at connection_limit. */
  writeTimeoutResponse(cause: 'head' | 'body' | 'shed'): void;
  startTask(request: R): void;
  /** The client half-closed while its request runs: abort request.signal, keep the task. */
  signalClientLeft(): void;
  abortTask(): void;
  closeWhenFlushed(): void;
  release(): void;
}

/** The deadlines of a request on its way in; 0 turns one off. */
export interface ChannelDeadlines {
  /** header_timeout: from the first byte of a head to its end. */
  readonly headerTimeoutMs: number;
  /** body_min_rate: bytes per second a body must average once its grace period is over. */
  readonly bodyMinRate: number;
  /** body_grace_period: how long a body may arrive at any rate. */
  readonly bodyGraceMs: number;
}

export interface ChannelContext<R extends ChannelRequest = ChannelRequest> {
  readonly shell: ChannelEffects<R>;
  readonly deadlines: ChannelDeadlines;
}

/** What the deadline sweep reports about the request on its way in. Times are Date.now() values; 0 means not begun. */
export interface RequestProgress {
  readonly now: number;
  /** When the first byte of the head being read arrived. */
  readonly headSince: number;
  /** When the body began (the end of the head), or when reading it resumed after the server paused it. */
  readonly bodySince: number;
  /** Body bytes received since bodySince. */
  readonly bodyBytes: number;
}

/** RFC 9110 §15.5.9: the head did not arrive whole within header_timeout. */
export function isHeadLate(progress: RequestProgress, deadlines: ChannelDeadlines): boolean {
  return progress.headSince > 0 && deadlines.headerTimeoutMs > 0 && progress.now - progress.headSince >= deadlines.headerTimeoutMs;
}

/** RFC 9110 §15.5.9: past its grace period, the body averaged less than body_min_rate since it began. */
export function isBodyTooSlow(progress: RequestProgress, deadlines: ChannelDeadlines): boolean {
  if (progress.bodySince === 0 || deadlines.bodyMinRate === 0) return false;
  const elapsedMs = progress.now - progress.bodySince;
  return elapsedMs >= deadlines.bodyGraceMs && progress.bodyBytes * 1000 < deadlines.bodyMinRate * elapsedMs;
}

export type ChannelEvent<R extends ChannelRequest = ChannelRequest> =
  /** Bytes were appended to the channel's input buffer. */
  | { type: 'socket.data' }
  /** The client half-closed (FIN). */
  | { type: 'socket.ended' }
  /** The socket is gone (reset, error, or fully closed). */
  | { type: 'socket.closed' }
  | { type: 'request.head'; expectsContinue: boolean; bodyStarted: boolean }
  /** A whole request is in (a spooled body: on disk), ready for a task. */
  | { type: 'request.complete'; request: R }
  | { type: 'request.invalid'; error: HttpError }
  | { type: 'task.done'; persistent: boolean; backlog: boolean }
  | { type: 'task.failed' }
  | { type: 'output.drained' }
  /** The server stops: idle connections close now, busy ones after their response. */
  | { type: 'server.closing'; idle: boolean }
  /** The supervisor found the channel idle for longer than channel_timeout. */
  | { type: 'channel.timeout' }
  /** The supervisor's deadline sweep, for a channel with a request on its way in. */
  | ({ type: 'deadline.check' } & RequestProgress)
  /** connection_limit is reached and this is the oldest connection without a whole head. */
  | { type: 'server.shedding'; requestBegun: boolean };

export const channelMachine = setup({
  types: {
    context: {} as ChannelContext,
    input: {} as ChannelContext,
    events: {} as ChannelEvent,
  },
  guards: {
    // RFC 9110 §10.1.1: send 100 only when the client waits for it: a body is expected and none
    // of it has arrived yet.
    wantsContinue: ({ event }) => event.type === 'request.head' && event.expectsContinue && !event.bodyStarted,
    isClosing: ({ event }) => event.type === 'task.done' && !event.persistent,
    hasOutputBacklog: ({ event }) => event.type === 'task.done' && event.backlog,
    isIdle: ({ event }) => event.type === 'server.closing' && event.idle,
    isHeadLate: ({ context, event }) => event.type === 'deadline.check' && isHeadLate(event, context.deadlines),
    isBodyTooSlow: ({ context, event }) => event.type === 'deadline.check' && isBodyTooSlow(event, context.deadlines),
    hasRequestBegun: ({ event }) => event.type === 'server.shedding' && event.requestBegun,
  },
  actions: {
    parseInput: notProvided('channel', 'parseInput'),
    resumeReading: notProvided('channel', 'resumeReading'),
    writeContinue: notProvided('channel', 'writeContinue'),
    writeErrorResponse: notProvided('channel', 'writeErrorResponse'),
    writeTimeoutResponse: notProvided('channel', 'writeTimeoutResponse'),
    startTask: notProvided('channel', 'startTask'),
    signalClientLeft: notProvided('channel', 'signalClientLeft'),
    abortTask: notProvided('channel', 'abortTask'),
    closeWhenFlushed: notProvided('channel', 'closeWhenFlushed'),
    release: notProvided('channel', 'release'),
  },
}).createMachine({
  id: 'channel',
  initial: 'reading',
  context: ({ input }) => input,
  states: {
    reading: {
      description: 'Parsing the next request from buffered and arriving bytes.',
      entry: 'resumeReading',
      on: {
        'socket.data': { actions: 'parseInput' },
        'request.head': {
          guard: 'wantsContinue',
          target: 'awaiting-continue',
          actions: 'writeContinue',
          description: 'Expect: 100-continue and no body yet: invite the body (RFC 9110 §10.1.1).',
        },
        'request.complete': { target: 'dispatched' },
        'request.invalid': {
          target: 'pending-close',
          actions: 'writeErrorResponse',
          description: 'A refused request is answered, then the connection closes (RFC 9112 §9.6).',
        },
        'socket.ended': { target: 'closed' },
        'socket.closed': { target: 'closed' },
        'server.closing': { guard: 'isIdle', target: 'closed' },
        'channel.timeout': { target: 'closed' },
        'deadline.check': [
          {
            guard: 'isHeadLate',
            target: 'pending-close',
            actions: 'writeTimeoutResponse',
            description: 'The head did not arrive whole within header_timeout: 408, then close (RFC 9110 §15.5.9).',
          },
          {
            guard: 'isBodyTooSlow',
            target: 'pending-close',
            actions: 'writeTimeoutResponse',
            description: 'The body fell below body_min_rate after its grace period: 408, then close (RFC 9110 §15.5.9).',
          },
        ],
        'server.shedding': [
          {
            guard: 'hasRequestBegun',
            target: 'pending-close',
            actions: 'writeTimeoutResponse',
            description: 'At connection_limit, the oldest connection without a whole head makes room: 408, then close (RFC 9110 §15.5.9).',
          },
          {
            target: 'closed',
            description: 'At connection_limit, an idle connection makes room; nothing was asked, so nothing is answered.',
          },
        ],
      },
    },
    'awaiting-continue': {
      description: '100 Continue sent; the body is on its way.',
      on: {
        'socket.data': { actions: 'parseInput' },
        'request.complete': { target: 'dispatched' },
        'request.invalid': { target: 'pending-close', actions: 'writeErrorResponse' },
        'socket.ended': { target: 'closed' },
        'socket.closed': { target: 'closed' },
        'channel.timeout': { target: 'closed' },
        'deadline.check': {
          guard: 'isBodyTooSlow',
          target: 'pending-close',
          actions: 'writeTimeoutResponse',
          description: 'The invited body fell below body_min_rate after its grace period: 408, then close (RFC 9110 §15.5.9).',
        },
      },
    },
    dispatched: {
      description: 'The request runs as a task; further pipelined bytes are only buffered.',
      entry: 'startTask',
      on: {
        'task.done': [
          {
            guard: 'isClosing',
            target: 'pending-close',
            description: 'Connection: close, HTTP/1.0 without keep-alive, or close-delimited body (RFC 9112 §9.3).',
          },
          { guard: 'hasOutputBacklog', target: 'flushing' },
          { target: 'reading', description: 'Persistent connection: next request (RFC 9112 §9.3).' },
        ],
        'task.failed': { target: 'pending-close' },
        'socket.ended': {
          actions: 'signalClientLeft',
          description:
            'The client half-closed: request.signal aborts, yet whatever the app answers is still sent before the close, as Go does (RFC 9112 §9.6).',
        },
        'socket.closed': {
          target: 'closed',
          actions: 'abortTask',
          description: 'The client is gone: abort the task; nothing more is sent.',
        },
      },
    },
    flushing: {
      description: 'The response is written but the socket is backed up; wait before reading on.',
      on: {
        'output.drained': { target: 'reading' },
        'socket.closed': { target: 'closed' },
        'channel.timeout': { target: 'closed' },
      },
    },
    'pending-close': {
      description: 'Flush what is written, then close; nothing more is parsed.',
      entry: 'closeWhenFlushed',
      on: {
        'socket.closed': { target: 'closed' },
        'channel.timeout': { target: 'closed' },
      },
    },
    closed: {
      type: 'final',
      entry: 'release',
    },
  },
});
