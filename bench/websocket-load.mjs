// bench/websocket-load.mjs: the load client of bench/websocket.mjs, in its own process (so the
// driver can pin it to a core with taskset and read its CPU time), with ws's WebSocket client.
//
//   node bench/websocket-load.mjs URL CONNECTIONS DEPTH SIZE text|binary SECONDS
//
// Opens CONNECTIONS sockets; once all are open each keeps DEPTH messages of SIZE bytes in flight
// (a new one sent for every echo) for SECONDS, counting the echoes that arrive meanwhile. Every
// echo is checked against what was sent, in order: its kind (text or binary) and every byte
// (each message carries its connection and sequence number). Then nothing more is sent, the
// echoes still in flight are awaited (2 s at most; those missing count as lost) and the sockets
// closed (1000). Prints `WINDOW start` and `WINDOW end` around the counted time (the driver reads
// CPU between them), then one line: RESULT {"messages", "seconds", "total", "mismatches",
// "errors", "lost", "closedEarly", "slowestSlice"}: messages echoed in the window and its length,
// echoes over the whole run, and the fewest echoes in any 250 ms of the window, per second (a
// stall shows there).
//
// The client masks with a zero key (ws's generateMask option; RFC 6455 §5.3 wants an
// unpredictable key against proxies' cache poisoning, moot on loopback): ws then skips masking,
// which leaves the client's core more for the load. The servers still unmask every frame.

import WebSocket from 'ws';

const [url, connectionsArg, depthArg, sizeArg, kind, secondsArg] = process.argv.slice(2);
const [connections, depth, size, seconds] = [connectionsArg, depthArg, sizeArg, secondsArg].map(Number);
if (!url || ![connections, depth, size, seconds].every((n) => Number.isInteger(n) && n > 0) || !['text', 'binary'].includes(kind)) {
  console.error('usage: node bench/websocket-load.mjs URL CONNECTIONS DEPTH SIZE text|binary SECONDS');
  process.exit(2);
}
const BINARY = kind === 'binary';
if (size < (BINARY ? 8 : 16)) {
  console.error('SIZE: at least 16 bytes for text, 8 for binary (a message carries its connection and sequence number)');
  process.exit(2);
}
const OPEN_MS = 10_000;
const DRAIN_MS = 2000;
const SLICE_MS = 250;

// Binary: bytes 0-3 the connection, 4-7 the sequence number, the rest this pattern.
const pattern = Buffer.alloc(size, 0);
for (let i = 8; i < size; i++) pattern[i] = (i * 31) & 0xff;

function binaryMessage(id, seq) {
  const message = Buffer.allocUnsafe(size);
  pattern.copy(message, 8, 8);
  message.writeUInt32LE(id, 0);
  message.writeUInt32LE(seq, 4);
  return message;
}
const binaryEcho = (data, id, seq) =>
  data.length === size && data.readUInt32LE(0) === id && data.readUInt32LE(4) === seq && pattern.compare(data, 8, size, 8, size) === 0;
const textMessage = (id, seq) => `${id}:${seq}:`.padEnd(size, '.');

const counts = { window: 0, total: 0, mismatches: 0, errors: 0, closedEarly: 0 };
let counting = false;
let sending = true;
let closing = false;
const errorSamples = [];

function noteError(what) {
  counts.errors++;
  if (errorSamples.length < 5) errorSamples.push(what);
}

function open(id) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true, generateMask: () => {} });
    const conn = { id, ws, sent: 0, got: 0 };
    const send = () => {
      const seq = conn.sent++;
      ws.send(BINARY ? binaryMessage(id, seq) : textMessage(id, seq), { binary: BINARY });
    };
    conn.start = () => {
      for (let i = 0; i < depth; i++) send();
    };
    ws.on('message', (data, isBinary) => {
      const seq = conn.got++;
      const ok = isBinary === BINARY && (BINARY ? binaryEcho(data, id, seq) : data.toString('latin1') === textMessage(id, seq));
      if (!ok) counts.mismatches++;
      counts.total++;
      if (counting) counts.window++;
      if (sending) send();
    });
    ws.once('open', () => resolve(conn));
    ws.on('error', (error) => {
      noteError(error.message);
      reject(error);
    });
    ws.on('close', (code) => {
      if (!closing) {
        counts.closedEarly++;
        noteError(`closed by the server: ${code}`);
      }
      conn.closed = true;
    });
  });
}

const bounded = (promise, ms, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms / 1000} s`)), ms).unref())]);

let conns;
try {
  conns = await bounded(
    Promise.all(Array.from({ length: connections }, (_, id) => open(id))),
    OPEN_MS,
    `not all ${connections} sockets opened`,
  );
} catch (error) {
  console.error(`websocket-load: ${error.message}`);
  process.exit(1);
}

for (const conn of conns) conn.start();
// The first round trips of every socket go by before the window opens.
await new Promise((resolve) => setTimeout(resolve, 100));
const slices = [];
let last = 0;
const slicer = setInterval(() => {
  slices.push(counts.window - last);
  last = counts.window;
}, SLICE_MS);
counting = true;
const t0 = performance.now();
process.stdout.write('WINDOW start\n');
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
counting = false;
const windowSeconds = (performance.now() - t0) / 1000;
process.stdout.write('WINDOW end\n');
clearInterval(slicer);
sending = false;

const inFlight = () => conns.reduce((n, c) => n + (c.closed ? 0 : c.sent - c.got), 0);
const drainUntil = Date.now() + DRAIN_MS;
while (inFlight() > 0 && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 10));
const lost = inFlight();
closing = true;
const closed = Promise.all(conns.map((c) => (c.closed ? undefined : new Promise((resolve) => c.ws.once('close', resolve)))));
for (const c of conns) c.ws.close(1000);
await bounded(closed, DRAIN_MS, 'not every socket closed').catch((error) => noteError(error.message));

const result = {
  messages: counts.window,
  seconds: windowSeconds,
  total: counts.total,
  mismatches: counts.mismatches,
  errors: counts.errors,
  errorSamples,
  lost,
  closedEarly: counts.closedEarly,
  slowestSlice: slices.length > 0 ? (Math.min(...slices) * 1000) / SLICE_MS : undefined,
};
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
