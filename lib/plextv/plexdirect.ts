/**
 * plex.direct: the names Plex gives a server's HTTPS addresses,
 * `<ip-with-dashes>.<hash>.plex.direct`, with a certificate for `*.<hash>.plex.direct`.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOneOptions } from 'node:dns';
import type { PeerCertificate } from 'node:tls';

const PLEX_DIRECT_NAME = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})\.([0-9a-z]+)\.plex\.direct$/i;

/**
 * The IPv4 address a plex.direct name stands for: it is written in the name. Read from there,
 * it needs no DNS, which also spares routers whose DNS-rebinding protection refuses to resolve
 * plex.direct names to LAN addresses (a common reason such URLs "do not work at home").
 */
export function plexDirectAddress(hostname: string): string | undefined {
  const match = PLEX_DIRECT_NAME.exec(hostname);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  return octets.every((octet) => octet <= 255) ? octets.join('.') : undefined;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for sockets: plex.direct names from the name itself, all others from DNS. */
export function plexDirectLookup(
  hostname: string,
  options: LookupOneOptions & { all?: boolean },
  callback: LookupCallback,
): void {
  const address = plexDirectAddress(hostname);
  if (address === undefined) {
    dnsLookup(hostname, options, callback as never);
    return;
  }
  if (options.all) callback(null, [{ address, family: 4 }]);
  else callback(null, address, 4);
}

/** The DNS names a certificate is for (its subjectAltName entries), in lower case. */
export function certificateNames(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
}

/**
 * The `<hash>` of a plex.direct name or URL, in lower case: it is not the machine identifier,
 * and it changes when Plex renews the server's certificate.
 */
export function plexDirectHashOf(hostnameOrUrl: string): string | undefined {
  let hostname = hostnameOrUrl;
  try {
    hostname = new URL(hostnameOrUrl).hostname;
  } catch {
    // a host name already
  }
  const match = PLEX_DIRECT_NAME.exec(hostname);
  return match && plexDirectAddress(hostname) !== undefined ? match[5].toLowerCase() : undefined;
}

/** Whether a certificate is a plex.direct certificate for names with this hash. */
export function isPlexDirectCertificateOf(cert: PeerCertificate, hash: string): boolean {
  const suffix = `.${hash.toLowerCase()}.plex.direct`;
  return certificateNames(cert).some(
    (name) => name === `*${suffix}` || (name.endsWith(suffix) && !name.includes('*')),
  );
}

/**
 * checkServerIdentity for a server reached by its LAN address: the chain is verified as
 * always; the name must be one of the server's own plex.direct names, whatever address was
 * dialled.
 */
export function plexDirectIdentityCheck(
  hash: string,
): (host: string, cert: PeerCertificate) => Error | undefined {
  return (_host, cert) => {
    if (isPlexDirectCertificateOf(cert, hash)) return undefined;
    return Object.assign(new Error('not the plex.direct certificate of this server'), {
      code: 'ERR_PLEX_DIRECT_CERT',
    });
  };
}
