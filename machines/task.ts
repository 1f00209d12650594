// machines/task.ts: the life of one request inside the app and on the way out.
//
// Rules of this file:
// 1. queued → running (the app has the request) → streaming (the response head is on its way
//    to the client) → done | failed. Whether a failure can still be answered with a 500 depends
//    only on which side of `streaming` it happens: before the head, the client gets a complete
//    500 response; after it, the only honest signal left is to close the connection, so the
//    client sees a truncated response and never a corrupted next one.
// 2. No I/O and no app code here: calling the app, writing the head, pumping the body and
//    reporting to the channel are named actions that src/ provides.
// 3. A task is created per request and ends in a final state; the channel learns the outcome
//    from the final state's entry action.
// 4. An app may take the connection over (upgradeWebSocket(), RFC 6455): answered with that 101,
//    the task ends in `upgraded` and the channel hands the connection over; it holds nothing of
//    the connection (nor a worker's slot) from then on. An opening handshake upgradeWebSocket()
//    refused, escaping the app, is the client's fault: answered 400 or 426 (RFC 6455 §4.2.2), not 500.
// 5. The client leaving is two facts: `client.left` (a FIN) only aborts request.signal, and the
//    task goes on, since whatever the app answers is still sent; `client.gone` (a reset, or the
//    connection closed) ends the task, and nothing more is sent. handler_timeout bounds the app
//    (`deadline.check` from the supervisor's sweep): 503 before the head, a close after it.

import { setup } from 'xstate';
import { notProvided } from './stubs.js';
import type { HandshakeRefusal } from '../src/http/websocket.js';

/** What the shell must do for a task. `response` is whatever the app returned, unchecked. */
export interface TaskEffects {
  callApp(): void;
  writeHead(): void;
  pumpBody(): void;
  writeServerError(error: unknown): void;
  logAppError(error: unknown, phase: 'before-head' | 'after-head'): void;
  cancelBody(): void;
  /** The client half-closed: abort request.signal (inline, or across to the worker). */
  signalClientLeft(): void;
  /**
   * Abort request.signal and stop waiting for the app (its worker slot is free): the client is
   * gone, or (`timedOut`) handler_timeout passed.
   */
  cancelApp(timedOut: boolean): void;
  logHandlerTimeout(): void;
  /** 503: the app did not answer within handler_timeout (`late`), or the server stopped before it ran (`stopping`). */
  writeUnavailable(cause: 'late' | 'stopping'): void;
  /** Log (a warning) that the server stopped before a worker thread took the request. */
  logNotRun(): void;
  /** Log at info and answer the refusal of a WebSocket opening handshake (400, or 426). */
  refuseHandshake(refusal: HandshakeRefusal): void;
  reportDone(): void;
  reportFailed(): void;
  /** The app answered with upgradeWebSocket()'s 101: the channel hands the connection over. */
  reportUpgraded(): void;
}

export interface TaskContext {
  readonly shell: TaskEffects;
  /** handler_timeout in ms; 0: none. */
  readonly handlerTimeoutMs: number;
}

export type TaskEvent =
  | { type: 'task.start' }
  /** What the app answered was read; `problem` says why it cannot be sent (an error with a `code`), if it cannot. */
  | { type: 'app.responded'; problem: Error | undefined }
  | { type: 'app.threw'; error: unknown }
  /** The server stopped before a worker thread took the request: the app never saw it. */
  | { type: 'app.notRun' }
  /** The app answered with the 101 of upgradeWebSocket() for this request, with fields that can be sent. */
  | { type: 'app.upgraded' }
  /** What escaped the app is upgradeWebSocket()'s refusal of the client's opening handshake. */
  | { type: 'app.refused'; refusal: HandshakeRefusal }
  | { type: 'body.finished'; short: boolean }
  | { type: 'body.failed'; error: unknown }
  /** The client half-closed (FIN): it may still read the answer. */
  | { type: 'client.left' }
  /** The connection is gone (reset, or closed): nobody will read the answer. */
  | { type: 'client.gone' }
  /** The supervisor's deadline sweep: how long the task has run. */
  | { type: 'deadline.check'; elapsedMs: number };

export const taskMachine = setup({
  types: {
    context: {} as TaskContext,
    input: {} as TaskContext,
    events: {} as TaskEvent,
  },
  guards: {
    isUnsendableResponse: ({ event }) => event.type === 'app.responded' && event.problem !== undefined,
    isShortBody: ({ event }) => event.type === 'body.finished' && event.short,
    isHandlerLate: ({ context, event }) =>
      event.type === 'deadline.check' && context.handlerTimeoutMs > 0 && event.elapsedMs >= context.handlerTimeoutMs,
  },
  actions: {
    callApp: notProvided('task', 'callApp'),
    writeHead: notProvided('task', 'writeHead'),
    pumpBody: notProvided('task', 'pumpBody'),
    writeServerError: notProvided('task', 'writeServerError'),
    logAppError: notProvided('task', 'logAppError'),
    cancelBody: notProvided('task', 'cancelBody'),
    signalClientLeft: notProvided('task', 'signalClientLeft'),
    cancelApp: notProvided('task', 'cancelApp'),
    logHandlerTimeout: notProvided('task', 'logHandlerTimeout'),
    writeUnavailable: notProvided('task', 'writeUnavailable'),
    logNotRun: notProvided('task', 'logNotRun'),
    refuseHandshake: notProvided('task', 'refuseHandshake'),
    reportDone: notProvided('task', 'reportDone'),
    reportFailed: notProvided('task', 'reportFailed'),
    reportUpgraded: notProvided('task', 'reportUpgraded'),
  },
}).createMachine({
  id: 'task',
  initial: 'queued',
  context: ({ input }) => input,
  states: {
    queued: {
      on: { 'task.start': { target: 'running', actions: 'callApp' } },
    },
    running: {
      description: 'The app has the request; nothing of the response is on the wire yet.',
      on: {
        'app.responded': [
          {
            guard: 'isUnsendableResponse',
            target: 'failed',
            actions: ['logAppError', 'writeServerError', 'cancelBody'],
            description:
              'Not a Response, a status outside 200-599 (RFC 9110 §15; Response.error()) or CR/LF in a field (RFC 9110 §5.5): 500, nothing of it sent.',
          },
          { target: 'streaming', actions: 'writeHead' },
        ],
        'app.threw': {
          target: 'failed',
          actions: ['logAppError', 'writeServerError'],
          description: 'The app failed before a response head existed: answer 500 (RFC 9110 §15.6.1).',
        },
        'app.notRun': {
          target: 'failed',
          actions: ['logNotRun', 'writeUnavailable'],
          description:
            'The server stopped before a worker thread took the request, which the app never saw: 503, the server cannot serve it now (RFC 9110 §15.6.4).',
        },
        'app.upgraded': {
          target: 'upgraded',
          description:
            'The app accepted a WebSocket opening handshake: its 101 goes out as the connection is handed over (RFC 6455 §4.2.2, RFC 9110 §15.2.2).',
        },
        'app.refused': {
          target: 'failed',
          actions: 'refuseHandshake',
          description:
            'upgradeWebSocket() refused the opening handshake and the app let it escape: the client is at fault, 400, or 426 naming the version spoken (RFC 6455 §4.2.2, §4.4).',
        },
        'client.left': {
          actions: 'signalClientLeft',
          description: 'A half-closed client may still read the answer: the app is told, and goes on (RFC 9112 §9.6).',
        },
        'client.gone': { target: 'failed', actions: 'cancelApp' },
        'deadline.check': {
          guard: 'isHandlerLate',
          target: 'failed',
          actions: ['logHandlerTimeout', 'cancelApp', 'writeUnavailable'],
          description: "No answer within handler_timeout: 503, as Go's TimeoutHandler (RFC 9110 §15.6.4).",
        },
      },
    },
    streaming: {
      description: 'The head is written; the body is being copied to the channel.',
      entry: 'pumpBody',
      on: {
        'body.finished': [
          {
            guard: 'isShortBody',
            target: 'failed',
            description: 'Fewer octets than Content-Length: only closing can tell the client (RFC 9112 §6.3).',
          },
          { target: 'done' },
        ],
        'body.failed': {
          target: 'failed',
          actions: 'logAppError',
          description: 'The body failed after the head was sent: only closing tells the client the response is incomplete (RFC 9112 §8).',
        },
        'client.left': { actions: 'signalClientLeft' },
        'client.gone': { target: 'failed', actions: ['cancelBody', 'cancelApp'] },
        'deadline.check': {
          guard: 'isHandlerLate',
          target: 'failed',
          actions: ['logHandlerTimeout', 'cancelBody', 'cancelApp'],
          description: 'The body outlived handler_timeout after the head was sent: only closing can end it (RFC 9112 §6.3).',
        },
      },
    },
    done: { type: 'final', entry: 'reportDone' },
    failed: { type: 'final', entry: 'reportFailed' },
    upgraded: {
      type: 'final',
      entry: 'reportUpgraded',
      description: "The connection leaves HTTP for the WebSocket protocol: nothing more of it is this task's (RFC 9110 §7.8).",
    },
  },
});
