// machines/channel.ts: the life of one connection.
//
// Rules of this file:
// 1. Every decision about this connection's lifecycle is a transition or a guard here: when bytes
//    are parsed, when a 100 Continue is owed, when a request runs, whether the connection persists
//    (`persists()`, RFC 9112 §9.3), what a FIN or a shutdown means, when it closes and how long it
//    lingers. The shell (src/connection/channel.ts) reports facts as events and carries out the
//    named actions; it never decides.
// 2. No I/O: socket writes, pauses, closes and timers are named actions provided with `.provide()`.
//    Facts a guard needs come in the event payload (is output backed up? is a later request
//    buffered?), or are facts of the connection the machine remembers in its context: the client
//    half-closed (`peerEnded`, set on `socket.ended`) and the server is stopping (`serverClosing`,
//    set on `server.closing`). Only those two events assign (a new context each time), so a
//    request costs none; the limits the channel was started with never change.
// 3. Responses leave in request order because requests are handled one at a time: bytes that
//    arrive while a request is `dispatched` or `flushing` are only buffered, and `reading` parses
//    the next pipelined request when it is entered again (RFC 9112 §9.3.2). When what was buffered
//    holds no whole request, the shell says so (`input.incomplete`) and the guards decide.
// 4. A FIN is the end of the requests, not of the responses (RFC 9112 §9.6): requests pipelined
//    before it are answered, each told the client left (request.signal aborts), one whose body
//    is still being written to a temp file too; a request cut short by it is not answered; then
//    the connection closes.
// 5. After a refusal or a close decision nothing more is parsed (`pending-close` and `lingering`
//    ignore `socket.data`): a request smuggled behind a bad one is never answered (CVE-2024-49768).
//    A close is lingering (RFC 9112 §9.6): what is written is flushed, the write side ends, and
//    input is read and thrown away until the client closes or the shell's timer says enough.
// 6. Time: a connection idle between requests is closed by the supervisor's `channel.timeout`;
//    a request on its way in must keep to its deadlines, which the supervisor's deadline sweep
//    reports as facts (`deadline.check`: when the head and body began, how much body came) and
//    the guards here judge against the limits in the context. A late request gets 408 and the
//    connection closes; a request already running is never cut by these (its own limit is the
//    task's handler_timeout).
// 7. A connection the app takes over (upgradeWebSocket(), `task.upgraded`) leaves HTTP for good
//    (RFC 9110 §7.8, RFC 6455 §4.2.2): `upgraded` parses no request again, and channel_timeout,
//    the deadlines and shedding no longer apply; ws keeps its liveness (pings). A shutdown closes
//    it with 1001, Going Away (RFC 6455 §7.4.1); it ends when its socket closes.
//
//   reading ──request.head [wantsContinue]──▶ awaiting-continue
//      │ ▲                                          │
//      │ └──────── task.done [persists] ──┐         │ request.complete
//  request.complete                       │         ▼
//      └────────────────────────────▶ dispatched ──task.done [backlog]──▶ flushing ──output.drained──▶ reading
//
//   request.invalid / deadline.check [late] / server.shedding [begun] / task.failed / task.done [isClosing]
//      ──▶ pending-close ──output.ended──▶ lingering ──linger.expired──▶ closed
//
//   dispatched ──task.upgraded──▶ upgraded ──socket.closed──▶ closed
//
//   reading:  input.incomplete [hasPeerEnded] ──▶ pending-close (the response before it is sent)
//   reading:  socket.ended (unless a whole request is being spooled), server.closing [isIdle], server.shedding ──▶ closed
//   awaiting-continue: socket.ended (same), input.incomplete [hasPeerEnded] ──▶ closed
//   flushing: output.drained [isIdleAtEnd] ──▶ closed
//   any state: socket.closed (dispatched: and abortTask), channel.timeout (not dispatched) ──▶ closed;
//              socket.ended and server.closing are remembered where nothing else is done with them

import { assign, setup } from 'xstate';
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
  /**
   * Ready the next request and parse what is buffered; when bytes were buffered and no whole
   * request came of them, report `input.incomplete`.
   */
  resumeReading(): void;
  writeContinue(): void;
  writeErrorResponse(error: HttpError): void;
  /** 408: the head or body missed its deadline, or the connection is shed at connection_limit. */
  writeTimeoutResponse(cause: 'head' | 'body' | 'shed'): void;
  /**
   * Run the request as a task. `clientLeft`: the client half-closed after pipelining it, so its
   * request.signal aborts at once (the response is still sent, RFC 9112 §9.6).
   */
  startTask(request: R, clientLeft: boolean): void;
  /** The client half-closed while its request runs: abort request.signal, keep the task. */
  signalClientLeft(): void;
  abortTask(): void;
  /**
   * The app answered with upgradeWebSocket()'s 101: stop reading HTTP and give the socket, with
   * the bytes that followed the handshake, to the WebSocket layer, which writes the 101.
   */
  upgradeConnection(): void;
  /** Close the WebSocket with 1001, Going Away (RFC 6455 §7.4.1). */
  closeWebSocket(): void;
  /** Stop parsing and discard input, flush what is written, end the write side once it is sent (then `output.ended`). */
  closeWhenFlushed(): void;
  /** The write side is ended: keep discarding input, and send `linger.expired` after a while. */
  linger(): void;
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

/** What a channel is started with. */
export interface ChannelInput<R extends ChannelRequest = ChannelRequest> {
  readonly shell: ChannelEffects<R>;
  readonly deadlines: ChannelDeadlines;
}

/** What the connection has learned that bears on its life; the channel machine remembers it. */
export interface ConnectionFacts {
  /** The client half-closed (FIN): no request comes after what is buffered (RFC 9112 §9.6). */
  readonly peerEnded: boolean;
  /** The server is stopping: no connection persists past the response in progress (RFC 9112 §9.6). */
  readonly serverClosing: boolean;
}

export interface ChannelContext<R extends ChannelRequest = ChannelRequest> extends ChannelInput<R>, ConnectionFacts {}

/** What one exchange (a request and the response to it) says about keeping its connection. */
export interface ExchangeFacts {
  /** RFC 9112 §9.3: the request asked to keep it: HTTP/1.1 without `Connection: close`, or HTTP/1.0 with `keep-alive`. */
  readonly keepAlive: boolean;
  /** RFC 9112 §6.3 rule 8: the response's body ends with the connection (HTTP/1.0, unknown length). */
  readonly closeDelimited: boolean;
  /** Bytes of a later request are buffered: the client pipelined it (before its FIN, if it sent one). */
  readonly pipelined: boolean;
}

/**
 * RFC 9112 §9.3: whether the connection persists after this response, to read the next request
 * on it. The request must ask for it (§9.3), and the response must end by its framing, not by the
 * close (§6.3 rule 8); the server must not be stopping (§9.6: it closes after the response in
 * progress); and the client must not have half-closed (§9.6: nothing more comes), unless it
 * pipelined more requests before its FIN (§9.3.2): those are answered too. The task asks it for
 * the `Connection` field of the head it writes; the machine asks it again on `task.done`, since a
 * FIN or a shutdown may come while the body streams.
 */
export function persists(exchange: ExchangeFacts, connection: ConnectionFacts): boolean {
  return exchange.keepAlive && !exchange.closeDelimited && !connection.serverClosing && (!connection.peerEnded || exchange.pipelined);
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
  /**
   * The client half-closed (FIN). `requestSpooling`: a whole request is in and waits only for
   * its body's last writes to a temp file before it is handed over.
   */
  | { type: 'socket.ended'; requestSpooling: boolean }
  /** The socket is gone (reset, error, or fully closed). */
  | { type: 'socket.closed' }
  | { type: 'request.head'; expectsContinue: boolean; bodyStarted: boolean }
  /** A whole request is in (a spooled body: on disk), ready for a task. */
  | { type: 'request.complete'; request: R }
  | { type: 'request.invalid'; error: HttpError }
  /** Reading resumed with bytes buffered, and no whole request was handed over: the rest of one is awaited. */
  | { type: 'input.incomplete' }
  /** The task's response is written; what it says about persistence, and whether output is backed up. */
  | ({ type: 'task.done'; backlog: boolean } & ExchangeFacts)
  | { type: 'task.failed' }
  /** The app answered with upgradeWebSocket()'s 101: the task is over and the connection is the WebSocket's. */
  | { type: 'task.upgraded' }
  /** Output backed up after a response has drained; `pipelined`: bytes of a later request are buffered. */
  | { type: 'output.drained'; pipelined: boolean }
  /** The write side of the socket is ended: our FIN follows everything written. */
  | { type: 'output.ended' }
  /** A lingering close has waited long enough for the client to close. */
  | { type: 'linger.expired' }
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
    input: {} as ChannelInput,
    events: {} as ChannelEvent,
  },
  guards: {
    // RFC 9110 §10.1.1: send 100 only when the client waits for it: a body is expected and none
    // of it has arrived yet.
    wantsContinue: ({ event }) => event.type === 'request.head' && event.expectsContinue && !event.bodyStarted,
    isClosing: ({ context, event }) => event.type === 'task.done' && !persists(event, context),
    hasOutputBacklog: ({ event }) => event.type === 'task.done' && event.backlog,
    isIdle: ({ event }) => event.type === 'server.closing' && event.idle,
    hasPeerEnded: ({ context }) => context.peerEnded,
    isRequestSpooling: ({ event }) => event.type === 'socket.ended' && event.requestSpooling,
    isServerClosing: ({ context }) => context.serverClosing,
    // RFC 9112 §9.6: output drained, and nothing more will be answered: the client half-closed or
    // the server is stopping, and no later request is buffered.
    isIdleAtEnd: ({ context, event }) =>
      event.type === 'output.drained' && !event.pipelined && (context.peerEnded || context.serverClosing),
    isHeadLate: ({ context, event }) => event.type === 'deadline.check' && isHeadLate(event, context.deadlines),
    isBodyTooSlow: ({ context, event }) => event.type === 'deadline.check' && isBodyTooSlow(event, context.deadlines),
    hasRequestBegun: ({ event }) => event.type === 'server.shedding' && event.requestBegun,
  },
  actions: {
    notePeerEnded: assign({ peerEnded: true }),
    noteServerClosing: assign({ serverClosing: true }),
    parseInput: notProvided('channel', 'parseInput'),
    resumeReading: notProvided('channel', 'resumeReading'),
    writeContinue: notProvided('channel', 'writeContinue'),
    writeErrorResponse: notProvided('channel', 'writeErrorResponse'),
    writeTimeoutResponse: notProvided('channel', 'writeTimeoutResponse'),
    startTask: notProvided('channel', 'startTask'),
    signalClientLeft: notProvided('channel', 'signalClientLeft'),
    abortTask: notProvided('channel', 'abortTask'),
    upgradeConnection: notProvided('channel', 'upgradeConnection'),
    closeWebSocket: notProvided('channel', 'closeWebSocket'),
    closeWhenFlushed: notProvided('channel', 'closeWhenFlushed'),
    linger: notProvided('channel', 'linger'),
    release: notProvided('channel', 'release'),
  },
}).createMachine({
  id: 'channel',
  initial: 'reading',
  context: ({ input }) => ({ shell: input.shell, deadlines: input.deadlines, peerEnded: false, serverClosing: false }),
  // What every state does with these, unless it says otherwise.
  on: {
    'socket.ended': {
      actions: 'notePeerEnded',
      description: 'The client half-closed: remembered; the response in progress is still sent (RFC 9112 §9.6).',
    },
    'server.closing': {
      actions: 'noteServerClosing',
      description: 'The server stops: remembered; no response after the one in progress keeps the connection (RFC 9112 §9.6).',
    },
    'socket.closed': { target: '.closed', description: 'The socket is gone: nothing more can be read or sent.' },
    'channel.timeout': {
      target: '.closed',
      description: 'Idle longer than channel_timeout: close without a word, as Waitress does (RFC 9112 §9.5).',
    },
  },
  states: {
    reading: {
      description: 'Parsing the next request from buffered and arriving bytes.',
      entry: 'resumeReading',
      on: {
        'socket.data': { actions: 'parseInput', description: 'Bytes arrived: parse them (RFC 9112 §2.1).' },
        'request.head': {
          guard: 'wantsContinue',
          target: 'awaiting-continue',
          actions: 'writeContinue',
          description: 'Expect: 100-continue and no body yet: invite the body (RFC 9110 §10.1.1).',
        },
        'request.complete': {
          target: 'dispatched',
          description: 'A whole request is in: run it; the next waits its turn (RFC 9112 §9.3.2).',
        },
        'request.invalid': {
          target: 'pending-close',
          actions: 'writeErrorResponse',
          description: 'A refused request is answered, then the connection closes (RFC 9112 §9.6).',
        },
        'input.incomplete': {
          guard: 'hasPeerEnded',
          target: 'pending-close',
          description:
            'The client half-closed in the middle of a request: the rest of it will never come; the response before it still goes out, then the connection closes (RFC 9112 §9.6).',
        },
        'socket.ended': [
          {
            guard: 'isRequestSpooling',
            actions: 'notePeerEnded',
            description:
              'The client half-closed after a whole request whose body is still being written to disk: it is answered once there, told the client left, then the connection closes (RFC 9112 §9.6).',
          },
          {
            target: 'closed',
            description: 'The client half-closed between requests or in the middle of one: nothing more will come (RFC 9112 §9.6).',
          },
        ],
        'server.closing': {
          guard: 'isIdle',
          target: 'closed',
          description: 'The server stops and nothing is buffered: close now (RFC 9112 §9.6).',
        },
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
            description:
              'At connection_limit, an idle connection makes room; nothing was asked, so nothing is answered (RFC 9112 §9.6: a server may close an idle connection).',
          },
        ],
      },
    },
    'awaiting-continue': {
      description: '100 Continue sent; the body is on its way.',
      on: {
        'socket.data': { actions: 'parseInput', description: 'Body bytes arrived: parse them (RFC 9112 §6).' },
        'request.complete': { target: 'dispatched', description: 'The invited body is in: run the request (RFC 9110 §10.1.1).' },
        'request.invalid': {
          target: 'pending-close',
          actions: 'writeErrorResponse',
          description: 'A refused body is answered, then the connection closes (RFC 9112 §9.6).',
        },
        'input.incomplete': {
          guard: 'hasPeerEnded',
          target: 'closed',
          description: 'The client half-closed before sending the body it announced: it will never come (RFC 9112 §9.6).',
        },
        'socket.ended': [
          {
            guard: 'isRequestSpooling',
            actions: 'notePeerEnded',
            description:
              'The client half-closed after the whole invited body, which is still being written to disk: the request is answered once it is there, then the connection closes (RFC 9112 §9.6).',
          },
          {
            target: 'closed',
            description: 'The client half-closed before sending the body it announced: it will never come (RFC 9112 §9.6).',
          },
        ],
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
            description:
              'The connection does not persist: Connection: close, HTTP/1.0 without keep-alive, a close-delimited body, a FIN with nothing pipelined before it, or a shutdown (persists(), RFC 9112 §9.3).',
          },
          {
            guard: 'hasOutputBacklog',
            target: 'flushing',
            description: 'The client reads slowly: wait for the socket to drain before reading on (flow control).',
          },
          { target: 'reading', description: 'Persistent connection: next request (RFC 9112 §9.3).' },
        ],
        'task.failed': {
          target: 'pending-close',
          description:
            'The task failed: its 500 or 503 says Connection: close, or its response was cut short, which only closing can tell the client (RFC 9112 §6.3).',
        },
        'task.upgraded': [
          {
            guard: 'isServerClosing',
            target: 'upgraded',
            actions: ['upgradeConnection', 'closeWebSocket'],
            description:
              'The app accepted a WebSocket while the server stops: the 101 goes out, then a close with 1001, Going Away (RFC 6455 §7.4.1).',
          },
          {
            target: 'upgraded',
            actions: 'upgradeConnection',
            description:
              'The app accepted a WebSocket opening handshake: the 101 goes out and the connection leaves HTTP for the WebSocket protocol (RFC 6455 §4.2.2, RFC 9110 §7.8); the task is over.',
          },
        ],
        'socket.ended': {
          actions: ['notePeerEnded', 'signalClientLeft'],
          description:
            'The client half-closed: request.signal aborts, yet whatever the app answers is still sent before the close, as Go does (RFC 9112 §9.6).',
        },
        'socket.closed': {
          target: 'closed',
          actions: 'abortTask',
          description: 'The client is gone: abort the task; nothing more is sent.',
        },
        'channel.timeout': {
          description:
            'A running request is never closed for idleness (RFC 9112 §9.5 is about idle connections); its own limit is handler_timeout.',
        },
      },
    },
    flushing: {
      description: 'The response is written but the socket is backed up; wait before reading on.',
      on: {
        'output.drained': [
          {
            guard: 'isIdleAtEnd',
            target: 'closed',
            description:
              'The client half-closed or the server stops, and no later request is buffered: nothing more to answer (RFC 9112 §9.6).',
          },
          { target: 'reading', description: 'Drained: read the next request (RFC 9112 §9.3.2).' },
        ],
      },
    },
    upgraded: {
      description:
        'A WebSocket: ws frames the connection and keeps it alive (pings, idleTimeout); no HTTP request is parsed on it again (RFC 9110 §7.8), and channel_timeout, the deadlines and shedding do not apply.',
      on: {
        'server.closing': {
          actions: ['noteServerClosing', 'closeWebSocket'],
          description:
            'The server stops: the WebSocket is closed with 1001, Going Away (RFC 6455 §7.4.1); the connection ends when the closing handshake does, or at shutdown_timeout.',
        },
        'channel.timeout': {
          description: "A WebSocket is not idle by HTTP's measure (RFC 9112 §9.5): its liveness is ws's pings (idleTimeout).",
        },
      },
    },
    'pending-close': {
      description: 'Flush what is written, then end the write side; nothing more is parsed.',
      entry: 'closeWhenFlushed',
      on: {
        'output.ended': {
          target: 'lingering',
          description: 'Our FIN is on its way after the last response; close lingering (RFC 9112 §9.6).',
        },
      },
    },
    lingering: {
      description:
        'Our write side is ended; input is read and thrown away, so bytes the client sent unread do not turn our FIN into a reset that destroys the response (RFC 9112 §9.6).',
      entry: 'linger',
      on: {
        'linger.expired': {
          target: 'closed',
          description: 'The client did not close in time: close anyway (RFC 9112 §9.6).',
        },
      },
    },
    closed: {
      type: 'final',
      entry: 'release',
    },
  },
});
