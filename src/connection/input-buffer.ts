// src/connection/input-buffer.ts: the bytes a connection has received and not yet parsed.
//
// Appending must be amortised O(1): a client may send its head or body in tiny pieces, and
// re-concatenating everything unparsed on each arrival would be quadratic (a 200 KiB head in
// 3-byte packets took ~0.9 s that way). When nothing is pending, an arriving chunk is used as it
// is (no copy: the common case); otherwise bytes go into an owned buffer that doubles as needed.
// Views handed out (body slices) are never overwritten: we only ever write past `end`, and a
// grown buffer is a new allocation.
//
//   [ consumed | pending                ][ spare (owned buffers only) ]
//   0          ^ start                   ^ end                        ^ capacity

const EMPTY = Buffer.alloc(0);
const MIN_OWNED_BYTES = 16 * 1024;

export class InputBuffer {
  #buf: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  #owned = false;

  /** Bytes received and not consumed yet. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /** Where the pending bytes begin in `bytes`. */
  get start(): number {
    return this.#start;
  }

  /** The buffer holding the pending bytes; it ends where they end. */
  get bytes(): Buffer {
    return this.#owned && this.#end !== this.#buf.length ? this.#buf.subarray(0, this.#end) : this.#buf;
  }

  append(chunk: Buffer): void {
    if (this.#start >= this.#end) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.#end + chunk.length <= this.#buf.length) {
      chunk.copy(this.#buf, this.#end);
      this.#end += chunk.length;
      return;
    }
    const pending = this.#end - this.#start;
    const next = Buffer.allocUnsafe(Math.max(2 * (pending + chunk.length), MIN_OWNED_BYTES));
    this.#buf.copy(next, 0, this.#start, this.#end);
    chunk.copy(next, pending);
    this.#buf = next;
    this.#start = 0;
    this.#end = pending + chunk.length;
    this.#owned = true;
  }

  /** Mark `n` pending bytes as used. */
  consume(n: number): void {
    this.#start += n;
    if (this.#start >= this.#end) this.clear();
  }

  clear(): void {
    this.#buf = EMPTY;
    this.#start = 0;
    this.#end = 0;
    this.#owned = false;
  }
}
