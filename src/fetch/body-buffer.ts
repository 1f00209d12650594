// src/fetch/body-buffer.ts: a request body while it arrives: in memory up to inbuf_overflow, then in a
// temp file (Waitress's OverflowableBuffer), so a 1 GiB upload does not take 1 GiB of memory.
//
// The scanners append body bytes to `parts` (views into received chunks, never copied); settle()
// counts them and, past the limit, moves them to the file. Writes are chained in order; while
// more than SPOOL_BACKLOG_BYTES wait to be written, `backlogged` asks the channel to stop reading
// the socket. A spooled body reaches the app (inline or in a worker) as its path, read back as a
// stream that opens the file on its first read, so a body the app never reads holds no file
// descriptor; the file lives in a directory of its own and is removed when the request ends, on
// every path (`discard`, `removeSpooled`). A reader still open then (a clone the app never read
// holds one: tee() reads ahead for it) is closed with it, in each thread (`endSpooledReaders`),
// rather than left to garbage collection, which closes a FileHandle with a warning.

import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A body kept on disk: only these two fields cross to a worker thread. */
export interface SpooledBody {
  readonly path: string;
  readonly size: number;
}

export type RequestBody = Uint8Array | SpooledBody | null;

const SPOOL_BACKLOG_BYTES = 4 * 1024 * 1024;
/** What one read of a spooled body takes from its file (fs.createReadStream's default). */
const SPOOL_READ_BYTES = 64 * 1024;

export function isSpooled(body: RequestBody): body is SpooledBody {
  return body !== null && !(body instanceof Uint8Array);
}

/** Remove a spooled body's file and its directory, closing its readers in this thread; a no-op for bodies in memory. */
export function removeSpooled(body: RequestBody): void {
  if (!isSpooled(body)) return;
  endSpooledReaders(body);
  void rm(join(body.path, '..'), { recursive: true, force: true });
}

/** The readers of each spooled body that have begun to read it in this thread, by its path. */
const readersByPath = new Map<string, Set<() => void>>();
/** What a read of a spooled body fails with once its request is over. */
const BODY_GONE = 'the request is over: its spooled body was removed';

/**
 * The request is over: close every reader of its spooled body in this thread. One reads no more
 * (it fails, as the body is gone); one that had not begun never opens the file.
 */
export function endSpooledReaders(body: RequestBody): void {
  if (!isSpooled(body)) return;
  const readers = readersByPath.get(body.path);
  if (readers === undefined) return;
  readersByPath.delete(body.path);
  for (const end of readers) end();
}

/**
 * A spooled body as a stream. The file is opened on the first read and closed at its end, on an
 * error or a cancel, or when the request ends: a Request built over it (for its signal, say) and
 * never read opens nothing.
 */
export function readSpooled(body: SpooledBody): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined;
  let ended = false;
  const close = async (): Promise<void> => {
    const readers = readersByPath.get(body.path);
    if (readers?.delete(end) === true && readers.size === 0) readersByPath.delete(body.path);
    const opened = handle;
    handle = undefined;
    await opened?.close();
  };
  const end = (): void => {
    ended = true;
    void close().catch(() => {});
  };
  const openFile = async (): Promise<FileHandle> => {
    if (ended) throw new Error(BODY_GONE);
    let readers = readersByPath.get(body.path);
    if (readers === undefined) readersByPath.set(body.path, (readers = new Set()));
    readers.add(end);
    const opened = await open(body.path, 'r');
    if (ended) {
      await opened.close();
      throw new Error(BODY_GONE);
    }
    // Kept in the same step as the check, so that end() either finds it or came before.
    handle = opened;
    return opened;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const file = handle ?? (await openFile());
          const buffer = new Uint8Array(SPOOL_READ_BYTES);
          const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
          if (bytesRead === 0) {
            await close();
            controller.close();
          } else {
            controller.enqueue(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
          }
        } catch (error) {
          await close().catch(() => {});
          throw error;
        }
      },
      cancel: close,
    },
    // Nothing is read ahead of the reader: with the default of 1, the file would open at once.
    { highWaterMark: 0 },
  );
}

export class BodyBuffer {
  /** Where scanners append body bytes. */
  readonly parts: Uint8Array[] = [];
  readonly #overflow: number;
  #size = 0;
  #counted = 0;
  #path: string | undefined;
  #file: Promise<FileHandle> | undefined;
  #writes: Promise<unknown> = Promise.resolve();
  #pending = 0;
  #failure: Error | undefined;
  #onDrained: (() => void) | undefined;

  constructor(overflow: number) {
    this.#overflow = overflow;
  }

  /** True while so much waits to be written to disk that the socket should stop being read. */
  get backlogged(): boolean {
    return this.#pending > SPOOL_BACKLOG_BYTES;
  }

  /** Call `resume` once the writes have caught up (at once if they have). */
  whenDrained(resume: () => void): void {
    if (!this.backlogged) resume();
    else this.#onDrained = resume;
  }

  /** Count what scanners appended; past inbuf_overflow, move everything to the temp file. */
  settle(): void {
    const parts = this.parts;
    for (; this.#counted < parts.length; this.#counted++) this.#size += parts[this.#counted]!.byteLength;
    if (this.#file === undefined && this.#size <= this.#overflow) return;
    this.#file ??= this.#createFile();
    for (const part of parts.splice(0)) this.#write(part);
    this.#counted = 0;
  }

  /** The whole body: in memory (synchronously), or once every write is done, the file. */
  finish(): Uint8Array | null | Promise<SpooledBody> {
    this.settle();
    if (this.#file === undefined) {
      const parts = this.parts;
      if (parts.length === 0) return null;
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    }
    const file = this.#file;
    return this.#writes.then(async () => {
      if (this.#failure !== undefined) throw this.#failure;
      await (await file).close();
      return { path: this.#path!, size: this.#size };
    });
  }

  /** The request will not run: remove the temp file, if any. */
  discard(): void {
    const file = this.#file;
    if (file === undefined) return;
    this.#file = undefined;
    void this.#writes.finally(async () => {
      await (await file.catch(() => undefined))?.close().catch(() => {});
      if (this.#path !== undefined) await rm(join(this.#path, '..'), { recursive: true, force: true });
    });
  }

  async #createFile(): Promise<FileHandle> {
    const dir = await mkdtemp(join(tmpdir(), 'waitstate-body-'));
    this.#path = join(dir, 'body');
    return open(this.#path, 'wx', 0o600);
  }

  #write(part: Uint8Array): void {
    const file = this.#file!;
    this.#pending += part.byteLength;
    this.#writes = this.#writes.then(async () => {
      if (this.#failure !== undefined) return;
      try {
        const handle = await file;
        let offset = 0;
        while (offset < part.byteLength) offset += (await handle.write(part, offset)).bytesWritten;
      } catch (error) {
        this.#failure = error as Error;
      } finally {
        this.#pending -= part.byteLength;
        if (!this.backlogged && this.#onDrained !== undefined) {
          const resume = this.#onDrained;
          this.#onDrained = undefined;
          resume();
        }
      }
    });
  }
}
