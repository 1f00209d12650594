// test/helpers/raw-client.ts: a deliberately dumb HTTP/1.1 client over a raw socket, so nothing
// normalises the bytes on either side (never fetch/undici for edge cases), plus a server fixture.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { serve, type App, type ServeOptions, type ServerHandle } from '../../src/index.js';

export const quietLogger = { error() {}, warn() {}, info() {} };

/** A logger that remembers what it was told, for asserting on logged errors. */
export function recordingLogger(): {
  lines: string[];
  error: (...a: unknown[]) => void;
  warn: (...a: unknown[]) => void;
  info: (...a: unknown[]) => void;
} {
  const lines: string[] = [];
  const push =
    (level: string) =>
    (...args: unknown[]) =>
      void lines.push(`${level}: ${args.map((a) => (a instanceof Error ? a.message : String(a))).join(' ')}`);
  return { lines, error: push('error'), warn: push('warn'), info: push('info') };
}

export interface TestServer {
  server: ServerHandle;
  port: number;
  close(): Promise<void>;
}

export async function startServer(app: App | string, options: ServeOptions = {}): Promise<TestServer> {
  const server = await serve(app, { listen: ['127.0.0.1:0'], logger: quietLogger, ...options });
  return { server, port: server.addresses[0]!.port, close: () => server.close() };
}

export interface RawResponse {
  version: string;
  status: number;
  reason: string;
  /** Field lines in order, names lower-cased. */
  headers: [string, string][];
  body: Buffer;
  /** The exact bytes of this response (head and body). */
  raw: Buffer;
  header(name: string): string | undefined;
  all(name: string): string[];
}

export class RawClient {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake();
    });
    socket.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('close', () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, allowHalfOpen: true }, () => resolve(new RawClient(socket)));
      socket.setNoDelay(true);
      socket.once('error', reject);
    });
  }

  /** The same client over TLS (HTTPS, with no HTTP library between): `options.ca` to trust the server's certificate. */
  static connectTls(port: number, options: ConnectionOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connectTls({ port, host: '127.0.0.1', servername: 'localhost', ...options }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Uint8Array): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Stop reading from the socket (the kernel buffers fill, then TCP pushes back on the server). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** Half-close: send FIN, keep reading. */
  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  get ended(): boolean {
    return this.#ended;
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async #waitFor<T>(take: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = take();
      if (got !== undefined) return got;
      if (this.#ended)
        throw new Error(`connection closed while waiting for ${what}; unread: ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; unread: ${JSON.stringify(this.#buffer.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Read one response (an interim 1xx included: call again for the final one). `forHead` reads
   * no body, as for a response to HEAD.
   */
  async readResponse(options: { forHead?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const headEnd = await this.#waitFor(
      () => {
        const i = this.#buffer.indexOf('\r\n\r\n');
        return i === -1 ? undefined : i;
      },
      'a response head',
      timeoutMs,
    );
    const headText = this.#buffer.subarray(0, headEnd).toString('latin1');
    const [statusLine, ...lines] = headText.split('\r\n');
    const m = /^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/.exec(statusLine!);
    if (m === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    });
    const status = Number(m[2]);
    const get = (name: string) => headers.find(([n]) => n === name)?.[1];
    let offset = headEnd + 4;
    let body: Buffer;
    const noBody = options.forHead === true || (status >= 100 && status < 200) || status === 204 || status === 304;
    if (noBody) {
      body = Buffer.alloc(0);
    } else if (get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = await this.#waitFor(
          () => {
            const i = this.#buffer.indexOf('\r\n', offset);
            return i === -1 ? undefined : i;
          },
          'a chunk size',
          timeoutMs,
        );
        const size = parseInt(this.#buffer.subarray(offset, lineEnd).toString('latin1'), 16);
        offset = lineEnd + 2;
        if (size === 0) {
          await this.#waitFor(() => (this.#buffer.length >= offset + 2 ? true : undefined), 'the last CRLF', timeoutMs);
          offset += 2;
          break;
        }
        await this.#waitFor(() => (this.#buffer.length >= offset + size + 2 ? true : undefined), 'chunk data', timeoutMs);
        parts.push(Buffer.from(this.#buffer.subarray(offset, offset + size)));
        offset += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (get('content-length') !== undefined) {
      const length = Number(get('content-length'));
      const start = offset;
      await this.#waitFor(() => (this.#buffer.length >= start + length ? true : undefined), `${length} body bytes`, timeoutMs).catch(
        (error: Error) => {
          // A short body followed by a close is a legitimate outcome to observe.
          if (!this.#ended) throw error;
        },
      );
      const end = Math.min(this.#buffer.length, start + length);
      body = Buffer.from(this.#buffer.subarray(start, end));
      offset = end;
    } else {
      await this.#waitFor(() => (this.#ended ? true : undefined), 'the end of a close-delimited body', timeoutMs).catch(() => {});
      body = Buffer.from(this.#buffer.subarray(offset));
      offset = this.#buffer.length;
    }
    const raw = Buffer.from(this.#buffer.subarray(0, offset));
    this.#buffer = this.#buffer.subarray(offset);
    return {
      version: m[1]!,
      status,
      reason: m[3]!,
      headers,
      body,
      raw,
      header: get,
      all: (name) => headers.filter(([n]) => n === name).map(([, v]) => v),
    };
  }

  /** Resolve true when the server closes the connection (FIN) within the time, with nothing more sent. */
  async expectClosed(timeoutMs = 3000): Promise<{ closed: boolean; extra: string }> {
    await this.#waitFor(() => (this.#ended ? true : undefined), 'the connection to close', timeoutMs).catch(() => {});
    return { closed: this.#ended, extra: this.#buffer.toString('latin1') };
  }

  /** Read exactly `count` bytes that follow what was read (the frames after a 101, say). */
  async readBytes(count: number, timeoutMs = 5000): Promise<Buffer> {
    await this.#waitFor(() => (this.#buffer.length >= count ? true : undefined), `${count} bytes`, timeoutMs);
    const bytes = Buffer.from(this.#buffer.subarray(0, count));
    this.#buffer = this.#buffer.subarray(count);
    return bytes;
  }

  /** Bytes received and not yet read as a response. */
  get unread(): string {
    return this.#buffer.toString('latin1');
  }

  /** Wait a little and report what arrived unasked. */
  async settle(ms = 100): Promise<string> {
    await new Promise((r) => setTimeout(r, ms));
    return this.#buffer.toString('latin1');
  }
}

/** Send raw bytes on a fresh connection and read one response. */
export async function exchange(
  port: number,
  request: string | Uint8Array,
  options: { forHead?: boolean } = {},
): Promise<RawResponse & { closed: boolean }> {
  const client = await RawClient.connect(port);
  try {
    client.write(request);
    const response = await client.readResponse(options);
    const { closed } = await client.expectClosed(300);
    return { ...response, closed };
  } finally {
    client.destroy();
  }
}

/** One request over a Unix socket, read until the server closes. */
export function overUnixSocket(path: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
    socket.write(request);
  });
}

/** A port nothing listens on just now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
