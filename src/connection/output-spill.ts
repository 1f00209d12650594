// src/connection/output-spill.ts: response bytes a slow client has not taken, beyond outbuf_overflow, kept
// in a temp file instead of memory (Waitress's outbuf overflow to a TemporaryFile).
//
// Appends are written in order at the end of the file; next() reads them back from the start in
// 64 KiB pieces, once they are on disk. A fast client never causes a spill: only what waits
// beyond the limit does (Waitress spills every large response, at a 2.3x cost). The file lives
// in a directory of its own, removed by discard().

import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const READ_BYTES = 64 * 1024;

export class OutputSpill {
  #dir: Promise<string>;
  #file: Promise<FileHandle>;
  #writes: Promise<unknown>;
  #written = 0;
  #read = 0;
  #failure: Error | undefined;

  constructor() {
    this.#dir = mkdtemp(join(tmpdir(), 'waitstate-out-'));
    this.#file = this.#dir.then((dir) => open(join(dir, 'out'), 'w+', 0o600));
    this.#writes = this.#file;
    // A failure is reported by next(); keep the chain's rejection from going unhandled.
    this.#writes.catch((error: Error) => (this.#failure = error));
  }

  /** Bytes appended and not yet read back. */
  get pending(): number {
    return this.#written - this.#read;
  }

  append(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (bytes.byteLength === 0) return;
    const position = this.#written;
    this.#written += bytes.byteLength;
    this.#writes = this.#writes.then(async () => {
      const file = await this.#file;
      let offset = 0;
      while (offset < bytes.byteLength) {
        offset += (await file.write(bytes, offset, bytes.byteLength - offset, position + offset)).bytesWritten;
      }
    });
    this.#writes.catch((error: Error) => (this.#failure = error));
  }

  /** The next piece to send, once it is on disk; null when everything appended has been read. */
  async next(): Promise<Buffer | null> {
    if (this.pending === 0) return null;
    await this.#writes.catch(() => {});
    if (this.#failure !== undefined) throw this.#failure;
    const file = await this.#file;
    const buffer = Buffer.allocUnsafe(Math.min(READ_BYTES, this.pending));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, this.#read);
    if (bytesRead === 0) throw new Error('the output spill file is shorter than what was written to it');
    this.#read += bytesRead;
    return bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead);
  }

  discard(): void {
    void this.#writes
      .catch(() => {})
      .then(async () => {
        await (await this.#file.catch(() => undefined))?.close().catch(() => {});
        await rm(await this.#dir, { recursive: true, force: true });
      })
      .catch(() => {});
  }
}
