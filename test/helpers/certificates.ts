// test/helpers/certificates.ts: self-signed certificates made by openssl for the test that asks,
// valid for a day. The test finds openssl itself (test/helpers/tools.ts) and skips without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Certificate {
  readonly certPath: string;
  readonly keyPath: string;
  /** The PEM texts of the files. */
  readonly cert: string;
  readonly key: string;
}

/**
 * `name`.pem and `name`-key.pem in `dir`, for the subject `/CN=cn` and each of `altNames`
 * (`DNS:localhost`, `IP:127.0.0.1`); the key encrypted with `passphrase` when one is given.
 */
export function selfSignedCertificate(
  openssl: string,
  dir: string,
  name: string,
  options: { cn: string; altNames?: readonly string[]; passphrase?: string },
): Certificate {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}-key.pem`);
  const altNames = options.altNames === undefined ? [] : ['-addext', `subjectAltName=${options.altNames.join(',')}`];
  const keyProtection = options.passphrase === undefined ? ['-nodes'] : ['-passout', `pass:${options.passphrase}`];
  execFileSync(
    openssl,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      ...keyProtection,
      '-days',
      '1',
      '-subj',
      `/CN=${options.cn}`,
      ...altNames,
      '-keyout',
      keyPath,
      '-out',
      certPath,
    ],
    { stdio: 'ignore' },
  );
  return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}
