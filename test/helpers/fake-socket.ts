// test/helpers/fake-socket.ts: an in-memory stand-in for a net.Socket, so a channel can be fed
// bytes split exactly where a test wants (TCP would coalesce them).
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

export class FakeSocket extends EventEmitter {
  readonly written: Buffer[] = [];
  destroyed = false;
  writableNeedDrain = false;
  /** Bytes the socket holds unsent; a test sets it to play a slow client. */
  writableLength = 0;
  ended = false;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 8080;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 50000;
  #closeEmitted = false;

  asSocket(): Socket {
    return this as unknown as Socket;
  }

  feed(bytes: string): void {
    this.emit('data', Buffer.from(bytes, 'latin1'));
  }

  write(data: string | Uint8Array, encoding?: BufferEncoding): boolean {
    if (this.destroyed || this.ended) throw new Error('write after end');
    this.written.push(typeof data === 'string' ? Buffer.from(data, encoding ?? 'utf8') : Buffer.from(data));
    return true;
  }

  output(): string {
    return Buffer.concat(this.written).toString('latin1');
  }

  cork(): void {}
  uncork(): void {}
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }

  end(): this {
    this.ended = true;
    this.#emitClose();
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.#emitClose();
    return this;
  }

  #emitClose(): void {
    if (this.#closeEmitted) return;
    this.#closeEmitted = true;
    setImmediate(() => this.emit('close'));
  }
}
