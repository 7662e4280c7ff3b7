/**
 * A Plex account's world on loopback: a plex.tv stand-in listing two servers, and the Plex
 * simulators behind their addresses. "Living room" (owned) answers at a LAN https address
 * with its plex.direct certificate (signed by a CA made for the run), at a LAN http address,
 * and not at all at a third; "Friend's server" is shared with the account and has a token of
 * its own.
 */
import type { PlexSimulator, PlexTvSimulator } from '../../simulator';
import { closedPort } from './ports';
import { startPlexTv, startSimulator } from './simulator';
import { plexDirectCertificate, type PlexDirectCertificate } from './tls';

export const ACCOUNT_TOKEN = 'world-Account-Tok3n-7e1f';
export const SHARED_TOKEN = 'world-Shared-Tok3n-22c9';
export const HOME_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
/** The hash of Living room's plex.direct names: 32 hex digits, unrelated to its identifier. */
export const HOME_HASH = '9cc05cc3c9c14a059b2a0222e067e786';
export const FRIEND_ID = 'f9e8d7c6b5a40312';

export interface PlexWorld {
  plexTv: PlexTvSimulator;
  /** Living room over http on the LAN. */
  home: PlexSimulator;
  /** Living room over https with its plex.direct certificate. */
  homeSecure: PlexSimulator;
  friend: PlexSimulator;
  certificate: PlexDirectCertificate;
  /** The plex.direct URL of the https address: `https://127-0-0-1.<hash>.plex.direct:<port>`. */
  plexDirectUrl: string;
  stop(): Promise<void>;
}

export async function startPlexWorld(): Promise<PlexWorld> {
  const certificate = plexDirectCertificate(HOME_HASH);
  const taskDurationMs = 400;
  const home = await startSimulator({
    token: ACCOUNT_TOKEN,
    machineIdentifier: HOME_ID,
    taskDurationMs,
  });
  const homeSecure = await startSimulator({
    token: ACCOUNT_TOKEN,
    machineIdentifier: HOME_ID,
    taskDurationMs,
    tls: { key: certificate.key, cert: certificate.cert },
  });
  const friend = await startSimulator({ token: SHARED_TOKEN, machineIdentifier: FRIEND_ID });
  const port = (sim: PlexSimulator): number => Number(new URL(sim.url).port);
  const dead = await closedPort();
  const plexDirectUrl = `https://127-0-0-1.${HOME_HASH}.plex.direct:${port(homeSecure)}`;
  const plexTv = await startPlexTv({
    account: {
      id: 4242,
      username: 'world-owner',
      title: 'World Owner',
      email: 'owner@example.com',
      token: ACCOUNT_TOKEN,
    },
    servers: [
      {
        name: 'Living room',
        machineIdentifier: HOME_ID,
        owned: true,
        online: true,
        accessToken: ACCOUNT_TOKEN,
        gdmPort: port(home),
        connections: [
          {
            protocol: 'http',
            address: '127.0.0.1',
            port: dead,
            uri: `http://127.0.0.1:${dead}`,
            local: false,
            relay: false,
          },
          {
            protocol: 'http',
            address: '127.0.0.1',
            port: port(home),
            uri: home.url,
            local: true,
            relay: false,
          },
          {
            protocol: 'https',
            address: '127.0.0.1',
            port: port(homeSecure),
            uri: plexDirectUrl,
            local: true,
            relay: false,
          },
        ],
      },
      {
        name: "Friend's server",
        machineIdentifier: FRIEND_ID,
        owned: false,
        online: true,
        accessToken: SHARED_TOKEN,
        connections: [
          // The friend's LAN is not ours: a client must not try it.
          {
            protocol: 'http',
            address: '127.0.0.1',
            port: port(home),
            uri: home.url,
            local: true,
            relay: false,
          },
          {
            protocol: 'http',
            address: '127.0.0.1',
            port: port(friend),
            uri: friend.url,
            local: false,
            relay: false,
          },
        ],
      },
    ],
  });
  return {
    plexTv,
    home,
    homeSecure,
    friend,
    certificate,
    plexDirectUrl,
    async stop() {
      await Promise.all([plexTv.stop(), home.stop(), homeSecure.stop(), friend.stop()]);
    },
  };
}
