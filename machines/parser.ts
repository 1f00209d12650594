// machines/parser.ts: the life of one request on the way in, from its first byte to a complete
// request or a refusal.
//
// Rules of this file:
// 1. Every decision about which phase of a request we are reading is a transition here. The byte
//    scanning itself is plain code in src/http/ (parseHead, ChunkedDecoder); the shell runs the
//    scanner that belongs to the current state and reports only phase boundaries, so a request
//    costs two or three events, never one per byte or per field line.
// 2. No I/O: what happens at a boundary (start a body, hand over a request, answer a refusal) is
//    a named action that src/ provides with `.provide()`.
// 3. One parser lives as long as its channel and is reset per request (`parser.reset`); `error`
//    is final because nothing after a malformed request can be trusted (RFC 9112 §9.6 closes).

import { setup } from 'xstate';
import { notProvided } from './stubs.js';
import type { HttpError, RequestHead } from '../src/http/types.js';

/** What the shell must do when the parser crosses a phase boundary. */
export interface ParserEffects {
  beginBody(head: RequestHead): void;
  deliverRequest(): void;
  rejectRequest(error: HttpError): void;
}

export interface ParserContext {
  readonly shell: ParserEffects;
}

export type ParserEvent =
  | { type: 'head.parsed'; head: RequestHead }
  | { type: 'head.failed'; error: HttpError }
  | { type: 'body.complete' }
  | { type: 'body.failed'; error: HttpError }
  | { type: 'parser.reset' };

export const parserMachine = setup({
  types: {
    context: {} as ParserContext,
    input: {} as ParserContext,
    events: {} as ParserEvent,
  },
  guards: {
    hasChunkedBody: ({ event }) => event.type === 'head.parsed' && event.head.framing.kind === 'chunked',
    hasFixedBody: ({ event }) => event.type === 'head.parsed' && event.head.framing.kind === 'length',
  },
  actions: {
    beginBody: notProvided('parser', 'beginBody'),
    deliverRequest: notProvided('parser', 'deliverRequest'),
    rejectRequest: notProvided('parser', 'rejectRequest'),
  },
}).createMachine({
  id: 'parser',
  initial: 'head',
  context: ({ input }) => input,
  states: {
    head: {
      description: 'Request line and field lines, up to the empty line (RFC 9112 §2.1).',
      on: {
        'head.parsed': [
          {
            guard: 'hasChunkedBody',
            target: 'body-chunked',
            actions: 'beginBody',
            description: 'Transfer-Encoding: chunked frames the body (RFC 9112 §6.3 rule 4).',
          },
          {
            guard: 'hasFixedBody',
            target: 'body-fixed',
            actions: 'beginBody',
            description: 'Content-Length gives the body length (RFC 9112 §6.3 rule 6).',
          },
          { target: 'complete', description: 'No framing field: the request has no body (RFC 9112 §6.3 rule 7).' },
        ],
        'head.failed': { target: 'error' },
      },
    },
    'body-fixed': {
      description: 'Exactly Content-Length octets of body.',
      on: { 'body.complete': { target: 'complete' } },
    },
    'body-chunked': {
      description: 'Chunks, extensions and trailer section (RFC 9112 §7.1).',
      on: {
        'body.complete': { target: 'complete' },
        'body.failed': { target: 'error' },
      },
    },
    complete: {
      entry: 'deliverRequest',
      on: { 'parser.reset': { target: 'head' } },
    },
    error: {
      type: 'final',
      entry: 'rejectRequest',
    },
  },
});
