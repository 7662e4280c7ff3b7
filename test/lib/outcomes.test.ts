/**
 * The client reports only what happened: nothing is sent for a name it could not check, a
 * start or stop is never sent twice when the first may have reached Plex, shared calls do not
 * hand on an abort, and a burst stays within a bounded number of sockets.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ButlerClient, type ButlerClientOptions, type ButlerErrorCode } from '../../lib';
import type { Fault, PlexSimulator } from '../../simulator';
import { rejectsWithCode } from '../support/errors';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { startSleepingHost } from '../support/sleeping-host';

const TOKEN = 'tok-Outcome-5512';
const CLIENT_ID = '8a1c5d3e-7f2b-4c9a-9e1d-0000000000aa';

function clientFor(url: string, extra: Partial<ButlerClientOptions> = {}): ButlerClient {
  return new ButlerClient({
    url,
    token: TOKEN,
    clientIdentifier: CLIENT_ID,
    timeoutMs: 300,
    retry: { retries: 2, initialDelayMs: 20, maxDelayMs: 50 },
    ...extra,
  });
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ButlerClient: truthful results', function () {
  let sim: PlexSimulator;
  let client: ButlerClient;

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 60_000 });
    client = clientFor(sim.url);
  });
  afterEach(async () => {
    client.close();
    await sim.stop();
  });

  /** Starts and stops of one task that reached the simulator since the last resetStats(). */
  function actions(method?: 'POST' | 'DELETE'): number {
    const posts = sim.stats.requestsByRoute['POST /butler/{task}'] ?? 0;
    const deletes = sim.stats.requestsByRoute['DELETE /butler/{task}'] ?? 0;
    return method === 'POST' ? posts : method === 'DELETE' ? deletes : posts + deletes;
  }

  describe('no start or stop after a failed read of the task list', () => {
    const listFailures: Array<{ name: string; fault: Fault; code: ButlerErrorCode }> = [
      { name: 'an HTML page with 200', fault: { kind: 'html' }, code: 'bad-response' },
      { name: 'garbage', fault: { kind: 'malformed' }, code: 'bad-response' },
      { name: '404', fault: { kind: 'status', status: 404 }, code: 'not-found' },
      { name: '500', fault: { kind: 'status', status: 500 }, code: 'server-error' },
      { name: '503 every time', fault: { kind: 'status', status: 503 }, code: 'server-error' },
      { name: '401', fault: { kind: 'status', status: 401 }, code: 'unauthorized' },
    ];
    for (const { name, fault, code } of listFailures) {
      it(`${name}: start and stop fail with ${code} and send nothing`, async () => {
        sim.injectFault({ ...fault, match: { method: 'GET', path: '/butler' } });
        await rejectsWithCode(client.startTask('OptimizeDatabase'), code);
        await rejectsWithCode(client.stopTask('OptimizeDatabase'), code);
        assert.equal(actions(), 0, 'no POST or DELETE');
        assert.deepEqual(sim.runningTasks(), []);
      });
    }

    it('a server that answers everything with a 200 HTML page: nothing is called started', async () => {
      sim.injectFault({ kind: 'html' });
      await rejectsWithCode(client.startTask('OptimizeDatabase'), 'bad-response');
      const error = await rejectsWithCode(client.startAllTasks(), 'bad-response');
      assert.match(error.message, /HTML page/);
      await rejectsWithCode(client.stopAllTasks(), 'bad-response');
    });

    it('a wrong reverse-proxy path: stop says not-found, never not-running', async () => {
      // What sits at a path the proxy does not forward: the proxy's own 404 page, not Plex.
      const methods: string[] = [];
      const proxy = http.createServer((req, res) => {
        methods.push(req.method ?? '');
        res.writeHead(404, { 'Content-Type': 'text/html' });
        res.end('<html><head><title>404 Not Found</title></head><body>nginx</body></html>');
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      const { port } = proxy.address() as AddressInfo;
      const wrongPath = clientFor(`http://127.0.0.1:${port}/plexx`);
      try {
        await rejectsWithCode(wrongPath.stopTask('OptimizeDatabase'), 'not-found');
        await rejectsWithCode(wrongPath.startTask('OptimizeDatabase'), 'not-found');
        assert.deepEqual(methods, ['GET', 'GET'], 'only the task list was asked for');
      } finally {
        wrongPath.close();
        await new Promise((resolve) => proxy.close(resolve));
      }
    });
  });

  describe('a start or stop is sent once unless it cannot have reached Plex', () => {
    interface Row {
      name: string;
      fault: Fault;
      code: ButlerErrorCode;
      attempts: number;
    }
    const rows: Row[] = [
      {
        name: 'a reset after the server acted',
        fault: { kind: 'reset-mid-body' },
        code: 'outcome-unknown',
        attempts: 1,
      },
      {
        name: 'a truncated answer',
        fault: { kind: 'truncated' },
        code: 'outcome-unknown',
        attempts: 1,
      },
      {
        name: 'a dropped connection',
        fault: { kind: 'drop' },
        code: 'outcome-unknown',
        attempts: 1,
      },
      { name: 'no answer in time', fault: { kind: 'hang' }, code: 'outcome-unknown', attempts: 1 },
      {
        name: 'a 502 from a proxy',
        fault: { kind: 'status', status: 502 },
        code: 'outcome-unknown',
        attempts: 1,
      },
      {
        name: 'a 504 from a proxy',
        fault: { kind: 'status', status: 504 },
        code: 'outcome-unknown',
        attempts: 1,
      },
      {
        name: '503',
        fault: { kind: 'status', status: 503, retryAfter: '0' },
        code: 'server-error',
        attempts: 3,
      },
      {
        name: '429',
        fault: { kind: 'status', status: 429, retryAfter: '0' },
        code: 'rate-limited',
        attempts: 3,
      },
    ];
    for (const action of ['POST', 'DELETE'] as const) {
      for (const row of rows) {
        it(`${action}, ${row.name}: ${row.code} after ${row.attempts} attempt(s)`, async () => {
          await client.listTasks();
          if (action === 'DELETE') await plexRequest(sim, 'POST', '/butler/OptimizeDatabase');
          sim.injectFault({
            ...row.fault,
            match: { method: action, path: '/butler/OptimizeDatabase' },
          });
          const call =
            action === 'POST'
              ? client.startTask('OptimizeDatabase')
              : client.stopTask('OptimizeDatabase');
          const error = await rejectsWithCode(call, row.code);
          assert.equal(actions(action), row.attempts);
          if (row.code === 'outcome-unknown') {
            assert.match(error.message, /may or may not have/);
            assert.equal(error.retryable, false);
          }
        });
      }
    }

    it('POST, a reset after the task started: not "already running", and it did start', async () => {
      await client.listTasks();
      sim.injectFault({ kind: 'reset-mid-body', times: 1, match: { method: 'POST' } });
      await rejectsWithCode(client.startTask('OptimizeDatabase'), 'outcome-unknown');
      assert.deepEqual(sim.runningTasks(), ['OptimizeDatabase']);
      assert.equal(actions(), 1);
    });

    it('POST queued for the one pooled socket, dropped: outcome-unknown, sent once', async () => {
      // The pool is full, so the second start waits and gets the socket the first one freed:
      // a connected socket, though Node does not mark it reused.
      const pooled = clientFor(sim.url, { maxSockets: 1 });
      try {
        await pooled.listTasks();
        sim.injectFault({
          kind: 'drop',
          times: 1,
          match: { method: 'POST', path: '/butler/BackupDatabase' },
        });
        const [first, second] = await Promise.allSettled([
          pooled.startTask('OptimizeDatabase'),
          pooled.startTask('BackupDatabase'),
        ]);
        assert.equal(first.status === 'fulfilled' && first.value.status, 'started');
        assert.equal(second.status, 'rejected');
        assert.equal((second.reason as { code?: string }).code, 'outcome-unknown');
        assert.equal(sim.stats.requestsByRoute['POST /butler/{task}'], 2, 'no retry');
        assert.deepEqual(sim.runningTasks(), ['OptimizeDatabase']);
      } finally {
        pooled.close();
      }
    });

    it('POST, 503 once: retried, and the retry started the task', async () => {
      await client.listTasks();
      sim.injectFault({ kind: 'status', status: 503, retryAfter: '0', times: 1 });
      const result = await client.startTask('OptimizeDatabase');
      assert.equal(result.status, 'started');
      assert.equal(actions(), 2);
    });

    it('POST, refused while the server restarts: retried once it is back', async () => {
      const patient = clientFor(sim.url, { retry: { retries: 2, initialDelayMs: 400, jitter: 0 } });
      try {
        await patient.listTasks();
        await sim.stop();
        // As after a real restart: the client has seen its idle socket close before it sends.
        await delay(50);
        const call = patient.startTask('OptimizeDatabase');
        await delay(100);
        await sim.start();
        assert.equal((await call).status, 'started');
        assert.equal(actions(), 1, 'the one attempt that reached the server');
      } finally {
        patient.close();
      }
    });
  });

  describe('a host that does not answer', () => {
    it('host-unreachable, for a list and for a start (retried: it never got the request)', async () => {
      const host = await startSleepingHost();
      const sleepy = clientFor(host.url, { retry: { retries: 1, initialDelayMs: 10 } });
      try {
        const listed = await rejectsWithCode(sleepy.listTasks(), 'host-unreachable');
        assert.match(listed.message, /asleep, switched off or on another network/);
        assert.equal(listed.retryable, true);
        const started = Date.now();
        await rejectsWithCode(sleepy.startAllTasks(), 'host-unreachable');
        assert.ok(Date.now() - started >= 2 * 300, 'two attempts of 300 ms each');
      } finally {
        sleepy.close();
        await host.stop();
      }
    });
  });

  describe('shared list calls', () => {
    it('a call that joins after the last waiter aborted gets a request of its own', async () => {
      sim.setLatency(200);
      const leaving = new AbortController();
      const first = client.listTasks({ signal: leaving.signal });
      await delay(50);
      leaving.abort();
      await rejectsWithCode(first, 'aborted');
      const tasks = await client.listTasks({ signal: new AbortController().signal });
      assert.ok(tasks.length > 0);
      assert.equal(sim.stats.requestsByRoute['GET /butler'], 2);
    });
  });

  describe('bounded sockets', () => {
    it('300 starts at once use at most 8 connections, and every one is answered', async () => {
      await client.listTasks();
      sim.resetStats();
      sim.setLatency(5);
      const results = await Promise.all(
        Array.from({ length: 300 }, () => client.startTask('OptimizeDatabase')),
      );
      assert.equal(results.length, 300);
      assert.equal(results.filter((result) => result.status === 'started').length, 1);
      assert.ok(sim.stats.connections <= 8, `${sim.stats.connections} connections`);
      assert.ok(sim.stats.connections >= 2, 'requests ran side by side');
    });

    it('maxSockets is configurable', async () => {
      const narrow = clientFor(sim.url, { maxSockets: 1 });
      try {
        sim.resetStats();
        await narrow.listTasks();
        sim.setLatency(5);
        await Promise.all(Array.from({ length: 20 }, () => narrow.listActivities()));
        await Promise.all(Array.from({ length: 20 }, () => narrow.startTask('BackupDatabase')));
        assert.equal(sim.stats.connections, 1);
      } finally {
        narrow.close();
      }
    });
  });
});
