// src/connection/output-buffer.ts: the write side of one connection's socket.
//
// Everything written while handling one batch of input (several pipelined responses, or a 100
// Continue and a response) is collected and leaves in one socket write at the end of the current
// turn (`queueMicrotask`), so a pipelined burst costs one syscall, not one each. A slow client
// that lets more than outbuf_overflow wait in the socket gets the rest from a temp file
// (src/connection/output-spill.ts), sent in order as the socket takes it.
//
// It tells its host (the channel) when output has drained and when the socket may end after a
// spill; it decides nothing about the connection's life.

import type { Socket } from 'node:net';
import { OutputSpill } from './output-spill.js';

/** Pending output that is written at once rather than at the end of the turn. */
const OUTPUT_FLUSH_BYTES = 64 * 1024;

/** What an OutputBuffer needs of its connection, and what it reports to it. */
export interface OutputHost {
  /** Date.now() at the last byte in or out: set here when bytes leave or the socket drains. */
  lastActivity: number;
  /** The connection is gone: nothing more is written, and nobody waits for a drain. */
  readonly released: boolean;
  /** Everything written, spilled output included, is with the socket and the socket drained. */
  outputDrained(): void;
  /** The spill that endWhenSpillSent() waited for is sent: the socket may end now. */
  spillSent(): void;
  /** The spill failed (its temp file, or a defect of ours): the connection must go. */
  fail(error: unknown): void;
}

export class OutputBuffer {
  readonly #socket: Socket;
  readonly #host: OutputHost;
  /** outbuf_overflow: bytes waiting in the socket beyond which what follows waits on disk. */
  readonly #overflowBytes: number;
  /** Latin1 text written since the last part (the common case is all text, one write). */
  #text = '';
  #parts: (string | Uint8Array)[] = [];
  #bytes = 0;
  #flushQueued = false;
  readonly #flushAtEndOfTurn = (): void => this.flush();
  readonly #onDrainListener = (): void => this.#onDrain();
  #drainWaiters: (() => void)[] = [];
  /** Output waiting for a slow client beyond outbuf_overflow, on disk; see #pumpSpill. */
  #spill: OutputSpill | undefined;
  /** Resumes #pumpSpill when the socket drains. */
  #spillWaiting: (() => void) | undefined;
  /** endWhenSpillSent() came while output was spilled: tell the host once the spill is sent. */
  #endAfterSpill = false;

  constructor(socket: Socket, host: OutputHost, overflowBytes: number) {
    this.#socket = socket;
    this.#host = host;
    this.#overflowBytes = overflowBytes;
    socket.on('drain', this.#onDrainListener);
  }

  /** The socket is someone else's now (a WebSocket): stop watching its drains. Flush first. */
  detach(): void {
    this.#socket.off('drain', this.#onDrainListener);
  }

  /** Queue a latin1 string (a head, or a body known to be ASCII). */
  writeLatin1(text: string): void {
    this.#text += text;
    this.#bytes += text.length;
    this.#queueFlush();
  }

  writeBytes(bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    if (this.#text !== '') {
      this.#parts.push(this.#text);
      this.#text = '';
    }
    this.#parts.push(bytes);
    this.#bytes += bytes.byteLength;
    this.#queueFlush();
  }

  /** True when the socket's buffer is over its high-water mark, or output waits on disk. */
  get backedUp(): boolean {
    return this.#socket.writableNeedDrain || this.#spill !== undefined;
  }

  /** Response bytes written and not yet sent (in memory or spilled). */
  get bufferedBytes(): number {
    return this.#socket.writableLength + this.#bytes + (this.#spill?.pending ?? 0);
  }

  /** Resolve once the socket has drained, spilled output included (or the connection is gone). */
  drained(): Promise<void> {
    if (!this.backedUp || this.#host.released) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /**
   * When output is spilled, remember to tell the host (spillSent) once it is all sent, and say
   * true: the socket must not end before. False: nothing is spilled, the socket may end now.
   */
  endWhenSpillSent(): boolean {
    if (this.#spill === undefined) return false;
    this.#endAfterSpill = true;
    return true;
  }

  /** The connection is released: drop the spill, and let whoever waits for a drain go on. */
  close(): void {
    this.#spill?.discard();
    this.#spill = undefined;
    this.#spillWaiting?.();
    this.#releaseDrainWaiters();
  }

  /** Write what is queued now (streamed bodies, a closing connection) rather than at the end of the turn. */
  flush(): void {
    this.#flushQueued = false;
    const socket = this.#socket;
    if (this.#bytes === 0 || socket.destroyed) {
      // The end-of-turn flush after a streamed chunk already went out finds nothing: no new array.
      this.#text = '';
      if (this.#parts.length > 0) this.#parts = [];
      this.#bytes = 0;
      return;
    }
    this.#host.lastActivity = Date.now();
    const parts = this.#parts;
    const spilling = this.#spill !== undefined || socket.writableLength > this.#overflowBytes;
    if (parts.length === 0 && !spilling) {
      // The common case: one latin1 string (heads, ASCII bodies, a pipelined burst) in one write.
      socket.write(this.#text, 'latin1');
      this.#text = '';
      this.#bytes = 0;
      return;
    }
    if (this.#text !== '') parts.push(this.#text);
    if (this.#spill === undefined && spilling) {
      // The client is slow and this much already waits in memory: what follows waits on disk.
      this.#spill = new OutputSpill();
      void this.#pumpSpill(this.#spill);
    }
    const spill = this.#spill;
    if (spill !== undefined) {
      for (const part of parts) spill.append(part);
    } else if (parts.length === 1) {
      writePart(socket, parts[0]!);
    } else {
      socket.cork();
      for (const part of parts) writePart(socket, part);
      socket.uncork();
    }
    this.#parts = [];
    this.#text = '';
    this.#bytes = 0;
  }

  #queueFlush(): void {
    if (this.#bytes >= OUTPUT_FLUSH_BYTES) {
      this.flush();
      return;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flushAtEndOfTurn);
    }
  }

  #onDrain(): void {
    this.#host.lastActivity = Date.now();
    if (this.#spill !== undefined) {
      // The socket took what it had; the spill goes next, and only then is output drained.
      const resume = this.#spillWaiting;
      this.#spillWaiting = undefined;
      resume?.();
      return;
    }
    this.#releaseDrainWaiters();
    this.#host.outputDrained();
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resume of waiters) resume();
  }

  /** Send spilled output as the socket takes it; when none is left, write directly again. */
  async #pumpSpill(spill: OutputSpill): Promise<void> {
    const socket = this.#socket;
    const host = this.#host;
    try {
      for (;;) {
        if (socket.writableNeedDrain) await new Promise<void>((resume) => (this.#spillWaiting = resume));
        if (host.released) return;
        const chunk = await spill.next();
        if (host.released) return;
        if (chunk === null) break;
        socket.write(chunk);
      }
    } catch (error) {
      host.fail(error);
      return;
    }
    this.#spill = undefined;
    spill.discard();
    if (this.#endAfterSpill) {
      host.spillSent();
      return;
    }
    this.#onDrain();
  }
}

function writePart(socket: Socket, part: string | Uint8Array): void {
  if (typeof part === 'string') socket.write(part, 'latin1');
  else socket.write(part);
}
