import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DEFAULT_TASKS, PlexSimulator } from '../../simulator';
import type { RecordedExchange, SimulatorOptions } from '../../simulator';
import { TEST_NOON } from '../support/simulator';

const SPEC_TASK_NAMES = [
  'AutomaticUpdates',
  'BackupDatabase',
  'ButlerTaskGenerateAdMarkers',
  'ButlerTaskGenerateCreditsMarkers',
  'ButlerTaskGenerateIntroMarkers',
  'ButlerTaskGenerateVoiceActivity',
  'CleanOldBundles',
  'CleanOldCacheFiles',
  'DeepMediaAnalysis',
  'GarbageCollectBlobs',
  'GarbageCollectLibraryMedia',
  'GenerateBlurHashes',
  'GenerateChapterThumbs',
  'GenerateMediaIndexFiles',
  'LoudnessAnalysis',
  'MusicAnalysis',
  'OptimizeDatabase',
  'RefreshEpgGuides',
  'RefreshLibraries',
  'RefreshLocalMedia',
  'RefreshPeriodicMetadata',
  'UpgradeMediaAnalysis',
];
const UNAUTHORIZED_HTML =
  '<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>';
const NOT_FOUND_HTML =
  '<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>';
const TASK_MS = 200;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request failure, with what had arrived before it. */
interface PartialAnswerError extends Error {
  code?: string;
  status?: number;
  received?: string;
}

interface RequestOptions {
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** Default: a fresh connection per request, so no client socket outlives a test. */
  agent?: http.Agent | false;
  ca?: string;
  timeoutMs?: number;
}

/** One request over a real socket; rejects when the connection fails before the body is whole. */
function request(url: string, options: RequestOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const common = {
      method: options.method ?? 'GET',
      headers: options.headers,
      agent: options.agent ?? false,
    };
    let status: number | undefined;
    let received = '';
    const fail = (error: PartialAnswerError): void => {
      error.status = status;
      error.received = received;
      reject(error);
    };
    const onResponse = (res: http.IncomingMessage): void => {
      status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (received += chunk));
      res.on('error', fail);
      res.on('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })));
      res.on('end', () => {
        if (!res.complete) return;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: received });
      });
    };
    const req =
      target.protocol === 'https:'
        ? https.request(
            target,
            // The certificate is checked against our CA; its name (localhost) is not 127.0.0.1.
            { ...common, ca: options.ca, checkServerIdentity: () => undefined },
            onResponse,
          )
        : http.request(target, common, onResponse);
    req.on('error', fail);
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(Object.assign(new Error('client timeout'), { code: 'ETIMEDOUT' })),
      );
    }
    req.end();
  });
}

async function rejection(promise: Promise<unknown>): Promise<PartialAnswerError> {
  try {
    await promise;
  } catch (error) {
    return error as PartialAnswerError;
  }
  assert.fail('expected the request to fail');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitFor<T>(check: () => T | undefined, timeoutMs = 2000): Promise<T> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      const value = check();
      if (value !== undefined) resolve(value);
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not met in time'));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

function countBy(list: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of list) counts[item] = (counts[item] ?? 0) + 1;
  return counts;
}

interface ButlerTaskJson {
  name: string;
  interval: number;
  scheduleRandomized: boolean;
  enabled: boolean;
  title?: string;
  description?: string;
}

interface ActivityJson {
  uuid: string;
  type: string;
  title: string;
  progress: number;
  cancellable: boolean;
  userID: number;
}

describe('PlexSimulator', function () {
  this.timeout(5000);

  let sim: PlexSimulator;
  let json: http.OutgoingHttpHeaders;
  let xml: http.OutgoingHttpHeaders;

  async function startSim(options: SimulatorOptions = {}): Promise<PlexSimulator> {
    // The clock is pinned outside the maintenance window: start-all runs everything at once.
    sim = new PlexSimulator({ taskDurationMs: TASK_MS, now: TEST_NOON, ...options });
    await sim.start();
    json = { 'X-Plex-Token': sim.token, Accept: 'application/json' };
    xml = { 'X-Plex-Token': sim.token };
    return sim;
  }

  function get(path: string, headers = json): Promise<Answer> {
    return request(`${sim.url}${path}`, { headers });
  }
  function post(path: string, headers = json): Promise<Answer> {
    return request(`${sim.url}${path}`, { method: 'POST', headers });
  }
  function del(path: string, headers = json): Promise<Answer> {
    return request(`${sim.url}${path}`, { method: 'DELETE', headers });
  }
  async function activitiesJson(): Promise<{ size: number; Activity?: ActivityJson[] }> {
    const answer = await get('/activities');
    assert.equal(answer.status, 200);
    return (
      JSON.parse(answer.body) as { MediaContainer: { size: number; Activity?: ActivityJson[] } }
    ).MediaContainer;
  }

  afterEach(async () => {
    await sim?.stop();
  });

  describe('GET /identity', () => {
    beforeEach(() => startSim());

    it('answers JSON without a token, with a fixed 32-hex machine identifier', async () => {
      const first = await request(`${sim.url}/identity`, {
        headers: { Accept: 'application/json' },
      });
      const second = await request(`${sim.url}/identity`, {
        headers: { Accept: 'application/json' },
      });
      assert.equal(first.status, 200);
      assert.equal(first.headers['content-type'], 'application/json');
      const body = JSON.parse(first.body) as { MediaContainer: Record<string, unknown> };
      assert.equal(body.MediaContainer.size, 0);
      assert.equal(body.MediaContainer.claimed, true);
      assert.equal(body.MediaContainer.version, '1.41.3.9314-a0bfb8370');
      assert.match(String(body.MediaContainer.machineIdentifier), /^[0-9a-f]{40}$/);
      assert.equal(second.body, first.body);
    });

    it('answers XML when JSON is not asked for', async () => {
      const answer = await request(`${sim.url}/identity`);
      assert.equal(answer.headers['content-type'], 'application/xml');
      assert.match(answer.body, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<MediaContainer /);
      assert.match(answer.body, / size="0" claimed="1" machineIdentifier="[0-9a-f]{40}" /);
    });
  });

  describe('authentication', () => {
    beforeEach(() => startSim({ token: 'secret' }));

    for (const [label, headers] of [
      ['no token', { Accept: 'application/json' }],
      ['a wrong token', { Accept: 'application/json', 'X-Plex-Token': 'wrong' }],
    ] as const) {
      it(`refuses ${label} with the short 401 HTML page`, async () => {
        const answer = await request(`${sim.url}/butler`, { headers });
        assert.equal(answer.status, 401);
        assert.equal(answer.headers['content-type'], 'text/html');
        assert.equal(answer.body, UNAUTHORIZED_HTML);
        assert.equal(sim.token, 'secret');
      });
    }

    it('needs the token for starting, stopping and /activities too', async () => {
      const headers = { Accept: 'application/json' };
      assert.equal((await post('/butler/BackupDatabase', headers)).status, 401);
      assert.equal((await del('/butler', headers)).status, 401);
      assert.equal((await get('/activities', headers)).status, 401);
      assert.deepEqual(sim.runningTasks(), []);
    });

    it('accepts the token as an X-Plex-Token query parameter', async () => {
      const answer = await get('/butler?X-Plex-Token=secret', { Accept: 'application/json' });
      assert.equal(answer.status, 200);
    });
  });

  describe('GET /butler', () => {
    beforeEach(() => startSim());

    it('lists the 22 spec tasks as JSON, with the official example values', async () => {
      const answer = await get('/butler');
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.equal(answer.headers['x-plex-protocol'], '1.0');
      assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body));
      const tasks = (JSON.parse(answer.body) as { ButlerTasks: { ButlerTask: ButlerTaskJson[] } })
        .ButlerTasks.ButlerTask;
      assert.deepEqual(
        tasks.map((task) => task.name),
        SPEC_TASK_NAMES,
      );
      const backup = tasks.find((task) => task.name === 'BackupDatabase');
      assert.deepEqual(backup, {
        name: 'BackupDatabase',
        interval: 3,
        scheduleRandomized: false,
        enabled: true,
        title: 'Backup Database',
        description:
          "Create a backup copy of the server's database in the configured backup directory",
      });
      const disabled = tasks.filter((task) => !task.enabled).map((task) => task.name);
      assert.deepEqual(disabled, [
        'AutomaticUpdates',
        'ButlerTaskGenerateAdMarkers',
        'GenerateMediaIndexFiles',
        'RefreshLibraries',
      ]);
      assert.ok(tasks.every((task) => task.title && task.description));
      assert.equal(DEFAULT_TASKS.length, 22);
    });

    it('answers XML with 1/0 booleans when JSON is not asked for', async () => {
      const answer = await get('/butler', xml);
      assert.equal(answer.headers['content-type'], 'application/xml');
      assert.ok(answer.body.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ButlerTasks>\n'));
      assert.ok(answer.body.trimEnd().endsWith('</ButlerTasks>'));
      assert.equal(answer.body.match(/<ButlerTask /g)?.length, 22);
      assert.match(
        answer.body,
        /<ButlerTask name="BackupDatabase" interval="3" scheduleRandomized="0" enabled="1" title="Backup Database" description="Create a backup copy of the server&apos;s database in the configured backup directory"\/>/,
      );
    });

    it('leaves title and description out when a task has none, and escapes XML', async () => {
      sim.setTasks([
        { name: 'ProcessAssets', interval: 1, scheduleRandomized: true, enabled: true },
        {
          name: 'OptimizeDatabase',
          title: 'Optimize <"Database"> & more',
          interval: 7,
          scheduleRandomized: false,
          enabled: false,
        },
      ]);
      const fromJson = JSON.parse((await get('/butler')).body) as {
        ButlerTasks: { ButlerTask: ButlerTaskJson[] };
      };
      assert.deepEqual(fromJson.ButlerTasks.ButlerTask[0], {
        name: 'ProcessAssets',
        interval: 1,
        scheduleRandomized: true,
        enabled: true,
      });
      const fromXml = (await get('/butler', xml)).body;
      assert.match(
        fromXml,
        /<ButlerTask name="ProcessAssets" interval="1" scheduleRandomized="1" enabled="1"\/>/,
      );
      assert.match(fromXml, /title="Optimize &lt;&quot;Database&quot;&gt; &amp; more"/);
    });
  });

  describe('starting and stopping one task', () => {
    beforeEach(() => startSim());

    it('starts a task (200), reports 202 while it runs, and it ends after the duration', async () => {
      const started = await post('/butler/BackupDatabase');
      assert.equal(started.status, 200);
      assert.equal(started.body, '');
      assert.equal(started.headers['content-length'], '0');
      assert.deepEqual(sim.runningTasks(), ['BackupDatabase']);
      const again = await post('/butler/BackupDatabase');
      assert.equal(again.status, 202);
      assert.equal(again.body, '');
      await waitFor(() => (sim.runningTasks().length === 0 ? true : undefined));
      assert.equal((await post('/butler/BackupDatabase')).status, 200, 'can start again');
    });

    it('shows a running task in /activities, with growing progress, until it ends', async () => {
      await post('/butler/OptimizeDatabase');
      const first = await activitiesJson();
      assert.equal(first.size, 1);
      const [activity] = first.Activity ?? [];
      // No public source shows the type of OptimizeDatabase: the simulator's own, saying so.
      assert.equal(activity.type, 'simulator.OptimizeDatabase');
      assert.equal(activity.title, 'Optimize Database');
      assert.equal(activity.cancellable, false);
      assert.equal(activity.userID, 1);
      assert.match(activity.uuid, /^[0-9a-f-]{36}$/);
      await delay(TASK_MS / 2);
      const later = (await activitiesJson()).Activity?.[0];
      assert.equal(later?.uuid, activity.uuid);
      assert.ok(later && later.progress > activity.progress && later.progress < 100);
      const asXml = await get('/activities', xml);
      assert.equal(asXml.headers['content-type'], 'application/xml');
      assert.match(
        asXml.body,
        /<MediaContainer size="1">\n<Activity uuid="[0-9a-f-]{36}" type="simulator.OptimizeDatabase" cancellable="0" userID="1" title="Optimize Database" subtitle="" progress="\d+"\/>\n<\/MediaContainer>/,
      );
      await delay(TASK_MS);
      // Plex leaves empty lists out of JSON.
      assert.deepEqual(await activitiesJson(), { size: 0 });
      assert.deepEqual(sim.activities(), []);
    });

    it('gives a task the activity type seen from real servers, else one named simulator.<task>', async () => {
      // Types seen in public client code, with the task each most likely belongs to (inferred).
      const seen: Record<string, string> = {
        ButlerTaskGenerateCreditsMarkers: 'media.generate.credits',
        ButlerTaskGenerateIntroMarkers: 'media.generate.intros',
        ButlerTaskGenerateVoiceActivity: 'media.generate.voice.activity',
        GenerateChapterThumbs: 'media.generate.chapter.thumbs',
        GenerateMediaIndexFiles: 'media.generate.bif',
        RefreshEpgGuides: 'provider.epg.load',
        RefreshLibraries: 'library.update.section',
        RefreshLocalMedia: 'library.refresh.items',
        RefreshPeriodicMetadata: 'library.update.item.metadata',
      };
      const started: Array<[string, string, string]> = [];
      sim.on('activity', ({ event, task, activity }) => {
        if (event === 'started') started.push([task, activity.type, activity.title]);
      });
      for (const name of SPEC_TASK_NAMES) assert.equal((await post(`/butler/${name}`)).status, 200);
      const titles = new Map(DEFAULT_TASKS.map((task) => [task.name, task.title]));
      assert.deepEqual(
        started,
        SPEC_TASK_NAMES.map((name) => [
          name,
          seen[name] ?? `simulator.${name}`,
          // The one title public code shows; the others are the task's own title.
          name === 'RefreshEpgGuides' ? 'Refreshing EPG' : titles.get(name),
        ]),
      );
      const invented = started.filter(([, type]) => type.startsWith('simulator.'));
      assert.deepEqual(
        ['OptimizeDatabase', 'BackupDatabase', 'CleanOldBundles', 'CleanOldCacheFiles'].filter(
          (name) => !invented.some(([task]) => task === name),
        ),
        [],
        'no public source shows a type for these',
      );
      assert.equal(invented.length, SPEC_TASK_NAMES.length - Object.keys(seen).length);
    });

    it('answers the official 404 page for a task not in the current list (case-sensitive)', async () => {
      for (const name of ['NoSuchTask', 'backupdatabase']) {
        const answer = await post(`/butler/${name}`);
        assert.equal(answer.status, 404);
        assert.equal(answer.headers['content-type'], 'text/html');
        assert.equal(answer.body, NOT_FOUND_HTML);
      }
      assert.deepEqual(sim.runningTasks(), []);
    });

    it('follows setTasks: new names can start, removed ones are 404 and stop running', async () => {
      await post('/butler/OptimizeDatabase');
      sim.setTasks([
        { name: 'ProcessAssets', interval: 1, scheduleRandomized: false, enabled: true },
      ]);
      assert.deepEqual(sim.runningTasks(), []);
      assert.equal((await post('/butler/OptimizeDatabase')).status, 404);
      assert.equal((await post('/butler/ProcessAssets')).status, 200);
      const [activity] = (await activitiesJson()).Activity ?? [];
      assert.equal(activity?.title, 'ProcessAssets', 'name as title');
      assert.equal(activity?.type, 'simulator.ProcessAssets');
    });

    it('stops a running task (200) and answers 404 when it is not running or unknown', async () => {
      assert.equal((await del('/butler/BackupDatabase')).status, 404, 'not running');
      await post('/butler/BackupDatabase');
      const stopped = await del('/butler/BackupDatabase');
      assert.equal(stopped.status, 200);
      assert.equal(stopped.body, '');
      assert.deepEqual(sim.runningTasks(), []);
      const unknown = await del('/butler/NoSuchTask');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body, NOT_FOUND_HTML);
    });

    it('starts a disabled task when asked by name', async () => {
      assert.equal((await post('/butler/RefreshLibraries')).status, 200);
      assert.deepEqual(sim.runningTasks(), ['RefreshLibraries']);
    });

    it('emits activity events when tasks start and end', async () => {
      const events: string[] = [];
      sim.on('activity', (event) => events.push(`${event.event} ${event.task}`));
      await post('/butler/BackupDatabase');
      await del('/butler/BackupDatabase');
      assert.deepEqual(events, ['started BackupDatabase', 'ended BackupDatabase']);
    });
  });

  describe('starting and stopping all tasks', () => {
    beforeEach(() => startSim());

    it('POST /butler starts the enabled tasks only; DELETE /butler stops them all', async () => {
      await post('/butler/RefreshLibraries');
      const started = await post('/butler');
      assert.equal(started.status, 200);
      assert.equal(started.body, '');
      const enabled = DEFAULT_TASKS.filter((task) => task.enabled).map((task) => task.name);
      assert.deepEqual([...sim.runningTasks()].sort(), [...enabled, 'RefreshLibraries'].sort());
      assert.ok(!sim.runningTasks().includes('AutomaticUpdates'));
      assert.equal((await activitiesJson()).size, enabled.length + 1);
      const stopped = await del('/butler');
      assert.equal(stopped.status, 200);
      assert.deepEqual(sim.runningTasks(), []);
      assert.equal((await del('/butler')).status, 200, 'stopping nothing is fine too');
    });
  });

  describe('other paths and methods', () => {
    beforeEach(() => startSim());

    for (const [method, path] of [
      ['GET', '/butler/BackupDatabase'],
      ['PUT', '/butler'],
      ['PUT', '/butler/BackupDatabase'],
      ['POST', '/activities'],
      ['GET', '/library/sections'],
      ['GET', '/'],
      ['POST', '/butler/Backup/Database'],
    ] as const) {
      it(`answers 404 HTML to ${method} ${path}`, async () => {
        const answer = await request(`${sim.url}${path}`, { method, headers: json });
        assert.equal(answer.status, 404);
        assert.equal(answer.body, NOT_FOUND_HTML);
      });
    }
  });

  describe('pathPrefix', () => {
    beforeEach(() => startSim({ pathPrefix: '/plex/' }));

    it('serves under the prefix and includes it in the URL', async () => {
      assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+\/plex$/);
      assert.equal((await get('/butler')).status, 200);
      assert.equal((await post('/butler/BackupDatabase')).status, 200);
      const exchange = sim.exchanges[0];
      assert.ok(exchange.url.startsWith('/plex/butler'));
      assert.equal(exchange.path, '/butler');
    });

    it('answers 404 HTML outside the prefix, even with a token', async () => {
      const origin = new URL(sim.url).origin;
      for (const path of ['/butler', '/plexbutler', '/identity']) {
        const answer = await request(`${origin}${path}`, { headers: json });
        assert.equal(answer.status, 404);
        assert.equal(answer.headers['content-type'], 'text/html');
        assert.match(answer.body, /404 Not Found/);
      }
    });
  });

  describe('recording', () => {
    beforeEach(() => startSim());

    it('records and emits every exchange, and counts requests by route', async () => {
      const emitted: RecordedExchange[] = [];
      const requests: string[] = [];
      sim.on('exchange', (exchange) => emitted.push(exchange));
      sim.on('request', (req) => requests.push(`${req.method} ${req.url}`));
      await get('/butler?foo=b%20r');
      await post('/butler/BackupDatabase');
      await post('/butler/CleanOldBundles');
      await request(`${sim.url}/identity`);
      await get('/nothing');
      assert.equal(sim.exchanges.length, 5);
      assert.deepEqual(emitted, sim.exchanges);
      assert.deepEqual(requests[0], 'GET /butler?foo=b%20r');
      const [first, second] = sim.exchanges;
      assert.equal(first.method, 'GET');
      assert.equal(first.url, '/butler?foo=b%20r');
      assert.equal(first.path, '/butler');
      assert.equal(first.status, 200);
      assert.equal(first.headers.accept, 'application/json');
      assert.equal(first.responseHeaders['content-type'], 'application/json');
      assert.equal(first.responseHeaders['x-plex-protocol'], '1.0');
      assert.ok(first.responseBody.startsWith('{"ButlerTasks"'));
      assert.equal(first.faultInjected, false);
      assert.ok(Math.abs(first.time - Date.now()) < 2000);
      assert.equal(second.responseBody, '');
      assert.deepEqual(sim.stats.requestsByRoute, {
        'GET /butler': 1,
        'POST /butler/{task}': 2,
        'GET /identity': 1,
        'GET *': 1,
      });
      assert.equal(sim.stats.requests, 5);
      sim.resetStats();
      assert.deepEqual(sim.exchanges, []);
      assert.equal(sim.stats.requests, 0);
      assert.equal(sim.stats.connections, 0);
      assert.deepEqual(sim.stats.requestsByRoute, {});
    });

    it('keeps only the latest maxExchanges exchanges, and still emits every one', async () => {
      await sim.stop();
      await startSim({ maxExchanges: 3 });
      const emitted: string[] = [];
      sim.on('exchange', (exchange) => emitted.push(exchange.url));
      const urls = [1, 2, 3, 4, 5].map((n) => `/identity?n=${n}`);
      for (const url of urls) await get(url);
      assert.deepEqual(emitted, urls);
      assert.deepEqual(
        sim.exchanges.map((exchange) => exchange.url),
        urls.slice(2),
      );
    });

    it('keeps 10 000 by default, none with 0, and refuses a limit that is no count', async () => {
      assert.equal(new PlexSimulator().maxExchanges, 10_000);
      assert.equal(new PlexSimulator({ maxExchanges: Infinity }).maxExchanges, Infinity);
      await sim.stop();
      await startSim({ maxExchanges: 0 });
      let emitted = 0;
      sim.on('exchange', () => emitted++);
      await get('/identity');
      await get('/butler');
      assert.equal(emitted, 2);
      assert.deepEqual(sim.exchanges, []);
      for (const bad of [-1, 1.5, Number.NaN]) {
        assert.throws(
          () => new PlexSimulator({ maxExchanges: bad }),
          (error: unknown) =>
            error instanceof RangeError &&
            error.message ===
              `maxExchanges must be a whole number of 0 or more, or Infinity; got ${bad}`,
        );
      }
    });
  });

  describe('connections', () => {
    it('reuses one kept-alive connection for sequential requests', async () => {
      await startSim();
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < 10; i++) {
          const answer = await request(`${sim.url}/butler`, { headers: json, agent });
          assert.equal(answer.status, 200);
          assert.equal(answer.headers.connection, 'keep-alive');
        }
        assert.equal(sim.stats.requests, 10);
        assert.equal(sim.stats.connections, 1);
        assert.equal(sim.stats.openConnections, 1);
      } finally {
        agent.destroy();
      }
      await waitFor(() => (sim.stats.openConnections === 0 ? true : undefined));
    });

    it('answers Connection: close to a client that asks for it', async () => {
      await startSim();
      const answer = await get('/butler', { ...json, Connection: 'close' });
      assert.equal(answer.headers.connection, 'close');
    });

    it('counts one connection per request without keep-alive', async () => {
      await startSim();
      for (let i = 0; i < 3; i++) await get('/butler');
      assert.equal(sim.stats.connections, 3);
    });

    it('comes back on the same port after stop() and start()', async () => {
      await startSim();
      const url = sim.url;
      await post('/butler/BackupDatabase');
      await sim.stop();
      await rejection(get('/identity'));
      assert.deepEqual(sim.runningTasks(), []);
      assert.equal(await sim.start(), url);
      assert.equal((await get('/butler')).status, 200);
    });
  });

  describe('latency', () => {
    it('delays every answer by the base latency, changeable with setLatency', async () => {
      await startSim({ latencyMs: 80 });
      let begun = Date.now();
      await request(`${sim.url}/identity`);
      assert.ok(Date.now() - begun >= 75);
      sim.setLatency(0);
      begun = Date.now();
      await request(`${sim.url}/identity`);
      assert.ok(Date.now() - begun < 75);
    });
  });

  describe('faults', () => {
    beforeEach(() => startSim());

    function lastExchange(): RecordedExchange {
      const exchange = sim.exchanges.at(-1);
      assert.ok(exchange, 'an exchange was recorded');
      return exchange;
    }

    it('latency: adds the delay, then answers normally', async () => {
      sim.injectFault({ kind: 'latency', ms: 100, times: 1 });
      const begun = Date.now();
      const answer = await get('/butler');
      assert.ok(Date.now() - begun >= 95);
      assert.equal(answer.status, 200);
      assert.ok(answer.body.startsWith('{"ButlerTasks"'));
      assert.equal(lastExchange().faultInjected, true);
    });

    it('status: answers the status with Retry-After, for `times` requests only', async () => {
      sim.injectFault({ kind: 'status', status: 503, retryAfter: '7', times: 2 });
      for (let i = 0; i < 2; i++) {
        const answer = await get('/butler');
        assert.equal(answer.status, 503);
        assert.equal(answer.headers['retry-after'], '7');
        assert.equal(answer.headers['content-type'], 'text/html');
        assert.match(answer.body, /503 Service Unavailable/);
        assert.equal(lastExchange().faultInjected, true);
        assert.equal(lastExchange().status, 503);
      }
      assert.equal((await get('/butler')).status, 200);
      assert.equal(lastExchange().faultInjected, false);
    });

    it('status: keeps applying until cleared when `times` is not given', async () => {
      sim.injectFault({ kind: 'status', status: 401 });
      for (let i = 0; i < 3; i++) {
        const answer = await get('/butler');
        assert.equal(answer.status, 401);
        assert.equal(answer.body, UNAUTHORIZED_HTML);
      }
      sim.clearFaults();
      assert.equal((await get('/butler')).status, 200);
    });

    it('status: short HTML for each error status a client must handle', async () => {
      for (const status of [400, 401, 403, 404, 429, 500, 502, 503, 504]) {
        sim.injectFault({ kind: 'status', status, times: 1 });
        const answer = await post('/butler/BackupDatabase');
        assert.equal(answer.status, status);
        assert.equal(answer.headers['content-type'], 'text/html');
        assert.match(
          answer.body,
          new RegExp(`^<html><head><title>.+</title></head><body><h1>${status} `),
        );
        assert.equal(answer.headers['retry-after'], undefined);
      }
      assert.equal((await get('/butler')).status, 200, 'each fault was used up');
    });

    it('applies only to matching requests, first injected first', async () => {
      sim.injectFault({
        kind: 'status',
        status: 500,
        match: { method: 'post', path: /^\/butler\// },
      });
      sim.injectFault({ kind: 'status', status: 502, match: { path: '/butler' } });
      sim.injectFault({ kind: 'status', status: 504 });
      assert.equal((await post('/butler/BackupDatabase')).status, 500);
      assert.deepEqual(sim.runningTasks(), [], 'the request did not reach the server');
      assert.equal((await get('/butler')).status, 502);
      assert.equal((await post('/butler')).status, 502);
      assert.equal((await get('/activities')).status, 504);
    });

    it('drop: closes the connection without an answer, recorded as status 0', async () => {
      sim.injectFault({ kind: 'drop', times: 1 });
      const error = await rejection(get('/butler'));
      assert.equal(error.status, undefined);
      assert.match(String(error.code), /ECONNRESET|ECONNREFUSED|EPIPE/);
      const exchange = lastExchange();
      assert.equal(exchange.status, 0);
      assert.equal(exchange.faultInjected, true);
    });

    it('hang: never answers; recorded as status 0 when the client gives up', async () => {
      sim.injectFault({ kind: 'hang', times: 1 });
      const error = await rejection(
        request(`${sim.url}/butler`, { headers: json, timeoutMs: 100 }),
      );
      assert.equal(error.code, 'ETIMEDOUT');
      const exchange = await waitFor(() => sim.exchanges.at(-1));
      assert.equal(exchange.status, 0);
      assert.equal(exchange.faultInjected, true);
    });

    it('malformed: 200 with broken JSON', async () => {
      sim.injectFault({ kind: 'malformed', times: 1 });
      const answer = await get('/butler');
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.equal(answer.body, '{"ButlerTasks": {"ButlerTask": [ {"name": }');
      assert.throws(() => JSON.parse(answer.body), SyntaxError);
    });

    it('truncated: promises more bytes than it sends, then closes', async () => {
      sim.injectFault({ kind: 'truncated', times: 1 });
      const error = await rejection(get('/butler'));
      assert.equal(error.status, 200);
      const full = (await get('/butler')).body;
      assert.ok(error.received && error.received.length > 0);
      assert.ok(full.startsWith(error.received));
      assert.ok(error.received.length < full.length);
      const exchange = sim.exchanges.at(-2);
      assert.equal(exchange?.status, 0, 'not a complete answer');
      assert.equal(exchange?.faultInjected, true);
      assert.equal(exchange?.responseHeaders['content-length'], String(Buffer.byteLength(full)));
      assert.equal(exchange?.responseBody, error.received);
    });

    it('truncated: the request still had its effect', async () => {
      sim.injectFault({ kind: 'truncated', times: 1 });
      await rejection(post('/butler/BackupDatabase'));
      assert.deepEqual(sim.runningTasks(), ['BackupDatabase']);
      assert.equal((await post('/butler/BackupDatabase')).status, 202);
    });

    it('huge: streams a valid JSON body of the asked size', async () => {
      const bytes = 3 * 1024 * 1024;
      sim.injectFault({ kind: 'huge', bytes, times: 1 });
      const answer = await get('/butler');
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-length'], String(bytes));
      assert.equal(answer.body.length, bytes);
      const parsed = JSON.parse(answer.body) as { ButlerTasks: { ButlerTask: ButlerTaskJson[] } };
      assert.ok(parsed.ButlerTasks.ButlerTask.length > 1000);
      const exchange = lastExchange();
      assert.equal(exchange.responseBody, answer.body.slice(0, 1000));
      assert.equal(exchange.faultInjected, true);
    });

    it('huge: stops streaming when the client goes away', async () => {
      sim.injectFault({ kind: 'huge', times: 1 });
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${sim.url}/butler`, { headers: json, agent: false }, (res) => {
          assert.equal(res.headers['content-length'], String(20 * 1024 * 1024));
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ECONNRESET') reject(error);
        });
      });
      const exchange = await waitFor(() => sim.exchanges.at(-1));
      assert.equal(exchange.status, 0, 'not a complete answer');
      assert.equal(exchange.responseHeaders['content-length'], String(20 * 1024 * 1024));
      assert.equal(exchange.responseBody.length, 1000);
    });

    it('html: a reverse proxy login page with status 200 (or the given one)', async () => {
      sim.injectFault({ kind: 'html', times: 1 });
      sim.injectFault({ kind: 'html', status: 302, times: 1 });
      const answer = await get('/butler');
      assert.equal(answer.status, 200);
      assert.match(String(answer.headers['content-type']), /^text\/html/);
      assert.match(answer.body, /<form/);
      assert.equal((await get('/butler')).status, 302);
    });

    it('empty: 200 with an empty JSON-typed body', async () => {
      sim.injectFault({ kind: 'empty', times: 1 });
      const answer = await get('/butler');
      assert.equal(answer.status, 200);
      assert.equal(answer.headers['content-type'], 'application/json');
      assert.equal(answer.headers['content-length'], '0');
      assert.equal(answer.body, '');
    });

    it('xml: answers XML although JSON was asked for', async () => {
      sim.injectFault({ kind: 'xml', times: 1 });
      const answer = await get('/butler');
      assert.equal(answer.headers['content-type'], 'application/xml');
      assert.match(answer.body, /<ButlerTasks>/);
      assert.equal(lastExchange().faultInjected, true);
      assert.equal((await get('/butler')).headers['content-type'], 'application/json');
    });

    it('drip: sends the valid body one byte at a time, without content-length', async () => {
      sim.injectFault({ kind: 'drip', ms: 2, times: 1 });
      const begun = Date.now();
      const answer = await request(`${sim.url}/identity`, {
        headers: { Accept: 'application/json' },
      });
      const bytes = Buffer.byteLength(answer.body);
      assert.ok(Date.now() - begun >= bytes * 2 * 0.9);
      assert.equal(answer.headers['content-length'], undefined);
      assert.equal(answer.headers['transfer-encoding'], 'chunked');
      assert.ok(JSON.parse(answer.body));
      assert.equal(lastExchange().responseBody, answer.body);
    });

    it('reset-mid-body: sends headers and part of the body, then resets', async () => {
      sim.injectFault({ kind: 'reset-mid-body', times: 1 });
      const error = await rejection(get('/butler'));
      assert.equal(error.status, 200);
      assert.equal(error.code, 'ECONNRESET');
      assert.ok(error.received && error.received.startsWith('{"ButlerTasks"'));
      const exchange = await waitFor(() => sim.exchanges.at(-1));
      assert.equal(exchange.status, 0);
      assert.equal(exchange.faultInjected, true);
      assert.equal(exchange.responseBody, error.received);
    });
  });

  describe('HTTPS', () => {
    let certDir: string;
    let key: string;
    let cert: string;

    before(function () {
      this.timeout(10_000);
      certDir = mkdtempSync(join(tmpdir(), 'plex-sim-tls-'));
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost'],
          ...['-days', '1', '-keyout', join(certDir, 'k'), '-out', join(certDir, 'c')],
        ],
        { stdio: 'ignore' },
      );
      key = readFileSync(join(certDir, 'k'), 'utf8');
      cert = readFileSync(join(certDir, 'c'), 'utf8');
    });

    after(() => rmSync(certDir, { recursive: true, force: true }));

    it('serves HTTPS, keeps connections alive, and counts TLS connections', async () => {
      await startSim({ tls: { key, cert } });
      assert.match(sim.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let i = 0; i < 3; i++) {
          const answer = await request(`${sim.url}/butler`, { headers: json, ca: cert, agent });
          assert.equal(answer.status, 200);
        }
        assert.equal(sim.stats.connections, 1);
      } finally {
        agent.destroy();
      }
    });

    it('is refused by a client that does not trust the certificate', async () => {
      await startSim({ tls: { key, cert } });
      const error = await rejection(
        new Promise((resolve, reject) => {
          https.get(`${sim.url}/identity`, { agent: false }, resolve).on('error', reject);
        }),
      );
      assert.match(String(error.code), /SELF_SIGNED|UNABLE_TO_VERIFY/);
    });

    it('reset-mid-body over TLS still cuts the answer', async () => {
      await startSim({ tls: { key, cert } });
      sim.injectFault({ kind: 'reset-mid-body' });
      const error = await rejection(request(`${sim.url}/butler`, { headers: json, ca: cert }));
      assert.equal(error.status, 200);
    });
  });

  describe('stop()', () => {
    it('leaves no handles behind: timers, hung requests, kept-alive sockets', async () => {
      // Mocha arms this test's own timeout timer just after the test starts: let it.
      await delay(1);
      const before = countBy(process.getActiveResourcesInfo());
      await startSim({ taskDurationMs: 60_000, latencyMs: 0 });
      const agent = new http.Agent({ keepAlive: true });
      await request(`${sim.url}/butler`, { headers: json, agent });
      await post('/butler');
      sim.injectFault({ kind: 'hang', times: 1 });
      const hung = rejection(get('/butler'));
      sim.injectFault({ kind: 'latency', ms: 60_000, times: 1 });
      const delayed = rejection(get('/activities'));
      sim.injectFault({ kind: 'drip', ms: 60_000, times: 1 });
      const dripping = rejection(get('/identity'));
      await waitFor(() => (sim.stats.requests === 5 ? true : undefined));
      assert.ok(sim.runningTasks().length > 0);
      assert.equal(sim.stats.openConnections, 4);

      await sim.stop();
      await Promise.all([hung, delayed, dripping]);
      agent.destroy();

      assert.equal(sim.stats.openConnections, 0);
      assert.deepEqual(sim.runningTasks(), []);
      const sockets = (counts: Record<string, number>): Record<string, number> =>
        Object.fromEntries(Object.entries(counts).filter(([type]) => /^(TCP|TLS)/.test(type)));
      assert.deepEqual(sockets(countBy(process.getActiveResourcesInfo())), sockets(before));
      // Node's HTTP server caches its Date header with a 1 s timer of its own; the simulator's
      // timers here are all 60 s long, so they cannot pass this by expiring.
      // Checked after an await, not inside a timer callback, where that timer still counts.
      let settled = countBy(process.getActiveResourcesInfo());
      for (let waited = 0; !isDeepStrictEqual(settled, before) && waited < 1500; waited += 50) {
        await delay(50);
        settled = countBy(process.getActiveResourcesInfo());
      }
      assert.deepEqual(settled, before);
      const unanswered = sim.exchanges.filter((exchange) => exchange.status === 0);
      assert.equal(unanswered.length, 3, 'hang, latency and drip recorded as status 0');
      assert.equal(sim.exchanges.length, 5);
      const drip = unanswered.find((exchange) => exchange.path === '/identity');
      assert.equal(drip?.responseBody, '{', 'the one byte sent before stop()');
    });

    it('can be called twice, and before start()', async () => {
      const idle = new PlexSimulator();
      await idle.stop();
      await startSim();
      await sim.stop();
      await sim.stop();
    });
  });
});
