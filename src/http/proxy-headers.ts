// src/http/proxy-headers.ts: what a trusted proxy says about the client, in RFC 7239 `Forwarded`
// or the older X-Forwarded-* fields, read with Waitress's rules (its proxy_headers.py); and the
// removal of those fields when the peer is not trusted to send them.
//
// Only the last `count` hops of a list are believed: each proxy appends its own, so anything to
// the left of the hops our own proxies added was written by whoever sent the request.

import { ERR } from './errors.js';
import { QDTEXT, QUOTED_PAIR_CHAR, isValidHost } from './grammar.js';
import { fieldValue } from './head.js';
import type { HttpError } from './types.js';

export const PROXY_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-by',
] as const;
export type ProxyHeader = (typeof PROXY_HEADERS)[number];

/** What a trusted peer may tell us: which fields, and how many trailing hops of each. */
export interface ProxyTrust {
  readonly count: number;
  readonly headers: ReadonlySet<ProxyHeader>;
}

/** The client as the trusted proxy saw it; a field is undefined when the proxy did not say. */
export interface ForwardedClient {
  /** IPv6 without brackets; may be `unknown` or an obfuscated `_name` (RFC 7239 §6). */
  readonly address: string | undefined;
  /** The client's port, when the proxy gave a numeric one with the address. */
  readonly port: number | undefined;
  readonly scheme: 'http' | 'https' | undefined;
  /** The host the client addressed, without port (IPv6 in brackets). */
  readonly serverName: string | undefined;
  readonly serverPort: number | undefined;
  /** The Host the client sent: serverName, with the port when it is not the scheme's default. */
  readonly authority: string | undefined;
}

export type ProxyResult =
  /** The request carries no proxy field: nothing to do. */
  | { readonly kind: 'none' }
  | {
      readonly kind: 'applied';
      /** The fields the app sees: untrusted proxy fields removed, trusted ones cut to the trusted hops. */
      readonly headers: string[];
      readonly client: ForwardedClient | undefined;
      /** Proxy fields removed as untrusted, in their usual spelling (X-Forwarded-For), for the log. */
      readonly removed: string[];
      /** Forwarded parameters other than by/for/host/proto (ignored, as RFC 7239 §5.5 allows; logged). */
      readonly unknownParameters: string[];
    }
  | { readonly kind: 'malformed'; readonly error: HttpError; readonly field: string; readonly detail: string; readonly value: string };

const NONE: ProxyResult = Object.freeze({ kind: 'none' });

const SPELLING: Record<ProxyHeader, string> = {
  forwarded: 'Forwarded',
  'x-forwarded-for': 'X-Forwarded-For',
  'x-forwarded-host': 'X-Forwarded-Host',
  'x-forwarded-proto': 'X-Forwarded-Proto',
  'x-forwarded-port': 'X-Forwarded-Port',
  'x-forwarded-by': 'X-Forwarded-By',
};

const MALFORMED: Record<Exclude<ProxyHeader, 'x-forwarded-by'>, HttpError> = {
  forwarded: ERR.forwardedMalformed,
  'x-forwarded-for': ERR.xForwardedForMalformed,
  'x-forwarded-host': ERR.xForwardedHostMalformed,
  'x-forwarded-proto': ERR.xForwardedProtoMalformed,
  'x-forwarded-port': ERR.xForwardedPortMalformed,
};

class Malformed {
  constructor(
    readonly field: Exclude<ProxyHeader, 'x-forwarded-by'>,
    readonly detail: string,
  ) {}
}

/**
 * Read the proxy fields of a request. `trust` is undefined when the peer is not a trusted proxy:
 * then nothing is believed, and with `clearUntrusted` every proxy field is removed. `scheme` is the
 * configured url_scheme, which decides the default port when the proxy sends no proto.
 */
export function readProxyHeaders(headers: string[], trust: ProxyTrust | undefined, clearUntrusted: boolean, scheme: string): ProxyResult {
  // The common case, a request with no proxy field, costs one pass over the names.
  let present = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const c = name.charCodeAt(0);
    if ((c === 0x78 /* x */ && name.startsWith('x-forwarded-')) || (c === 0x66 /* f */ && name === 'forwarded')) {
      present = true;
      break;
    }
  }
  if (!present) return NONE;
  try {
    return apply(headers, trust, clearUntrusted, scheme);
  } catch (problem) {
    if (!(problem instanceof Malformed)) throw problem;
    return {
      kind: 'malformed',
      error: MALFORMED[problem.field],
      field: SPELLING[problem.field],
      detail: problem.detail,
      value: fieldValue(headers, problem.field) ?? '',
    };
  }
}

function apply(headers: string[], trust: ProxyTrust | undefined, clearUntrusted: boolean, defaultScheme: string): ProxyResult {
  const trusted = trust?.headers ?? NO_HEADERS;
  const count = trust?.count ?? 0;
  /** New values for trusted fields (cut to the trusted hops); undefined removes the field. */
  const rewrite = new Map<string, string | undefined>();
  const unknownParameters: string[] = [];
  let clientNode = '';
  let host = '';
  let proto = '';
  let port = '';
  let portFromHost = false;

  if (trusted.has('x-forwarded-for')) {
    const value = fieldValue(headers, 'x-forwarded-for');
    if (value !== undefined) {
      const hops = value.split(',').map((hop) => hop.trim());
      const kept = hops.slice(-count);
      const node = undquote(kept[0]!, 'x-forwarded-for');
      if (node === '') throw new Malformed('x-forwarded-for', 'the client hop is empty');
      // A bare IPv6 address (two colons or more) gets brackets, so that its last group is not
      // taken for a port. (Waitress looks for a dot instead, and so splits ::ffff:192.0.2.1.)
      const bareIpv6 = !node.startsWith('[') && node.indexOf(':') !== node.lastIndexOf(':');
      clientNode = bareIpv6 ? `[${node}]` : node;
      rewrite.set('x-forwarded-for', kept.join(', '));
    }
  }
  if (trusted.has('x-forwarded-host')) {
    const value = fieldValue(headers, 'x-forwarded-host');
    if (value !== undefined) {
      const kept = value
        .split(',')
        .map((hop) => hop.trim())
        .slice(-count);
      host = undquote(kept[0]!, 'x-forwarded-host');
      rewrite.set('x-forwarded-host', kept.join(', '));
    }
  }
  if (trusted.has('x-forwarded-proto')) {
    const value = fieldValue(headers, 'x-forwarded-proto');
    if (value !== undefined) {
      proto = undquote(value, 'x-forwarded-proto');
      if (proto.includes(',')) throw new Malformed('x-forwarded-proto', 'more than one value');
    }
  }
  if (trusted.has('x-forwarded-port')) {
    const value = fieldValue(headers, 'x-forwarded-port');
    if (value !== undefined) {
      port = undquote(value, 'x-forwarded-port');
      if (port.includes(',')) throw new Malformed('x-forwarded-port', 'more than one value');
    }
  }
  if (trusted.has('forwarded')) {
    const value = fieldValue(headers, 'forwarded');
    if (value !== undefined) {
      const elements = value.split(',').map((element) => element.trim());
      const kept = elements.slice(-count);
      // The oldest trusted element that gives a parameter wins: later proxies may rewrite host
      // or proto for their own hop, while the client built its URLs from the first.
      for (let i = kept.length - 1; i >= 0; i--) {
        const element = parseForwardedElement(kept[i]!, unknownParameters);
        if (element.for !== '') clientNode = element.for;
        if (element.host !== '') host = element.host;
        if (element.proto !== '') proto = element.proto;
      }
      rewrite.set('forwarded', kept.join(', '));
    }
  }
  // "forwarded" is never trusted together with an x-forwarded-* field (the options refuse it).
  const viaForwarded = rewrite.has('forwarded');

  let scheme: 'http' | 'https' | undefined;
  if (proto !== '') {
    const lower = proto.toLowerCase();
    if (lower !== 'http' && lower !== 'https') {
      throw new Malformed(viaForwarded ? 'forwarded' : 'x-forwarded-proto', `unsupported proto "${proto}"`);
    }
    scheme = lower;
    if (port === '') port = lower === 'https' ? '443' : '80';
  }
  const effectiveScheme = scheme ?? defaultScheme;

  let serverName: string | undefined;
  let authority: string | undefined;
  if (host !== '') {
    if (!isValidHost(host))
      throw new Malformed(viaForwarded ? 'forwarded' : 'x-forwarded-host', `"${host}" is not a host with an optional port`);
    const colon = host.lastIndexOf(':');
    if (colon !== -1 && !host.endsWith(']')) {
      // The port in the Host the client sent beats X-Forwarded-Port and the proto's default.
      serverName = host.slice(0, colon);
      if (colon + 1 < host.length) {
        port = host.slice(colon + 1);
        portFromHost = true;
      }
      authority = host;
    } else {
      serverName = host;
      authority = port === '' || isDefaultPort(effectiveScheme, port) ? host : `${host}:${port}`;
    }
  }

  let serverPort: number | undefined;
  if (port !== '') {
    serverPort = portNumber(port);
    if (serverPort === undefined) {
      const field = viaForwarded ? 'forwarded' : portFromHost ? 'x-forwarded-host' : 'x-forwarded-port';
      throw new Malformed(field, `"${port}" is not a port number`);
    }
  }

  const clientField = viaForwarded ? 'forwarded' : 'x-forwarded-for';
  let address: string | undefined;
  let clientPort: number | undefined;
  if (clientNode !== '') {
    // RFC 7239 §6: node = nodename [ ":" node-port ]; an IPv6 nodename is in brackets.
    const colon = clientNode.lastIndexOf(':');
    let name = clientNode;
    let nodePort = '';
    if (colon !== -1 && !clientNode.endsWith(']')) {
      name = clientNode.slice(0, colon);
      nodePort = clientNode.slice(colon + 1);
    }
    address = nodeName(name);
    if (address === undefined) throw new Malformed(clientField, `"${clientNode}" is not an IP address, "unknown" or an obfuscated name`);
    if (nodePort !== '') {
      clientPort = portNumber(nodePort);
      if (clientPort === undefined && !OBFUSCATED.test(nodePort)) throw new Malformed(clientField, `"${nodePort}" is not a port`);
    }
  }

  const client: ForwardedClient | undefined =
    address === undefined && scheme === undefined && serverName === undefined && serverPort === undefined
      ? undefined
      : { address, port: clientPort, scheme, serverName, serverPort, authority };
  if (authority !== undefined) rewrite.set('host', authority);

  const removed: string[] = [];
  if (clearUntrusted) {
    for (const name of PROXY_HEADERS) {
      if (trusted.has(name) || fieldValue(headers, name) === undefined) continue;
      rewrite.set(name, undefined);
      removed.push(SPELLING[name]);
    }
  }
  return { kind: 'applied', headers: rewritten(headers, rewrite), client, removed, unknownParameters };
}

const NO_HEADERS: ReadonlySet<ProxyHeader> = new Set();

interface ForwardedElement {
  for: string;
  host: string;
  proto: string;
}

/**
 * RFC 7239 §4: forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] ),
 * forwarded-pair = token "=" value, value = token / quoted-string. No whitespace around "=".
 */
function parseForwardedElement(element: string, unknownParameters: string[]): ForwardedElement {
  const parsed: ForwardedElement = { for: '', host: '', proto: '' };
  for (const pair of element.split(';')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    if (equals === -1) throw new Malformed('forwarded', `"${pair}" has no "="`);
    const token = pair.slice(0, equals).toLowerCase();
    const raw = pair.slice(equals + 1);
    if (token.trim() !== token || token === '') throw new Malformed('forwarded', `whitespace around the parameter name in "${pair}"`);
    if (raw === '') throw new Malformed('forwarded', `"${pair}" has an empty value`);
    if (raw.trim() !== raw) throw new Malformed('forwarded', `whitespace around the value in "${pair}"`);
    const value = undquote(raw, 'forwarded');
    if (token === 'for') parsed.for = value;
    else if (token === 'host') parsed.host = value;
    else if (token === 'proto') parsed.proto = value;
    else if (token !== 'by') unknownParameters.push(token);
  }
  return parsed;
}

/** RFC 9110 §5.6.4: a quoted-string loses its quotes and escapes; a value quoted on one side only is malformed. */
function undquote(value: string, field: Exclude<ProxyHeader, 'x-forwarded-by'>): string {
  const opens = value.startsWith('"');
  const closes = value.length > 1 && value.endsWith('"');
  if (!opens && !value.endsWith('"')) return value;
  if (!opens || !closes) throw new Malformed(field, `bad quoting in ${value}`);
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c /* \ */ && i + 1 < value.length - 1 && QUOTED_PAIR_CHAR[value.charCodeAt(i + 1)] === 1) {
      out += value[++i];
    } else if (QDTEXT[c] === 1) {
      out += value[i];
    } else {
      throw new Malformed(field, `bad quoting in ${value}`);
    }
  }
  return out;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// The shape of an IPv6 address (hex groups, colons, an optional IPv4 tail); close enough to
// refuse garbage without a full RFC 4291 parser in the codec.
const IPV6 = /^[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::\d{1,3}(?:\.\d{1,3}){3})?$|^[0-9A-Fa-f:]*:\d{1,3}(?:\.\d{1,3}){3}$/;
/** RFC 7239 §6.3: obfnode = "_" 1*( ALPHA / DIGIT / "." / "_" / "-"), and obfport likewise. */
const OBFUSCATED = /^_[A-Za-z0-9._-]+$/;

/** The address of an RFC 7239 §6 nodename, IPv6 without its brackets; undefined when it is none. */
function nodeName(name: string): string | undefined {
  if (name.startsWith('[') && name.endsWith(']')) {
    const inner = name.slice(1, -1);
    return IPV6.test(inner) ? inner : undefined;
  }
  if (IPV4.test(name) || OBFUSCATED.test(name)) return name;
  return name.toLowerCase() === 'unknown' ? 'unknown' : undefined;
}

function portNumber(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

function isDefaultPort(scheme: string, port: string): boolean {
  return (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443');
}

/** `headers` with each field in `changes` given its new value once (or dropped when undefined). */
function rewritten(headers: string[], changes: Map<string, string | undefined>): string[] {
  if (changes.size === 0) return headers;
  const out: string[] = [];
  const done = new Set<string>();
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (!changes.has(name)) {
      out.push(name, headers[i + 1]!);
      continue;
    }
    if (done.has(name)) continue;
    done.add(name);
    const value = changes.get(name);
    if (value !== undefined) out.push(name, value);
  }
  for (const [name, value] of changes) if (!done.has(name) && value !== undefined) out.push(name, value);
  return out;
}
