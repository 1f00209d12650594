// OutputBuffer on its own, over an in-memory socket: what is written in one turn leaves in one
// write at its end, a slow client's excess waits on disk and is sent in order, and the host hears
// when output drained and when a spill it waited for is sent.
import { describe, expect, it } from 'vitest';
import { OutputBuffer, type OutputHost } from '../../src/connection/output-buffer.js';
import { FakeSocket } from '../helpers/fake-socket.js';
import { until } from '../helpers/wait.js';

const OVERFLOW = 1024;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

class Host implements OutputHost {
  lastActivity = 0;
  released = false;
  readonly heard: string[] = [];
  outputDrained(): void {
    this.heard.push('drained');
  }
  spillSent(): void {
    this.heard.push('spill sent');
  }
  fail(error: unknown): void {
    this.heard.push(`failed: ${String(error)}`);
  }
}

function setup(): { socket: FakeSocket; host: Host; output: OutputBuffer } {
  const socket = new FakeSocket();
  const host = new Host();
  return { socket, host, output: new OutputBuffer(socket.asSocket(), host, OVERFLOW) };
}

/** Make the socket look full past outbuf_overflow, so what is flushed next spills to disk. */
function backUp(socket: FakeSocket): void {
  socket.writableLength = OVERFLOW + 1;
  socket.writableNeedDrain = true;
}

/** The socket sent what it held and says so. */
function drain(socket: FakeSocket): void {
  socket.writableLength = 0;
  socket.writableNeedDrain = false;
  socket.emit('drain');
}

describe('OutputBuffer', () => {
  it('sends what one turn wrote in one socket write, at the end of the turn', async () => {
    const { socket, host, output } = setup();
    output.writeLatin1('HTTP/1.1 200 OK\r\n\r\n');
    output.writeLatin1('one');
    output.writeLatin1('two');
    expect(socket.written).toEqual([]);
    await null;
    expect(socket.written.map(String)).toEqual(['HTTP/1.1 200 OK\r\n\r\nonetwo']);
    expect(host.lastActivity).toBeGreaterThan(0);
  });

  it('keeps text and bytes in the order written', async () => {
    const { socket, output } = setup();
    output.writeLatin1('a');
    output.writeBytes(Buffer.from('b'));
    output.writeBytes(new Uint8Array(0));
    output.writeLatin1('c');
    await null;
    expect(socket.output()).toBe('abc');
  });

  it('writes at once, not at the end of the turn, once 64 KiB wait', () => {
    const { socket, output } = setup();
    output.writeLatin1('x'.repeat(64 * 1024 - 1));
    expect(socket.written).toEqual([]);
    output.writeLatin1('y');
    expect(socket.output()).toHaveLength(64 * 1024);
  });

  it('flush() writes what is queued now', () => {
    const { socket, output } = setup();
    output.writeBytes(Buffer.from('chunk'));
    output.flush();
    expect(socket.output()).toBe('chunk');
  });

  it('past outbuf_overflow, keeps what follows on disk and sends it in order as the socket drains; then output is drained', async () => {
    const { socket, host, output } = setup();
    backUp(socket);
    output.writeLatin1('first ');
    output.writeBytes(Buffer.from('second'));
    output.flush();
    expect(socket.written).toEqual([]);
    expect(output.backedUp).toBe(true);
    expect(output.bufferedBytes).toBe(OVERFLOW + 1 + 'first second'.length);
    output.writeLatin1(' third');
    output.flush();
    drain(socket);
    expect(await until(() => host.heard.length > 0)).toBe(true);
    expect(socket.output()).toBe('first second third');
    expect(host.heard).toEqual(['drained']);
    expect(output.backedUp).toBe(false);
  });

  it('ends after a spill only once it is sent (endWhenSpillSent), and says nothing is spilled when nothing is', async () => {
    const { socket, host, output } = setup();
    expect(output.endWhenSpillSent()).toBe(false);
    backUp(socket);
    output.writeLatin1('last words');
    output.flush();
    expect(output.endWhenSpillSent()).toBe(true);
    await turn();
    expect(host.heard).toEqual([]);
    drain(socket);
    expect(await until(() => host.heard.length > 0)).toBe(true);
    expect(host.heard).toEqual(['spill sent']);
    expect(socket.output()).toBe('last words');
  });

  it('drained() resolves at once when nothing waits, after the drain when the socket is full, and on close', async () => {
    const { socket, host, output } = setup();
    await output.drained();
    socket.writableNeedDrain = true;
    let resolved = 0;
    void output.drained().then(() => resolved++);
    await turn();
    expect(resolved).toBe(0);
    drain(socket);
    await turn();
    expect(resolved).toBe(1);
    expect(host.heard).toEqual(['drained']);
    socket.writableNeedDrain = true;
    void output.drained().then(() => resolved++);
    output.close();
    await turn();
    expect(resolved).toBe(2);
  });

  it('writes nothing to a destroyed socket', async () => {
    const { socket, output } = setup();
    output.writeLatin1('lost');
    socket.destroy();
    await null;
    expect(socket.written).toEqual([]);
  });
});
