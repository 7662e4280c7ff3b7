import { strict as assert } from 'node:assert';
import { getEventListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ButlerClient, STATIC_TASK_NAMES, type ButlerClientOptions } from '../../lib';
import { PACKAGE_VERSION } from '../../lib/butler/client-options';
import type { PlexSimulator } from '../../simulator';
import { closedPort } from '../support/ports';
import { startSimulator } from '../support/simulator';
import { everythingVisible, rejectsWithCode } from '../support/errors';
import { selfSignedCertificate } from '../support/tls';

const TOKEN = 'tok-Secret-4711-client';
const CLIENT_ID = '8a1c5d3e-7f2b-4c9a-9e1d-000000000001';

function clientFor(sim: PlexSimulator, extra: Partial<ButlerClientOptions> = {}): ButlerClient {
  return new ButlerClient({
    url: sim.url,
    token: TOKEN,
    clientIdentifier: CLIENT_ID,
    retry: { initialDelayMs: 20, maxDelayMs: 100 },
    ...extra,
  });
}

describe('ButlerClient against the simulator', () => {
  let sim: PlexSimulator;
  let client: ButlerClient;

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 400 });
    client = clientFor(sim);
  });
  afterEach(async () => {
    client.close();
    await sim.stop();
  });

  describe('list tasks', () => {
    it('normalises the JSON list: names, titles, real booleans, interval in days', async () => {
      const tasks = await client.listTasks();
      assert.equal(tasks.length, STATIC_TASK_NAMES.length);
      assert.deepEqual(tasks.map((task) => task.name).sort(), [...STATIC_TASK_NAMES].sort());
      const backup = tasks.find((task) => task.name === 'BackupDatabase');
      assert.ok(backup);
      assert.equal(typeof backup.enabled, 'boolean');
      assert.equal(typeof backup.scheduleRandomized, 'boolean');
      assert.equal(backup.interval, 3);
      assert.ok(backup.title.length > 0);
      for (const task of tasks) {
        assert.deepEqual(Object.keys(task).sort(), [
          'description',
          'enabled',
          'interval',
          'name',
          'scheduleRandomized',
          'title',
        ]);
      }
    });

    it('reads the same list from XML when the server ignores Accept', async () => {
      const fromJson = await client.listTasks();
      sim.injectFault({ kind: 'xml', times: 1 });
      const fromXml = await client.listTasks();
      assert.deepEqual(fromXml, fromJson);
    });

    it('shows the name as title when the server gives no title', async () => {
      sim.setTasks([
        { name: 'ProcessAssets', enabled: true, interval: 1, scheduleRandomized: true },
      ]);
      const [task] = await client.listTasks();
      assert.deepEqual(task, {
        name: 'ProcessAssets',
        title: 'ProcessAssets',
        description: '',
        enabled: true,
        interval: 1,
        scheduleRandomized: true,
      });
    });

    it('shares one request among concurrent identical calls', async () => {
      sim.setLatency(50);
      const before = sim.stats.requests;
      const lists = await Promise.all(Array.from({ length: 25 }, () => client.listTasks()));
      assert.equal(sim.stats.requests - before, 1);
      assert.ok(lists.every((list) => list.length === STATIC_TASK_NAMES.length));
    });

    it('runs many requests at once without listener-leak warnings', async () => {
      const warnings: Error[] = [];
      const onWarning = (warning: Error): void => {
        warnings.push(warning);
      };
      process.on('warning', onWarning);
      await client.listTasks();
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          i % 2 === 0 ? client.startTask('BackupDatabase') : client.stopTask('BackupDatabase'),
        ),
      );
      await new Promise((resolve) => setImmediate(resolve));
      process.removeListener('warning', onWarning);
      assert.equal(results.length, 40);
      assert.deepEqual(
        warnings.map((warning) => warning.name),
        [],
      );
    });

    it('keeps the shared request alive while one caller aborts', async () => {
      sim.setLatency(100);
      const leaving = new AbortController();
      const first = client.listTasks({ signal: leaving.signal });
      const second = client.listTasks();
      leaving.abort();
      await rejectsWithCode(first, 'aborted');
      assert.equal((await second).length, STATIC_TASK_NAMES.length);
    });
  });

  describe('identity headers', () => {
    it('sends the token, a stable client identifier, the X-Plex identity and Accept: application/json', async () => {
      await client.listTasks();
      await client.startTask('BackupDatabase');
      const exchanges = sim.exchanges.filter((exchange) => exchange.path.startsWith('/butler'));
      assert.ok(exchanges.length >= 2);
      for (const { headers } of exchanges) {
        assert.equal(headers['x-plex-token'], TOKEN);
        assert.equal(headers['x-plex-client-identifier'], CLIENT_ID);
        assert.equal(headers.accept, 'application/json');
        assert.equal(headers['x-plex-product'], 'node-red-plex-butler');
        assert.equal(headers['x-plex-version'], PACKAGE_VERSION);
        assert.ok(headers['x-plex-platform']);
        assert.ok(headers['x-plex-device-name']);
      }
      assert.ok(
        exchanges.every((exchange) => !exchange.url.includes(TOKEN)),
        'token never in a URL',
      );
    });

    it('sends the version that package.json declares', () => {
      const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
        version: string;
      };
      assert.equal(PACKAGE_VERSION, pkg.version);
    });

    it('sends the Plex headers, Host, keep-alive and a zero Content-Length, nothing else (no compression, no library agent)', async () => {
      await client.startTask('BackupDatabase');
      const start = sim.exchanges.find((exchange) => exchange.method === 'POST');
      assert.deepEqual(Object.keys(start?.headers ?? {}).sort(), [
        'accept',
        'connection',
        'content-length',
        'host',
        'x-plex-client-identifier',
        'x-plex-device',
        'x-plex-device-name',
        'x-plex-platform',
        'x-plex-platform-version',
        'x-plex-product',
        'x-plex-token',
        'x-plex-version',
      ]);
      assert.equal(start?.headers.connection, 'keep-alive');
      assert.equal(start?.headers['content-length'], '0');
      assert.equal(start?.url, '/butler/BackupDatabase');
    });

    it('reuses one keep-alive connection for sequential requests', async () => {
      await client.listTasks();
      for (let i = 0; i < 20; i++) {
        await client.startTask('OptimizeDatabase');
        await client.stopTask('OptimizeDatabase');
      }
      assert.equal(sim.stats.connections, 1);
    });
  });

  describe('start and stop', () => {
    it('start one: started (200), then already-running (202)', async () => {
      assert.deepEqual(await client.startTask('OptimizeDatabase'), {
        action: 'start',
        task: 'OptimizeDatabase',
        status: 'started',
        httpStatus: 200,
      });
      const again = await client.startTask('OptimizeDatabase');
      assert.equal(again.status, 'already-running');
      assert.equal(again.httpStatus, 202);
      assert.deepEqual(sim.runningTasks(), ['OptimizeDatabase']);
    });

    it('stop one: stopped (200) while running, not-running (404) after', async () => {
      await client.startTask('CleanOldBundles');
      const stopped = await client.stopTask('CleanOldBundles');
      assert.equal(stopped.status, 'stopped');
      assert.deepEqual(sim.runningTasks(), []);
      const again = await client.stopTask('CleanOldBundles');
      assert.deepEqual(again, {
        action: 'stop',
        task: 'CleanOldBundles',
        status: 'not-running',
        httpStatus: 404,
      });
    });

    it('start all and stop all', async () => {
      assert.deepEqual(await client.startAllTasks(), {
        action: 'start',
        task: 'all',
        status: 'started',
        httpStatus: 200,
      });
      assert.ok(sim.runningTasks().length > 0);
      assert.equal((await client.stopAllTasks()).status, 'stopped');
      assert.deepEqual(sim.runningTasks(), []);
    });

    it('a 404 to a start only, for a task the server still lists: not-found for the path, not an unknown task', async () => {
      // A proxy in between that answers POSTs 404; GET /butler still lists the task.
      sim.injectFault({
        kind: 'status',
        status: 404,
        times: 1,
        match: { method: 'POST', path: '/butler/BackupDatabase' },
      });
      const error = await rejectsWithCode(client.startTask('BackupDatabase'), 'not-found');
      assert.match(
        error.message,
        /^could not start BackupDatabase: the server has no such endpoint/,
      );
      assert.deepEqual(sim.runningTasks(), []);
    });

    it('lists a started task among the activities, normalised', async () => {
      await client.startTask('DeepMediaAnalysis');
      const activities = await client.listActivities();
      assert.equal(activities.length, 1);
      const [activity] = activities;
      assert.equal(typeof activity.uuid, 'string');
      assert.equal(typeof activity.cancellable, 'boolean');
      assert.ok(activity.progress >= -1 && activity.progress <= 100);
      assert.ok(activity.title.length > 0);
      sim.injectFault({ kind: 'xml', times: 1 });
      const fromXml = await client.listActivities();
      assert.equal(fromXml[0].uuid, activity.uuid);
    });

    it('reads the identity without needing the token', async () => {
      const identity = await client.getIdentity();
      assert.match(identity.machineIdentifier, /^[0-9a-f]{40}$/);
      assert.ok(identity.version.length > 0);
      const report = await client.testConnection();
      assert.equal(report.tasks.length, STATIC_TASK_NAMES.length);
    });
  });

  describe('task name validation', () => {
    for (const bad of [
      '../library/sections/1/refresh',
      'Backup Database',
      '%2e%2e',
      'a?b',
      'x#y',
      '1Task',
      'Bad\r\nName',
      '',
    ]) {
      it(`refuses ${JSON.stringify(bad)} before any request`, async () => {
        const before = sim.stats.requests;
        const error = await rejectsWithCode(client.startTask(bad), 'invalid-task');
        assert.equal(sim.stats.requests, before, 'no request was made');
        assert.ok(error.validTasks && error.validTasks.includes('BackupDatabase'));
        assert.match(error.message, /BackupDatabase/);
      });
    }

    it('refuses non-strings before any request', async () => {
      for (const bad of [42, null, undefined, { name: 'x' }, ['BackupDatabase'], true]) {
        await rejectsWithCode(client.stopTask(bad), 'invalid-task');
      }
      assert.equal(sim.stats.requests, 0);
    });

    it('refuses an unknown name with the live list and a "did you mean"', async () => {
      const error = await rejectsWithCode(client.startTask('optimizedatabase'), 'invalid-task');
      assert.deepEqual(error.suggestions, ['OptimizeDatabase']);
      assert.match(error.message, /Did you mean OptimizeDatabase\?/);
      const nearMiss = await rejectsWithCode(client.startTask('BackupDatabse'), 'invalid-task');
      assert.deepEqual(nearMiss.suggestions, ['BackupDatabase']);
      assert.equal(
        sim.exchanges.filter((exchange) => exchange.method === 'POST').length,
        0,
        'nothing was started',
      );
    });

    it('accepts a task name a newer server lists, by refreshing the cached list on a miss', async () => {
      await client.listTasks();
      sim.setTasks([
        { name: 'ProcessAssets', enabled: true, interval: 1, scheduleRandomized: false },
        { name: 'BackupDatabase', enabled: true, interval: 3, scheduleRandomized: false },
      ]);
      const result = await client.startTask('ProcessAssets');
      assert.equal(result.status, 'started');
      assert.deepEqual(client.knownTaskNames(), ['ProcessAssets', 'BackupDatabase']);
    });

    it('refuses a spec name the live server does not list', async () => {
      sim.setTasks([
        { name: 'BackupDatabase', enabled: true, interval: 3, scheduleRandomized: false },
      ]);
      const error = await rejectsWithCode(client.startTask('OptimizeDatabase'), 'invalid-task');
      assert.deepEqual(error.validTasks, ['BackupDatabase']);
    });

    it('checks the name against the cached list without a new request', async () => {
      await client.listTasks();
      const before = sim.stats.requests;
      await client.startTask('BackupDatabase');
      assert.equal(sim.stats.requests - before, 1);
    });
  });

  describe('errors', () => {
    const noRetry = { retry: { retries: 0 } };

    it('unauthorized: a wrong token', async () => {
      const wrong = new ButlerClient({
        url: sim.url,
        token: 'wrong-token',
        clientIdentifier: CLIENT_ID,
      });
      const error = await rejectsWithCode(wrong.listTasks(), 'unauthorized');
      wrong.close();
      assert.equal(error.status, 401);
      assert.equal(error.retryable, false);
      assert.match(
        error.message,
        /token rejected by the server.*check the token in the server config/,
      );
    });

    const statusCases = [
      { status: 403, code: 'forbidden' },
      { status: 404, code: 'not-found' },
      { status: 400, code: 'bad-request' },
      { status: 500, code: 'server-error' },
    ] as const;
    for (const { status, code } of statusCases) {
      it(`${code}: HTTP ${status}, not retried`, async () => {
        sim.injectFault({ kind: 'status', status });
        const error = await rejectsWithCode(client.listTasks(), code);
        assert.equal(error.status, status);
        assert.equal(error.retryable, false);
        assert.equal(sim.stats.requests, 1, 'sent once');
      });
    }

    for (const status of [502, 503, 504]) {
      it(`server-error ${status} is retried, bounded, then reported`, async () => {
        sim.injectFault({ kind: 'status', status });
        const error = await rejectsWithCode(client.listTasks(), 'server-error');
        assert.equal(error.status, status);
        assert.equal(error.retryable, true);
        assert.equal(sim.stats.requests, 3, 'first attempt and two retries');
      });
    }

    it('succeeds when the server recovers within the retries', async () => {
      sim.injectFault({ kind: 'status', status: 503, times: 2 });
      assert.equal((await client.listTasks()).length, STATIC_TASK_NAMES.length);
      assert.equal(sim.stats.requests, 3);
    });

    it('rate-limited: 429 honours Retry-After', async () => {
      sim.injectFault({ kind: 'status', status: 429, retryAfter: '1', times: 1 });
      const started = Date.now();
      await client.listTasks();
      assert.ok(Date.now() - started >= 950, 'waited the second the server asked for');
      sim.injectFault({ kind: 'status', status: 429, retryAfter: '1' });
      const error = await rejectsWithCode(clientFor(sim, noRetry).listTasks(), 'rate-limited');
      assert.equal(error.retryAfterSeconds, 1);
    });

    it('gives up at once when Retry-After is past the overall deadline', async () => {
      const patient = clientFor(sim, { retry: { maxElapsedMs: 2000 } });
      sim.injectFault({ kind: 'status', status: 503, retryAfter: '120' });
      const started = Date.now();
      await rejectsWithCode(patient.listTasks(), 'server-error');
      patient.close();
      assert.ok(Date.now() - started < 1000);
      assert.equal(sim.stats.requests, 1);
    });

    it('timeout: a server that never answers', async () => {
      const impatient = clientFor(sim, {
        timeoutMs: 150,
        retry: { retries: 1, initialDelayMs: 10 },
      });
      sim.injectFault({ kind: 'hang' });
      const started = Date.now();
      const error = await rejectsWithCode(impatient.listTasks(), 'timeout');
      impatient.close();
      assert.ok(Date.now() - started < 1500);
      assert.equal(error.retryable, true);
      assert.equal(sim.stats.requests, 2);
    });

    it('timeout: a body that drips too slowly', async () => {
      const impatient = clientFor(sim, { timeoutMs: 200, ...noRetry });
      sim.injectFault({ kind: 'drip', ms: 50 });
      await rejectsWithCode(impatient.listTasks(), 'timeout');
      impatient.close();
    });

    it('connection-refused: nothing listens', async () => {
      const port = await closedPort();
      const nowhere = new ButlerClient({
        url: `http://127.0.0.1:${port}`,
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        retry: { retries: 1, initialDelayMs: 10 },
      });
      const error = await rejectsWithCode(nowhere.listTasks(), 'connection-refused');
      nowhere.close();
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.equal(error.retryable, true);
    });

    it('host-not-found: a name that does not resolve', async () => {
      const nowhere = new ButlerClient({
        url: 'http://plex.invalid:32400',
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        ...noRetry,
      });
      const error = await rejectsWithCode(nowhere.listTasks(), 'host-not-found');
      nowhere.close();
      assert.match(error.message, /plex\.invalid/);
    });

    it('connection-reset: a dropped connection, retried', async () => {
      sim.injectFault({ kind: 'drop' });
      await rejectsWithCode(client.listTasks(), 'connection-reset');
      assert.equal(sim.stats.requests, 3);
      sim.clearFaults();
      assert.equal((await client.listTasks()).length, STATIC_TASK_NAMES.length);
    });

    it('connection-reset or bad-response: a reset in the middle of the body', async () => {
      sim.injectFault({ kind: 'reset-mid-body' });
      const error = await clientFor(sim, noRetry)
        .listTasks()
        .catch((e: unknown) => e);
      assert.ok(
        error instanceof Error &&
          ['connection-reset', 'bad-response'].includes((error as { code?: string }).code ?? ''),
        String(error),
      );
    });

    for (const kind of ['malformed', 'truncated', 'html', 'empty'] as const) {
      it(`bad-response: ${kind} body`, async () => {
        sim.injectFault({ kind });
        const error = await clientFor(sim, noRetry)
          .listTasks()
          .catch((e: unknown) => e);
        const code = (error as { code?: string }).code;
        assert.ok(
          code === 'bad-response' || (kind === 'truncated' && code === 'connection-reset'),
          `${kind}: ${String(error)}`,
        );
      });
    }

    it('bad-response: an answer far too large is refused', async () => {
      sim.injectFault({ kind: 'huge', bytes: 20 * 1024 * 1024 });
      const error = await rejectsWithCode(clientFor(sim, noRetry).listTasks(), 'bad-response');
      assert.match(error.message, /larger/);
    });

    it('reads an answer exactly at the size limit, and refuses one a byte over it', async () => {
      await client.listTasks();
      const size = Buffer.byteLength(sim.exchanges.at(-1)?.responseBody ?? '');
      assert.ok(size > 1000);
      const atLimit = clientFor(sim, { ...noRetry, maxResponseBytes: size });
      assert.equal((await atLimit.listTasks()).length, 22);
      atLimit.close();
      const under = clientFor(sim, { ...noRetry, maxResponseBytes: size - 1 });
      await rejectsWithCode(under.listTasks(), 'bad-response');
      under.close();
    });

    it('aborted: one signal for many requests cancels them all, with one listener on it', async () => {
      await client.listTasks(); // names known: the starts go straight to their POSTs
      sim.injectFault({ kind: 'hang' });
      const controller = new AbortController();
      const pending = ['BackupDatabase', 'OptimizeDatabase', 'CleanOldBundles'].flatMap((task) =>
        [1, 2, 3].map(() => client.startTask(task, { signal: controller.signal })),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(getEventListeners(controller.signal, 'abort').length, 1);
      controller.abort();
      for (const request of pending) await rejectsWithCode(request, 'aborted');
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(sim.stats.openConnections, 0);
    });

    it('aborted: the caller gives up', async () => {
      sim.injectFault({ kind: 'hang' });
      const controller = new AbortController();
      const pending = client.startTask('BackupDatabase', { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await rejectsWithCode(pending, 'aborted');
    });

    it('aborted: close() ends requests in flight, and later calls fail at once', async () => {
      sim.injectFault({ kind: 'hang' });
      const pending = client.listTasks();
      setTimeout(() => client.close(), 30);
      const started = Date.now();
      await rejectsWithCode(pending, 'aborted');
      assert.ok(Date.now() - started < 500);
      await rejectsWithCode(client.startAllTasks(), 'aborted');
    });

    it('aborted: close() also ends a wait between retries', async () => {
      sim.injectFault({ kind: 'status', status: 503, retryAfter: '5' });
      const pending = client.listTasks();
      setTimeout(() => client.close(), 50);
      const started = Date.now();
      await rejectsWithCode(pending, 'aborted');
      assert.ok(Date.now() - started < 500);
      assert.equal(sim.stats.requests, 1);
    });

    it('never shows the token in any error', async () => {
      const failures: unknown[] = [];
      const wrong = new ButlerClient({
        url: sim.url,
        token: `${TOKEN}-wrong`,
        clientIdentifier: CLIENT_ID,
      });
      failures.push(await wrong.listTasks().catch((e: unknown) => e));
      wrong.close();
      for (const kind of ['malformed', 'html', 'drop'] as const) {
        sim.clearFaults();
        sim.injectFault({ kind });
        failures.push(
          await clientFor(sim, noRetry)
            .listTasks()
            .catch((e: unknown) => e),
        );
      }
      failures.push(await client.startTask('Nope').catch((e: unknown) => e));
      for (const failure of failures) {
        assert.ok(failure instanceof Error);
        assert.ok(!everythingVisible(failure).includes(TOKEN), everythingVisible(failure));
      }
    });
  });

  describe('configuration', () => {
    it('refuses unusable settings with a clear invalid-config error', () => {
      const cases: Array<[Partial<ButlerClientOptions>, RegExp]> = [
        [{ url: '' }, /no server URL/],
        [{ url: 'ftp://plex:32400' }, /http:\/\/ or https:\/\//],
        [{ url: 'not a url' }, /not a valid URL/],
        [{ url: `http://plex:32400/?X-Plex-Token=${TOKEN}` }, /must not contain "\?"/],
        [{ url: 'http://user:pw@plex:32400' }, /user name or password/],
        [{ token: '' }, /no token/],
        [{ token: 'abc\r\nX-Evil: 1' }, /line breaks/],
        [{ clientIdentifier: '' }, /client identifier/],
        [{ timeoutMs: -5 }, /timeout/],
        [{ retry: { retries: 1.5 } }, /retries/],
      ];
      for (const [override, message] of cases) {
        assert.throws(
          () =>
            new ButlerClient({
              url: 'http://127.0.0.1:32400',
              token: TOKEN,
              clientIdentifier: CLIENT_ID,
              ...override,
            }),
          (error: unknown) => {
            assert.equal((error as { code?: string }).code, 'invalid-config');
            assert.match((error as Error).message, message);
            assert.ok(!(error as Error).message.includes(TOKEN));
            return true;
          },
        );
      }
    });

    it('works behind a reverse proxy path prefix', async () => {
      const proxied = await startSimulator({ token: TOKEN, pathPrefix: '/plex' });
      const behindProxy = new ButlerClient({
        url: `${proxied.url}/`,
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
      });
      assert.equal((await behindProxy.startTask('BackupDatabase')).status, 'started');
      behindProxy.close();
      await proxied.stop();
    });
  });

  describe('TLS', () => {
    let secure: PlexSimulator;
    const certificate = selfSignedCertificate();
    before(async () => {
      secure = await startSimulator({ token: TOKEN, tls: certificate });
    });
    after(async () => {
      await secure.stop();
    });

    it('refuses a self-signed certificate by default, saying how to fix it', async () => {
      const strict = new ButlerClient({
        url: secure.url,
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
      });
      const error = await rejectsWithCode(strict.listTasks(), 'tls-error');
      strict.close();
      assert.match(error.message, /CA certificate|certificate verification/);
    });

    it("trusts a given CA for the certificate's own name", async () => {
      const trusting = new ButlerClient({
        url: secure.url.replace('127.0.0.1', 'localhost'),
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { ca: certificate.cert },
      });
      assert.equal((await trusting.listTasks()).length, STATIC_TASK_NAMES.length);
      trusting.close();
    });

    it('refuses a trusted certificate reached by another name, unless told to accept it', async () => {
      const strict = new ButlerClient({
        url: secure.url,
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { ca: certificate.cert },
      });
      const error = await rejectsWithCode(strict.listTasks(), 'tls-error');
      strict.close();
      assert.match(error.message, /another host name/);
      const lenient = new ButlerClient({
        url: secure.url,
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { ca: certificate.cert, allowNameMismatch: true },
      });
      assert.equal((await lenient.listTasks()).length, STATIC_TASK_NAMES.length);
      lenient.close();
    });

    it('accepts the certificate when verification is turned off explicitly', async () => {
      const lax = new ButlerClient({
        url: secure.url,
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        tls: { verify: false },
      });
      assert.equal((await lax.listTasks()).length, STATIC_TASK_NAMES.length);
      lax.close();
    });

    it('explains an https:// URL pointed at a plain-HTTP port', async () => {
      const wrong = new ButlerClient({
        url: sim.url.replace('http:', 'https:'),
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        retry: { retries: 0 },
      });
      const error = await rejectsWithCode(wrong.listTasks(), 'tls-error');
      wrong.close();
      assert.match(error.message, /does not speak HTTPS/);
    });

    it('explains an http:// URL pointed at an HTTPS port', async () => {
      const wrong = new ButlerClient({
        url: secure.url.replace('https:', 'http:'),
        token: TOKEN,
        clientIdentifier: CLIENT_ID,
        retry: { retries: 0 },
      });
      const error = (await wrong.listTasks().then(
        () => new Error('unexpected success'),
        (e: unknown) => e,
      )) as Error & { code?: string };
      wrong.close();
      assert.ok(
        ['connection-reset', 'bad-response', 'bad-request'].includes(error.code ?? ''),
        String(error),
      );
      assert.match(error.message, /https:\/\//);
    });
  });
});
