// src/http/proxy-headers.ts: what a trusted proxy says about the client, in RFC 7239 `Forwarded`
// or the older X-Forwarded-* fields, read with Waitress's rules (its proxy_headers.py); and the
// removal of those fields when the peer is not trusted to send them.
//
// Only the last `count` hops of a list are believed: each proxy appends its own, so anything to
// the left of the hops our own proxies added was written by whoever sent the request.
// Reading never throws: each step returns what it read, or a Malformed value (which field, what
// is wrong) that ends the reading and becomes the `malformed` result.

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

type ProxyResult =
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

/**
 * Why the trusted proxy fields cannot be believed: which field, and what is wrong with it. A value
 * that the reading steps below return (never throw) and pass on as soon as they meet it.
 */
interface Malformed {
  readonly kind: 'malformed';
  readonly field: Exclude<ProxyHeader, 'x-forwarded-by'>;
  readonly detail: string;
}

function malformed(field: Exclude<ProxyHeader, 'x-forwarded-by'>, detail: string): Malformed {
  return { kind: 'malformed', field, detail };
}

type Applied = Extract<ProxyResult, { kind: 'applied' }>;
type ClientDraft = { -readonly [K in keyof ForwardedClient]: ForwardedClient[K] };

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
  const result = apply(headers, trust, clearUntrusted, scheme);
  if (result.kind !== 'malformed') return result;
  return {
    kind: 'malformed',
    error: MALFORMED[result.field],
    field: SPELLING[result.field],
    detail: result.detail,
    value: fieldValue(headers, result.field) ?? '',
  };
}

/**
 * What the trusted fields say (the X-Forwarded-* fields, then Forwarded), the client they
 * describe, and the fields the app is given: trusted ones cut to the trusted hops, untrusted ones
 * removed when `clearUntrusted`.
 */
function apply(headers: string[], trust: ProxyTrust | undefined, clearUntrusted: boolean, defaultScheme: string): Applied | Malformed {
  const trusted = trust?.headers ?? NO_HEADERS;
  const count = trust?.count ?? 0;
  /** New values for trusted fields (cut to the trusted hops); undefined removes the field. */
  const rewrite = new Map<string, string | undefined>();
  const unknownParameters: string[] = [];

  // What the trusted fields say, as sent; '' where they say nothing.
  let node = '';
  let host = '';
  let proto = '';
  let port = '';
  if (trusted.has('x-forwarded-for')) {
    const said = xForwardedFor(headers, count, rewrite);
    if (typeof said !== 'string') return said;
    node = said;
  }
  if (trusted.has('x-forwarded-host')) {
    const said = xForwardedHost(headers, count, rewrite);
    if (typeof said !== 'string') return said;
    host = said;
  }
  if (trusted.has('x-forwarded-proto')) {
    const said = wholeValue(headers, 'x-forwarded-proto');
    if (typeof said !== 'string') return said;
    proto = said;
  }
  if (trusted.has('x-forwarded-port')) {
    const said = wholeValue(headers, 'x-forwarded-port');
    if (typeof said !== 'string') return said;
    port = said;
  }
  const value = trusted.has('forwarded') ? fieldValue(headers, 'forwarded') : undefined;
  if (value !== undefined) {
    const said = forwarded(value, count, rewrite, unknownParameters);
    if ('kind' in said) return said;
    if (said.for !== '') node = said.for;
    if (said.host !== '') host = said.host;
    if (said.proto !== '') proto = said.proto;
  }

  // "forwarded" is never trusted together with an x-forwarded-* field (the options refuse it).
  const viaForwarded = value !== undefined;
  let client: ForwardedClient | undefined;
  if (node !== '' || host !== '' || proto !== '' || port !== '') {
    const described = describeClient(node, host, proto, port, viaForwarded, defaultScheme);
    if ('kind' in described) return described;
    client = described;
    if (client.authority !== undefined) rewrite.set('host', client.authority);
  }
  const removed = clearUntrusted ? removeUntrusted(headers, trusted, rewrite) : [];
  return { kind: 'applied', headers: rewritten(headers, rewrite), client, removed, unknownParameters };
}

const NO_HEADERS: ReadonlySet<ProxyHeader> = new Set();

/** The last `count` elements of a list: the hops our own proxies added (see the file header). */
function trustedHops(value: string, count: number): string[] {
  return value
    .split(',')
    .map((hop) => hop.trim())
    .slice(-count);
}

/** X-Forwarded-For: the client node of the oldest trusted hop; '' when the field is absent. */
function xForwardedFor(headers: string[], count: number, rewrite: Map<string, string | undefined>): string | Malformed {
  const value = fieldValue(headers, 'x-forwarded-for');
  if (value === undefined) return '';
  const kept = trustedHops(value, count);
  const node = undquote(kept[0]!, 'x-forwarded-for');
  if (typeof node !== 'string') return node;
  if (node === '') return malformed('x-forwarded-for', 'the client hop is empty');
  rewrite.set('x-forwarded-for', kept.join(', '));
  // A bare IPv6 address (two colons or more) gets brackets, so that its last group is not
  // taken for a port. (Waitress looks for a dot instead, and so splits ::ffff:192.0.2.1.)
  const bareIpv6 = !node.startsWith('[') && node.indexOf(':') !== node.lastIndexOf(':');
  return bareIpv6 ? `[${node}]` : node;
}

/** X-Forwarded-Host: the host the client asked the oldest trusted hop for; '' when absent. */
function xForwardedHost(headers: string[], count: number, rewrite: Map<string, string | undefined>): string | Malformed {
  const value = fieldValue(headers, 'x-forwarded-host');
  if (value === undefined) return '';
  const kept = trustedHops(value, count);
  rewrite.set('x-forwarded-host', kept.join(', '));
  return undquote(kept[0]!, 'x-forwarded-host');
}

/** X-Forwarded-Proto, X-Forwarded-Port: taken whole, as Waitress does, so a list is refused. */
function wholeValue(headers: string[], field: 'x-forwarded-proto' | 'x-forwarded-port'): string | Malformed {
  const value = fieldValue(headers, field);
  if (value === undefined) return '';
  const said = undquote(value, field);
  if (typeof said !== 'string') return said;
  return said.includes(',') ? malformed(field, 'more than one value') : said;
}

interface ForwardedElement {
  for: string;
  host: string;
  proto: string;
}

/**
 * RFC 7239 §4 Forwarded = 1#forwarded-element: what its trusted elements say. The oldest element
 * that gives a parameter wins: later proxies may rewrite host or proto for their own hop, while the
 * client built its URLs from the first.
 */
function forwarded(
  value: string,
  count: number,
  rewrite: Map<string, string | undefined>,
  unknownParameters: string[],
): ForwardedElement | Malformed {
  const kept = trustedHops(value, count);
  // Read from the newest to the oldest, each element overriding what the newer ones said; the
  // newest element's own record gathers the answer.
  let said: ForwardedElement | undefined;
  for (let i = kept.length - 1; i >= 0; i--) {
    const element = parseForwardedElement(kept[i]!, unknownParameters);
    if ('kind' in element) return element;
    if (said === undefined) {
      said = element;
      continue;
    }
    if (element.for !== '') said.for = element.for;
    if (element.host !== '') said.host = element.host;
    if (element.proto !== '') said.proto = element.proto;
  }
  rewrite.set('forwarded', kept.join(', '));
  return said!; // a split list has at least one element
}

/**
 * RFC 7239 §4: forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] ),
 * forwarded-pair = token "=" value, value = token / quoted-string. No whitespace around "=".
 */
function parseForwardedElement(element: string, unknownParameters: string[]): ForwardedElement | Malformed {
  const parsed: ForwardedElement = { for: '', host: '', proto: '' };
  for (const pair of element.split(';')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    if (equals === -1) return malformed('forwarded', `"${pair}" has no "="`);
    const token = pair.slice(0, equals).toLowerCase();
    const raw = pair.slice(equals + 1);
    if (token.trim() !== token || token === '') return malformed('forwarded', `whitespace around the parameter name in "${pair}"`);
    if (raw === '') return malformed('forwarded', `"${pair}" has an empty value`);
    if (raw.trim() !== raw) return malformed('forwarded', `whitespace around the value in "${pair}"`);
    const value = undquote(raw, 'forwarded');
    if (typeof value !== 'string') return value;
    if (token === 'for') parsed.for = value;
    else if (token === 'host') parsed.host = value;
    else if (token === 'proto') parsed.proto = value;
    else if (token !== 'by') unknownParameters.push(token);
  }
  return parsed;
}

/** RFC 9110 §5.6.4: a quoted-string loses its quotes and escapes; a value quoted on one side only is malformed. */
function undquote(value: string, field: Exclude<ProxyHeader, 'x-forwarded-by'>): string | Malformed {
  const opens = value.startsWith('"');
  const closes = value.length > 1 && value.endsWith('"');
  if (!opens && !value.endsWith('"')) return value;
  if (!opens || !closes) return malformed(field, `bad quoting in ${value}`);
  let out = '';
  for (let i = 1; i < value.length - 1; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x5c /* \ */ && i + 1 < value.length - 1 && QUOTED_PAIR_CHAR[value.charCodeAt(i + 1)] === 1) {
      out += value[++i];
    } else if (QDTEXT[c] === 1) {
      out += value[i];
    } else {
      return malformed(field, `bad quoting in ${value}`);
    }
  }
  return out;
}

/**
 * The client as the trusted fields describe it, each part checked: the scheme from the proto, the
 * host the client addressed and its port, and the client's own node. Malformed names the field
 * that said the part (Forwarded says them all).
 */
function describeClient(
  node: string,
  host: string,
  proto: string,
  port: string,
  viaForwarded: boolean,
  defaultScheme: string,
): ForwardedClient | Malformed {
  const client: ClientDraft = {
    address: undefined,
    port: undefined,
    scheme: undefined,
    serverName: undefined,
    serverPort: undefined,
    authority: undefined,
  };
  let serverPort = port;
  if (proto !== '') {
    const lower = proto.toLowerCase();
    if (lower !== 'http' && lower !== 'https') {
      return malformed(viaForwarded ? 'forwarded' : 'x-forwarded-proto', `unsupported proto "${proto}"`);
    }
    client.scheme = lower;
    if (serverPort === '') serverPort = lower === 'https' ? '443' : '80';
  }
  return describeServer(client, host, serverPort, viaForwarded, defaultScheme) ?? describeNode(client, node, viaForwarded) ?? client;
}

/**
 * The host the client addressed (RFC 9110 §7.2 Host syntax) and the port: the one in that host
 * beats X-Forwarded-Port, which beats the proto's default.
 */
function describeServer(
  client: ClientDraft,
  host: string,
  port: string,
  viaForwarded: boolean,
  defaultScheme: string,
): Malformed | undefined {
  let portFromHost = false;
  if (host !== '') {
    if (!isValidHost(host))
      return malformed(viaForwarded ? 'forwarded' : 'x-forwarded-host', `"${host}" is not a host with an optional port`);
    const colon = host.lastIndexOf(':');
    if (colon !== -1 && !host.endsWith(']')) {
      client.serverName = host.slice(0, colon);
      if (colon + 1 < host.length) {
        port = host.slice(colon + 1);
        portFromHost = true;
      }
      client.authority = host;
    } else {
      client.serverName = host;
      client.authority = port === '' || isDefaultPort(client.scheme ?? defaultScheme, port) ? host : `${host}:${port}`;
    }
  }
  if (port === '') return undefined;
  client.serverPort = portNumber(port);
  if (client.serverPort !== undefined) return undefined;
  const field = viaForwarded ? 'forwarded' : portFromHost ? 'x-forwarded-host' : 'x-forwarded-port';
  return malformed(field, `"${port}" is not a port number`);
}

/** RFC 7239 §6: node = nodename [ ":" node-port ]; an IPv6 nodename is in brackets. */
function describeNode(client: ClientDraft, node: string, viaForwarded: boolean): Malformed | undefined {
  if (node === '') return undefined;
  const field = viaForwarded ? 'forwarded' : 'x-forwarded-for';
  const colon = node.lastIndexOf(':');
  let name = node;
  let nodePort = '';
  if (colon !== -1 && !node.endsWith(']')) {
    name = node.slice(0, colon);
    nodePort = node.slice(colon + 1);
  }
  client.address = nodeName(name);
  if (client.address === undefined) return malformed(field, `"${node}" is not an IP address, "unknown" or an obfuscated name`);
  if (nodePort === '') return undefined;
  client.port = portNumber(nodePort);
  if (client.port === undefined && !OBFUSCATED.test(nodePort)) return malformed(field, `"${nodePort}" is not a port`);
  return undefined;
}

/** The proxy fields not trusted, each set to be removed; their usual spellings, for the log. */
function removeUntrusted(headers: string[], trusted: ReadonlySet<ProxyHeader>, rewrite: Map<string, string | undefined>): string[] {
  const removed: string[] = [];
  for (const name of PROXY_HEADERS) {
    if (trusted.has(name) || fieldValue(headers, name) === undefined) continue;
    rewrite.set(name, undefined);
    removed.push(SPELLING[name]);
  }
  return removed;
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
