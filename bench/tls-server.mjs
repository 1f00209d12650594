// bench/tls-server.mjs: one HTTPS hello-world server per process, started by bench/tls.mjs.
//
//   node bench/tls-server.mjs waitstate|node PORT CERT KEY
//
// waitstate: serve() from dist/ with examples/hello/app.mjs, inline (threads 0), `tls` given the
//            certificate and key files' contents.
// node:      a node:https createServer with the same certificate and key, answering the bytes
//            bench/server.mjs's node:http server answers.
// Speaks the driver protocol of bench/server-lib.mjs (READY, STATS, close); counts its requests.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { closeNodeServer, countingLogger, listen, nodeHello, parseServerArgs, serveDriver } from './server-lib.mjs';

const KINDS = ['waitstate', 'node'];
const [kind, port] = parseServerArgs(KINDS, `usage: node bench/tls-server.mjs ${KINDS.join('|')} PORT CERT KEY`);
const [certPath, keyPath] = process.argv.slice(4);
const tls = { cert: readFileSync(certPath), key: readFileSync(keyPath) };

let requests = 0;
const { logs, logger } = countingLogger(10, { announceCutoff: true });

let close;
if (kind === 'waitstate') {
  const { serve } = await import('../dist/src/index.js');
  const { app } = await import('../examples/hello/app.mjs');
  const handle = await serve(
    (request, info) => {
      requests++;
      return app(request, info);
    },
    { listen: [`127.0.0.1:${port}`], tls, logger },
  );
  close = () => handle.close();
} else {
  const server = createServer(
    tls,
    nodeHello(() => requests++),
  );
  await listen(server, { port });
  close = () => closeNodeServer(server);
}

serveDriver(port, { close, stats: () => ({ requests, logs }) });
