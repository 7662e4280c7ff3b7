/**
 * Connecting without hunting for a token: sign-in with a PIN at a plex.tv stand-in, the
 * account's servers and the address that reaches each, GDM discovery on loopback, and the
 * plex.direct certificate accepted for the server it belongs to and for no other.
 */
import { strict as assert } from 'node:assert';
import { rootCertificates } from 'node:tls';
import {
  ActivityWatcher,
  ButlerClient,
  PlexTvClient,
  discoverServers,
  locateServer,
  plexDirectAddress,
  plexDirectHashOf,
  plexDirectHashOfServer,
  rankConnections,
  resolveClientOptions,
  type PlexConnection,
  type PlexServerResource,
} from '../../lib';
import { rejectsWithCode } from '../support/errors';
import {
  ACCOUNT_TOKEN,
  FRIEND_ID,
  HOME_HASH,
  HOME_ID,
  SHARED_TOKEN,
  startPlexWorld,
  type PlexWorld,
} from '../support/plex-world';
import { closedPort } from '../support/ports';
import { startSimulator } from '../support/simulator';
import { plexDirectCertificate } from '../support/tls';
import { waitUntil } from '../support/wait';

const CLIENT_ID = 'plextv-test-client-0001';

describe('plex.tv: sign-in, servers, discovery, plex.direct', function () {
  this.timeout(20_000);
  let world: PlexWorld;
  let plexTv: PlexTvClient;

  before(async () => {
    world = await startPlexWorld();
  });
  after(async () => {
    await world.stop();
  });
  beforeEach(() => {
    plexTv = new PlexTvClient({
      clientIdentifier: CLIENT_ID,
      plexTvUrl: world.plexTv.url,
      appUrl: world.plexTv.appUrl,
    });
  });
  afterEach(() => plexTv.close());

  describe('PIN sign-in', () => {
    it('a strong PIN, the approval page address, no token until approved, then the token', async () => {
      const pin = await plexTv.createPin();
      assert.match(pin.code, /^[a-z0-9]{25}$/);
      assert.ok(pin.expiresAt > Date.now() + 800_000, 'a strong PIN lives 15 minutes');
      const url = new URL(plexTv.authUrl(pin));
      assert.equal(`${url.origin}${url.pathname}`, world.plexTv.appUrl);
      const fragment = new URLSearchParams(url.hash.replace(/^#\?/, ''));
      assert.equal(fragment.get('clientID'), CLIENT_ID);
      assert.equal(fragment.get('code'), pin.code);
      assert.equal(fragment.get('context[device][product]'), 'node-red-plex-butler');
      assert.equal((await plexTv.checkPin(pin.id)).authToken, undefined);
      assert.ok(world.plexTv.approve(pin.code));
      assert.equal((await plexTv.checkPin(pin.id)).authToken, ACCOUNT_TOKEN);
    });

    it('a refused sign-in: plex.tv drops the PIN and checking it says not-found', async () => {
      const pin = await plexTv.createPin();
      world.plexTv.deny(pin.code);
      await rejectsWithCode(plexTv.checkPin(pin.id), 'not-found');
    });

    it('a PIN is only found with the client identifier that made it', async () => {
      const pin = await plexTv.createPin();
      const other = new PlexTvClient({
        clientIdentifier: 'someone-else',
        plexTvUrl: world.plexTv.url,
      });
      try {
        await rejectsWithCode(other.checkPin(pin.id), 'not-found');
      } finally {
        other.close();
      }
    });

    it('the account of a token, and plex.tv words for a rejected one', async () => {
      const account = await plexTv.account(ACCOUNT_TOKEN);
      assert.equal(account.username, 'world-owner');
      const error = await rejectsWithCode(plexTv.account('not-a-token'), 'unauthorized');
      assert.match(error.message, /plex\.tv refused the token \(401\): sign in with Plex again/);
      assert.doesNotMatch(error.message, /not-a-token/);
    });
  });

  describe("the account's servers", () => {
    let servers: PlexServerResource[];
    beforeEach(async () => {
      servers = await plexTv.servers(ACCOUNT_TOKEN);
    });

    it('lists servers with owner, presence, token and addresses', () => {
      assert.deepEqual(
        servers.map((server) => [
          server.name,
          server.machineIdentifier,
          server.owned,
          server.online,
        ]),
        [
          ['Living room', HOME_ID, true, true],
          ["Friend's server", FRIEND_ID, false, true],
        ],
      );
      assert.equal(servers[1].accessToken, SHARED_TOKEN);
      assert.equal(servers[0].connections.length, 3);
    });

    it('a server plex.tv reports switched off (presence false) is listed offline, beside online ones', async () => {
      const listed = world.plexTv.serverList;
      const dead = await closedPort();
      world.plexTv.setServers([
        ...listed,
        {
          name: 'Cellar',
          machineIdentifier: 'c3114a0ff0ff0ff0ff0ff0ff0ff0ff0ff0ff0ff0',
          owned: true,
          online: false,
          accessToken: ACCOUNT_TOKEN,
          connections: [
            {
              protocol: 'http',
              address: '127.0.0.1',
              port: dead,
              uri: `http://127.0.0.1:${dead}`,
              local: true,
              relay: false,
            },
          ],
        },
      ]);
      try {
        assert.deepEqual(
          (await plexTv.servers(ACCOUNT_TOKEN)).map((server) => [server.name, server.online]),
          [
            ['Living room', true],
            ["Friend's server", true],
            ['Cellar', false],
          ],
        );
      } finally {
        world.plexTv.setServers([...listed]);
      }
    });

    it("prefers local over remote and https over http; skips a shared server's LAN", () => {
      assert.deepEqual(
        rankConnections(servers[0]).map((connection) => connection.uri),
        [world.plexDirectUrl, world.home.url, servers[0].connections[0].uri],
      );
      assert.deepEqual(
        rankConnections(servers[1]).map((connection) => connection.uri),
        [world.friend.url],
      );
    });

    it('ranks local, then remote, then relay, https before http in each; secure-only servers lose http', () => {
      const at = (uri: string, local: boolean, relay: boolean): PlexConnection => {
        const url = new URL(uri);
        return {
          protocol: url.protocol.slice(0, -1),
          address: url.hostname,
          port: Number(url.port),
          uri,
          local,
          relay,
          ipv6: false,
        };
      };
      const server: PlexServerResource = {
        name: 'Ranked',
        machineIdentifier: 'r'.repeat(40),
        owned: true,
        online: true,
        httpsRequired: false,
        // Listed worst first, so that the order is the ranking's own.
        connections: [
          at('http://relay.example:8080', false, true),
          at('https://relay.example:8443', false, true),
          at('http://203.0.113.5:32400', false, false),
          at('https://203.0.113.5:32400', false, false),
          at('http://192.168.1.10:32400', true, false),
          at('https://192.168.1.10:32400', true, false),
        ],
      };
      const ranked = (resource: PlexServerResource): string[] =>
        rankConnections(resource).map((connection) => connection.uri);
      assert.deepEqual(ranked(server), [
        'https://192.168.1.10:32400',
        'http://192.168.1.10:32400',
        'https://203.0.113.5:32400',
        'http://203.0.113.5:32400',
        'https://relay.example:8443',
        'http://relay.example:8080',
      ]);
      assert.deepEqual(ranked({ ...server, httpsRequired: true }), [
        'https://192.168.1.10:32400',
        'https://203.0.113.5:32400',
        'https://relay.example:8443',
      ]);
      assert.deepEqual(ranked({ ...server, owned: false }), [
        'https://203.0.113.5:32400',
        'http://203.0.113.5:32400',
        'https://relay.example:8443',
        'http://relay.example:8080',
      ]);
    });

    it('takes the https plex.direct address when its certificate is trusted, without DNS', async () => {
      assert.equal(plexDirectAddress(new URL(world.plexDirectUrl).hostname), '127.0.0.1');
      const found = await locateServer(servers[0], {
        clientIdentifier: CLIENT_ID,
        tls: { ca: world.certificate.ca },
      });
      assert.equal(found.url, world.plexDirectUrl);
      const tokens = world.homeSecure.exchanges.map((exchange) => exchange.headers['x-plex-token']);
      assert.deepEqual(tokens.filter(Boolean), [], 'the identity is read without a token');
    });

    it('falls back to the next address that answers as that server', async () => {
      // Without the CA the https address fails its certificate check: http on the LAN is next.
      const found = await locateServer(servers[0], { clientIdentifier: CLIENT_ID });
      assert.equal(found.url, world.home.url);
    });

    it('never takes an address where another server answers', async () => {
      const impostor: PlexServerResource = {
        ...servers[1],
        owned: true,
        connections: [{ ...servers[0].connections[1], local: true }],
      };
      await rejectsWithCode(
        locateServer(impostor, { clientIdentifier: CLIENT_ID }),
        'host-unreachable',
      );
    });
  });

  describe('GDM discovery', () => {
    it('finds the servers that answer the search, once each', async () => {
      const found = await discoverServers({ address: world.plexTv.gdmAddress, timeoutMs: 300 });
      assert.deepEqual(found, [
        {
          name: 'Living room',
          machineIdentifier: HOME_ID,
          version: '1.41.3.9314-a0bfb8370',
          host: '127.0.0.1',
          port: Number(new URL(world.home.url).port),
          url: world.home.url,
        },
      ]);
      assert.ok(world.plexTv.stats.gdmSearches >= 1);
    });

    it('refuses an address that is not ip:port', async () => {
      await assert.rejects(discoverServers({ address: 'plex.local' }), /ip:port/);
    });
  });

  describe('the plex.direct certificate of a server reached by its LAN address', () => {
    const lanUrl = (): string => world.homeSecure.url;

    it('verified as always: refused by name, as before', async () => {
      const strict = new ButlerClient({
        url: lanUrl(),
        token: ACCOUNT_TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { ca: world.certificate.ca },
        retry: { retries: 0 },
      });
      try {
        await rejectsWithCode(strict.listTasks(), 'tls-error');
      } finally {
        strict.close();
      }
    });

    it("the hash of a server's plex.direct names comes from its addresses, not its identifier", async () => {
      assert.equal(plexDirectHashOf(world.plexDirectUrl), HOME_HASH);
      assert.equal(plexDirectHashOf(`127-0-0-1.${HOME_HASH.toUpperCase()}.plex.direct`), HOME_HASH);
      assert.equal(plexDirectHashOf('https://192.168.1.10:32400'), undefined);
      assert.equal(plexDirectHashOf(`999-0-0-1.${HOME_HASH}.plex.direct`), undefined);
      const [home, friend] = await plexTv.servers(ACCOUNT_TOKEN);
      assert.equal(plexDirectHashOfServer(home), HOME_HASH);
      assert.notEqual(HOME_HASH, HOME_ID.slice(0, 32));
      assert.equal(plexDirectHashOfServer(friend), undefined);
    });

    it("accepted as the server's own by the hash of its names; the token goes with the first request", async () => {
      world.homeSecure.resetStats();
      const client = new ButlerClient({
        url: lanUrl(),
        token: ACCOUNT_TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { ca: world.certificate.ca, plexDirect: true, plexDirectHash: HOME_HASH },
        retry: { retries: 0 },
      });
      try {
        assert.equal((await client.listTasks()).length, 22);
        assert.deepEqual(
          world.homeSecure.exchanges.map((exchange) => exchange.path),
          ['/butler'],
        );
      } finally {
        client.close();
      }
    });

    it("refused for another server's plex.direct certificate, and the token never goes", async () => {
      const other = plexDirectCertificate('0000000000000000000000000000dead');
      const impostor = await startSimulator({
        token: ACCOUNT_TOKEN,
        tls: { key: other.key, cert: other.cert },
      });
      // Its chain is as valid as the real one's: only the name tells them apart.
      const client = new ButlerClient({
        url: impostor.url,
        token: ACCOUNT_TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { ca: [other.ca, world.certificate.ca], plexDirect: true, plexDirectHash: HOME_HASH },
        retry: { retries: 0 },
      });
      try {
        const error = await rejectsWithCode(client.listTasks(), 'tls-error');
        assert.match(error.message, /not a plex\.direct certificate of the server chosen/);
        assert.deepEqual(impostor.exchanges, []);
      } finally {
        client.close();
        await impostor.stop();
      }
    });

    it('without the hash the client refuses to start, before any request', () => {
      for (const plexDirectHash of [undefined, '', '  ']) {
        assert.throws(
          () =>
            new ButlerClient({
              url: lanUrl(),
              token: ACCOUNT_TOKEN,
              clientIdentifier: CLIENT_ID,
              tls: { ca: world.certificate.ca, plexDirect: true, plexDirectHash },
            }),
          (error: { code?: string; message?: string }) =>
            error.code === 'invalid-config' &&
            /needs the server's plex\.direct name/.test(error.message ?? ''),
        );
      }
      assert.throws(
        () =>
          resolveClientOptions({
            url: lanUrl(),
            token: 't',
            clientIdentifier: 'c',
            tls: { plexDirect: true, plexDirectHash: 'a.b' },
          }),
        /malformed/,
      );
      // An http address has no certificate to check: the mode is left unused, not an error.
      assert.equal(
        resolveClientOptions({
          url: world.home.url,
          token: 't',
          clientIdentifier: 'c',
          tls: { plexDirect: true },
        }).plexDirect,
        undefined,
      );
    });

    it('verification cannot be turned off in plex-direct mode', async () => {
      const settings = resolveClientOptions({
        url: lanUrl(),
        token: 't',
        clientIdentifier: 'c',
        tls: { verify: false, plexDirect: true, plexDirectHash: HOME_HASH },
      });
      assert.equal(settings.tlsOptions.rejectUnauthorized, true);
      // Without the run's CA the chain is not trusted: refused, verify: false or not.
      const client = new ButlerClient({
        url: lanUrl(),
        token: ACCOUNT_TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { verify: false, plexDirect: true, plexDirectHash: HOME_HASH },
        retry: { retries: 0 },
      });
      try {
        await rejectsWithCode(client.listTasks(), 'tls-error');
      } finally {
        client.close();
      }
    });

    it('the notification socket too', async () => {
      const watcher = new ActivityWatcher(
        {
          url: lanUrl(),
          token: ACCOUNT_TOKEN,
          clientIdentifier: CLIENT_ID,
          tls: { ca: world.certificate.ca, plexDirect: true, plexDirectHash: HOME_HASH },
        },
        { reconnectInitialMs: 50 },
      );
      try {
        watcher.start();
        await waitUntil(() => watcher.status.state === 'connected', 5000, 'connected');
      } finally {
        watcher.close();
      }
    });

    it("a CA is trusted on top of the system's roots, not instead of them", () => {
      const settings = resolveClientOptions({
        url: lanUrl(),
        token: 't',
        clientIdentifier: 'c',
        tls: { ca: world.certificate.ca },
      });
      const ca = settings.tlsOptions.ca as string[];
      assert.equal(ca.length, rootCertificates.length + 1);
      assert.ok(ca.includes(world.certificate.ca));
      assert.equal(
        resolveClientOptions({ url: lanUrl(), token: 't', clientIdentifier: 'c' }).tlsOptions.ca,
        undefined,
      );
    });
  });
});
