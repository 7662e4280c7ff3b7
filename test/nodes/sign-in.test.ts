/**
 * The server config's editor routes for connecting without a token by hand, in a Node-RED
 * runtime against the plex.tv stand-in: sign-in (approved, refused, expired, cancelled, tab
 * closed), the account's servers, choosing one (its token kept on the runtime side only),
 * discovery; and, deployed, the TLS modes, a tls-config node, and a server that moved.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
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
import { flatAnswer } from '../support/editor-answer';
import { startSimulator } from '../support/simulator';
import {
  TEST_USER_DIR,
  helper,
  lastStatus,
  loadFlow,
  nextMessage,
  type FlowNode,
} from '../support/node-red-helper';

/** Asks again until `done` holds for the answer, or fails after `ms`. */
async function askUntil(
  ask: () => Promise<Answer>,
  done: (answer: Answer) => boolean,
  ms = 5000,
): Promise<Answer> {
  const until = Date.now() + ms;
  for (;;) {
    const answer = await ask();
    if (done(answer)) return answer;
    if (Date.now() > until) throw new Error(`no end in ${ms} ms: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const CONFIG_ID = 'sign-in-server';

/** What the runtime holds for a config node, as Node-RED would save it with the next deploy. */
function savedCredentials(id = CONFIG_ID): Record<string, string> | undefined {
  const runtime = (
    helper as unknown as {
      _RED: { nodes: { getCredentials(id: string): Record<string, string> | undefined } };
    }
  )._RED;
  return runtime.nodes.getCredentials(id);
}
const CLIENT_ID = 'c0ffee00-0000-4000-8000-0000000051a1';

interface Answer {
  ok: boolean;
  state?: string;
  username?: string;
  message?: string;
  session?: string;
  authUrl?: string;
  servers?: Array<Record<string, unknown>>;
  url?: string;
  error?: { code: string; message: string };
  [key: string]: unknown;
}

describe('server config: Sign in with Plex, pick the server, discover (runtime)', function () {
  this.timeout(20_000);
  let world: PlexWorld;
  let answers: string[];

  before(async () => {
    world = await startPlexWorld();
    (helper.settings as (settings: Record<string, unknown>) => unknown)({
      userDir: TEST_USER_DIR,
      plexButler: {
        plexTvUrl: world.plexTv.url,
        appUrl: world.plexTv.appUrl,
        discoveryAddress: world.plexTv.gdmAddress,
        pinPollMs: 200,
      },
    });
  });
  after(async () => {
    (helper.settings as (settings: Record<string, unknown>) => unknown)({ userDir: TEST_USER_DIR });
    await world.stop();
  });
  beforeEach(async () => {
    answers = [];
    // An undeployed config (the dialog of a new one): only the editor's routes are there.
    await loadFlow([{ id: 'tab', type: 'tab' }]);
  });
  afterEach(async () => {
    await helper.unload();
    // Nothing that left the runtime for the editor may hold a token.
    for (const text of answers) {
      for (const token of [ACCOUNT_TOKEN, SHARED_TOKEN])
        assert.doesNotMatch(text, new RegExp(token));
    }
  });

  async function post(path: string, body: Record<string, unknown>): Promise<Answer> {
    const response = await helper.request().post(path).send(body);
    answers.push(response.text);
    return flatAnswer(response.body) as Answer;
  }

  /** Signs in within the dialog `draft`, approving on plex.tv; returns the draft. */
  async function signIn(draft = randomUUID()): Promise<string> {
    const started = await post('/plex-butler/sign-in', {
      id: CONFIG_ID,
      draft,
      clientId: CLIENT_ID,
    });
    assert.equal(started.ok, true, JSON.stringify(started));
    const fragment = new URLSearchParams(new URL(started.authUrl ?? '').hash.replace(/^#\?/, ''));
    assert.equal(fragment.get('clientID'), CLIENT_ID, "the config node's own client identifier");
    assert.ok(world.plexTv.approve(fragment.get('code') ?? ''));
    const session = started.session ?? '';
    const status = await askUntil(
      () => post('/plex-butler/sign-in/status', { id: CONFIG_ID, session }),
      (answer) => answer.state !== 'waiting',
    );
    assert.equal(status.state, 'signed-in');
    assert.equal(status.username, 'world-owner');
    assert.equal(status.message, 'signed in as world-owner');
    return draft;
  }

  it('signs in and chooses: the dialog learns names, the token works, and nothing is written before Done', async () => {
    const draft = await signIn();
    assert.equal(savedCredentials(), undefined, 'a sign-in alone writes nothing');
    const listed = await post('/plex-butler/servers', { id: CONFIG_ID, draft });
    assert.deepEqual(listed.servers, [
      { machineIdentifier: HOME_ID, name: 'Living room', owned: true, online: true },
      { machineIdentifier: FRIEND_ID, name: "Friend's server", owned: false, online: true },
    ]);
    const chosen = await post('/plex-butler/servers/choose', {
      id: CONFIG_ID,
      draft,
      machineIdentifier: HOME_ID,
    });
    // Without the run's CA the https address fails its check: the LAN http address answers.
    assert.equal(chosen.url, world.home.url);
    assert.equal(chosen.owned, true);
    assert.equal(chosen.plexDirectHash, HOME_HASH);
    assert.equal(chosen.tlsMode, 'verify');
    assert.equal(savedCredentials(), undefined, 'choosing writes nothing either');
    // The dialog's unchanged token field reaches the chosen server's token, in this dialog.
    const tested = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      draft,
      url: chosen.url,
      token: '__PWRD__',
      clientId: CLIENT_ID,
    });
    assert.equal(tested.ok, true, JSON.stringify(tested));
    assert.equal(world.home.exchanges.at(-1)?.headers['x-plex-token'], ACCOUNT_TOKEN);
    const otherDialog = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      draft: randomUUID(),
      url: chosen.url,
      token: '__PWRD__',
    });
    assert.equal(otherDialog.code, 'invalid-config', 'another dialog has no token');

    // Done: now it is the config's, for that address only.
    const kept = await post('/plex-butler/servers/keep', {
      id: CONFIG_ID,
      draft,
      url: chosen.url,
      withServerToken: true,
    });
    assert.equal(kept.kept, true);
    const { tokenFor, ...tokens } = savedCredentials() ?? {};
    assert.deepEqual(tokens, { token: ACCOUNT_TOKEN, accountToken: ACCOUNT_TOKEN });
    // Bound to its address (with a digest of the token, never the token itself).
    assert.match(tokenFor ?? '', new RegExp(`^[0-9a-f]{16} ${chosen.url}$`));
    assert.doesNotMatch(tokenFor ?? '', new RegExp(ACCOUNT_TOKEN));
    const reopened = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      draft: randomUUID(),
      url: chosen.url,
      token: '__PWRD__',
    });
    assert.equal(reopened.ok, true, JSON.stringify(reopened));
    const elsewhere = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      url: world.friend.url,
      token: '__PWRD__',
    });
    assert.equal(elsewhere.code, 'invalid-config');
    assert.match(elsewhere.message ?? '', /differs from the one the saved token belongs to/);
  });

  it('a dialog cancelled after signing in and choosing leaves the saved token as it was', async () => {
    const draft = await signIn();
    await post('/plex-butler/servers/choose', { id: CONFIG_ID, draft, machineIdentifier: HOME_ID });
    assert.deepEqual(await post('/plex-butler/servers/forget', { id: CONFIG_ID, draft }), {
      ok: true,
    });
    assert.equal(savedCredentials(), undefined);
    // Forgotten: a late Done has nothing to keep, and the sign-in no longer lists servers.
    const late = await post('/plex-butler/servers/keep', {
      id: CONFIG_ID,
      draft,
      url: world.home.url,
      withServerToken: true,
    });
    assert.equal(late.kept, false);
    assert.equal(savedCredentials(), undefined);
    const listed = await post('/plex-butler/servers', { id: CONFIG_ID, draft });
    assert.equal(listed.error?.code, 'invalid-config');
  });

  it('Done with a token typed after choosing keeps the account, not the chosen token', async () => {
    const draft = await signIn();
    await post('/plex-butler/servers/choose', { id: CONFIG_ID, draft, machineIdentifier: HOME_ID });
    const kept = await post('/plex-butler/servers/keep', {
      id: CONFIG_ID,
      draft,
      withServerToken: false,
    });
    assert.equal(kept.kept, false);
    assert.deepEqual(savedCredentials(), { accountToken: ACCOUNT_TOKEN });
  });

  it("Done with another URL than the chosen server's keeps the account, not the chosen token", async () => {
    const draft = await signIn();
    const chosen = await post('/plex-butler/servers/choose', {
      id: CONFIG_ID,
      draft,
      machineIdentifier: HOME_ID,
    });
    assert.equal(chosen.url, world.home.url);
    // Typed over, or another LAN entry picked after the choice: the token field still says saved.
    for (const url of [world.friend.url, 'not a url']) {
      const again = await signIn();
      await post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft: again,
        machineIdentifier: HOME_ID,
      });
      const kept = await post('/plex-butler/servers/keep', {
        id: CONFIG_ID,
        draft: again,
        url,
        withServerToken: true,
      });
      assert.equal(kept.kept, false, url);
      assert.deepEqual(savedCredentials(), { accountToken: ACCOUNT_TOKEN }, url);
      const tested = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        url: world.friend.url,
        token: '__PWRD__',
      });
      assert.equal(tested.code, 'invalid-config', url);
    }
    await post('/plex-butler/servers/forget', { id: CONFIG_ID, draft });
    assert.deepEqual(
      world.friend.exchanges.filter(
        (exchange) => exchange.headers['x-plex-token'] === ACCOUNT_TOKEN,
      ),
      [],
    );
  });

  it('a shared server: its own token, never the account token, and the saved token goes nowhere else', async () => {
    const draft = await signIn();
    const chosen = await post('/plex-butler/servers/choose', {
      id: CONFIG_ID,
      draft,
      machineIdentifier: FRIEND_ID,
    });
    assert.equal(chosen.url, world.friend.url, 'not the LAN address the friend has');
    const tested = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      draft,
      url: chosen.url,
      token: '__PWRD__',
      clientId: CLIENT_ID,
    });
    assert.equal(tested.ok, true, JSON.stringify(tested));
    assert.equal(world.friend.exchanges.at(-1)?.headers['x-plex-token'], SHARED_TOKEN);
    const elsewhere = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      draft,
      url: world.home.url,
      token: '__PWRD__',
    });
    assert.equal(elsewhere.ok, false);
    assert.equal(elsewhere.code, 'invalid-config');
    assert.ok(
      world.friend.exchanges.every(
        (exchange) => exchange.headers['x-plex-token'] !== ACCOUNT_TOKEN,
      ),
      "the account token never reached the friend's server",
    );
  });

  it('a shared server plex.tv gives no token for is refused, not given the account token', async () => {
    const listed = world.plexTv.serverList;
    // As plex.tv may list a shared server: without a token for it.
    world.plexTv.setServers(
      listed.map((server) =>
        server.machineIdentifier === FRIEND_ID ? { ...server, accessToken: '' } : server,
      ),
    );
    try {
      const draft = await signIn();
      const chosen = await post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft,
        machineIdentifier: FRIEND_ID,
      });
      assert.equal(chosen.ok, false);
      assert.equal(chosen.error?.code, 'invalid-config');
      assert.match(chosen.error?.message ?? '', /no token for the shared server Friend's server/);
      const tested = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        draft,
        url: world.friend.url,
        token: '__PWRD__',
      });
      assert.equal(tested.code, 'invalid-config');
      assert.deepEqual(
        world.friend.exchanges.filter(
          (exchange) => exchange.headers['x-plex-token'] === ACCOUNT_TOKEN,
        ),
        [],
      );
    } finally {
      world.plexTv.setServers([...listed]);
    }
  });

  it('the server list says which servers plex.tv reports switched off', async () => {
    const listed = world.plexTv.serverList;
    // The friend's server is off: plex.tv answers presence false for it.
    world.plexTv.setServers(
      listed.map((server) =>
        server.machineIdentifier === FRIEND_ID ? { ...server, online: false } : server,
      ),
    );
    try {
      const draft = await signIn();
      const answer = await post('/plex-butler/servers', { id: CONFIG_ID, draft });
      assert.deepEqual(answer.servers, [
        { machineIdentifier: HOME_ID, name: 'Living room', owned: true, online: true },
        { machineIdentifier: FRIEND_ID, name: "Friend's server", owned: false, online: false },
      ]);
    } finally {
      world.plexTv.setServers([...listed]);
    }
  });

  it('a server of the account found on the LAN: its token goes to the discovered address', async () => {
    const draft = await signIn();
    const found = await post('/plex-butler/discover', {});
    const living = found.servers?.find((server) => server.machineIdentifier === HOME_ID);
    assert.ok(living);
    const chosen = await post('/plex-butler/servers/choose', {
      id: CONFIG_ID,
      draft,
      machineIdentifier: HOME_ID,
      url: living.url,
    });
    assert.equal(chosen.url, world.home.url);
    const tested = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      draft,
      url: chosen.url,
      token: '__PWRD__',
    });
    assert.equal(tested.ok, true, JSON.stringify(tested));
    // An address plex.tv lists for the friend, where another server answers, is not the friend's.
    const wrong = await post('/plex-butler/servers/choose', {
      id: CONFIG_ID,
      draft,
      machineIdentifier: FRIEND_ID,
      url: world.home.url,
    });
    assert.equal(wrong.error?.code, 'not-found');
  });

  it("an https LAN address typed in the dialog stays when plex.tv lists it: checked as the server's own plex.direct certificate", async () => {
    const draft = await signIn();
    const choose = (typedUrl: string): Promise<Answer> =>
      post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft,
        machineIdentifier: HOME_ID,
        typedUrl,
        ca: world.certificate.ca,
      });
    const kept = await choose(world.homeSecure.url);
    assert.equal(kept.url, world.homeSecure.url);
    assert.equal(kept.tlsMode, 'plex-direct');
    assert.equal(kept.plexDirectHash, HOME_HASH);
    const tested = await post('/plex-butler/test-connection', {
      id: CONFIG_ID,
      draft,
      url: kept.url,
      token: '__PWRD__',
      tlsMode: kept.tlsMode,
      plexDirectHash: kept.plexDirectHash,
      ca: world.certificate.ca,
    });
    assert.equal(tested.ok, true, JSON.stringify(tested));
    // Not listed for the server (a closed port here): the best listed address instead.
    const unlisted = await choose(`https://127.0.0.1:${await closedPort()}`);
    assert.equal(unlisted.url, world.plexDirectUrl);
    assert.equal(unlisted.tlsMode, 'verify');
    // An http address needs no plex.direct mode: the best listed address instead.
    assert.equal((await choose(world.home.url)).url, world.plexDirectUrl);

    // Listed, but nobody answers there, or another server does (with a certificate of the
    // same names): the best listed address where the server itself answers.
    const dead = await closedPort();
    const other = await startSimulator({
      token: ACCOUNT_TOKEN,
      machineIdentifier: FRIEND_ID,
      tls: { key: world.certificate.key, cert: world.certificate.cert },
    });
    const listed = world.plexTv.serverList;
    try {
      world.plexTv.setServers(
        listed.map((server) =>
          server.machineIdentifier === HOME_ID
            ? {
                ...server,
                connections: [
                  ...server.connections,
                  ...[dead, Number(new URL(other.url).port)].map((port) => ({
                    protocol: 'https' as const,
                    address: '127.0.0.1',
                    port,
                    uri: `https://127-0-0-1.${HOME_HASH}.plex.direct:${port}`,
                    local: true,
                    relay: false,
                  })),
                ],
              }
            : server,
        ),
      );
      assert.equal((await choose(`https://127.0.0.1:${dead}`)).url, world.plexDirectUrl);
      assert.equal((await choose(other.url)).url, world.plexDirectUrl);
    } finally {
      world.plexTv.setServers([...listed]);
      await other.stop();
    }
  });

  it('a LAN server that requires secure connections is reached over https, never http', async () => {
    const listed = world.plexTv.serverList;
    const securePort = Number(new URL(world.homeSecure.url).port);
    world.plexTv.setServers(
      listed.map((server) =>
        server.machineIdentifier === HOME_ID
          ? { ...server, httpsRequired: true, gdmPort: securePort }
          : server,
      ),
    );
    try {
      const draft = await signIn();
      const found = await post('/plex-butler/discover', {});
      const living = found.servers?.find((server) => server.machineIdentifier === HOME_ID);
      assert.ok(living);
      assert.match(String(living.url), /^http:/, 'GDM gives an http address');
      world.homeSecure.resetStats();
      const chosen = await post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft,
        machineIdentifier: HOME_ID,
        url: living.url,
        ca: world.certificate.ca,
      });
      assert.equal(chosen.url, world.homeSecure.url);
      assert.equal(chosen.tlsMode, 'plex-direct');
      assert.ok(world.homeSecure.stats.requests > 0, 'asked over https');
    } finally {
      world.plexTv.setServers([...listed]);
    }
  });

  it('a LAN host claiming the identifier of a server is not taken unless plex.tv lists its address', async () => {
    // The identifier is announced on the LAN: any host can answer /identity with it.
    const impostor = await startSimulator({ machineIdentifier: HOME_ID, token: 'IMPOSTOR-TOKEN' });
    try {
      const draft = await signIn();
      const chosen = await post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft,
        machineIdentifier: HOME_ID,
        url: impostor.url,
      });
      assert.equal(chosen.error?.code, 'invalid-config');
      assert.match(
        chosen.error?.message ?? '',
        /is not an address plex\.tv lists for "Living room"/,
      );
      const tested = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        draft,
        url: impostor.url,
        token: '__PWRD__',
      });
      assert.equal(tested.code, 'invalid-config');
      assert.deepEqual(impostor.exchanges, [], 'the impostor was not even asked');
    } finally {
      await impostor.stop();
    }
  });

  for (const [name, end, state, words] of [
    [
      'refused on plex.tv',
      (code: string) => world.plexTv.deny(code),
      'refused',
      /plex\.tv no longer knows the sign-in code \(refused there, or expired\)/,
    ],
    ['cancelled in the dialog', undefined, 'cancelled', /^sign-in cancelled$/],
  ] as const) {
    it(`a sign-in ${name} ends with words, not a spinner`, async () => {
      const draft = randomUUID();
      const started = await post('/plex-butler/sign-in', {
        id: CONFIG_ID,
        draft,
        clientId: CLIENT_ID,
      });
      const code =
        new URLSearchParams(new URL(started.authUrl ?? '').hash.replace(/^#\?/, '')).get('code') ??
        '';
      const session = started.session ?? '';
      if (end) end(code);
      else {
        const cancelled = await post('/plex-butler/sign-in/cancel', { id: CONFIG_ID, session });
        assert.equal(cancelled.state, 'cancelled');
      }
      const status = await askUntil(
        () => post('/plex-butler/sign-in/status', { id: CONFIG_ID, session }),
        (answer) => answer.state !== 'waiting',
      );
      assert.equal(status.state, state);
      assert.match(status.message ?? '', words);
      // The approval page cannot bring a cancelled sign-in back.
      world.plexTv.approve(code);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const after = await post('/plex-butler/servers', { id: CONFIG_ID, draft });
      assert.equal(after.error?.code, 'invalid-config', 'no account token from it');
    });
  }

  it('an expired sign-in code says so', async () => {
    const shortLived = await startPlexWorld();
    (helper.settings as (settings: Record<string, unknown>) => unknown)({
      userDir: TEST_USER_DIR,
      plexButler: {
        plexTvUrl: shortLived.plexTv.url,
        appUrl: shortLived.plexTv.appUrl,
        pinPollMs: 200,
      },
    });
    try {
      (
        shortLived.plexTv as unknown as { options: { pinLifetimeMs: number } }
      ).options.pinLifetimeMs = 300;
      await helper.unload();
      await loadFlow([{ id: 'tab', type: 'tab' }]);
      const started = await post('/plex-butler/sign-in', {
        id: CONFIG_ID,
        draft: randomUUID(),
        clientId: CLIENT_ID,
      });
      const status = await askUntil(
        () => post('/plex-butler/sign-in/status', { id: CONFIG_ID, session: started.session }),
        (answer) => answer.state !== 'waiting',
      );
      assert.ok(['expired', 'refused'].includes(status.state ?? ''), status.state);
      assert.match(status.message ?? '', /expired|no longer valid/);
    } finally {
      await shortLived.stop();
      (helper.settings as (settings: Record<string, unknown>) => unknown)({
        userDir: TEST_USER_DIR,
        plexButler: {
          plexTvUrl: world.plexTv.url,
          appUrl: world.plexTv.appUrl,
          discoveryAddress: world.plexTv.gdmAddress,
          pinPollMs: 200,
        },
      });
    }
  });

  it("a sign-in of one config is not another config's", async () => {
    const started = await post('/plex-butler/sign-in', {
      id: CONFIG_ID,
      draft: randomUUID(),
      clientId: CLIENT_ID,
    });
    const draft = await signIn();
    const other = await post('/plex-butler/servers', { id: 'another-config', draft });
    assert.equal(other.error?.code, 'invalid-config');
    const status = await helper
      .request()
      .post('/plex-butler/sign-in/status')
      .send({ id: 'another-config', session: started.session });
    assert.equal(status.status, 404);
  });

  it('a sign-in waiting when the runtime stops stops asking plex.tv', async () => {
    await post('/plex-butler/sign-in', { id: CONFIG_ID, draft: randomUUID(), clientId: CLIENT_ID });
    // It polls (every 200 ms here) while it waits...
    const before = world.plexTv.stats.pinChecks;
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.ok(world.plexTv.stats.pinChecks > before, 'the sign-in polls while it waits');
    // ...until the runtime stops its flows (not a deploy): then the dialog state is closed.
    await helper.unload();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterStop = world.plexTv.stats.pinChecks;
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.equal(world.plexTv.stats.pinChecks, afterStop, 'no PIN check after the stop');
    await loadFlow([{ id: 'tab', type: 'tab' }]);
  });

  it('refuses a request without a dialog id', async () => {
    for (const path of [
      '/plex-butler/sign-in',
      '/plex-butler/servers',
      '/plex-butler/servers/keep',
    ]) {
      const response = await helper.request().post(path).send({ id: CONFIG_ID, draft: 'x' });
      assert.equal(response.status, 400, path);
    }
  });

  it('discovers the servers on the network (GDM, to the stand-in on loopback)', async () => {
    const found = await post('/plex-butler/discover', {});
    assert.deepEqual(
      found.servers?.map((server) => [server.name, server.url, server.machineIdentifier]),
      [['Living room', world.home.url, HOME_ID]],
    );
  });

  describe('deployed', () => {
    beforeEach(async () => {
      await helper.unload();
    });
    function flow(server: Record<string, unknown>, extra: FlowNode[] = []): FlowNode[] {
      return [
        { id: 'tab', type: 'tab' },
        {
          id: CONFIG_ID,
          type: 'plex-butler-server',
          name: 'Living room',
          clientId: CLIENT_ID,
          timeout: 1500,
          retries: 0,
          version: 2,
          ...server,
        },
        {
          id: 'node',
          type: 'plex-butler-tasks',
          z: 'tab',
          server: CONFIG_ID,
          property: 'payload',
          wires: [['out']],
        },
        { id: 'out', type: 'helper', z: 'tab' },
        {
          id: 'catcher',
          type: 'catch',
          z: 'tab',
          scope: null,
          uncaught: false,
          wires: [['caught']],
        },
        { id: 'caught', type: 'helper', z: 'tab' },
        ...extra,
      ];
    }

    async function listTasks(): Promise<unknown[]> {
      const received = nextMessage<{ payload: unknown[] }>('out');
      helper.getNode('node').receive({});
      return (await received).payload;
    }

    it("plex-direct mode: the LAN address with the server's own certificate", async () => {
      await loadFlow(
        flow({
          url: world.homeSecure.url,
          tlsMode: 'plex-direct',
          plexDirectHash: HOME_HASH,
          ca: world.certificate.ca,
        }),
        {
          [CONFIG_ID]: { token: ACCOUNT_TOKEN },
        },
      );
      assert.equal((await listTasks()).length, 22);
    });

    it('plex-direct mode without the hash of the names: a config error, and no request', async () => {
      world.homeSecure.resetStats();
      await loadFlow(
        flow({ url: world.homeSecure.url, tlsMode: 'plex-direct', ca: world.certificate.ca }),
        { [CONFIG_ID]: { token: ACCOUNT_TOKEN } },
      );
      const caught = nextMessage<{ error: { code: string; message: string } }>('caught');
      helper.getNode('node').receive({});
      const { error } = await caught;
      assert.equal(error.code, 'invalid-config');
      assert.match(error.message, /needs the server's plex\.direct name/);
      assert.deepEqual(world.homeSecure.exchanges, []);
    });

    it('plex-direct mode stays on with a tls-config node that does not verify', async () => {
      await loadFlow(
        flow(
          {
            url: world.homeSecure.url,
            tlsMode: 'plex-direct',
            plexDirectHash: HOME_HASH,
            tls: 'tls',
          },
          [{ id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: false }],
        ),
        // No CA for the run's certificates: the chain is not trusted, and stays checked.
        { [CONFIG_ID]: { token: ACCOUNT_TOKEN } },
      );
      const caught = nextMessage<{ error: { code: string } }>('caught');
      helper.getNode('node').receive({});
      assert.equal((await caught).error.code, 'tls-error');
    });

    it('verify mode refuses the same address by name; a tls-config node gives the CA for the plex.direct name', async () => {
      await loadFlow(
        flow({ url: world.homeSecure.url, tlsMode: 'verify', ca: world.certificate.ca }),
        {
          [CONFIG_ID]: { token: ACCOUNT_TOKEN },
        },
      );
      const caught = nextMessage<{ error: { code: string } }>('caught');
      helper.getNode('node').receive({});
      assert.equal((await caught).error.code, 'tls-error');
      await helper.unload();
      await loadFlow(
        flow({ url: world.plexDirectUrl, tlsMode: 'verify', ca: '', tls: 'tls' }, [
          { id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true },
        ]),
        { [CONFIG_ID]: { token: ACCOUNT_TOKEN }, tls: { cadata: world.certificate.ca } },
      );
      assert.equal((await listTasks()).length, 22);
    });

    it('a server that moved is found again by its identifier, and the message goes through', async () => {
      // The saved address no longer answers (a new IP): plex.tv knows where the server is now.
      await loadFlow(flow({ url: 'http://127.0.0.1:9', machineId: HOME_ID }), {
        [CONFIG_ID]: { token: ACCOUNT_TOKEN, accountToken: ACCOUNT_TOKEN },
      });
      assert.equal((await listTasks()).length, 22);
      assert.equal(world.home.exchanges.at(-1)?.path, '/butler');
      assert.match(lastStatus('node')?.text ?? '', /^22 tasks/);
      const server = helper.getNode(CONFIG_ID) as unknown as {
        connection: { baseUrl: string };
        log: { args: unknown[][] };
      };
      assert.equal(server.connection.baseUrl, world.home.url);
      assert.ok(
        server.log.args.some(([text]) => /answers at a new address/.test(String(text))),
        'the move is logged',
      );
    });

    it('a server reached over https is never moved to an http address', async () => {
      // The certificate is refused (no CA here): the https addresses plex.tv lists fail the
      // same way, and the LAN http address, which would answer, is not taken.
      world.home.resetStats();
      await loadFlow(flow({ url: world.plexDirectUrl, machineId: HOME_ID }), {
        [CONFIG_ID]: { token: ACCOUNT_TOKEN, accountToken: ACCOUNT_TOKEN },
      });
      const caught = nextMessage<{ error: { code: string } }>('caught');
      helper.getNode('node').receive({});
      assert.equal((await caught).error.code, 'tls-error');
      assert.equal(
        (helper.getNode(CONFIG_ID) as unknown as { connection: { baseUrl: string } }).connection
          .baseUrl,
        world.plexDirectUrl,
      );
      assert.deepEqual(
        world.home.exchanges.filter((exchange) => exchange.headers['x-plex-token'] !== undefined),
        [],
      );
    });

    it('Test connection of a moved server: its saved address and its new one take the saved token', async () => {
      await loadFlow(flow({ url: 'http://127.0.0.1:9', machineId: HOME_ID }), {
        [CONFIG_ID]: { token: ACCOUNT_TOKEN, accountToken: ACCOUNT_TOKEN },
      });
      assert.equal((await listTasks()).length, 22);
      const moved = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        url: world.home.url,
        token: '__PWRD__',
        retries: 0,
      });
      assert.equal(moved.ok, true, JSON.stringify(moved));
      const saved = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        url: 'http://127.0.0.1:9',
        token: '__PWRD__',
      });
      assert.equal(saved.code, 'connection-refused', 'tried, not refused as "URL differs"');
    });

    it('a shared server deployed with its token: a sign-in in its dialog sends the account token nowhere', async () => {
      await loadFlow(flow({ url: world.friend.url, name: "Friend's server" }), {
        [CONFIG_ID]: { token: SHARED_TOKEN },
      });
      const draft = await signIn();
      const tested = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        draft,
        url: world.friend.url,
        token: '__PWRD__',
      });
      assert.equal(tested.ok, true, JSON.stringify(tested));
      await post('/plex-butler/servers/forget', { id: CONFIG_ID, draft });
      assert.deepEqual(savedCredentials(), { token: SHARED_TOKEN });
      assert.equal((await listTasks()).length, 22);
      assert.deepEqual(
        world.friend.exchanges.filter(
          (exchange) => exchange.headers['x-plex-token'] === ACCOUNT_TOKEN,
        ),
        [],
      );
    });

    it('a token chosen for one address is not sent to another after a restart (Done, then the editor changes discarded)', async () => {
      await loadFlow([{ id: 'tab', type: 'tab' }]);
      const draft = await signIn();
      const chosen = await post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft,
        machineIdentifier: HOME_ID,
      });
      await post('/plex-butler/servers/keep', {
        id: CONFIG_ID,
        draft,
        url: chosen.url,
        withServerToken: true,
      });
      const saved = savedCredentials() ?? {};
      await helper.unload();
      // Saved with another deploy while the config still held the friend's address.
      world.friend.resetStats();
      await loadFlow(flow({ url: world.friend.url }), { [CONFIG_ID]: saved });
      const failed = nextMessage<{ error: { code: string; message: string } }>('caught');
      helper.getNode('node').receive({});
      const { error } = await failed;
      assert.equal(error.code, 'invalid-config');
      assert.match(error.message, new RegExp(`the saved token was chosen for ${chosen.url}`));
      const tested = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        url: world.friend.url,
        token: '__PWRD__',
      });
      assert.equal(tested.code, 'invalid-config');
      assert.equal(world.friend.stats.requests, 0, 'nothing went to the other address');
      await helper.unload();
      // At its own address it works; a token typed later is not bound by the old choice.
      await loadFlow(flow({ url: chosen.url }), { [CONFIG_ID]: saved });
      assert.equal((await listTasks()).length, 22);
      await helper.unload();
      await loadFlow(flow({ url: world.friend.url }), {
        [CONFIG_ID]: { ...saved, token: SHARED_TOKEN },
      });
      assert.equal((await listTasks()).length, 22);
    });

    it('a saved token goes only where it belongs: not a typed one to a chosen server, not a chosen one to the deployed address', async () => {
      // Deployed for Living room with a typed token; the friend's server chosen in a dialog.
      await loadFlow(flow({ url: world.home.url }), {
        [CONFIG_ID]: { token: 'HAND-TYPED-SECRET-1234' },
      });
      world.home.resetStats();
      const draft = await signIn();
      await post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft,
        machineIdentifier: FRIEND_ID,
      });
      // Done with a token typed over the chosen one: the typed token is not the friend's.
      await post('/plex-butler/servers/keep', { id: CONFIG_ID, draft, withServerToken: false });
      const typedToFriend = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        url: world.friend.url,
        token: '__PWRD__',
      });
      assert.equal(typedToFriend.code, 'invalid-config');
      // Done keeping the friend's token: it goes to the friend, not to the deployed address.
      const again = await signIn();
      await post('/plex-butler/servers/choose', {
        id: CONFIG_ID,
        draft: again,
        machineIdentifier: FRIEND_ID,
      });
      await post('/plex-butler/servers/keep', {
        id: CONFIG_ID,
        draft: again,
        url: world.friend.url,
        withServerToken: true,
      });
      const chosenToHome = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        url: world.home.url,
        token: '__PWRD__',
      });
      assert.equal(chosenToHome.code, 'invalid-config');
      const chosenToFriend = await post('/plex-butler/test-connection', {
        id: CONFIG_ID,
        url: world.friend.url,
        token: '__PWRD__',
      });
      assert.equal(chosenToFriend.ok, true, JSON.stringify(chosenToFriend));
      assert.deepEqual(
        world.friend.exchanges.filter(
          (exchange) => exchange.headers['x-plex-token'] === 'HAND-TYPED-SECRET-1234',
        ),
        [],
      );
      assert.deepEqual(
        world.home.exchanges.filter(
          (exchange) => exchange.headers['x-plex-token'] === SHARED_TOKEN,
        ),
        [],
      );
    });

    it('without an identifier from plex.tv nothing is looked up: the failure is reported', async () => {
      await loadFlow(flow({ url: 'http://127.0.0.1:9' }), {
        [CONFIG_ID]: { token: ACCOUNT_TOKEN, accountToken: ACCOUNT_TOKEN },
      });
      const caught = nextMessage<{ error: { code: string } }>('caught');
      helper.getNode('node').receive({});
      assert.equal((await caught).error.code, 'connection-refused');
    });
  });
});
