/**
 * Reading who is watching: the three session lists through ButlerClient (JSON and XML from the
 * simulator), the parsers' tolerance and their refusals, the `playing` notification parser, and
 * the watcher's 'playing' event on the shared socket.
 */
import { strict as assert } from 'node:assert';
import {
  ActivityWatcher,
  ButlerClient,
  isButlerError,
  parseBackgroundSessions,
  parseLiveSessions,
  parsePlayingNotification,
  parseSessions,
  type Playback,
  type PlayingEvent,
} from '../../lib';
import type { PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { prng } from '../support/prng';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';

const TOKEN = 'viewers-Secret-Token-4417';

function expectBadResponse(read: () => unknown, pattern: RegExp): void {
  assert.throws(read, (error: unknown) => {
    assert.ok(isButlerError(error), String(error));
    assert.equal(error.code, 'bad-response');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('viewers: the session lists', function () {
  let sim: PlexSimulator;
  let client: ButlerClient;

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, timelineIntervalMs: 60_000 });
    client = new ButlerClient({
      url: sim.url,
      token: TOKEN,
      clientIdentifier: 'viewers-test',
      retry: { retries: 0 },
    });
  });
  afterEach(async () => {
    client.close();
    await sim.stop();
  });

  function startTwo(): void {
    sim.startPlayback({
      user: 'bob',
      player: 'Bedroom Roku',
      playerId: 'roku-42',
      title: 'Pilot',
      grandparentTitle: 'The Show',
      type: 'episode',
      transcode: true,
      location: 'wan',
    });
    const kitchen = sim.startPlayback({
      user: 'ann',
      player: 'Kitchen',
      playerId: 'kitchen-1',
      title: 'Heat',
    });
    sim.pausePlayback(kitchen.sessionKey);
  }

  const EXPECTED: Playback[] = [
    {
      key: '1',
      kind: 'playback',
      user: 'bob',
      player: 'Bedroom Roku',
      playerId: 'roku-42',
      title: 'The Show - Pilot',
      state: 'playing',
      transcode: true,
      location: 'wan',
    },
    {
      key: '2',
      kind: 'playback',
      user: 'ann',
      player: 'Kitchen',
      playerId: 'kitchen-1',
      title: 'Heat',
      state: 'paused',
      transcode: false,
      location: 'lan',
    },
  ];

  it('listSessions reads the playbacks into the one Playback shape', async function () {
    assert.deepEqual(await client.listSessions(), []);
    startTwo();
    assert.deepEqual(await client.listSessions(), EXPECTED);
    assert.equal(sim.stats.requestsByRoute['GET /status/sessions'], 2);
  });

  it('reads the same from an XML answer (a proxy that drops the Accept header)', async function () {
    startTwo();
    sim.injectFault({ kind: 'xml', times: 1 });
    assert.deepEqual(await client.listSessions(), EXPECTED);
    assert.match(sim.exchanges.at(-1)?.responseBody ?? '', /^<\?xml/);
  });

  it('listLiveSessions reads recordings, and listBackgroundSessions background transcodes', async function () {
    const recording = sim.startRecording({ title: 'Evening News', channel: 'BBC One' });
    const job = sim.startBackgroundTranscode({ title: 'Up (2009)' });
    const expectedRecording: Playback = {
      key: recording.key,
      kind: 'recording',
      user: '',
      player: '',
      playerId: '',
      title: 'BBC One - Evening News',
      state: 'playing',
      transcode: false,
      location: undefined,
    };
    const expectedJob: Playback = {
      key: job.key,
      kind: 'background',
      user: '',
      player: '',
      playerId: '',
      title: 'Up (2009)',
      state: 'playing',
      transcode: true,
      location: undefined,
    };
    assert.deepEqual(await client.listLiveSessions(), [expectedRecording]);
    assert.deepEqual(await client.listBackgroundSessions(), [expectedJob]);
    sim.injectFault({ kind: 'xml', times: 2 });
    assert.deepEqual(await client.listLiveSessions(), [expectedRecording]);
    assert.deepEqual(await client.listBackgroundSessions(), [expectedJob]);
  });

  it('takes a 404 on /livetv/sessions (a server without a DVR) as no recordings', async function () {
    sim.startRecording();
    sim.injectFault({ kind: 'status', status: 404, match: { path: '/livetv/sessions' } });
    assert.deepEqual(await client.listLiveSessions(), []);
    // Elsewhere a 404 is still an error.
    sim.injectFault({ kind: 'status', status: 404, match: { path: '/status/sessions' } });
    await assert.rejects(client.listSessions(), (error: unknown) => {
      assert.ok(isButlerError(error));
      assert.equal(error.code, 'not-found');
      assert.match(error.message, /^could not list the playbacks: /);
      return true;
    });
  });

  it('says bad-response for an HTML page, and never names the token', async function () {
    sim.injectFault({ kind: 'html', times: 1 });
    await assert.rejects(client.listSessions(), (error: unknown) => {
      assert.ok(isButlerError(error));
      assert.equal(error.code, 'bad-response');
      assert.doesNotMatch(JSON.stringify(error.toJSON()), new RegExp(TOKEN));
      return true;
    });
  });

  it('shares one request between concurrent callers', async function () {
    startTwo();
    const [first, second] = await Promise.all([client.listSessions(), client.listSessions()]);
    assert.deepEqual(first, second);
    assert.equal(sim.stats.requestsByRoute['GET /status/sessions'], 1);
  });
});

describe('viewers: parsing what servers send', function () {
  const JSON_TYPE = 'application/json';
  const XML_TYPE = 'application/xml';

  it('takes a missing field as unknown, not as a reason to drop the entry', function () {
    const body = JSON.stringify({
      MediaContainer: {
        size: 3,
        Metadata: [
          { title: 'Only a title' },
          { sessionKey: 7, Player: { state: 'stopped', local: '1' }, Session: {} },
          'not an object',
        ],
      },
    });
    assert.deepEqual(parseSessions(body, JSON_TYPE), [
      {
        key: 'playback-0',
        kind: 'playback',
        user: '',
        player: '',
        playerId: '',
        title: 'Only a title',
        // Unknown states count: a reading must never be idle while something plays.
        state: 'playing',
        transcode: false,
        location: undefined,
      },
      {
        key: '7',
        kind: 'playback',
        user: '',
        player: '',
        playerId: '',
        title: '',
        state: 'playing',
        transcode: false,
        location: 'lan',
      },
      {
        key: 'playback-2',
        kind: 'playback',
        user: '',
        player: '',
        playerId: '',
        title: '',
        state: 'playing',
        transcode: false,
        location: undefined,
      },
    ]);
  });

  it('accepts one item not wrapped in a list, and an empty container', function () {
    const single = JSON.stringify({
      MediaContainer: { Metadata: { sessionKey: '3', Player: { state: 'buffering' } } },
    });
    assert.deepEqual(
      parseSessions(single, JSON_TYPE).map((p) => [p.key, p.state]),
      [['3', 'buffering']],
    );
    assert.deepEqual(parseSessions('{"MediaContainer":{"size":0}}', JSON_TYPE), []);
    assert.deepEqual(parseSessions('<MediaContainer size="0"/>', XML_TYPE), []);
  });

  it('tells a direct stream from a transcode by the decisions', function () {
    const item = (extra: Record<string, unknown>): string =>
      JSON.stringify({ MediaContainer: { Metadata: [{ sessionKey: '1', ...extra }] } });
    const transcode = (extra: Record<string, unknown>): boolean =>
      parseSessions(item(extra), JSON_TYPE)[0].transcode;
    assert.equal(transcode({ Media: [{ Part: [{ decision: 'directplay' }] }] }), false);
    assert.equal(transcode({ Media: [{ Part: [{ decision: 'transcode' }] }] }), true);
    // A direct stream: the server remuxes, it does not transcode.
    const copy = { videoDecision: 'copy', audioDecision: 'copy' };
    assert.equal(transcode({ TranscodeSession: copy }), false);
    assert.equal(transcode({ TranscodeSession: { ...copy, audioDecision: 'transcode' } }), true);
    assert.equal(transcode({ TranscodeSession: { throttled: false } }), true);
  });

  it('reads nested XML items, self-closing ones, and entities', function () {
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<MediaContainer size="3">',
      '<Video sessionKey="4" title="Tom &amp; Jerry" type="movie">',
      '<Media id="1"><Part id="1" key="/p" decision="transcode"><Stream id="2"/></Part></Media>',
      '<User id="1" title="ann"/>',
      '<Player machineIdentifier="m1" title="TV" state="paused" local="0"/>',
      '<Session id="s" location="wan"/>',
      '</Video>',
      '<Track sessionKey="5" title="Song" grandparentTitle="Band"><Player state="playing"/></Track>',
      '<Video title="Bare"/>',
      '</MediaContainer>',
    ].join('\n');
    assert.deepEqual(parseSessions(xml, XML_TYPE), [
      {
        key: '4',
        kind: 'playback',
        user: 'ann',
        player: 'TV',
        playerId: 'm1',
        title: 'Tom & Jerry',
        state: 'paused',
        transcode: true,
        location: 'wan',
      },
      {
        key: '5',
        kind: 'playback',
        user: '',
        player: '',
        playerId: '',
        title: 'Band - Song',
        state: 'playing',
        transcode: false,
        location: undefined,
      },
      {
        key: 'playback-2',
        kind: 'playback',
        user: '',
        player: '',
        playerId: '',
        title: 'Bare',
        state: 'playing',
        transcode: false,
        location: undefined,
      },
    ]);
  });

  it('keys a recording by its sessionKey, else its media uuid, else its key', function () {
    const body = JSON.stringify({
      MediaContainer: {
        Metadata: [
          { sessionKey: '9', key: '/livetv/sessions/a' },
          { key: '/livetv/sessions/b', Media: [{ uuid: 'uuid-b' }] },
          { key: '/livetv/sessions/c' },
        ],
      },
    });
    assert.deepEqual(
      parseLiveSessions(body, JSON_TYPE).map((p) => [p.key, p.kind]),
      [
        ['9', 'recording'],
        ['uuid-b', 'recording'],
        ['/livetv/sessions/c', 'recording'],
      ],
    );
  });

  it('keys a background job by its key, else its generator or item', function () {
    const body = JSON.stringify({
      MediaContainer: {
        TranscodeJob: [{ key: '/transcode/sessions/x' }, { generatorID: 467 }, {}],
      },
    });
    assert.deepEqual(
      parseBackgroundSessions(body, JSON_TYPE).map((p) => p.key),
      ['/transcode/sessions/x', '467', 'background-2'],
    );
  });

  it('refuses what is no session list with bad-response, saying so', function () {
    expectBadResponse(
      () => parseSessions('{"ButlerTasks":{}}', JSON_TYPE),
      /not with a session list/,
    );
    expectBadResponse(() => parseSessions('[1,2]', JSON_TYPE), /not with a session list/);
    expectBadResponse(() => parseSessions('{"MediaContainer": ', JSON_TYPE), /JSON/);
    expectBadResponse(() => parseSessions('<ButlerTasks/>', XML_TYPE), /not with a session list/);
    expectBadResponse(() => parseSessions('<html><body>Login</body></html>', 'text/html'), /HTML/);
    expectBadResponse(() => parseLiveSessions('', JSON_TYPE), /empty/);
    expectBadResponse(() => parseBackgroundSessions('hello', 'text/plain'), /neither|JSON|XML/);
  });
});

describe('viewers: parsing what a broken server or a proxy sends', function () {
  const PARSERS = [parseSessions, parseLiveSessions, parseBackgroundSessions];
  const SAMPLE_XML = [
    '<MediaContainer size="2">',
    '<Video sessionKey="1" title="A &amp; B"><Media id="1"><Part decision="transcode"/></Media>',
    '<User title="ann"/><Player state="paused" local="1"/><Session location="wan"/></Video>',
    '<Track sessionKey="2"><Player state="playing"/></Track>',
    '<TranscodeJob key="/transcode/sessions/x" title="Up"/>',
    '</MediaContainer>',
  ].join('\n');
  const SAMPLE_JSON = JSON.stringify({
    MediaContainer: {
      size: 2,
      Metadata: [
        { sessionKey: '1', Player: { state: 'paused' }, Media: [{ Part: [{ decision: 'x' }] }] },
        { User: [], Player: 'TV', Session: { location: 3 }, TranscodeSession: null },
      ],
      TranscodeJob: [{ key: {}, generatorID: [1] }],
    },
  });

  /** Either a list of playbacks or a ButlerError; nothing else, whatever the body. */
  function parsesOrRefuses(body: string, contentType: string | undefined): void {
    for (const parse of PARSERS) {
      try {
        const playbacks = parse(body, contentType);
        assert.ok(Array.isArray(playbacks));
        for (const playback of playbacks) {
          assert.equal(typeof playback.key, 'string');
          assert.ok(playback.key !== '');
          assert.ok(['playing', 'paused', 'buffering'].includes(playback.state));
        }
      } catch (error) {
        assert.ok(
          isButlerError(error),
          `${String(error)} for ${JSON.stringify(body.slice(0, 80))}`,
        );
      }
    }
  }

  it('reads or refuses 3000 cut and mutated answers, never crashing', function () {
    const random = prng(4417);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
    for (let i = 0; i < 3000; i++) {
      const sample = pick([SAMPLE_XML, SAMPLE_JSON]);
      let body = sample.slice(0, Math.floor(random() * (sample.length + 1)));
      for (let j = Math.floor(random() * 4); j > 0; j--) {
        const at = Math.floor(random() * (body.length + 1));
        body =
          body.slice(0, at) +
          pick(['<', '>', '"', '/', '{', '}', '[', ']', '&', '<Video ', '</Video>', 'null']) +
          body.slice(at + 1);
      }
      parsesOrRefuses(body, pick(['application/json', 'application/xml', undefined]));
    }
  });

  it('stays linear on large hostile XML', function () {
    const bodies = [
      `<MediaContainer>${'<Video title="x">'.repeat(20_000)}`,
      `<MediaContainer>${'<VideoStream a="1"/>'.repeat(20_000)}<Video/>`,
      `<MediaContainer>${'<Video/>'.repeat(20_000)}</MediaContainer>`,
      `<MediaContainer>${'<Video><User title="a"/></Video>'.repeat(20_000)}</MediaContainer>`,
    ];
    for (const body of bodies) {
      const started = Date.now();
      parsesOrRefuses(body, 'application/xml');
      const took = Date.now() - started;
      // Quadratic scanning would take minutes here.
      assert.ok(took < 5000, `${took} ms for ${body.length} characters`);
    }
  });
});

describe('viewers: playing notifications', function () {
  const container = (entries: unknown, type = 'playing'): string =>
    JSON.stringify({
      NotificationContainer: { type, size: 1, PlaySessionStateNotification: entries },
    });

  it('parses the entries, numbers as text, and nothing else', function () {
    assert.deepEqual(
      parsePlayingNotification(
        container([
          {
            sessionKey: 12,
            clientIdentifier: 'tv-1',
            guid: '',
            ratingKey: '1001',
            url: '',
            key: '/library/metadata/1001',
            viewOffset: 5000,
            playQueueItemID: 7,
            state: 'paused',
          },
          { sessionKey: '13', state: 'stopped' },
        ]),
      ),
      [
        {
          sessionKey: '12',
          clientIdentifier: 'tv-1',
          ratingKey: '1001',
          state: 'paused',
          viewOffset: 5000,
        },
        { sessionKey: '13', clientIdentifier: '', ratingKey: '', state: 'stopped', viewOffset: 0 },
      ],
    );
  });

  it('gives nothing for other types, entries without a sessionKey or state, and garbage', function () {
    assert.deepEqual(
      parsePlayingNotification(container([{ sessionKey: '1', state: 'playing' }], 'activity')),
      [],
    );
    assert.deepEqual(parsePlayingNotification(container([{ state: 'playing' }])), []);
    assert.deepEqual(
      parsePlayingNotification(container([{ sessionKey: '1', state: 'rewinding' }])),
      [],
    );
    assert.deepEqual(parsePlayingNotification(container('PlaySessionStateNotification')), []);
    assert.deepEqual(parsePlayingNotification('PlaySessionStateNotification {'), []);
    assert.deepEqual(parsePlayingNotification('null'), []);
  });

  describe('ActivityWatcher', function () {
    let sim: PlexSimulator;
    let watcher: ActivityWatcher;

    beforeEach(async () => {
      sim = await startSimulator({ token: TOKEN, timelineIntervalMs: 60_000, taskDurationMs: 200 });
      watcher = new ActivityWatcher(
        { url: sim.url, token: TOKEN, clientIdentifier: 'viewers-test' },
        { reconnectInitialMs: 50, pollIntervalMs: 100 },
      );
    });
    afterEach(async () => {
      watcher.close();
      await sim.stop();
    });

    it("opens one socket for activities and playback, and emits 'playing' without names", async function () {
      const playing: PlayingEvent[] = [];
      let activities = 0;
      watcher.on('playing', (event) => playing.push(event));
      watcher.on('activity', () => (activities += 1));
      watcher.start();
      await waitUntil(() => watcher.status.state === 'connected');
      const handshake = sim.exchanges.find((e) => e.path === '/:/websockets/notifications');
      assert.equal(handshake?.url, '/:/websockets/notifications?filters=activity,playing');

      const { sessionKey, playerId, ratingKey } = sim.startPlayback({ user: 'bob' });
      sim.pausePlayback(sessionKey);
      sim.stopPlayback(sessionKey);
      await waitUntil(() => playing.length === 3);
      assert.deepEqual(
        playing.map((event) => event.state),
        ['playing', 'paused', 'stopped'],
      );
      assert.deepEqual(Object.keys(playing[0]).sort(), [
        'clientIdentifier',
        'ratingKey',
        'sessionKey',
        'state',
        'viewOffset',
      ]);
      assert.equal(playing[0].sessionKey, sessionKey);
      assert.equal(playing[0].clientIdentifier, playerId);
      assert.equal(playing[0].ratingKey, ratingKey);
      // Activities still come on the same socket.
      assert.equal(sim.stats.notificationSockets, 1);
      assert.equal(await plexRequest(sim, 'POST', '/butler/CleanOldBundles'), 200);
      await waitUntil(() => activities > 0);
    });
  });
});
