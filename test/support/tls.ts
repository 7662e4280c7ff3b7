import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificate {
  key: string;
  cert: string;
}

let cached: TestCertificate | undefined;

/**
 * A self-signed certificate for the name localhost only (not 127.0.0.1), made once per run with
 * openssl: reaching it by IP address is a name mismatch, like a plex.direct certificate on a LAN IP.
 */
export function selfSignedCertificate(): TestCertificate {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'plex-butler-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cached = {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
  };
  return cached;
}

export interface PlexDirectCertificate extends TestCertificate {
  /** The CA (PEM) that signed it, made for this run: trust it to accept the certificate. */
  ca: string;
}

const plexDirect = new Map<string, PlexDirectCertificate>();

/**
 * A certificate for `*.<hash>.plex.direct`, as Plex gives a server (the hash is not its machine
 * identifier), signed by a CA made for this run (standing for the public CA that signs the
 * real ones).
 */
export function plexDirectCertificate(hash: string): PlexDirectCertificate {
  const known = plexDirect.get(hash);
  if (known) return known;
  const dir = mkdtempSync(join(tmpdir(), 'plex-butler-pd-'));
  const file = (name: string): string => join(dir, name);
  const run = (args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  run([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Test Plex CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  ]);
  run([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    `/CN=*.${hash}.plex.direct`,
    '-keyout',
    file('key.pem'),
    '-out',
    file('server.csr'),
  ]);
  writeFileSync(file('ext.cnf'), `subjectAltName=DNS:*.${hash}.plex.direct\n`);
  run([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    file('ext.cnf'),
    '-out',
    file('cert.pem'),
  ]);
  const made = {
    ca: readFileSync(file('ca.pem'), 'utf8'),
    key: readFileSync(file('key.pem'), 'utf8'),
    cert: readFileSync(file('cert.pem'), 'utf8'),
  };
  plexDirect.set(hash, made);
  return made;
}
