import { strict as assert } from 'node:assert';
import type { Fault, PlexSimulator } from '../../simulator';
import { STATIC_TASK_NAMES } from '../../lib';
import { startSimulator } from '../support/simulator';
import { helper } from '../support/node-red-helper';
import { selfSignedCertificate } from '../support/tls';
import {
  errorOf,
  lastStatusText,
  loadReliabilityFlow,
  plexRequest,
  sendAndSettle,
  watchForCrashes,
} from './harness';

const TOKEN = 'rel-Tok3n-faults-5c1d';

interface FaultCase {
  name: string;
  fault: Fault;
  code: string;
  status: string;
  /** Attempts that reach the server: 1 when a retry cannot help, 3 (retries: 2) when it may. */
  attempts: number;
}

/** Faults on GET /butler through the "get tasks" node; the matrix of the reliability issue. */
const FAULTS: FaultCase[] = [
  {
    name: '401',
    fault: { kind: 'status', status: 401 },
    code: 'unauthorized',
    status: 'unauthorized',
    attempts: 1,
  },
  {
    name: '403',
    fault: { kind: 'status', status: 403 },
    code: 'forbidden',
    status: 'forbidden',
    attempts: 1,
  },
  {
    name: '400',
    fault: { kind: 'status', status: 400 },
    code: 'bad-request',
    status: 'bad request',
    attempts: 1,
  },
  {
    name: '404',
    fault: { kind: 'status', status: 404 },
    code: 'not-found',
    status: 'not found',
    attempts: 1,
  },
  {
    name: '500',
    fault: { kind: 'status', status: 500 },
    code: 'server-error',
    status: 'server error',
    attempts: 1,
  },
  {
    name: '502',
    fault: { kind: 'status', status: 502 },
    code: 'server-error',
    status: 'server error',
    attempts: 3,
  },
  {
    name: '504',
    fault: { kind: 'status', status: 504 },
    code: 'server-error',
    status: 'server error',
    attempts: 3,
  },
  {
    name: '429 with Retry-After',
    fault: { kind: 'status', status: 429, retryAfter: '0' },
    code: 'rate-limited',
    status: 'rate limited',
    attempts: 3,
  },
  {
    name: '503 with Retry-After',
    fault: { kind: 'status', status: 503, retryAfter: '0' },
    code: 'server-error',
    status: 'server error',
    attempts: 3,
  },
  {
    name: 'a dropped connection',
    fault: { kind: 'drop' },
    code: 'connection-reset',
    status: 'connection reset',
    attempts: 3,
  },
  {
    name: 'a reset mid-body',
    fault: { kind: 'reset-mid-body' },
    code: 'connection-reset',
    status: 'connection reset',
    attempts: 3,
  },
  {
    name: 'a server that never answers',
    fault: { kind: 'hang' },
    code: 'timeout',
    status: 'timeout',
    attempts: 3,
  },
  {
    name: 'a slow drip body',
    fault: { kind: 'drip', ms: 100 },
    code: 'timeout',
    status: 'timeout',
    attempts: 3,
  },
  {
    name: 'an empty body',
    fault: { kind: 'empty' },
    code: 'bad-response',
    status: 'bad response',
    attempts: 1,
  },
  {
    name: 'an HTML body',
    fault: { kind: 'html' },
    code: 'bad-response',
    status: 'bad response',
    attempts: 1,
  },
  {
    name: 'malformed JSON',
    fault: { kind: 'malformed' },
    code: 'bad-response',
    status: 'bad response',
    attempts: 1,
  },
  {
    name: 'truncated JSON',
    fault: { kind: 'truncated' },
    code: 'connection-reset',
    status: 'connection reset',
    attempts: 3,
  },
  {
    name: 'a 20 MB body',
    fault: { kind: 'huge', bytes: 20 * 1024 * 1024 },
    code: 'bad-response',
    status: 'bad response',
    attempts: 1,
  },
];

/**
 * Faults on POST and DELETE /butler/{task} through start and stop: a request that may have
 * reached Plex is never sent again (its 202 or 404 would describe our own first attempt), so
 * it ends in outcome-unknown after one attempt; refusals before any connection, 429 and 503
 * are retried.
 */
const ACTION_FAULTS: FaultCase[] = [
  {
    name: 'a dropped connection',
    fault: { kind: 'drop' },
    code: 'outcome-unknown',
    status: 'outcome unknown',
    attempts: 1,
  },
  {
    name: 'a reset after the server acted',
    fault: { kind: 'reset-mid-body' },
    code: 'outcome-unknown',
    status: 'outcome unknown',
    attempts: 1,
  },
  {
    name: 'a truncated answer',
    fault: { kind: 'truncated' },
    code: 'outcome-unknown',
    status: 'outcome unknown',
    attempts: 1,
  },
  {
    name: 'a server that never answers',
    fault: { kind: 'hang' },
    code: 'outcome-unknown',
    status: 'outcome unknown',
    attempts: 1,
  },
  {
    name: 'a server slower than the timeout (it acts after we gave up)',
    fault: { kind: 'latency', ms: 1000 },
    code: 'outcome-unknown',
    status: 'outcome unknown',
    attempts: 1,
  },
  {
    name: '502',
    fault: { kind: 'status', status: 502 },
    code: 'outcome-unknown',
    status: 'outcome unknown',
    attempts: 1,
  },
  {
    name: '504',
    fault: { kind: 'status', status: 504 },
    code: 'outcome-unknown',
    status: 'outcome unknown',
    attempts: 1,
  },
  {
    name: '500',
    fault: { kind: 'status', status: 500 },
    code: 'server-error',
    status: 'server error',
    attempts: 1,
  },
  {
    name: '503 with Retry-After',
    fault: { kind: 'status', status: 503, retryAfter: '0' },
    code: 'server-error',
    status: 'server error',
    attempts: 3,
  },
  {
    name: '429 with Retry-After',
    fault: { kind: 'status', status: 429, retryAfter: '0' },
    code: 'rate-limited',
    status: 'rate limited',
    attempts: 3,
  },
];

describe('reliability: fault matrix through the nodes', function () {
  this.timeout(20_000);
  let sim: PlexSimulator;
  let crashes: ReturnType<typeof watchForCrashes>;
  let tried = 0;

  before(async () => {
    crashes = watchForCrashes();
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 60_000 });
  });
  after(async () => {
    await sim.stop();
    const seen = crashes.stop();
    console.log(`      fault matrix: ${tried} faults tried, ${seen.length} unhandled errors`);
    assert.deepEqual(seen, [], 'no unhandled rejection or uncaught exception');
  });
  afterEach(async () => {
    await helper.unload();
    sim.clearFaults();
    await plexRequest(sim, 'DELETE', '/butler');
    sim.resetStats();
  });

  for (const testCase of FAULTS) {
    it(`${testCase.name}: ${testCase.code} after ${testCase.attempts} attempt(s), then the next message succeeds`, async () => {
      tried++;
      await loadReliabilityFlow(sim, { type: 'plex-butler-tasks', property: 'payload' }, TOKEN);
      sim.injectFault({ ...testCase.fault, match: { method: 'GET', path: '/butler' } });
      const outcome = await sendAndSettle({ topic: testCase.name });
      const error = errorOf(outcome);
      assert.equal(error.code, testCase.code, error.message);
      assert.equal(lastStatusText(), testCase.status);
      assert.ok(lastStatusText().length <= 20);
      assert.equal(
        sim.stats.requestsByRoute['GET /butler'],
        testCase.attempts,
        'bounded attempts, nothing sent twice by mistake',
      );
      assert.equal(outcome.msg.topic, testCase.name, 'the failed message is the one that was sent');

      sim.clearFaults();
      const next = await sendAndSettle({});
      assert.equal(next.kind, 'output');
      assert.equal((next.msg.payload as unknown[]).length, STATIC_TASK_NAMES.length);
    });
  }

  for (const testCase of FAULTS.filter((candidate) => candidate.attempts > 1)) {
    it(`${testCase.name} once: a retry makes the message succeed`, async () => {
      tried++;
      await loadReliabilityFlow(sim, { type: 'plex-butler-tasks', property: 'payload' }, TOKEN);
      sim.injectFault({ ...testCase.fault, times: 1, match: { method: 'GET', path: '/butler' } });
      const outcome = await sendAndSettle({});
      assert.equal(outcome.kind, 'output', JSON.stringify(outcome.msg.error));
      assert.equal(sim.stats.requestsByRoute['GET /butler'], 2);
    });
  }

  for (const [type, method, route] of [
    ['plex-butler-start', 'POST', 'POST /butler/{task}'],
    ['plex-butler-stop', 'DELETE', 'DELETE /butler/{task}'],
  ] as const) {
    for (const testCase of ACTION_FAULTS) {
      it(`${type}, ${testCase.name}: ${testCase.code} after ${testCase.attempts} ${method}(s)`, async () => {
        tried++;
        await loadReliabilityFlow(sim, { type, task: 'BackupDatabase', taskType: 'str' }, TOKEN);
        // The name is checked first, so the fault meets the start or stop itself.
        await sendAndSettle({ payload: 'prime' });
        await plexRequest(sim, 'POST', '/butler/BackupDatabase');
        sim.resetStats();
        sim.injectFault({ ...testCase.fault, match: { method, path: '/butler/BackupDatabase' } });
        const error = errorOf(await sendAndSettle({}));
        assert.equal(error.code, testCase.code, error.message);
        assert.equal(lastStatusText(), testCase.status);
        assert.equal(sim.stats.requestsByRoute[route], testCase.attempts);
        if (testCase.code === 'outcome-unknown') {
          assert.match(error.message, /may or may not have/);
        }
      });
    }
  }

  it('XML instead of JSON is read, not an error', async () => {
    tried++;
    await loadReliabilityFlow(sim, { type: 'plex-butler-tasks', property: 'payload' }, TOKEN);
    sim.injectFault({ kind: 'xml' });
    const outcome = await sendAndSettle({});
    assert.equal(outcome.kind, 'output');
    assert.equal((outcome.msg.payload as unknown[]).length, STATIC_TASK_NAMES.length);
  });

  for (const status of [401, 403, 400, 500]) {
    it(`start: a ${status} is not retried, so the task is asked to start once`, async () => {
      tried++;
      await loadReliabilityFlow(
        sim,
        { type: 'plex-butler-start', task: 'BackupDatabase', taskType: 'str' },
        TOKEN,
      );
      sim.injectFault({ kind: 'status', status, match: { method: 'POST' } });
      errorOf(await sendAndSettle({}));
      assert.equal(sim.stats.requestsByRoute['POST /butler/{task}'], 1);
      sim.clearFaults();
      const next = await sendAndSettle({});
      assert.equal((next.msg.payload as { status: string }).status, 'started');
    });
  }

  it('connection refused: unreachable, retried, then fine when the server is back', async () => {
    tried++;
    const port = Number(new URL(sim.url).port);
    await sim.stop();
    await loadReliabilityFlow(sim, { type: 'plex-butler-tasks', property: 'payload' }, TOKEN);
    const error = errorOf(await sendAndSettle({}));
    assert.equal(error.code, 'connection-refused');
    assert.equal(lastStatusText(), 'connection refused');
    await sim.start();
    assert.equal(Number(new URL(sim.url).port), port);
    const next = await sendAndSettle({});
    assert.equal(next.kind, 'output', 'recovers without a redeploy');
  });

  it('unknown host: host-not-found', async () => {
    tried++;
    await loadReliabilityFlow(sim, { type: 'plex-butler-tasks', property: 'payload' }, TOKEN, {
      url: 'http://plex-server.invalid:32400',
    });
    const error = errorOf(await sendAndSettle({}));
    assert.equal(error.code, 'host-not-found');
    assert.equal(lastStatusText(), 'host not found');
  });

  describe('TLS through the nodes', () => {
    let secure: PlexSimulator;
    const certificate = selfSignedCertificate();
    before(async () => {
      secure = await startSimulator({ token: TOKEN, tls: certificate });
    });
    after(async () => {
      await secure.stop();
    });

    it('the default refuses a self-signed certificate with a tls-error that says how to fix it', async () => {
      tried++;
      await loadReliabilityFlow(secure, { type: 'plex-butler-tasks', property: 'payload' }, TOKEN);
      const error = errorOf(await sendAndSettle({}));
      assert.equal(error.code, 'tls-error');
      assert.match(error.message, /paste its CA certificate|turn off certificate verification/);
    });

    it('a plain-HTTP URL to the HTTPS port gives a clear error', async () => {
      tried++;
      await loadReliabilityFlow(secure, { type: 'plex-butler-tasks', property: 'payload' }, TOKEN, {
        url: secure.url.replace('https:', 'http:'),
      });
      const error = errorOf(await sendAndSettle({}));
      assert.match(error.message, /use an https:\/\/ URL/);
    });
  });
});
