// src/server/listeners.ts: where to listen, resolved as Waitress resolves it, and the bound
// net.Servers every connection arrives through (with HTTPS too: the TLS handshake is done above
// them, src/server/tls-front.ts, so that every kind of listener serves it alike).

import cluster from 'node:cluster';
import { lookup } from 'node:dns/promises';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, isIP, Server, type Socket } from 'node:net';
import type { BoundAddress } from '../app.js';
import { optionError, parseListenEntry, type ListenAddress, type ListenSocket, type Spelling, type TlsOption } from '../config/options.js';

/** Where to listen, resolved: TCP addresses (one family each), a Unix socket path, or sockets bound by someone else. */
type Endpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string; mode: number }
  | { kind: 'fd'; fd: number }
  | { kind: 'server'; server: Server };

interface ListenSettings {
  listen: readonly string[];
  host: string;
  port: number;
  ipv4: boolean;
  ipv6: boolean;
  unixSocket: string;
  unixSocketPerms: string;
  sockets: readonly ListenSocket[];
  spelling: Spelling;
  /** Set when HTTPS is served: the addresses are https:// URLs. */
  tlsServer: TlsOption | undefined;
}

/**
 * The endpoints to bind, as Waitress resolves them: `*` is 0.0.0.0 and :: (each family that is
 * on), a host name every address it resolves to in the enabled families, duplicates dropped.
 */
async function resolveEndpoints(settings: ListenSettings): Promise<Endpoint[]> {
  if (settings.sockets.length > 0) {
    return settings.sockets.map((socket) =>
      socket instanceof Server ? { kind: 'server', server: socket } : { kind: 'fd', fd: typeof socket === 'number' ? socket : socket.fd },
    );
  }
  if (settings.unixSocket !== '') return [{ kind: 'unix', path: settings.unixSocket, mode: parseInt(settings.unixSocketPerms, 8) }];
  const entries: ListenAddress[] =
    settings.listen.length === 0
      ? [{ host: settings.host === '' ? '0.0.0.0' : settings.host, port: settings.port }]
      : settings.listen.map((entry) => parseListenEntry(entry, settings.port)!);
  const enabled = (family: number) => (family === 4 ? settings.ipv4 : settings.ipv6);
  const endpoints = new Map<string, Endpoint>();
  for (const { host, port } of entries) {
    let hosts: string[];
    if (host === '*') {
      hosts = [...(settings.ipv4 ? ['0.0.0.0'] : []), ...(settings.ipv6 ? ['::'] : [])];
    } else if (isIP(host) !== 0) {
      const family = isIP(host);
      if (!enabled(family)) {
        throw optionError(
          settings.spelling,
          'listen',
          (o) => `${host} is an IPv${family} address, but ${o(family === 4 ? 'ipv4' : 'ipv6')} is off`,
        );
      }
      hosts = [host];
    } else {
      const found = await lookup(host, { all: true }).catch((error: Error) => {
        throw optionError(settings.spelling, 'listen', `cannot resolve ${host}: ${error.message}`);
      });
      hosts = found.filter((a) => enabled(a.family)).map((a) => a.address);
      if (hosts.length === 0) {
        throw optionError(settings.spelling, 'listen', (o) => `${host} has no address in an enabled family (${o('ipv4')}, ${o('ipv6')})`);
      }
    }
    for (const h of hosts) endpoints.set(`${h} ${port}`, { kind: 'tcp', host: h, port });
  }
  return [...endpoints.values()];
}

/**
 * A Unix socket path may hold the file of a server that died: removed if nothing answers there
 * (Waitress removes any socket file). A live socket, or a file that is not a socket, is an error.
 */
export async function clearStaleSocket(path: string, spelling: Spelling): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw optionError(spelling, 'unixSocket', `${path} exists and is not a socket`);
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (live) throw optionError(spelling, 'unixSocket', `another server is listening on ${path}`);
  unlinkSync(path);
}

/** The connection options every listener of ours has (see createListener). */
const LISTENER_OPTIONS = { allowHalfOpen: true, noDelay: true, pauseOnConnect: true } as const;

/**
 * A listener for an endpoint, bound. A net.Server passed in `sockets` is already listening: it is
 * taken over as it is. net.Server reads these three settings at each accepted connection, so
 * setting them on a server made elsewhere works as passing them to createServer does.
 */
async function createListener(
  endpoint: Endpoint,
  backlog: number,
  onConnection: (socket: Socket) => void,
  spelling: Spelling,
  scheme: string,
): Promise<[Server, BoundAddress]> {
  if (endpoint.kind === 'server') {
    const server = endpoint.server;
    if (server.listenerCount('connection') > 0) {
      throw optionError(spelling, 'sockets', 'a net.Server given in sockets must have no connection listener: waitstate takes it over');
    }
    Object.assign(server, LISTENER_OPTIONS);
    server.on('connection', onConnection);
    return [server, boundAddress(server, 'a net.Server from sockets', scheme)];
  }
  const server = createServer(LISTENER_OPTIONS, onConnection);
  const where =
    endpoint.kind === 'unix' ? endpoint.path : endpoint.kind === 'fd' ? `fd ${endpoint.fd}` : `${endpoint.host}:${endpoint.port}`;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => {
      server.close();
      // A descriptor that is not a listening stream socket is the option's fault, not the network's.
      if (endpoint.kind === 'fd') reject(optionError(spelling, 'sockets', `fd ${endpoint.fd} cannot be listened on: ${error.message}`));
      else reject(new Error(`listen ${where}: ${error.message}`, { cause: error }));
    };
    server.once('error', onError);
    const options =
      endpoint.kind === 'unix'
        ? { path: endpoint.path, backlog }
        : endpoint.kind === 'fd'
          ? { fd: endpoint.fd, backlog }
          : // Each family on its own socket, as Waitress binds them (IPV6_V6ONLY).
            { host: endpoint.host, port: endpoint.port, backlog, ipv6Only: endpoint.host.includes(':') };
    try {
      server.listen(options, () => {
        server.off('error', onError);
        resolve();
      });
    } catch (error) {
      // listen() throws at once for a descriptor of the wrong kind (a UDP socket, a file).
      onError(error as Error);
    }
  });
  if (endpoint.kind === 'unix') chmodSync(endpoint.path, endpoint.mode);
  return [server, boundAddress(server, where, scheme)];
}

function boundAddress(server: Server, where: string, scheme: string): BoundAddress {
  const bound = server.address();
  if (bound === null) throw new Error(`listen ${where}: not bound`);
  if (typeof bound === 'string') return { host: bound, port: 0, family: 'unix', url: `${scheme}://unix:${bound}` };
  const family = bound.family === 'IPv6' ? 'IPv6' : 'IPv4';
  const host = family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return { host: bound.address, port: bound.port, family, url: `${scheme}://${host}:${bound.port}` };
}

/**
 * Bind every endpoint; all or none. With processes, the primary cleared a stale Unix socket once
 * (the processes share one listener).
 */
export async function bindAll(
  settings: ListenSettings & { backlog: number },
  onConnection: (socket: Socket) => void,
): Promise<{ servers: Server[]; addresses: BoundAddress[] }> {
  const servers: Server[] = [];
  const addresses: BoundAddress[] = [];
  const scheme = settings.tlsServer === undefined ? 'http' : 'https';
  try {
    for (const endpoint of await resolveEndpoints(settings)) {
      if (endpoint.kind === 'unix' && cluster.isPrimary) await clearStaleSocket(endpoint.path, settings.spelling);
      const [server, address] = await createListener(endpoint, settings.backlog, onConnection, settings.spelling, scheme);
      servers.push(server);
      addresses.push(address);
    }
    if (addresses.some((a) => a.family === 'unix') && addresses.some((a) => a.family !== 'unix')) {
      throw optionError(settings.spelling, 'sockets', 'Internet and Unix sockets may not be mixed (as in Waitress)');
    }
  } catch (error) {
    for (const server of servers) server.close();
    throw error;
  }
  return { servers, addresses };
}
