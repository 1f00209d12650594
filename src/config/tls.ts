// src/config/tls.ts: the TLS options (`tls`, `certfile`, `keyfile`, `keyfile_password`, `ca_certs`)
// made into what tls.createServer takes, and checked at start-up.
//
// The key, certificate, CAs and passphrase each come from a file option (gunicorn's names) or from
// the `tls` object, never from both. Every piece is tried on its own first (a file that cannot be
// read, a key that is not PEM, a passphrase that does not decrypt it), then all together (a key
// that does not match its certificate), so that each mistake is refused at start-up naming the
// option that holds it, as the user spelled it, instead of failing at the first handshake.

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, createServer, type TlsOptions } from 'node:tls';
import type { OptionError } from '../errors.js';

/** What the `tls` option takes: anything tls.createServer takes, but what waitstate sets itself (REFUSED). */
export type TlsOption = TlsOptions;

/** The pieces a file option can give: keyfile, certfile, ca_certs and keyfile_password. */
export type TlsField = 'key' | 'cert' | 'ca' | 'passphrase';

/** Where something was given: a file option (by the field it fills), or a key of `tls` ('' for the object). */
export type TlsSource = { readonly file: TlsField } | { readonly key: string };

export interface TlsInput {
  readonly tls: TlsOption | undefined;
  /** Paths given by certfile, keyfile and ca_certs; '' when not given. */
  readonly files: { readonly key: string; readonly cert: string; readonly ca: string };
  /** keyfile_password; '' when not given. */
  readonly passphrase: string;
  /** The handshake timeout when `tls` sets none. */
  readonly handshakeTimeoutMs: number;
}

/** How the options are named in messages, as the user spelled them. */
export interface TlsNames {
  name(source: TlsSource): string;
  refuse(source: TlsSource, detail: string): OptionError;
}

/** Options of tls.createServer that waitstate sets itself, and why. */
const REFUSED: Readonly<Record<string, string>> = {
  ALPNProtocols: 'waitstate speaks HTTP/1.1 only, and advertises http/1.1 through ALPN itself',
  ALPNCallback: 'waitstate speaks HTTP/1.1 only, and advertises http/1.1 through ALPN itself',
  allowHalfOpen: "is a net.Server option: waitstate's listeners set their own",
  pauseOnConnect: "is a net.Server option: waitstate's listeners set their own",
  noDelay: "is a net.Server option: waitstate's listeners set their own",
  keepAlive: "is a net.Server option: waitstate's listeners set their own",
  keepAliveInitialDelay: "is a net.Server option: waitstate's listeners set their own",
};

/** The one application protocol served (RFC 7301 §3.2: the server answers with one the client offered, or refuses). */
const ALPN = ['http/1.1'];

/** One piece of TLS material, and where it was given. */
interface Piece {
  readonly value: unknown;
  readonly source: TlsSource;
}

/**
 * The options for tls.createServer, or undefined when no TLS option is given. Throws an
 * OptionError naming the option at fault; says in `warnings` when the certificate is out of date.
 */
export function resolveTls(input: TlsInput, names: TlsNames, warnings: string[]): TlsOptions | undefined {
  const { tls } = input;
  const filesGiven = input.files.key !== '' || input.files.cert !== '' || input.files.ca !== '' || input.passphrase !== '';
  if (tls === undefined && !filesGiven) return undefined;
  for (const key of Object.keys(tls ?? {})) {
    if (Object.hasOwn(REFUSED, key)) throw names.refuse({ key }, REFUSED[key]!);
  }
  const timeout: unknown = tls?.handshakeTimeout;
  // node:tls takes 0 for its own default and a negative number for none: a handshake is never left unbounded here.
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0)) {
    throw names.refuse({ key: 'handshakeTimeout' }, `must be a number of milliseconds above 0 (got ${JSON.stringify(timeout)})`);
  }
  const key = piece(input, names, 'key');
  const cert = piece(input, names, 'cert');
  const ca = piece(input, names, 'ca');
  const passphrase = piece(input, names, 'passphrase');
  checkPresence(tls, { key, cert, ca, passphrase }, names);
  if (ca !== undefined) checkCertificates(ca, 'ca', names);
  if (cert !== undefined) {
    checkCertificates(cert, 'cert', names);
    warnIfOutOfDate(cert, names, warnings);
  }
  if (key !== undefined) checkKey(key, passphrase, names);
  if (tls?.pfx !== undefined) checkPfx(tls, passphrase, names);
  const options: TlsOptions = {
    ...tls,
    ...(key && { key: key.value as TlsOptions['key'] }),
    ...(cert && { cert: cert.value as TlsOptions['cert'] }),
    ...(ca && { ca: ca.value as TlsOptions['ca'] }),
    ...(passphrase && { passphrase: passphrase.value as string }),
    ALPNProtocols: ALPN,
    handshakeTimeout: tls?.handshakeTimeout ?? input.handshakeTimeoutMs,
  };
  // Node's default too, unless started with --tls-min-v1.0: TLS 1.0 and 1.1 are deprecated (RFC 8996).
  if (tls?.minVersion === undefined && tls?.secureProtocol === undefined) options.minVersion = 'TLSv1.2';
  checkTogether(options, key, cert, names);
  return options;
}

/** A field from its file option (read) or from `tls`; given both ways, refused. */
function piece(input: TlsInput, names: TlsNames, field: TlsField): Piece | undefined {
  const inTls = input.tls?.[field];
  const path = field === 'passphrase' ? '' : input.files[field];
  const fileGiven = field === 'passphrase' ? input.passphrase !== '' : path !== '';
  if (fileGiven && inTls !== undefined) {
    throw names.refuse({ file: field }, `cannot be combined with ${names.name({ key: field })}: give one`);
  }
  if (!fileGiven) return inTls === undefined ? undefined : { value: inTls, source: { key: field } };
  if (field === 'passphrase') return { value: input.passphrase, source: { file: field } };
  try {
    return { value: readFileSync(path), source: { file: field } };
  } catch (error) {
    throw names.refuse({ file: field }, `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** A key needs its certificate and the other way round (or a pfx holding both); CAs and a passphrase need them. */
function checkPresence(
  tls: TlsOption | undefined,
  { key, cert, ca, passphrase }: Record<TlsField, Piece | undefined>,
  names: TlsNames,
): void {
  // The counterpart is named the way its partner was given: --keyfile for --certfile, tls.key for tls.cert.
  const partner = (given: Piece, field: TlsField): TlsSource => ('file' in given.source ? { file: field } : { key: field });
  if (cert !== undefined && key === undefined)
    throw names.refuse(cert.source, `needs its private key: ${names.name(partner(cert, 'key'))}`);
  if (key !== undefined && cert === undefined) throw names.refuse(key.source, `needs its certificate: ${names.name(partner(key, 'cert'))}`);
  if (key !== undefined || tls?.pfx !== undefined || tls?.SNICallback !== undefined) return;
  const lone = ca ?? passphrase;
  if (lone !== undefined) {
    const [certificate, itsKey] = [names.name(partner(lone, 'cert')), names.name(partner(lone, 'key'))];
    throw names.refuse(lone.source, `has no meaning without a certificate and its key (${certificate} and ${itsKey})`);
  }
  throw names.refuse(
    { key: '' },
    `needs a certificate and its key: ${names.name({ key: 'cert' })} and ${names.name({ key: 'key' })}, or pfx`,
  );
}

/** Each PEM text of a certificate or CA piece holds a certificate, and OpenSSL reads them all. */
function checkCertificates(given: Piece, field: 'cert' | 'ca', names: TlsNames): void {
  for (const text of pemTexts(given.value)) {
    if (!text.includes('-----BEGIN CERTIFICATE-----'))
      throw names.refuse(given.source, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
  try {
    createSecureContext({ [field]: given.value });
  } catch (error) {
    throw names.refuse(given.source, `is not a certificate OpenSSL can read (${reasonOf(error)})`);
  }
}

/** The texts of a PEM value: a string, a Buffer, or a list of those (a key's list may hold { pem } objects, left to checkTogether). */
function pemTexts(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((item: unknown) => (typeof item === 'string' ? [item] : Buffer.isBuffer(item) ? [item.toString('latin1')] : []));
}

/** A private key that OpenSSL reads, decrypted by its passphrase when it is encrypted. */
function checkKey(key: Piece, passphrase: Piece | undefined, names: TlsNames): void {
  const texts = pemTexts(key.value);
  for (const text of texts) {
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text))
      throw names.refuse(key.source, 'holds no PEM private key (-----BEGIN PRIVATE KEY-----)');
  }
  if (texts.length !== 1) return; // a list of keys, or { pem, passphrase } objects: tried together with the rest
  const encrypted = texts[0]!.includes('ENCRYPTED');
  try {
    createSecureContext({ key: key.value as string, passphrase: passphrase?.value as string | undefined });
  } catch (error) {
    const passphraseOf: TlsSource = 'file' in key.source ? { file: 'passphrase' } : { key: 'passphrase' };
    if (encrypted && passphrase === undefined)
      throw names.refuse(key.source, `is encrypted: give its passphrase in ${names.name(passphraseOf)}`);
    if (encrypted) throw names.refuse(passphrase!.source, `does not decrypt ${names.name(key.source)} (${reasonOf(error)})`);
    throw names.refuse(key.source, `is not a private key OpenSSL can read (${reasonOf(error)})`);
  }
}

/** A PKCS#12 bundle that opens, with its passphrase when it has one. */
function checkPfx(tls: TlsOption, passphrase: Piece | undefined, names: TlsNames): void {
  try {
    createSecureContext({ pfx: tls.pfx, passphrase: passphrase?.value as string | undefined });
  } catch (error) {
    const reason = reasonOf(error);
    if (/mac verify failure/.test(reason)) {
      if (passphrase === undefined)
        throw names.refuse({ key: 'pfx' }, `is protected: give its passphrase in ${names.name({ key: 'passphrase' })}`);
      throw names.refuse(passphrase.source, `does not open ${names.name({ key: 'pfx' })} (${reason})`);
    }
    throw names.refuse({ key: 'pfx' }, `is not a PKCS#12 bundle OpenSSL can read (${reason})`);
  }
}

/** Everything at once, as the server will take it: a key that does not match its certificate, a bad cipher list, a wrong type. */
function checkTogether(options: TlsOptions, key: Piece | undefined, cert: Piece | undefined, names: TlsNames): void {
  try {
    createServer(options);
  } catch (error) {
    const reason = reasonOf(error);
    if (key !== undefined && cert !== undefined && /key values mismatch/.test(reason)) {
      throw names.refuse(key.source, `does not belong to the certificate in ${names.name(cert.source)} (${reason})`);
    }
    throw names.refuse({ key: '' }, `tls.createServer refuses it: ${reason}`);
  }
}

/** A certificate that has expired, or is not valid yet, is said at start-up: clients will refuse it. */
function warnIfOutOfDate(cert: Piece, names: TlsNames, warnings: string[]): void {
  const [first] = pemTexts(cert.value);
  if (first === undefined) return;
  const { validFrom, validTo } = new X509Certificate(first);
  const now = Date.now();
  if (Date.parse(validTo) < now)
    warnings.push(`waitstate: the certificate in ${names.name(cert.source)} expired on ${validTo}: clients will refuse it`);
  else if (Date.parse(validFrom) > now)
    warnings.push(`waitstate: the certificate in ${names.name(cert.source)} is not valid before ${validFrom}: clients will refuse it`);
}

/** OpenSSL's reason (`key values mismatch`), or the message of an error Node raised itself. */
function reasonOf(error: unknown): string {
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string') return reason;
  return error instanceof Error ? error.message.split('\n')[0]! : String(error);
}

/** A `tls` value as JSON carries it to another process: each Buffer as { base64 }. Functions cannot cross. */
export function tlsToJson(value: unknown, at: string, refuse: (at: string) => Error): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  if (typeof value === 'function') throw refuse(at);
  if (Array.isArray(value)) return value.map((item: unknown, i) => tlsToJson(item, `${at}[${i}]`, refuse));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tlsToJson(v, `${at}.${k}`, refuse)]));
  }
  return value;
}

/** The `tls` value tlsToJson made, with its Buffers back. */
export function tlsFromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(tlsFromJson);
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === 'base64' && typeof entries[0]![1] === 'string')
      return Buffer.from(entries[0]![1], 'base64');
    return Object.fromEntries(entries.map(([k, v]) => [k, tlsFromJson(v)]));
  }
  return value;
}
