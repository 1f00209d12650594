// Event payloads shared by the machine tests.
import type { ChannelEvent } from '../../machines/channel.js';
import type { HttpError, RequestHead } from '../../src/http/types.js';

export const error: HttpError = { status: 400, code: 'WS_ERR_TEST', reason: 'Test. (RFC 9112 §2.2)' };

export const head = (framing: RequestHead['framing'], expectsContinue = false): RequestHead => ({
  method: 'POST',
  target: '/',
  targetForm: 'origin',
  version: '1.1',
  headers: [],
  host: 'h',
  framing,
  keepAlive: true,
  expectsContinue,
});

/** A whole request is in: what the channel machine hands to startTask. */
export const complete: ChannelEvent = { type: 'request.complete', request: { head: head({ kind: 'none' }) } };
