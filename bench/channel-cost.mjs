// bench/channel-cost.mjs: what one request costs inside the server, without sockets.
//
// Drives a Channel over an in-memory socket with the hello app and reports, per runtime
// ('compiled' tables vs real 'xstate' actors): machine events per request and microseconds of
// CPU per request, for one request per read (keep-alive) and 16 per read (pipelined).
// Run: npm run build && node bench/channel-cost.mjs
import { EventEmitter } from 'node:events';

if (process.argv.length > 2) {
  // It takes no arguments; --help (or anything else) gets the usage.
  const help = process.argv[2] === '--help' || process.argv[2] === '-h';
  console.error('usage: node bench/channel-cost.mjs   (after npm run build; no options)');
  process.exit(help ? 0 : 2);
}
// Loaded after the arguments are read, so that --help works before a build.
const { Channel } = await import('../dist/src/connection/channel.js');
const { MachineRunner } = await import('../dist/src/runtime/table.js');
const { resolveOptions } = await import('../dist/src/config/options.js');
const { installLiteResponse } = await import('../dist/src/fetch/response.js');

class MemorySocket extends EventEmitter {
  destroyed = false;
  writableNeedDrain = false;
  localAddress = '127.0.0.1';
  localPort = 8080;
  remoteAddress = '127.0.0.1';
  remotePort = 50000;
  bytes = 0;
  write(data) {
    this.bytes += data.length;
    return true;
  }
  cork() {}
  uncork() {}
  pause() {}
  resume() {}
  end() {}
  destroy() {
    this.destroyed = true;
  }
}

// Count events through both interpreters by wrapping their send methods (measurement only).
let events = 0;
const runnerSend = MachineRunner.prototype.send;
MachineRunner.prototype.send = function (event) {
  events++;
  return runnerSend.call(this, event);
};

const logger = { error: console.error, warn() {}, info() {} };
const request = Buffer.from('GET / HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n');

async function measure(runtime, perRead, total) {
  const settings = resolveOptions({ machineRuntime: runtime, logger });
  const config = {
    app: () => new Response('Hello, World!'),
    pool: undefined,
    settings,
    logger,
    limits: { maxHeaderBytes: settings.maxRequestHeaderSize, maxBodyBytes: settings.maxRequestBodySize },
    ident: 'waitstate',
    onClosed() {},
  };
  const socket = new MemorySocket();
  new Channel(socket, config);
  const chunk = Buffer.concat(Array(perRead).fill(request));
  const reads = Math.ceil(total / perRead);
  // Warm up, then measure.
  for (let i = 0; i < reads / 4; i++) {
    socket.emit('data', chunk);
    await null;
  }
  events = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < reads; i++) {
    socket.emit('data', chunk);
    await null; // let the end-of-turn flush run
  }
  const used = process.cpuUsage(start);
  const served = reads * perRead;
  return { usPerRequest: (used.user + used.system) / served, eventsPerRequest: events / served };
}

const restore = installLiteResponse();
console.log('runtime   | per read | µs/request | table events/request');
for (const runtime of ['compiled', 'xstate']) {
  for (const perRead of [1, 16]) {
    const total = runtime === 'xstate' ? 40_000 : 200_000;
    const r = await measure(runtime, perRead, total);
    const ev = runtime === 'compiled' ? r.eventsPerRequest.toFixed(1) : '(actors)';
    console.log(`${runtime.padEnd(9)} | ${String(perRead).padStart(8)} | ${r.usPerRequest.toFixed(2).padStart(10)} | ${ev}`);
  }
}
restore();
