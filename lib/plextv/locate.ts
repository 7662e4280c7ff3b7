/**
 * Which of a server's addresses to use: plex.tv lists several (LAN, public, relay; http and
 * https). All are tried at once; the best that answers as that very server wins.
 */
import { ButlerError } from '../failures/errors';
import { probeIdentity } from '../butler/identity';
import { message } from '../messages';
import { plexDirectHashOf } from './plexdirect';
import type { TlsOptions } from '../butler/client-options';
import type { PlexConnection, PlexServerResource } from './plextv';
import { socketAddressOf } from '../butler/transport';

export interface LocateOptions {
  clientIdentifier: string;
  /** Per address; default 5000. */
  timeoutMs?: number;
  /** Extra CA, client certificate: as for the server itself. */
  tls?: TlsOptions;
  signal?: AbortSignal;
}

export interface LocatedServer {
  url: string;
  connection: PlexConnection;
}

/**
 * The addresses in the order they are preferred: local, then remote, then relay, and https
 * before http within each. A server shared with the account is not reached by its LAN
 * addresses (they are the owner's LAN, not ours).
 */
export function rankConnections(server: PlexServerResource): PlexConnection[] {
  const rank = (connection: PlexConnection): number =>
    (connection.relay ? 4 : connection.local ? 0 : 2) + (connection.protocol === 'https' ? 0 : 1);
  return usableConnections(server)
    .map((connection, index) => ({ connection, index }))
    .sort((a, b) => rank(a.connection) - rank(b.connection) || a.index - b.index)
    .map(({ connection }) => connection);
}

/**
 * The addresses this account may use: not the LAN addresses of a server shared with it, and
 * https only when the server requires secure connections.
 */
export function usableConnections(server: PlexServerResource): PlexConnection[] {
  return server.connections
    .filter((connection) => server.owned || !connection.local)
    .filter((connection) => !server.httpsRequired || connection.protocol === 'https');
}

/**
 * The `<hash>` of a server's plex.direct names, as plex.tv lists its addresses now: what its
 * certificate must name when it is reached by a bare LAN address.
 */
export function plexDirectHashOfServer(server: PlexServerResource): string | undefined {
  for (const connection of server.connections) {
    const hash = plexDirectHashOf(connection.uri);
    if (hash !== undefined) return hash;
  }
  return undefined;
}

/**
 * Whether plex.tv lists the host and port of `url` among the server's connections, by address
 * and port or by the host of the connection's uri (a plex.direct name).
 */
export function listsAddress(server: PlexServerResource, url: string): boolean {
  return listedConnection(server.connections, url) !== undefined;
}

/** The first of `connections` at the host and port of `url` (see listsAddress). */
export function listedConnection(
  connections: readonly PlexConnection[],
  url: string,
): PlexConnection | undefined {
  const hostAndPort = (address: URL): string => {
    const { hostname, port } = socketAddressOf(address);
    return `${hostname}:${port}`;
  };
  const wanted = hostAndPort(new URL(url));
  return connections.find((connection) => {
    const listed = [`${connection.address.toLowerCase()}:${connection.port}`];
    try {
      listed.push(hostAndPort(new URL(connection.uri)));
    } catch {
      // A connection without a usable uri is matched by its address alone.
    }
    return listed.includes(wanted);
  });
}

/**
 * Tries every address at once (GET /identity, no token); resolves with the most preferred one
 * whose answer names the server's machine identifier, as soon as no better one can still win.
 */
export function locateServer(
  server: PlexServerResource,
  options: LocateOptions,
): Promise<LocatedServer> {
  const candidates = rankConnections(server);
  return new Promise((resolve, reject) => {
    if (candidates.length === 0) {
      reject(noConnection(server));
      return;
    }
    const outcome: Array<'pending' | 'failed' | 'found'> = candidates.map(() => 'pending');
    let settled = false;
    const decide = (): void => {
      if (settled) return;
      for (let index = 0; index < candidates.length; index++) {
        if (outcome[index] === 'pending') return;
        if (outcome[index] === 'found') {
          settled = true;
          resolve({
            url: candidates[index].uri.replace(/\/+$/, ''),
            connection: candidates[index],
          });
          return;
        }
      }
      settled = true;
      reject(noConnection(server));
    };
    candidates.forEach((connection, index) => {
      probeIdentity({
        url: connection.uri,
        clientIdentifier: options.clientIdentifier,
        timeoutMs: options.timeoutMs ?? 5000,
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }).then(
        ({ identity }) => {
          outcome[index] =
            identity.machineIdentifier === server.machineIdentifier ? 'found' : 'failed';
          decide();
        },
        () => {
          outcome[index] = 'failed';
          decide();
        },
      );
    });
  });
}

function noConnection(server: PlexServerResource): ButlerError {
  return new ButlerError(
    'host-unreachable',
    message('errors.noConnection', { name: server.name, count: server.connections.length }),
    { retryable: true },
  );
}
