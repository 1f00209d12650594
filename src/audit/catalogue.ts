// src/audit/catalogue.ts: HTTP/1.1 edge cases as data. Each case is the bytes a client sends, what
// a correct server answers (the status of each response, and whether it then closes; waitstate's
// answer, with the others the RFC also allows in `alsoAllowed`), the RFC section that decides it,
// and where waitstate decides it (machine, transition or guard, and the codec's error code). The
// test suite runs every case against waitstate (test/functional/catalogue.test.ts);
// docs/edge-cases.md shows them (npm run docs:edge-cases).
//
// The answers assume an app that answers any request it is given with 200, as any "hello" app
// does. Nothing here imports `node:`: the cases are plain data.

type Area =
  | 'Request line'
  | 'Request target'
  | 'HTTP version'
  | 'Host'
  | 'Field lines'
  | 'Body framing'
  | 'Chunked body'
  | 'Persistence and pipelining'
  | 'Expect: 100-continue'
  | 'Responses';

export interface EdgeCase {
  /** Stable name, for `--cases` filters and test names. */
  readonly id: string;
  readonly area: Area;
  readonly title: string;
  /** What the client sends first (latin1). */
  readonly send: string;
  /** Sent once the first response has arrived (the body after a 100 Continue). */
  readonly thenSend?: string;
  /** Status of each response, in order (a 100 Continue counts). */
  readonly statuses: readonly number[];
  /** Whether the server closes the connection after its answers. */
  readonly closes: boolean;
  readonly rfc: string;
  /** Where waitstate decides, in terms of its machines. */
  readonly decidedBy: string;
  /** waitstate's error code for a refusal (it is in the server's log line). */
  readonly code?: string;
  /** Other answers the RFC permits (another server may choose them); waitstate gives the one above. */
  readonly alsoAllowed?: readonly Answer[];
  /** Indexes of the responses that answer a HEAD: each ends with its head, whatever its framing fields say (RFC 9110 §9.3.2). */
  readonly headAnswers?: readonly number[];
  /** A rule on the answers' fields, checked besides their statuses, whichever answer came. */
  readonly fieldRule?: FieldRule;
}

/**
 * - `head-length-as-get`: each HEAD answer has no Content-Length, or the one of the GET answer
 *   just before it (RFC 9110 §9.3.2: the fields a GET would get, none invented);
 * - `framed-once`: each answer with content has one framing field, once, and at most one
 *   Connection field (RFC 9112 §6.1, §6.3; RFC 9110 §7.6.1).
 */
export const FIELD_RULES = ['head-length-as-get', 'framed-once'] as const;
type FieldRule = (typeof FIELD_RULES)[number];

/** An answer other than waitstate's that the rules allow, and why. */
export interface Answer {
  readonly statuses: readonly number[];
  readonly closes: boolean;
  readonly why: string;
}

const SERVED = 'parser head → complete (head.parsed); channel reading → dispatched (request.complete) → reading (task.done)';
const SERVED_BODY =
  'parser head → body-fixed | body-chunked (head.parsed [hasFixedBody | hasChunkedBody]) → complete; channel reading → dispatched';
const SERVED_CLOSING = 'channel dispatched → pending-close (task.done [isClosing]): the response says Connection: close';
const HEAD_REFUSED =
  'parseHead → parser head → error (head.failed); channel reading → pending-close (request.invalid / writeErrorResponse)';
const BODY_REFUSED =
  'ChunkedDecoder → parser body-chunked → error (body.failed); channel reading → pending-close (request.invalid / writeErrorResponse)';

const APP_ANSWERED = 'the app answers; acceptAppFields (src/http/response.ts) reads its fields, planResponseFraming frames the body';

const URL_REFUSED =
  'requestUrl in the shell, after parseHead → parser head → error (head.failed); channel reading → pending-close (request.invalid / writeErrorResponse)';

/** `statuses` with or without a close: both are allowed when the request's framing is known. */
const eitherWay = (statuses: readonly number[], why: string): Answer[] => [
  { statuses, closes: false, why },
  { statuses, closes: true, why },
];
const allowing = (edge: EdgeCase, ...alsoAllowed: Answer[]): EdgeCase => ({ ...edge, alsoAllowed });

const get = (extra = '', target = '/', version = 'HTTP/1.1') => `GET ${target} ${version}\r\nHost: example.test\r\n${extra}\r\n`;
const post = (fields: string, body: string) => `POST / HTTP/1.1\r\nHost: example.test\r\n${fields}\r\n${body}`;
const refused = (
  id: string,
  area: Area,
  title: string,
  send: string,
  status: number,
  rfc: string,
  code: string,
  decidedBy = HEAD_REFUSED,
): EdgeCase => ({ id, area, title, send, statuses: [status], closes: true, rfc, code, decidedBy });
const served = (id: string, area: Area, title: string, send: string, rfc: string, decidedBy = SERVED, statuses = [200]): EdgeCase => ({
  id,
  area,
  title,
  send,
  statuses,
  closes: false,
  rfc,
  decidedBy,
});

/** A Host the URL Standard refuses though RFC 3986's grammar takes it: 400 here, 200 allowed elsewhere. */
const hostNoUrlCanHave = (id: string, title: string, host: string): EdgeCase =>
  allowing(
    refused(
      id,
      'Host',
      `${title}: no URL can have it`,
      `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
      400,
      'RFC 9112 §3.2, WHATWG URL host parsing',
      'WS_ERR_HOST_NOT_URL',
      URL_REFUSED,
    ),
    {
      statuses: [200],
      closes: false,
      why: 'RFC 3986 §3.2.2: valid by the RFC grammar (a reg-name, port = *DIGIT); only the URL Standard refuses it',
    },
  );

export const CATALOGUE: readonly EdgeCase[] = [
  // ---- request line
  served('leading-empty-lines', 'Request line', 'empty lines before the request line are ignored', `\r\n\r\n${get()}`, 'RFC 9112 §2.2'),
  refused(
    'method-lower-case',
    'Request line',
    'a method with a lower-case letter',
    'get / HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9110 §9.1',
    'WS_ERR_METHOD_CASE',
  ),
  refused(
    'method-not-token',
    'Request line',
    'a method that is not a token',
    'G(T / HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9110 §9.1',
    'WS_ERR_METHOD',
  ),
  allowing(
    refused(
      'double-space',
      'Request line',
      'two spaces between method and target',
      'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
      400,
      'RFC 9112 §3',
      'WS_ERR_REQUEST_LINE',
    ),
    { statuses: [200], closes: false, why: 'RFC 9112 §3: a recipient may parse the request line on whitespace-delimited words' },
  ),
  allowing(
    refused(
      'tab-separator',
      'Request line',
      'a TAB instead of a space',
      'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n',
      400,
      'RFC 9112 §3',
      'WS_ERR_REQUEST_LINE',
    ),
    { statuses: [200], closes: false, why: 'RFC 9112 §3: a recipient may parse the request line on whitespace-delimited words' },
  ),
  refused(
    'no-version',
    'Request line',
    'no HTTP-version (an HTTP/0.9 request)',
    'GET /\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §3',
    'WS_ERR_REQUEST_LINE',
  ),
  allowing(
    refused(
      'connect-501',
      'Request line',
      'CONNECT (a tunnel), which this server does not implement',
      'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n',
      501,
      'RFC 9110 §9.3.6, §15.6.2',
      'WS_ERR_METHOD_NOT_IMPLEMENTED',
    ),
    { statuses: [501], closes: false, why: 'RFC 9110 §9.3.6: after a non-2xx answer the connection stays HTTP' },
    ...eitherWay([405], 'RFC 9110 §15.5.6: a method known but not allowed for the target'),
  ),
  allowing(
    refused(
      'trace-501',
      'Request line',
      'TRACE, which this server does not implement',
      'TRACE / HTTP/1.1\r\nHost: example.test\r\n\r\n',
      501,
      'RFC 9110 §9.3.8, §15.6.2',
      'WS_ERR_METHOD_NOT_IMPLEMENTED',
    ),
    { statuses: [501], closes: false, why: 'RFC 9110 §15.6.2: the request itself was well framed' },
    ...eitherWay([405], 'RFC 9110 §15.5.6: a method known but not allowed for the target'),
    { statuses: [200], closes: false, why: 'RFC 9110 §9.3.8: a server that implements TRACE reflects the request in a 200' },
  ),
  // ---- request target
  refused(
    'target-non-ascii',
    'Request target',
    'a byte above 0x7E in the target',
    'GET /caf\xe9 HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §3.2',
    'WS_ERR_TARGET_CHAR',
  ),
  refused(
    'target-ctl',
    'Request target',
    'a control byte in the target',
    'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §3.2',
    'WS_ERR_TARGET_CHAR',
  ),
  refused(
    'target-no-form',
    'Request target',
    'a target in none of the four forms',
    'GET foo HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §3.2',
    'WS_ERR_TARGET_FORM',
  ),
  served('asterisk-options', 'Request target', 'asterisk-form with OPTIONS', 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n', 'RFC 9112 §3.2.4'),
  refused(
    'asterisk-get',
    'Request target',
    'asterisk-form with a method other than OPTIONS',
    'GET * HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §3.2.4',
    'WS_ERR_TARGET_FORM',
  ),
  served(
    'absolute-form',
    'Request target',
    'absolute-form target (its authority wins over Host)',
    get('', 'http://example.com/x'),
    'RFC 9112 §3.2.2',
  ),
  refused(
    'authority-get',
    'Request target',
    'authority-form with a method other than CONNECT',
    'GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §3.2.3',
    'WS_ERR_TARGET_FORM',
  ),
  allowing(
    refused(
      'target-fragment-origin',
      'Request target',
      'a fragment in an origin-form target',
      get('', '/page#frag'),
      400,
      'RFC 9112 §3.2.1',
      'WS_ERR_TARGET_FRAGMENT',
    ),
    ...eitherWay([301], 'RFC 9112 §3: a redirect to the target properly encoded, instead of the 400'),
  ),
  allowing(
    refused(
      'target-fragment-absolute',
      'Request target',
      'a fragment in an absolute-form target',
      get('', 'http://example.test/page#frag'),
      400,
      'RFC 9112 §3.2.2, RFC 3986 §4.3',
      'WS_ERR_TARGET_FRAGMENT',
    ),
    ...eitherWay([301], 'RFC 9112 §3: a redirect to the target properly encoded, instead of the 400'),
  ),
  refused(
    'target-not-uri',
    'Request target',
    'an absolute-form target that is not a URI',
    'GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §3.2',
    'WS_ERR_TARGET_NOT_URL',
    URL_REFUSED,
  ),
  // ---- version
  refused(
    'http-2-0',
    'HTTP version',
    'HTTP/2.0 in an HTTP/1 request line',
    get('', '/', 'HTTP/2.0'),
    505,
    'RFC 9110 §15.6.6',
    'WS_ERR_VERSION_UNSUPPORTED',
  ),
  served('http-1-2', 'HTTP version', 'HTTP/1.2: a higher minor version, processed as HTTP/1.1', get('', '/', 'HTTP/1.2'), 'RFC 9110 §2.5'),
  refused(
    'version-two-digits',
    'HTTP version',
    'HTTP/1.10 (one digit each side)',
    get('', '/', 'HTTP/1.10'),
    400,
    'RFC 9112 §2.3',
    'WS_ERR_VERSION_SYNTAX',
  ),
  refused(
    'version-lower-case',
    'HTTP version',
    'http/1.1 in lower case',
    get('', '/', 'http/1.1'),
    400,
    'RFC 9112 §2.3',
    'WS_ERR_VERSION_SYNTAX',
  ),
  {
    id: 'http-1-0-no-host',
    area: 'HTTP version',
    title: 'HTTP/1.0 without Host, without keep-alive',
    send: 'GET / HTTP/1.0\r\n\r\n',
    statuses: [200],
    closes: true,
    rfc: 'RFC 9112 §9.3',
    decidedBy: SERVED_CLOSING,
  },
  // ---- Host
  refused('host-missing', 'Host', 'HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400, 'RFC 9112 §3.2', 'WS_ERR_HOST_MISSING'),
  refused('host-twice', 'Host', 'two Host fields', get('Host: other.test\r\n'), 400, 'RFC 9112 §3.2', 'WS_ERR_HOST_DUPLICATE'),
  refused(
    'host-invalid',
    'Host',
    'a Host that is not a host name',
    'GET / HTTP/1.1\r\nHost: exa mple.test\r\n\r\n',
    400,
    'RFC 9110 §7.2',
    'WS_ERR_HOST_INVALID',
  ),
  hostNoUrlCanHave('host-ends-in-number', 'a name whose last label is a number, but no IPv4 address (`example.0`)', 'example.0'),
  hostNoUrlCanHave('host-ipv4-over-255', 'an IPv4 address with a part over 255 (`256.1.1.1`)', '256.1.1.1'),
  hostNoUrlCanHave('host-ipv4-five-parts', 'an IPv4 address of five parts (`1.2.3.4.5`)', '1.2.3.4.5'),
  hostNoUrlCanHave('host-port-over-65535', 'a port over 65535 (`a:99999`)', 'a:99999'),
  hostNoUrlCanHave('host-bad-punycode', 'a name with an xn-- label that is no punycode (`xn--a`)', 'xn--a'),
  hostNoUrlCanHave('host-bad-punycode-upper-case', 'the same in upper case (`XN--A`)', 'XN--A'),
  allowing(
    served(
      'host-normalised',
      'Host',
      'a Host the URL parser normalises (`127.1` is 127.0.0.1 in request.url)',
      'GET / HTTP/1.1\r\nHost: 127.1\r\n\r\n',
      'RFC 9110 §7.2, WHATWG URL host parsing',
    ),
    { statuses: [400], closes: true, why: 'RFC 3986 §7.4: a rare IP address format a server may refuse' },
  ),
  served('host-empty', 'Host', 'an empty Host (a target without authority)', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', 'RFC 9112 §3.2'),
  // ---- field lines
  refused(
    'space-before-colon',
    'Field lines',
    'whitespace between field name and colon',
    get('X-A : b\r\n'),
    400,
    'RFC 9112 §5.1',
    'WS_ERR_WS_BEFORE_COLON',
  ),
  refused('bare-lf', 'Field lines', 'lines ended by LF alone', 'GET / HTTP/1.1\nHost: a\n\n', 400, 'RFC 9112 §2.2', 'WS_ERR_BARE_LF'),
  refused('bare-cr', 'Field lines', 'a bare CR inside a field value', get('X-A: b\rc\r\n'), 400, 'RFC 9112 §2.2', 'WS_ERR_BARE_CR'),
  refused('nul-in-value', 'Field lines', 'a NUL byte in a field value', get('X-A: b\x00c\r\n'), 400, 'RFC 9110 §5.5', 'WS_ERR_FIELD_VALUE'),
  allowing(
    served(
      'obs-fold',
      'Field lines',
      'obs-fold continuing a field value (replaced by one space)',
      get('X-A: b\r\n  c\r\n'),
      'RFC 9112 §5.2',
    ),
    { statuses: [400], closes: true, why: 'RFC 9112 §5.2: a server may reject obs-fold instead' },
  ),
  refused(
    'obs-fold-first',
    'Field lines',
    'a folded line right after the request line',
    'GET / HTTP/1.1\r\n X-A: b\r\nHost: a\r\n\r\n',
    400,
    'RFC 9112 §2.2',
    'WS_ERR_WS_BEFORE_FIRST_FIELD',
  ),
  refused('no-colon', 'Field lines', 'a field line without a colon', get('X-A\r\n'), 400, 'RFC 9112 §5', 'WS_ERR_FIELD_NO_COLON'),
  refused('empty-name', 'Field lines', 'an empty field name', get(': b\r\n'), 400, 'RFC 9110 §5.1', 'WS_ERR_FIELD_NAME_EMPTY'),
  refused(
    'name-not-token',
    'Field lines',
    'a field name that is not a token',
    get('X(A): b\r\n'),
    400,
    'RFC 9110 §5.1',
    'WS_ERR_FIELD_NAME',
  ),
  served(
    'name-underscore',
    'Field lines',
    'a field name with an underscore (dropped, as Waitress does)',
    get('X_A: b\r\n'),
    'RFC 9110 §5.1',
  ),
  refused(
    'head-too-large',
    'Field lines',
    'a head of 300 KiB, over max_request_header_size (256 KiB)',
    get(`X-Big: ${'a'.repeat(300 * 1024)}\r\n`),
    431,
    'RFC 6585 §5',
    'WS_ERR_HEAD_TOO_LARGE',
  ),
  // ---- body framing
  served(
    'content-length',
    'Body framing',
    'a body framed by Content-Length',
    post('Content-Length: 5\r\n', 'hello'),
    'RFC 9112 §6.2',
    SERVED_BODY,
  ),
  served(
    'get-with-body',
    'Body framing',
    'a GET with a body: framed by its Content-Length (the app can read it), then the next request',
    `GET / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\r\nhello${get()}`,
    'RFC 9110 §9.3.1, RFC 9112 §6.3',
    `${SERVED_BODY}; request.body holds it on any method`,
    [200, 200],
  ),
  allowing(
    refused(
      'obs-fold-transfer-encoding',
      'Body framing',
      'a folded Transfer-Encoding (a proxy that does not unfold frames the body otherwise)',
      post('Transfer-Encoding:\r\n chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
      400,
      'RFC 9112 §5.2, §6',
      'WS_ERR_FRAMING_FIELD_FOLDED',
    ),
    { statuses: [200], closes: false, why: 'RFC 9112 §5.2: a server may replace obs-fold with SP and frame by the result' },
  ),
  allowing(
    refused(
      'obs-fold-content-length',
      'Body framing',
      'a folded Content-Length',
      post('Content-Length:\r\n 5\r\n', 'hello'),
      400,
      'RFC 9112 §5.2, §6',
      'WS_ERR_FRAMING_FIELD_FOLDED',
    ),
    { statuses: [200], closes: false, why: 'RFC 9112 §5.2: a server may replace obs-fold with SP and frame by the result' },
  ),
  refused(
    'cl-plus-sign',
    'Body framing',
    'Content-Length with a sign',
    post('Content-Length: +5\r\n', 'hello'),
    400,
    'RFC 9110 §8.6',
    'WS_ERR_CONTENT_LENGTH',
  ),
  refused(
    'cl-empty',
    'Body framing',
    'an empty Content-Length',
    post('Content-Length:\r\n', ''),
    400,
    'RFC 9110 §8.6',
    'WS_ERR_CONTENT_LENGTH',
  ),
  refused(
    'cl-hex',
    'Body framing',
    'Content-Length in hexadecimal',
    post('Content-Length: 0x5\r\n', 'hello'),
    400,
    'RFC 9110 §8.6',
    'WS_ERR_CONTENT_LENGTH',
  ),
  allowing(
    refused(
      'cl-twice',
      'Body framing',
      'two Content-Length fields, even equal',
      post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'),
      400,
      'RFC 9112 §6.3',
      'WS_ERR_CONTENT_LENGTH_DUPLICATE',
    ),
    { statuses: [200], closes: false, why: 'RFC 9110 §8.6: a list of one repeated value may be taken as that value' },
  ),
  allowing(
    refused(
      'cl-list',
      'Body framing',
      'a Content-Length list',
      post('Content-Length: 5, 5\r\n', 'hello'),
      400,
      'RFC 9112 §6.3',
      'WS_ERR_CONTENT_LENGTH',
    ),
    { statuses: [200], closes: false, why: 'RFC 9110 §8.6: a list of one repeated value may be taken as that value' },
  ),
  refused(
    'cl-overflow',
    'Body framing',
    'a Content-Length of 20 digits',
    post('Content-Length: 99999999999999999999\r\n', ''),
    400,
    'RFC 9110 §8.6',
    'WS_ERR_CONTENT_LENGTH_OVERFLOW',
  ),
  refused(
    'cl-over-limit',
    'Body framing',
    'a Content-Length over max_request_body_size (1 GiB)',
    post('Content-Length: 2000000000\r\n', ''),
    413,
    'RFC 9110 §15.5.14',
    'WS_ERR_BODY_TOO_LARGE',
  ),
  allowing(
    refused(
      'cl-and-te',
      'Body framing',
      'Content-Length and Transfer-Encoding together (smuggling)',
      post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
      400,
      'RFC 9112 §6.1',
      'WS_ERR_TE_WITH_CL',
    ),
    { statuses: [200], closes: true, why: 'RFC 9112 §6.1: a server may frame by Transfer-Encoding alone, then must close' },
  ),
  allowing(
    refused(
      'te-http-1-0',
      'Body framing',
      'Transfer-Encoding in an HTTP/1.0 request',
      'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'RFC 9112 §6.1',
      'WS_ERR_TE_HTTP10',
    ),
    {
      statuses: [200],
      closes: true,
      why: 'RFC 9112 §6.1: the framing is treated as faulty: the message may be processed, then the connection closed',
    },
  ),
  refused(
    'te-gzip-final',
    'Body framing',
    'a final transfer coding other than chunked',
    post('Transfer-Encoding: gzip\r\n', ''),
    400,
    'RFC 9112 §6.3',
    'WS_ERR_TE_CHUNKED_NOT_FINAL',
  ),
  refused(
    'te-unknown-coding',
    'Body framing',
    'an unknown coding before chunked',
    post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'),
    501,
    'RFC 9112 §6.1',
    'WS_ERR_TE_UNSUPPORTED',
  ),
  refused(
    'te-chunked-twice',
    'Body framing',
    'chunked applied twice',
    post('Transfer-Encoding: chunked, chunked\r\n', '0\r\n\r\n'),
    400,
    'RFC 9112 §7',
    'WS_ERR_TE_CHUNKED_TWICE',
  ),
  // ---- chunked body
  served(
    'chunked',
    'Chunked body',
    'a chunked body',
    post('Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
    'RFC 9112 §7.1',
    SERVED_BODY,
  ),
  served(
    'chunk-extension',
    'Chunked body',
    'a chunk extension (ignored)',
    post('Transfer-Encoding: chunked\r\n', '5;name="v"\r\nhello\r\n0\r\n\r\n'),
    'RFC 9112 §7.1.1',
    SERVED_BODY,
  ),
  served(
    'trailer',
    'Chunked body',
    'a trailer field (checked, then discarded)',
    post('Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\nX-T: v\r\n\r\n'),
    'RFC 9112 §7.1.2',
    SERVED_BODY,
  ),
  refused(
    'chunk-size-hex-prefix',
    'Chunked body',
    'a chunk size with 0x',
    post('Transfer-Encoding: chunked\r\n', '0x5\r\nhello\r\n0\r\n\r\n'),
    400,
    'RFC 9112 §7.1',
    'WS_ERR_CHUNK_SIZE',
    BODY_REFUSED,
  ),
  refused(
    'chunk-size-space',
    'Chunked body',
    'a chunk size after a space',
    post('Transfer-Encoding: chunked\r\n', ' 5\r\nhello\r\n0\r\n\r\n'),
    400,
    'RFC 9112 §7.1',
    'WS_ERR_CHUNK_SIZE',
    BODY_REFUSED,
  ),
  refused(
    'chunk-size-overflow',
    'Chunked body',
    'a chunk size over 2^53',
    post('Transfer-Encoding: chunked\r\n', 'fffffffffffffffffff\r\nhello\r\n'),
    400,
    'RFC 9112 §7.1',
    'WS_ERR_CHUNK_SIZE_OVERFLOW',
    BODY_REFUSED,
  ),
  refused(
    'chunk-extension-bad',
    'Chunked body',
    'a chunk extension without a name',
    post('Transfer-Encoding: chunked\r\n', '5;=x\r\nhello\r\n0\r\n\r\n'),
    400,
    'RFC 9112 §7.1.1',
    'WS_ERR_CHUNK_EXTENSION',
    BODY_REFUSED,
  ),
  refused(
    'chunk-not-terminated',
    'Chunked body',
    'chunk data longer than its size',
    post('Transfer-Encoding: chunked\r\n', '5\r\nhelloX\r\n0\r\n\r\n'),
    400,
    'RFC 9112 §7.1',
    'WS_ERR_CHUNK_NOT_TERMINATED',
    BODY_REFUSED,
  ),
  refused(
    'chunk-bare-lf',
    'Chunked body',
    'chunk lines ended by LF alone',
    post('Transfer-Encoding: chunked\r\n', '5\nhello\n0\n\n'),
    400,
    'RFC 9112 §7.1',
    'WS_ERR_CHUNK_BARE_LF',
    BODY_REFUSED,
  ),
  refused(
    'trailer-bad',
    'Chunked body',
    'a trailer line without a colon',
    post('Transfer-Encoding: chunked\r\n', '0\r\nBad-trailer\r\n\r\n'),
    400,
    'RFC 9112 §7.1.2',
    'WS_ERR_FIELD_NO_COLON',
    BODY_REFUSED,
  ),
  // ---- persistence and pipelining
  served(
    'pipelined-two',
    'Persistence and pipelining',
    'two pipelined requests, answered in order',
    get() + get(),
    'RFC 9112 §9.3.2',
    SERVED,
    [200, 200],
  ),
  served(
    'pipelined-post-get',
    'Persistence and pipelining',
    'a POST with a body, then a GET, pipelined',
    post('Content-Length: 5\r\n', 'hello') + get(),
    'RFC 9112 §9.3.2',
    SERVED_BODY,
    [200, 200],
  ),
  {
    id: 'connection-close',
    area: 'Persistence and pipelining',
    title: 'Connection: close, and a request after it (never answered)',
    send: get('Connection: close\r\n') + get(),
    statuses: [200],
    closes: true,
    rfc: 'RFC 9112 §9.6',
    decidedBy: SERVED_CLOSING,
  },
  {
    id: 'connection-close-in-list',
    area: 'Persistence and pipelining',
    title: 'close as the second token of Connection',
    send: get('Connection: keep-alive, close\r\n'),
    statuses: [200],
    closes: true,
    rfc: 'RFC 9110 §7.6.1',
    decidedBy: SERVED_CLOSING,
  },
  allowing(
    served(
      'http-1-0-keep-alive',
      'Persistence and pipelining',
      'HTTP/1.0 with Connection: keep-alive',
      get('Connection: keep-alive\r\n', '/', 'HTTP/1.0'),
      'RFC 9112 §9.3',
    ),
    { statuses: [200], closes: true, why: 'RFC 9112 §9.3: a server need not honour HTTP/1.0 keep-alive' },
  ),
  refused(
    'after-refused',
    'Persistence and pipelining',
    'a request pipelined behind a refused one (CVE-2024-49768)',
    post('Content-Length: x\r\n', '') + get(),
    400,
    'RFC 9112 §9.6',
    'WS_ERR_CONTENT_LENGTH',
  ),
  // ---- Expect
  {
    id: 'expect-continue',
    area: 'Expect: 100-continue',
    title: 'Expect: 100-continue, the body sent after the 100',
    send: post('Content-Length: 5\r\nExpect: 100-continue\r\n', ''),
    thenSend: 'hello',
    statuses: [100, 200],
    closes: false,
    rfc: 'RFC 9110 §10.1.1',
    decidedBy: 'channel reading → awaiting-continue (request.head [wantsContinue] / writeContinue) → dispatched (request.complete)',
  },
  allowing(
    served(
      'expect-continue-body-sent',
      'Expect: 100-continue',
      'Expect: 100-continue with the body already sent (no 100)',
      post('Content-Length: 5\r\nExpect: 100-continue\r\n', 'hello'),
      'RFC 9110 §10.1.1',
      'channel reading → dispatched: guard wantsContinue is false once the body has started',
    ),
    { statuses: [100, 200], closes: false, why: 'RFC 9110 §10.1.1: a server MAY omit the 100 once content arrived, so it may send it' },
  ),
  allowing(
    served(
      'expect-other',
      'Expect: 100-continue',
      'an Expect value other than 100-continue (passed to the app)',
      get('Expect: something\r\n'),
      'RFC 9110 §10.1.1',
    ),
    ...eitherWay([417], 'RFC 9110 §10.1.1: a server MAY answer an unknown expectation with 417'),
  ),
  {
    id: 'expect-continue-http-1-0',
    area: 'Expect: 100-continue',
    title: 'Expect: 100-continue in HTTP/1.0 (no 100)',
    send: 'POST / HTTP/1.0\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello',
    statuses: [200],
    closes: true,
    rfc: 'RFC 9110 §10.1.1',
    decidedBy: SERVED_CLOSING,
  },
  allowing(
    refused(
      'expect-continue-too-large',
      'Expect: 100-continue',
      'Expect: 100-continue with a body over the limit: 413, no 100',
      post('Content-Length: 2000000000\r\nExpect: 100-continue\r\n', ''),
      413,
      'RFC 9110 §10.1.1',
      'WS_ERR_BODY_TOO_LARGE',
    ),
    {
      statuses: [100],
      closes: false,
      why: 'RFC 9110 §10.1.1, §15.5.14: a server with no body limit (413 is its choice) asks for the body',
    },
  ),
  // ---- responses (what the server makes of the app's answer; the audit app is described in docs/audit.md)
  {
    ...served(
      'head-length',
      'Responses',
      "GET then HEAD: HEAD has GET's Content-Length or none, never an invented 0 (the app answers HEAD with no body, as Hono does)",
      get() + get('', '/', 'HTTP/1.1').replace('GET', 'HEAD'),
      'RFC 9110 §9.3.2',
      `${APP_ANSWERED}; for HEAD without a body or a length from the app, no framing field`,
      [200, 200],
    ),
    headAnswers: [1],
    fieldRule: 'head-length-as-get',
  },
  {
    ...served(
      'app-hop-by-hop',
      'Responses',
      "the app sets Connection, Keep-Alive and Transfer-Encoding (as Hono's streamSSE does): dropped, the server frames the response",
      get('', '/hop-by-hop') + get(),
      'RFC 9110 §7.6.1, RFC 9112 §6.1',
      `${APP_ANSWERED}; the app's connection-level fields are dropped and logged once per field and route, at info`,
      [200, 200],
    ),
    fieldRule: 'framed-once',
  },
];
