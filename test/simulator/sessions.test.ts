/**
 * Who is watching, as the simulator plays it: the three session lists (JSON and XML, checked
 * against the specs at the end of the run), `playing` notifications on the socket with the
 * `filters` query honoured as the specs word it, and the control API, on the object and over
 * HTTP on the simulator's own path.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import WebSocket from 'ws';
import type { PlexSimulator, SimPlayingNotification } from '../../simulator';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';

const TOKEN = 'sim-sessions-token';

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** One request on a connection of its own, as a Plex client would send it. */
function request(
  sim: PlexSimulator,
  method: string,
  path: string,
  options: { json?: boolean; token?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {
    'X-Plex-Client-Identifier': 'sessions-test',
    'X-Plex-Product': 'node-red-plex-butler',
    'X-Plex-Version': '0.1.0',
  };
  if (options.token !== null) headers['X-Plex-Token'] = options.token ?? TOKEN;
  // Refused on purpose: the specs forbid a request without a token.
  else headers['X-Contract-Expect-Violation'] = '1';
  if (options.json ?? true) headers.Accept = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request(`${sim.url}${path}`, { method, agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function json(sim: PlexSimulator, path: string): Promise<Record<string, unknown>> {
  const answer = await request(sim, 'GET', path);
  assert.equal(answer.status, 200, answer.body);
  assert.equal(answer.contentType, 'application/json');
  return JSON.parse(answer.body) as Record<string, unknown>;
}

type Container = { MediaContainer: Record<string, unknown> & { size: number } };
type Item = Record<string, unknown>;

function itemsOf(body: Record<string, unknown>, list: string): Item[] {
  const container = (body as Container).MediaContainer;
  return (container[list] as Item[] | undefined) ?? [];
}

interface Listener {
  socket: WebSocket;
  /** Every container received, in order. */
  containers: Array<{ type: string; entries: Item[] }>;
  playing(): SimPlayingNotification[];
}

/** A notification socket with this `filters` query (undefined: none at all). */
async function listen(sim: PlexSimulator, filters: string | undefined): Promise<Listener> {
  const query = filters === undefined ? '' : `?filters=${filters}`;
  const url = `${sim.url.replace(/^http/, 'ws')}/:/websockets/notifications${query}`;
  const socket = new WebSocket(url, {
    headers: { 'X-Plex-Token': TOKEN, 'X-Plex-Client-Identifier': 'sessions-test' },
  });
  const containers: Listener['containers'] = [];
  socket.on('message', (data) => {
    const container = (JSON.parse(data.toString()) as { NotificationContainer: Item })
      .NotificationContainer;
    const list = Object.entries(container).find(([, value]) => Array.isArray(value));
    containers.push({ type: String(container.type), entries: (list?.[1] as Item[]) ?? [] });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    containers,
    playing: () =>
      containers
        .filter((container) => container.type === 'playing')
        .flatMap((container) => container.entries as unknown as SimPlayingNotification[]),
  };
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('simulator: who is watching', function () {
  let sim: PlexSimulator;
  const sockets: WebSocket[] = [];

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, timelineIntervalMs: 60_000, taskDurationMs: 200 });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    await sim.stop();
  });

  async function opened(filters: string | undefined): Promise<Listener> {
    const listener = await listen(sim, filters);
    sockets.push(listener.socket);
    return listener;
  }

  describe('the three lists', function () {
    it('are empty containers on an idle server, in JSON and XML', async function () {
      for (const path of ['/status/sessions', '/livetv/sessions', '/status/sessions/background']) {
        assert.deepEqual(await json(sim, path), { MediaContainer: { size: 0 } }, path);
        const xml = await request(sim, 'GET', path, { json: false });
        assert.equal(xml.contentType, 'application/xml');
        assert.match(xml.body, /<MediaContainer size="0">\n<\/MediaContainer>/);
      }
    });

    it('list a transcoded playback from the internet with its user, player and session', async function () {
      const started = sim.startPlayback({
        user: 'bob',
        player: 'Bedroom Roku',
        playerId: 'roku-42',
        title: 'Pilot',
        grandparentTitle: 'The Show',
        type: 'episode',
        transcode: true,
        location: 'wan',
      });
      const [item] = itemsOf(await json(sim, '/status/sessions'), 'Metadata');
      assert.equal(item.sessionKey, started.sessionKey);
      assert.equal(item.type, 'episode');
      assert.equal(item.title, 'Pilot');
      assert.equal(item.grandparentTitle, 'The Show');
      assert.equal(typeof item.addedAt, 'number');
      assert.deepEqual(item.User, { id: started.userId, title: 'bob' });
      const player = item.Player as Item;
      assert.equal(player.title, 'Bedroom Roku');
      assert.equal(player.machineIdentifier, 'roku-42');
      assert.equal(player.state, 'playing');
      assert.equal(player.local, false);
      assert.deepEqual(item.Session, { id: started.sessionId, bandwidth: 4000, location: 'wan' });
      const part = ((item.Media as Item[])[0].Part as Item[])[0];
      assert.equal(part.decision, 'transcode');
      assert.equal((item.TranscodeSession as Item).videoDecision, 'transcode');
    });

    it('lists a direct play on the LAN without a TranscodeSession, and its state as it changes', async function () {
      const { sessionKey } = sim.startPlayback({ player: 'Kitchen', location: 'lan' });
      sim.pausePlayback(sessionKey);
      const [item] = itemsOf(await json(sim, '/status/sessions'), 'Metadata');
      assert.equal(((item.Media as Item[])[0].Part as Item[])[0].decision, 'directplay');
      assert.equal(item.TranscodeSession, undefined);
      assert.equal((item.Player as Item).state, 'paused');
      assert.equal((item.Player as Item).local, true);
      assert.equal((item.Session as Item).location, 'lan');
      sim.bufferPlayback(sessionKey);
      const [buffering] = itemsOf(await json(sim, '/status/sessions'), 'Metadata');
      assert.equal((buffering.Player as Item).state, 'buffering');
      sim.stopPlayback(sessionKey);
      assert.deepEqual(await json(sim, '/status/sessions'), { MediaContainer: { size: 0 } });
    });

    it('answers XML with the session nested in its item, as Plex does', async function () {
      sim.startPlayback({ user: 'ann & co', player: 'TV "big"', type: 'movie', transcode: true });
      sim.startPlayback({ user: 'ann', type: 'track', title: 'Song' });
      const xml = (await request(sim, 'GET', '/status/sessions', { json: false })).body;
      assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<MediaContainer size="2">/);
      assert.match(
        xml,
        /<Video [^>]*type="movie"[^>]*>\n<Media [^>]*>\n<Part [^>]*decision="transcode"\/>\n<\/Media>\n<User [^>]*title="ann &amp; co"\/>/,
      );
      assert.match(xml, /<Player [^>]*state="playing" title="TV &quot;big&quot;" local="1"/);
      assert.match(xml, /<TranscodeSession [^>]*\/>\n<\/Video>/);
      assert.match(xml, /<Track [^>]*title="Song"[^>]*>[\s\S]*<\/Track>/);
    });

    it('lists recordings under /livetv/sessions and background transcodes under /status/sessions/background', async function () {
      const recording = sim.startRecording({ title: 'Evening News', channel: 'BBC One' });
      const job = sim.startBackgroundTranscode({ title: 'Up (2009)', speed: 10 });
      const [live] = itemsOf(await json(sim, '/livetv/sessions'), 'Metadata');
      assert.equal(live.live, true);
      assert.equal(live.title, 'Evening News');
      assert.equal(live.grandparentTitle, 'BBC One');
      assert.equal(live.key, `/livetv/sessions/${recording.key}`);
      const [transcode] = itemsOf(await json(sim, '/status/sessions/background'), 'TranscodeJob');
      assert.equal(transcode.type, 'transcode');
      assert.equal(transcode.title, 'Up (2009)');
      assert.equal(transcode.key, job.key);
      assert.ok((transcode.remaining as number) > 0);
      // Neither is a playback.
      assert.deepEqual(await json(sim, '/status/sessions'), { MediaContainer: { size: 0 } });
      sim.stopRecording(recording.key);
      sim.stopBackgroundTranscode(job.id);
      assert.deepEqual(await json(sim, '/livetv/sessions'), { MediaContainer: { size: 0 } });
      assert.deepEqual(await json(sim, '/status/sessions/background'), {
        MediaContainer: { size: 0 },
      });
    });

    it('wants the token like every other endpoint', async function () {
      sim.startPlayback();
      const answer = await request(sim, 'GET', '/status/sessions', { token: null });
      assert.equal(answer.status, 401);
      assert.doesNotMatch(answer.body, /alice/);
    });

    it('forgets every session when the server stops', async function () {
      sim.startPlayback();
      sim.startRecording();
      sim.startBackgroundTranscode();
      await sim.stop();
      await sim.start();
      assert.deepEqual(sim.playbacks(), []);
      assert.deepEqual(sim.recordings(), []);
      assert.deepEqual(sim.backgroundTranscodes(), []);
    });

    it('refuses to change a session it does not have, naming the key', function () {
      assert.throws(() => sim.pausePlayback('77'), /no playback with the key "77"/);
      assert.throws(() => sim.stopRecording('nope'), /no recording with the key "nope"/);
      assert.throws(() => sim.stopBackgroundTranscode('x'), /no background transcode/);
    });
  });

  describe('playing notifications', function () {
    it('are sent on start, on every state change and on stop, with the fields of the facts', async function () {
      const listener = await opened('activity,playing');
      const { sessionKey, ratingKey, playerId } = sim.startPlayback({ playerId: 'tv-1' });
      sim.pausePlayback(sessionKey);
      sim.pausePlayback(sessionKey); // the same state again: nothing new to say
      sim.bufferPlayback(sessionKey);
      sim.resumePlayback(sessionKey);
      sim.stopPlayback(sessionKey);
      await waitUntil(() => listener.playing().length >= 5);
      await pause(50);
      const entries = listener.playing();
      assert.deepEqual(
        entries.map((entry) => entry.state),
        ['playing', 'paused', 'buffering', 'playing', 'stopped'],
      );
      for (const entry of entries) {
        assert.equal(entry.sessionKey, sessionKey);
        assert.equal(entry.clientIdentifier, playerId);
        assert.equal(entry.ratingKey, ratingKey);
        assert.equal(entry.key, `/library/metadata/${ratingKey}`);
        assert.equal(typeof entry.viewOffset, 'number');
        assert.equal(typeof entry.playQueueItemID, 'number');
        // No names: the notification has none.
        assert.deepEqual(Object.keys(entry).sort(), [
          'clientIdentifier',
          'guid',
          'key',
          'playQueueItemID',
          'ratingKey',
          'sessionKey',
          'state',
          'url',
          'viewOffset',
        ]);
      }
      assert.equal(listener.containers[0].type, 'playing');
    });

    it('repeat while playing, with a position that moves, and not while paused', async function () {
      await sim.stop();
      sim = await startSimulator({ token: TOKEN, timelineIntervalMs: 40 });
      const listener = await opened('playing');
      const { sessionKey } = sim.startPlayback();
      await waitUntil(() => listener.playing().length >= 4, 2000, 'four timeline notifications');
      const offsets = listener.playing().map((entry) => entry.viewOffset);
      assert.ok(offsets[3] > offsets[0], `the position does not move: ${offsets.join(', ')}`);
      sim.pausePlayback(sessionKey);
      await waitUntil(() => listener.playing().at(-1)?.state === 'paused');
      const count = listener.playing().length;
      await pause(200);
      assert.equal(listener.playing().length, count, 'notifications while paused');
      sim.stopPlayback(sessionKey);
      await waitUntil(() => listener.playing().at(-1)?.state === 'stopped');
      await pause(150);
      assert.equal(listener.playing().at(-1)?.state, 'stopped', 'notifications after the stop');
    });

    it('honour filters: default all but log, activity only, playing only, all, all but those listed', async function () {
      const cases: Array<[string | undefined, boolean, boolean]> = [
        [undefined, true, true],
        ['activity', true, false],
        ['playing', false, true],
        ['activity,playing', true, true],
        ['', true, true],
        ['-playing', true, false],
        ['-log', true, true],
        // "-foo,bar: all event types except foo and bar" (both specs).
        ['-activity,playing', false, false],
      ];
      const listeners = await Promise.all(cases.map(([filters]) => opened(filters)));
      sim.startPlayback();
      await fetchStart(sim);
      const everything = listeners[0];
      await waitUntil(
        () =>
          everything.containers.some((c) => c.type === 'playing') &&
          everything.containers.some((c) => c.type === 'activity'),
      );
      await pause(100);
      cases.forEach(([filters, activity, playing], index) => {
        const types = new Set(listeners[index].containers.map((container) => container.type));
        assert.equal(types.has('activity'), activity, `filters=${String(filters)}: activity`);
        assert.equal(types.has('playing'), playing, `filters=${String(filters)}: playing`);
      });
    });

    it("reach the simulator's 'playing' event too", async function () {
      const seen: SimPlayingNotification[] = [];
      sim.on('playing', (entry) => seen.push(entry));
      const { sessionKey } = sim.startPlayback();
      sim.stopPlayback(sessionKey);
      assert.deepEqual(
        seen.map((entry) => entry.state),
        ['playing', 'stopped'],
      );
    });
  });

  describe('control over HTTP on /__simulator', function () {
    it('starts, pauses and stops a playback, and is neither counted nor recorded', async function () {
      const requests = sim.stats.requests;
      const exchanges = sim.exchanges.length;
      const started = await request(
        sim,
        'POST',
        '/__simulator/playbacks?user=carol&player=Phone&playerId=p-9&title=Heat&type=movie&transcode=true&location=wan',
      );
      assert.equal(started.status, 201, started.body);
      const playback = JSON.parse(started.body) as { sessionKey: string };
      assert.deepEqual(
        sim
          .playbacks()
          .map((p) => [p.user, p.player, p.playerId, p.title, p.transcode, p.location]),
        [['carol', 'Phone', 'p-9', 'Heat', true, 'wan']],
      );
      const paused = await request(
        sim,
        'POST',
        `/__simulator/playbacks/${playback.sessionKey}/pause`,
      );
      assert.equal(paused.status, 200);
      assert.equal(sim.playbacks()[0].state, 'paused');
      const listed = JSON.parse((await request(sim, 'GET', '/__simulator/sessions')).body) as {
        playbacks: unknown[];
      };
      assert.equal(listed.playbacks.length, 1);
      assert.equal(
        (await request(sim, 'POST', `/__simulator/playbacks/${playback.sessionKey}/stop`)).status,
        200,
      );
      assert.deepEqual(sim.playbacks(), []);
      assert.equal(sim.stats.requests, requests);
      assert.equal(sim.exchanges.length, exchanges);
    });

    it('starts and stops a recording and a background transcode', async function () {
      const recording = await request(
        sim,
        'POST',
        '/__simulator/recordings?title=Match&channel=Sport',
      );
      assert.equal(recording.status, 201);
      const { key } = JSON.parse(recording.body) as { key: string };
      const job = await request(sim, 'POST', '/__simulator/background?title=Film&speed=4');
      assert.equal(job.status, 201);
      const { id } = JSON.parse(job.body) as { id: string };
      assert.deepEqual(
        sim.recordings().map((r) => [r.title, r.channel]),
        [['Match', 'Sport']],
      );
      assert.deepEqual(
        sim.backgroundTranscodes().map((j) => [j.title, j.speed]),
        [['Film', 4]],
      );
      assert.equal((await request(sim, 'POST', `/__simulator/recordings/${key}/stop`)).status, 200);
      assert.equal((await request(sim, 'POST', `/__simulator/background/${id}/stop`)).status, 200);
      assert.deepEqual(sim.recordings(), []);
      assert.deepEqual(sim.backgroundTranscodes(), []);
    });

    it('wants the token, and names what is wrong with a request', async function () {
      const anonymous = await request(sim, 'POST', '/__simulator/playbacks', { token: null });
      assert.equal(anonymous.status, 401);
      assert.deepEqual(sim.playbacks(), []);
      const badType = await request(sim, 'POST', '/__simulator/playbacks?type=opera');
      assert.equal(badType.status, 400);
      assert.match(
        badType.body,
        /type must be one of movie, episode, clip, track; got \\"opera\\"/,
      );
      const unknown = await request(sim, 'POST', '/__simulator/playbacks?colour=red');
      assert.equal(unknown.status, 400);
      assert.match(unknown.body, /unknown parameter \\"colour\\"; allowed: user, player/);
      const missing = await request(sim, 'POST', '/__simulator/playbacks/404/pause');
      assert.equal(missing.status, 404);
      assert.match(missing.body, /no playback with the key/);
      const nowhere = await request(sim, 'DELETE', '/__simulator/playbacks');
      assert.equal(nowhere.status, 404);
      assert.deepEqual(sim.playbacks(), []);
    });
  });
});

/** A task start, so that an activity event goes out too. */
async function fetchStart(sim: PlexSimulator): Promise<void> {
  const answer = await request(sim, 'POST', '/butler/OptimizeDatabase');
  assert.equal(answer.status, 200);
}
