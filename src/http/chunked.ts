// src/http/chunked.ts: the chunked transfer coding (RFC 9112 §7.1) → body bytes.
// Rules: (1) one decoder per request body; it keeps its state between decode() calls, so input may
//        be split at any byte (inside a CRLF, a size, an extension, a trailer field);
//        (2) chunk data is handed out as subarray views of the caller's buffer, never copied; the
//        caller must not reuse that buffer until it is done with the views;
//        (3) framing lines (size line, extensions, trailer section) are read one byte at a time
//        through a small state machine: they are short, and a byte machine is what makes rule (1)
//        hold without buffering partial lines. Each part of the coding has its reading method
//        (#sizeLine, #extensions, #chunkData, #chunkEnd, #trailerSection); the state says which
//        part, and where in it, the input stopped;
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
import { CR, FIELD_VALUE_CHAR, HEX_VALUE, LF, QDTEXT, QUOTED_PAIR_CHAR, TCHAR, isOws } from './grammar.js';
import type { ChunkedResult, HttpError } from './types.js';

/** RFC 9112 §7.1.1: a server ought to limit extension length; this bounds a whole size line. */
export const MAX_CHUNK_LINE_BYTES = 4096;
/** 15 hex digits already exceed Number.MAX_SAFE_INTEGER (2^53 - 1); more is never a real size. */
const MAX_SIZE_DIGITS = 15;

// States, by the method that reads in them (decode() dispatches on ranges of them).
// #sizeLine: chunk-size and the CRLF that ends its line.
const S_SIZE_FIRST = 0; // expecting the first HEXDIG of a chunk-size
const S_SIZE = 1; // inside chunk-size
const S_SIZE_LF = 2; // CR of the size line seen, LF must follow
// #extensions: chunk-ext, up to the CR of its line.
const S_EXT_WS = 3; // BWS that must be followed by ";"
const S_EXT_NAME_START = 4; // after ";": BWS, then the first tchar of a name
const S_EXT_NAME = 5;
const S_EXT_AFTER_NAME = 6; // BWS after a name: "=" or ";" must follow
const S_EXT_VALUE_START = 7; // after "=": BWS, then token or quoted-string
const S_EXT_TOKEN = 8;
const S_EXT_QUOTED = 9;
const S_EXT_QUOTED_PAIR = 10; // after a backslash inside a quoted-string
const S_EXT_AFTER_QUOTED = 11; // after the closing DQUOTE
// #chunkData
const S_DATA = 12;
// #chunkEnd: the CRLF after chunk-data.
const S_DATA_CR = 13; // chunk data done, CR must follow
const S_DATA_LF = 14;
// #trailerSection: the trailer field lines and the final CRLF.
const S_TRAILER_START = 15; // start of a trailer field line, or of the final empty line
const S_TRAILER_NAME = 16;
const S_TRAILER_NAME_WS = 17; // whitespace after (part of) a name: only an error remains to name
const S_TRAILER_VALUE = 18; // value of a field line, or an obs-fold continuation
const S_TRAILER_LF = 19;
const S_FINAL_LF = 20; // CR of the final empty line seen
const S_DONE = 21;
const S_ERROR = 22;

/** What a reading method returns instead of an index once it has recorded an error. */
const FAILED = -1;

const SEMI = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

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

  /**
   * Consume buf[start..end). Data goes to `out` as views. Returns `need-more` (all bytes used),
   * `done` (consumed = bytes through the end of the trailer section; the rest is the next
   * request's) or `error`.
   *
   * Each part of the coding has a reading method that takes bytes from buf[i] while they are its
   * own and returns the index after them: where the next part starts, or `end` when the input ran
   * out first (its state then says where to go on), or FAILED.
   */
  decode(buf: Uint8Array, start: number, end: number, out: Uint8Array[]): ChunkedResult {
    if (this.#state === S_DONE) return { kind: 'done', consumed: 0 };
    if (this.#error !== undefined) return this.#error;
    if (end > buf.length) end = buf.length;
    let i = start;
    while (i < end) {
      const state = this.#state;
      if (state === S_DATA) i = this.#chunkData(buf, i, end, out);
      else if (state <= S_SIZE_LF) i = this.#sizeLine(buf, i, end);
      else if (state <= S_EXT_AFTER_QUOTED) i = this.#extensions(buf, i, end);
      else if (state <= S_DATA_LF) i = this.#chunkEnd(buf, i, end);
      else {
        i = this.#trailerSection(buf, i, end);
        if (this.#state === S_DONE) return { kind: 'done', consumed: i - start };
      }
      if (i === FAILED) return this.#error!;
    }
    return { kind: 'need-more', consumed: end - start };
  }

  #fail(error: HttpError): number {
    this.#state = S_ERROR;
    this.#error = { kind: 'error', error };
    return FAILED;
  }

  /** RFC 9112 §7.1.1: a server ought to limit extension length; this bounds a whole size line. */
  #countLineByte(): boolean {
    return ++this.#lineBytes > MAX_CHUNK_LINE_BYTES;
  }

  /**
   * RFC 9112 §7.1: chunk-size = 1*HEXDIG, then chunk-ext (read by #extensions) or the CRLF that
   * ends the line; after it, chunk-data, or the trailer section after the last-chunk.
   */
  #sizeLine(buf: Uint8Array, i: number, end: number): number {
    let state = this.#state;
    while (i < end) {
      const c = buf[i++]!;
      if (state !== S_SIZE_LF && c !== CR && this.#countLineByte()) return this.#fail(ERR.chunkLineTooLong);
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
          if (c === CR) {
            state = S_SIZE_LF;
            break;
          }
          if (c === SEMI) this.#state = S_EXT_NAME_START;
          else if (isOws(c))
            this.#state = S_EXT_WS; // BWS before ";" (RFC 9112 §7.1.1)
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.chunkSizeInvalid);
          return i;
        }
        case S_SIZE_LF:
          if (c !== LF) return this.#fail(ERR.chunkBareCarriageReturn); // RFC 9112 §2.2
          if (this.#size === 0) {
            this.#state = S_TRAILER_START; // last-chunk (RFC 9112 §7.1)
          } else {
            this.#remaining = this.#size;
            this.#state = S_DATA;
          }
          return i;
      }
    }
    this.#state = state;
    return i;
  }

  /**
   * RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ),
   * validated and discarded, up to the CR that ends the size line (its LF is #sizeLine's).
   */
  #extensions(buf: Uint8Array, i: number, end: number): number {
    let state = this.#state;
    while (i < end) {
      const c = buf[i++]!;
      if (c !== CR && this.#countLineByte()) return this.#fail(ERR.chunkLineTooLong);
      // RFC 9112 §2.2: a LF without its CR is a bare LF (inside a quoted-string, an invalid octet).
      if (c === LF && state !== S_EXT_QUOTED && state !== S_EXT_QUOTED_PAIR) return this.#fail(ERR.chunkBareLineFeed);
      switch (state) {
        case S_EXT_WS:
          if (c === SEMI) state = S_EXT_NAME_START;
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_NAME_START:
          if (TCHAR[c] === 1) state = S_EXT_NAME;
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_NAME:
          if (TCHAR[c] === 1) break;
          if (c === CR) return this.#sizeLineEnds(i);
          else if (c === EQUALS) state = S_EXT_VALUE_START;
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (isOws(c)) state = S_EXT_AFTER_NAME;
          else return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_AFTER_NAME:
          if (c === EQUALS) state = S_EXT_VALUE_START;
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_VALUE_START:
          if (TCHAR[c] === 1) state = S_EXT_TOKEN;
          else if (c === DQUOTE) state = S_EXT_QUOTED;
          else if (!isOws(c)) return this.#fail(ERR.chunkExtensionInvalid);
          break;
        case S_EXT_TOKEN:
          if (TCHAR[c] === 1) break;
          if (c === CR) return this.#sizeLineEnds(i);
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (isOws(c)) state = S_EXT_WS;
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
          if (c === CR) return this.#sizeLineEnds(i);
          else if (c === SEMI) state = S_EXT_NAME_START;
          else if (isOws(c)) state = S_EXT_WS;
          else return this.#fail(ERR.chunkExtensionInvalid);
          break;
      }
    }
    this.#state = state;
    return i;
  }

  /** The CR that ends a size line was read at buf[i - 1]: its LF is #sizeLine's to check. */
  #sizeLineEnds(i: number): number {
    this.#state = S_SIZE_LF;
    return i;
  }

  /** RFC 9112 §7.1: chunk-data, handed out as one view per call however large the chunk. */
  #chunkData(buf: Uint8Array, i: number, end: number, out: Uint8Array[]): number {
    const rem = this.#remaining;
    const avail = end - i;
    const n = avail < rem ? avail : rem;
    out.push(buf.subarray(i, i + n));
    this.#bodyBytes += n;
    this.#remaining = rem - n;
    if (n === rem) this.#state = S_DATA_CR;
    return i + n;
  }

  /** RFC 9112 §7.1: chunk-data is followed by exactly CRLF; then the next size line. */
  #chunkEnd(buf: Uint8Array, i: number, end: number): number {
    if (this.#state === S_DATA_CR) {
      if (buf[i++] !== CR) return this.#fail(ERR.chunkNotTerminated);
      this.#state = S_DATA_LF;
      if (i === end) return i;
    }
    if (buf[i++] !== LF) return this.#fail(ERR.chunkNotTerminated);
    this.#lineBytes = 0;
    this.#state = S_SIZE_FIRST;
    return i;
  }

  /**
   * RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then the CRLF that ends the body;
   * field lines validated like the head's, then discarded.
   */
  #trailerSection(buf: Uint8Array, i: number, end: number): number {
    let state = this.#state;
    while (i < end) {
      const c = buf[i++]!;
      if (state === S_FINAL_LF) {
        if (c !== LF) return this.#fail(ERR.chunkBareCarriageReturn);
        this.#state = S_DONE;
        return i;
      }
      if (state === S_TRAILER_START && c === CR) {
        state = S_FINAL_LF;
        continue;
      }
      if (++this.#trailerBytes > this.#maxTrailerBytes) return this.#fail(trailerTooLarge(this.#maxTrailerBytes));
      switch (state) {
        case S_TRAILER_START:
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
          if (TCHAR[c] === 1) break;
          if (c === COLON) state = S_TRAILER_VALUE;
          else if (isOws(c)) state = S_TRAILER_NAME_WS;
          else if (c === CR) return this.#fail(ERR.fieldNoColon);
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          else return this.#fail(ERR.fieldNameInvalid);
          break;
        case S_TRAILER_NAME_WS:
          if (isOws(c)) break;
          // RFC 9112 §5.1: no whitespace between field name and colon.
          if (c === COLON) return this.#fail(ERR.whitespaceBeforeColon);
          if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          return this.#fail(ERR.fieldNameInvalid);
        case S_TRAILER_VALUE:
          if (c === CR) state = S_TRAILER_LF;
          else if (c === LF) return this.#fail(ERR.chunkBareLineFeed);
          // RFC 9110 §5.5: no CTL but HTAB in a field value.
          else if (FIELD_VALUE_CHAR[c] !== 1) return this.#fail(ERR.fieldValueInvalid);
          break;
        case S_TRAILER_LF:
          if (c !== LF) return this.#fail(ERR.chunkBareCarriageReturn);
          this.#trailerFields++;
          state = S_TRAILER_START;
          break;
      }
    }
    this.#state = state;
    return i;
  }
}
