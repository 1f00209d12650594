// machines/channel.ts: the life of one connection.
//
// Rules of this file:
// 1. Every decision about this connection's lifecycle is a transition here: when bytes are
//    parsed, when a 100 Continue is owed, when a request runs, whether the connection persists,
//    when it closes. The shell (src/channel.ts) reports facts as events and carries out the
//    named actions; it never decides.
// 2. No I/O: socket writes, pauses and closes are named actions provided with `.provide()`.
//    Facts a guard needs (is the response persistent? is output backed up?) travel in the
//    event payload, so every guard is a pure function of its event.
// 3. Responses leave in request order because requests are handled one at a time: bytes that
//    arrive while a request is `dispatched` or `flushing` are only buffered, and `reading` parses
//    the next pipelined request when it is entered again (RFC 9112 §9.3.2).
// 4. After a refusal or a close decision nothing more is parsed (`pending-close` ignores
//    `socket.data`): a request smuggled behind a bad one is never answered (CVE-2024-49768).
//
//   reading ──request.head [wantsContinue]──▶ awaiting-continue
//      │ ▲                                          │
//      │ └──────── task.done [persistent] ─┐        │ request.complete
//  request.complete                        │        ▼
//      └────────────────────────────▶ dispatched ──task.done [backlog]──▶ flushing ──output.drained──▶ reading
//   request.invalid / task.failed / task.done [closing] ──▶ pending-close ──socket.closed──▶ closed

import { setup } from 'xstate';
import { notProvided } from './stubs.js';
import type { HttpError } from '../src/http/types.js';

/** What the shell must do for a connection. */
export interface ChannelEffects {
  parseInput(): void;
  resumeReading(): void;
  writeContinue(): void;
  writeErrorResponse(error: HttpError): void;
  startTask(): void;
  abortTask(): void;
  closeWhenFlushed(): void;
  release(): void;
}

export interface ChannelContext {
  readonly shell: ChannelEffects;
}

export type ChannelEvent =
  /** Bytes were appended to the channel's input buffer. */
  | { type: 'socket.data' }
  /** The client half-closed (FIN). */
  | { type: 'socket.ended' }
  /** The socket is gone (reset, error, or fully closed). */
  | { type: 'socket.closed' }
  | { type: 'request.head'; expectsContinue: boolean; bodyStarted: boolean }
  | { type: 'request.complete' }
  | { type: 'request.invalid'; error: HttpError }
  | { type: 'task.done'; persistent: boolean; backlog: boolean }
  | { type: 'task.failed' }
  | { type: 'output.drained' }
  /** The server stops: idle connections close now, busy ones after their response. */
  | { type: 'server.closing'; idle: boolean }
  /** The supervisor found the channel idle for longer than channel_timeout. */
  | { type: 'channel.timeout' };

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
  },
  actions: {
    parseInput: notProvided('channel', 'parseInput'),
    resumeReading: notProvided('channel', 'resumeReading'),
    writeContinue: notProvided('channel', 'writeContinue'),
    writeErrorResponse: notProvided('channel', 'writeErrorResponse'),
    startTask: notProvided('channel', 'startTask'),
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
        'socket.closed': { target: 'closed', actions: 'abortTask' },
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
