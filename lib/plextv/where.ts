/**
 * Where a server of the account answers: when it is picked in the editor (a LAN address found by
 * discovery, an https address typed by the user, or the best address plex.tv lists) and again
 * when it has moved (a new public IP, a renewed plex.direct certificate).
 */
import { ButlerError } from '../failures/errors';
import { probeIdentity } from '../butler/identity';
import {
  listedConnection,
  locateServer,
  plexDirectHashOfServer,
  usableConnections,
} from './locate';
import { message } from '../messages';
import { plexDirectHashOf } from './plexdirect';
import type { PlexServerResource } from './plextv';
import { normaliseBaseUrl, type TlsOptions } from '../butler/client-options';

/** https to a host that is not a plex.direct name, where the server's certificate is a mismatch. */
export function isBareHttps(url: string): boolean {
  return url.startsWith('https:') && plexDirectHashOf(url) === undefined;
}

/** A typed address, normalised, when it is an https address of the user's own. */
function typedHttpsUrl(text: string): string | undefined {
  try {
    const url = normaliseBaseUrl(text);
    return isBareHttps(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

export interface PickedAddress {
  url: string;
  local: boolean;
  relay: boolean;
}

/** How long an address may take to say who it is. */
const PROBE_TIMEOUT_MS = 5000;

/**
 * The address to use for a server of the account: the address found on the LAN (when the
 * server there says it is that server), else an https
 * address typed by the user (when plex.tv lists it and the server answers there with its own
 * certificate), else the best of the addresses plex.tv lists.
 */
export async function pickServerAddress(
  server: PlexServerResource,
  urls: { lan: string; typed: string },
  clientIdentifier: string,
  tls: TlsOptions,
): Promise<PickedAddress> {
  const hash = plexDirectHashOfServer(server);
  // A bare address over https shows the server's plex.direct certificate: checked as its own.
  const tlsAt = (url: string): TlsOptions =>
    isBareHttps(url) && hash
      ? { ...tls, verify: true, plexDirect: true, plexDirectHash: hash }
      : tls;
  const answersAs = (url: string): Promise<boolean> =>
    probeIdentity({ url, clientIdentifier, tls: tlsAt(url), timeoutMs: PROBE_TIMEOUT_MS }).then(
      ({ identity }) => identity.machineIdentifier === server.machineIdentifier,
      () => false,
    );
  if (urls.lan === '') {
    const typed = typedHttpsUrl(urls.typed);
    const listed = typed && hash ? listedConnection(usableConnections(server), typed) : undefined;
    // Both at once: a typed address that does not answer costs no extra time. The outcome is
    // held as a value, so that a failure while the typed address is asked is not an unhandled
    // rejection.
    const located = locateServer(server, { clientIdentifier, tls }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if (typed && listed && (await answersAs(typed))) {
      return { url: typed, local: listed.local, relay: listed.relay };
    }
    const outcome = await located;
    if ('error' in outcome) throw outcome.error;
    const found = outcome.value;
    return {
      url: normaliseBaseUrl(found.url),
      local: found.connection.local,
      relay: found.connection.relay,
    };
  }
  // Whether the token may go to a LAN address at all is the caller's to decide first.
  let url = normaliseBaseUrl(urls.lan);
  // GDM gives http; a server that requires secure connections answers https on the same port.
  if (server.httpsRequired && url.startsWith('http:')) url = `https:${url.slice(5)}`;
  const { identity } = await probeIdentity({
    url,
    clientIdentifier,
    tls: tlsAt(url),
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  if (identity.machineIdentifier !== server.machineIdentifier) {
    throw new ButlerError(
      'not-found',
      message('errors.unknownServer', { id: server.machineIdentifier }),
    );
  }
  return { url, local: true, relay: false };
}

/**
 * Where a server that stopped answering at `currentUrl` answers now, among the `connections`
 * the caller allows (plex.tv's list, maybe narrowed); undefined when it is still at
 * `currentUrl`. A renewed certificate comes with new plex.direct names, so a plex-direct check
 * takes the hash plex.tv lists now.
 */
export async function findMovedServer(
  listed: PlexServerResource,
  connections: PlexServerResource['connections'],
  currentUrl: string,
  clientIdentifier: string,
  tls: TlsOptions | undefined,
): Promise<{ url: string; tls: TlsOptions | undefined } | undefined> {
  const server: PlexServerResource = { ...listed, connections };
  const movedTls: TlsOptions | undefined = tls?.plexDirect
    ? { ...tls, plexDirectHash: plexDirectHashOfServer(listed) ?? tls.plexDirectHash }
    : tls;
  const found = await locateServer(server, {
    clientIdentifier,
    ...(movedTls ? { tls: movedTls } : {}),
  });
  const url = normaliseBaseUrl(found.url);
  return url === currentUrl ? undefined : { url, tls: movedTls };
}
