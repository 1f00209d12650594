// src/http/chunked.ts: the chunked transfer coding (RFC 9112 §7.1) → body bytes.
// Rules: (1) one decoder per request body; it keeps its state between decode() calls, so input may
//        be split at any byte (inside a CRLF, a size, an extension, a trailer field);
//        (2) chunk data is handed out as subarray views of the caller's buffer, never copied; the
//        caller must not reuse that buffer until it is done with the views;
//        (3) framing lines (size line, extensions, trailer section) are read one byte at a time
//        through a small state machine: they are short, and a byte machine is what makes rule (1)
//        hold without buffering partial lines;
//        (4) extensions and trailer fields are validated, then discarded (RFC 9112 §7.1.1,
//        §7.1.2); nothing of them reaches the app;
//        (5) never throws; the first error is sticky, and `done` is final.
//
//   chunked-body = *chunk last-chunk trailer-section CRLF
//   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//   chunk-size   = 1*HEXDIG
//   last-chunk   = 1*("0") [ chunk-ext ] CRLF
//   chunk-ext    = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-val = token / quoted-string
//   trailer-section = *( field-line CRLF )

import { ERR, bodyTooLarge, trailerTooLarge } from './errors.js';
import { CR, FIELD_VALUE_CHAR, HEX_VALUE, HTAB, LF, QDTEXT, QUOTED_PAIR_CHAR, SP, TCHAR } from './grammar.js';
import type { ChunkedResult, HttpError } from './types.js';

/** RFC 9112 §7.1.1: a server ought to limit extension length; this bounds a whole size line. */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** 15 hex digits already exceed Number.MAX_SAFE_INTEGER (2^53 - 1); more is never a real size. */
const MAX_SIZE_DIGITS = 15;

// States. The size-line states (S_SIZE_FIRST..S_EXT_AFTER_QUOTED) are contiguous so the line
// length check is one comparison.
const S_SIZE_FIRST = 0; // expecting the first HEXDIG of a chunk-size
const S_SIZE = 1; // inside chunk-size
const S_EXT_WS = 2; // BWS that must be followed by ";"
const S_EXT_NAME_START = 3; // after ";": BWS, then the first tchar of a name
const S_EXT_NAME = 4;
const S_EXT_AFTER_NAME = 5; // BWS after a name: "=" or ";" must follow
const S_EXT_VALUE_START = 6; // after "=": BWS, then token or quoted-string
const S_EXT_TOKEN = 7;
const S_EXT_QUOTED = 8;
const S_EXT_QUOTED_PAIR = 9; // after a backslash inside a quoted-string
const S_EXT_AFTER_QUOTED = 10; // after the closing DQUOTE
const S_LINE_LAST = S_EXT_AFTER_QUOTED;
const S_SIZE_LF = 11; // CR of the size line seen, LF must follow
const S_DATA = 12;
const S_DATA_CR = 13; // chunk data done, CR must follow
const S_DATA_LF = 14;
const S_TRAILER_START = 15; // start of a trailer field line, or of the final empty line
const S_TRAILER_NAME = 16;
const S_TRAILER_NAME_WS = 17; // whitespace after (part of) a name: only an error remains to name
const S_TRAILER_VALUE = 18; // value of a field line, or an obs-fold continuation
const S_TRAILER_LF = 19;
const S_FINAL_LF = 20; // CR of the final empty line seen
const S_DONE = 21;
const S_ERROR = 22;

const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

const isOws = (c: number): boolean => c === SP || c === HTAB;

export class ChunkedDecoder {
  readonly #maxBodyBytes: number;
  readonly #maxTrailerBytes: number;
  #state = S_SIZE_FIRST;
  #size = 0; // the chunk-size being read
  #digits = 0;
  #lineBytes = 0; // bytes of the current size line, CRLF excluded
  #remaining = 0; // chunk-data bytes still to come
  #announced = 0; // sum of all chunk sizes read so far
  #bodyBytes = 0; // chunk-data bytes handed out so far
  #trailerBytes = 0;
  #trailerFields = 0;
  #error: ChunkedResult | undefined;

  constructor(maxBodyBytes: number, maxTrailerBytes: number) {
    this.#maxBodyBytes = maxBodyBytes;
    this.#maxTrailerBytes = maxTrailerBytes;
  }

  /** Decoded body bytes handed out so far. */
  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  /** True once the whole chunked body, trailer section included, has been read. */
  get done(): boolean {
    return this.#state === S_DONE;
  }

  #fail(error: HttpError): ChunkedResult {
    this.#state = S_ERROR;
    this.#error = { kind: 'error', error };
    return this.#error;
  }

  /**
   * Consume buf[start..end). Data goes to `out` as views. Returns `need-more` (all bytes used),
   * `done` (consumed = bytes through the end of the trailer section; the rest is the next
   * request's) or `error`.
   */
  decode(buf: Uint8Array, start: number, end: number, out: Uint8Array[]): ChunkedResult {
    if (this.#state === S_DONE) return { kind: 'done', consumed: 0 };
    if (this.#error !== undefined) return this.#error;
    if (end > buf.length) end = buf.length;
    let state = this.#state;
    let i = start;
    while (i < end) {
      if (state === S_DATA) {
        // The hot path: one view per call per chunk, however large.
        const rem = this.#remaining;
        const avail = end - i;
        const n = avail < rem ? avail : rem;
        out.push(buf.subarray(i, i + n));
        i += n;
        this.#bodyBytes += n;
        this.#remaining = rem - n;
        if (n === rem) state = S_DATA_CR;
        continue;
      }
      const c = buf[i]!; // i < end <= buf.length
      i++;
      if (state <= S_LINE_LAST && c !== CR && ++this.#lineBytes > MAX_CHUNK_LINE_BYTES) {
        return this.#fail(ERR.chunkLineTooLong); // RFC 9112 §7.1.1
      }
      switch (state) {
        case S_SIZE_FIRST: {
          // RFC 9112 §7.1: chunk-size = 1*HEXDIG; no sign, no "0x", no leading whitespace.
          const v = HEX_VALUE[c]!;
          if (v === 0xff) return this.#fail(ERR.chunkSizeInvalid);
          this.#size = v;
          this.#digits = 1;
          state = S_SIZE;
          break;
        }
        case S_SIZE: {
          const v = HEX_VALUE[c]!;
          if (v !== 0xff) {
            this.#size = this.#size * 16 + v;
            if (++this.#digits > MAX_SIZE_DIGITS || this.#size > Number.MAX_SAFE_INTEGER) {
              return this.#fail(ERR.chunkSizeOverflow);
            }
            break;
          }
          // RFC 9110 §15.5.14: refuse as soon as the announced total passes the limit.
          if (this.#announced + this.#size > this.#maxBodyBytes) {
            return this.#fail(bodyTooLarge(this.#maxBodyBytes));
          }
          this.#announced += this.#size;
          if (c === CR) state = S_SIZE_LF;
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (isOws(c))
            state = S_EXT_WS; // BWS before ";" (RFC 9112 §7.1.1)
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.chunkSizeInvalid);
          break;
        }
        case S_SIZE_LF:
          if (c !== LF) return this.#fail(ERR.chunkBareCarriageReturn); // RFC 9112 §2.2
          if (this.#size === 0) {
            state = S_TRAILER_START; // last-chunk (RFC 9112 §7.1)
          } else {
            this.#remaining = this.#size;
            state = S_DATA;
          }
          break;

        // ---- chunk-ext (RFC 9112 §7.1.1), validated and discarded ----
        case S_EXT_WS:
          if (c === SEMI) state = S_EXT_NAME_START;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_NAME_START:
          if (TCHAR[c] === 1) state = S_EXT_NAME;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_NAME:
          if (TCHAR[c] === 1) break;
          if (c === CR) state = S_SIZE_LF;
          else if (c === EQUALS) state = S_EXT_VALUE_START;
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (isOws(c)) state = S_EXT_AFTER_NAME;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_AFTER_NAME:
          if (c === EQUALS) state = S_EXT_VALUE_START;
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_VALUE_START:
          if (TCHAR[c] === 1) state = S_EXT_TOKEN;
          else if (c === DQUOTE) state = S_EXT_QUOTED;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_TOKEN:
          if (TCHAR[c] === 1) break;
          if (c === CR) state = S_SIZE_LF;
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (isOws(c)) state = S_EXT_WS;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_QUOTED:
          // RFC 9110 §5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
          if (c === DQUOTE) state = S_EXT_AFTER_QUOTED;
          else if (c === BACKSLASH) state = S_EXT_QUOTED_PAIR;
          else if (QDTEXT[c] !== 1) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_QUOTED_PAIR:
          if (QUOTED_PAIR_CHAR[c] !== 1) return this.#fail(ERR.chunkExtensionInvalid);
          state = S_EXT_QUOTED;
          break;
        case S_EXT_AFTER_QUOTED:
          if (c === CR) state = S_SIZE_LF;
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (isOws(c)) state = S_EXT_WS;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.chunkExtensionInvalid);
          break;

        // ---- end of chunk-data: exactly CRLF (RFC 9112 §7.1) ----
        case S_DATA_CR:
          if (c !== CR) return this.#fail(ERR.chunkNotTerminated);
          state = S_DATA_LF;
          break;
        case S_DATA_LF:
          if (c !== LF) return this.#fail(ERR.chunkNotTerminated);
          this.#lineBytes = 0;
          state = S_SIZE_FIRST;
          break;

        // ---- trailer-section (RFC 9112 §7.1.2): field lines, validated like the head's ----
        case S_TRAILER_START:
          if (c === CR) {
            state = S_FINAL_LF;
            break;
          }
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(trailerTooLarge(this.#maxTrailerBytes));
          if (TCHAR[c] === 1) state = S_TRAILER_NAME;
          else if (isOws(c)) {
            // RFC 9112 §5.2: obs-fold continues the previous field; with none, it is invalid
            // (RFC 9112 §2.2, as for the first line of a head).
            if (this.#trailerFields === 0) return this.#fail(ERR.whitespaceBeforeFirstField);
            state = S_TRAILER_VALUE;
          } else if (c === COLON) return this.#fail(ERR.fieldNameEmpty);
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.fieldNameInvalid);
          break;
        case S_TRAILER_NAME:
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(trailerTooLarge(this.#maxTrailerBytes));
          if (TCHAR[c] === 1) break;
          if (c === COLON) state = S_TRAILER_VALUE;
          else if (isOws(c)) state = S_TRAILER_NAME_WS;
          else if (c === CR) return this.#fail(ERR.fieldNoColon);
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.fieldNameInvalid);
          break;
        case S_TRAILER_NAME_WS:
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(trailerTooLarge(this.#maxTrailerBytes));
          if (isOws(c)) break;
          // RFC 9112 §5.1: no whitespace between field name and colon.
          if (c === COLON) return this.#fail(ERR.whitespaceBeforeColon);
          if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          return this.#fail(ERR.fieldNameInvalid);
        case S_TRAILER_VALUE:
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(trailerTooLarge(this.#maxTrailerBytes));
          if (c === CR) state = S_TRAILER_LF;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          // RFC 9110 §5.5: no CTL but HTAB in a field value.
          else if (FIELD_VALUE_CHAR[c] !== 1) return this.#fail(ERR.fieldValueInvalid);
          break;
        case S_TRAILER_LF:
          if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(trailerTooLarge(this.#maxTrailerBytes));
          if (c !== LF) return this.#fail(ERR.chunkBareCarriageReturn);
          this.#trailerFields++;
          state = S_TRAILER_START;
          break;
        case S_FINAL_LF:
          if (c !== LF) return this.#fail(ERR.chunkBareCarriageReturn);
          this.#state = S_DONE;
          return { kind: 'done', consumed: i - start };
      }
    }
    this.#state = state;
    return { kind: 'need-more', consumed: end - start };
  }
}
