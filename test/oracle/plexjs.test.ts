/**
 * A judge nobody here wrote: @lukehagar/plexjs, the TypeScript SDK generated from the community
 * OpenAPI spec, drives the simulator through every Butler operation it has, plus /activities and
 * /identity. Its zod schemas parse each JSON answer and throw on a mismatch; what it returns must
 * be what the simulator holds. Then our ButlerClient performs the same operations, and its
 * requests must be the SDK's: same method, path and query, the same X-Plex-* headers with the
 * same values, no body. This runs with or without the spec files (a clone has none); with them,
 * test/setup.ts also checks every one of these exchanges against both specs.
 */
import assert from 'node:assert/strict';
import { PlexAPI } from '@lukehagar/plexjs';
import { ResponseValidationError, SDKError } from '@lukehagar/plexjs/sdk/models/errors';
import { StartTaskTask, StopTaskTask } from '@lukehagar/plexjs/sdk/models/operations';
import { ButlerClient } from '../../lib';
import {
  DEFAULT_TASKS,
  SIMULATED_VERSION,
  type PlexSimulator,
  type RecordedExchange,
  type SimTask,
} from '../../simulator';
import { startSimulator } from '../support/simulator';

/** One set of client identity values, given to both clients. */
const IDENTITY = {
  clientIdentifier: '7d4c1f0e-oracle-4b8a-9c2e-5f6a7b8c9d0e',
  product: 'oracle-product',
  version: '9.8.7',
  platform: 'oracle-platform',
  device: 'oracle-device',
  deviceName: 'oracle device name',
};
const TASK = 'BackupDatabase';
/** Long enough that no started task ends (and no progress moves) during a test. */
const TASK_DURATION_MS = 600_000;
/** Exempts an exchange broken on purpose from the OpenAPI check in test/setup.ts. */
const DELIBERATE_VIOLATION = { 'x-contract-expect-violation': '1' };

function plexjs(sim: PlexSimulator, token = sim.token): PlexAPI {
  return new PlexAPI({
    serverURL: sim.url,
    token,
    ...IDENTITY,
    // Our client sends the Node.js version; the SDK has no default for it.
    platformVersion: process.versions.node,
  });
}

function ourClient(sim: PlexSimulator): ButlerClient {
  return new ButlerClient({ url: sim.url, token: sim.token, retry: { retries: 0 }, ...IDENTITY });
}

/** A task as the simulator sends it in JSON: absent optional fields stay absent. */
function asSent(task: SimTask): Record<string, unknown> {
  return Object.fromEntries(Object.entries(task).filter(([, value]) => value !== undefined));
}

function lastExchange(sim: PlexSimulator, method: string, path: string): RecordedExchange {
  const found = sim.exchanges.filter((e) => e.method === method && e.path === path).at(-1);
  assert.ok(found, `no ${method} ${path} reached the simulator`);
  return found;
}

function plexHeaders(exchange: RecordedExchange): Record<string, string> {
  return Object.fromEntries(
    Object.entries(exchange.headers)
      .filter(([name]) => name.startsWith('x-plex-'))
      .map(([name, value]) => [name, String(value)]),
  );
}

function sentABody(exchange: RecordedExchange): boolean {
  const length = exchange.headers['content-length'];
  return exchange.headers['transfer-encoding'] !== undefined || (length ?? '0') !== '0';
}

describe('oracle: @lukehagar/plexjs against the simulator', function () {
  let sim: PlexSimulator;
  let sdk: PlexAPI;

  beforeEach(async function () {
    sim = await startSimulator({ taskDurationMs: TASK_DURATION_MS });
    sdk = plexjs(sim);
  });

  afterEach(async function () {
    await sim.stop();
  });

  it('lists the tasks the simulator holds, through its schema', async function () {
    const listed = await sdk.butler.getTasks();
    assert.equal(listed.statusCode, 200);
    assert.equal(listed.contentType, 'application/json');
    assert.deepEqual(listed.object?.butlerTasks?.butlerTask, DEFAULT_TASKS.map(asSent));

    // Live servers list names in no spec; the list is still the schema's shape.
    const tasks: SimTask[] = [
      { name: 'ProcessAssets', enabled: true, interval: 7, scheduleRandomized: true },
      { ...DEFAULT_TASKS[1], enabled: false },
    ];
    sim.setTasks(tasks);
    const relisted = await sdk.butler.getTasks();
    assert.deepEqual(relisted.object?.butlerTasks?.butlerTask, tasks.map(asSent));
  });

  it('starts one task (200), then hears it is already running (202)', async function () {
    const first = await sdk.butler.startTask({ task: StartTaskTask.BackupDatabase });
    assert.equal(first.statusCode, 200);
    assert.deepEqual(sim.runningTasks(), [TASK]);
    const second = await sdk.butler.startTask({ task: StartTaskTask.BackupDatabase });
    assert.equal(second.statusCode, 202);
    assert.deepEqual(sim.runningTasks(), [TASK]);
  });

  it('stops a running task (200); stopping it again is the documented 404', async function () {
    await sdk.butler.startTask({ task: StartTaskTask.BackupDatabase });
    const stopped = await sdk.butler.stopTask({ task: StopTaskTask.BackupDatabase });
    assert.equal(stopped.statusCode, 200);
    assert.deepEqual(sim.runningTasks(), []);
    await assert.rejects(
      sdk.butler.stopTask({ task: StopTaskTask.BackupDatabase }),
      (error: unknown) => error instanceof SDKError && error.statusCode === 404,
    );
  });

  it('starts every enabled task, then stops them all', async function () {
    const started = await sdk.butler.startTasks();
    assert.equal(started.statusCode, 200);
    const enabled = DEFAULT_TASKS.filter((task) => task.enabled).map((task) => task.name);
    assert.ok(enabled.length > 0);
    assert.deepEqual([...sim.runningTasks()].sort(), [...enabled].sort());
    const stopped = await sdk.butler.stopTasks();
    assert.equal(stopped.statusCode, 200);
    assert.deepEqual(sim.runningTasks(), []);
  });

  it('lists running work as the simulator reports it, and no work as none', async function () {
    const idle = await sdk.activities.listActivities();
    assert.equal(idle.statusCode, 200);
    assert.equal(idle.object?.mediaContainer?.activity, undefined);

    await sdk.butler.startTask({ task: StartTaskTask.BackupDatabase });
    const busy = await sdk.activities.listActivities();
    const activities = busy.object?.mediaContainer?.activity;
    assert.equal(activities?.length, 1);
    assert.deepEqual(activities, sim.activities());
  });

  it('reads the identity our client reads', async function () {
    const identity = await sdk.general.getIdentity();
    assert.equal(identity.statusCode, 200);
    const container = identity.object?.mediaContainer;
    assert.equal(container?.version, SIMULATED_VERSION);
    assert.equal(container?.claimed, true);
    const client = ourClient(sim);
    try {
      assert.equal(container?.machineIdentifier, (await client.getIdentity()).machineIdentifier);
    } finally {
      client.close();
    }
  });

  it('is refused with a wrong token (401), and the simulator starts nothing', async function () {
    await assert.rejects(
      plexjs(sim, 'not-the-token').butler.startTask({ task: StartTaskTask.BackupDatabase }),
      (error: unknown) => error instanceof SDKError && error.statusCode === 401,
    );
    assert.deepEqual(sim.runningTasks(), []);
  });

  it('throws on an answer its schema does not allow (so its acceptance above means something)', async function () {
    sim.setTasks([{ ...DEFAULT_TASKS[1], enabled: 'yes' as unknown as boolean }]);
    await assert.rejects(
      sdk.butler.getTasks({ headers: DELIBERATE_VIOLATION }),
      (error: unknown) =>
        error instanceof ResponseValidationError && /enabled/.test(error.pretty()),
    );
  });
});

describe('oracle: our client sends the requests @lukehagar/plexjs sends', function () {
  interface Operation {
    name: string;
    method: string;
    path: string;
    viaSdk(sdk: PlexAPI): Promise<unknown>;
    viaClient(client: ButlerClient): Promise<unknown>;
  }
  // In this order on one simulator: a start before the stops, so both clients stop a real task.
  const operations: Operation[] = [
    {
      name: 'list tasks',
      method: 'GET',
      path: '/butler',
      viaSdk: (sdk) => sdk.butler.getTasks(),
      viaClient: (client) => client.listTasks(),
    },
    {
      name: 'start one',
      method: 'POST',
      path: `/butler/${TASK}`,
      viaSdk: (sdk) => sdk.butler.startTask({ task: StartTaskTask.BackupDatabase }),
      viaClient: (client) => client.startTask(TASK),
    },
    {
      name: 'running work',
      method: 'GET',
      path: '/activities',
      viaSdk: (sdk) => sdk.activities.listActivities(),
      viaClient: (client) => client.listActivities(),
    },
    {
      name: 'stop one',
      method: 'DELETE',
      path: `/butler/${TASK}`,
      viaSdk: (sdk) => sdk.butler.stopTask({ task: StopTaskTask.BackupDatabase }),
      viaClient: async (client) => {
        // The SDK stopped the task; ours needs one running to stop it the same way.
        await client.startTask(TASK);
        return client.stopTask(TASK);
      },
    },
    {
      name: 'start all',
      method: 'POST',
      path: '/butler',
      viaSdk: (sdk) => sdk.butler.startTasks(),
      viaClient: (client) => client.startAllTasks(),
    },
    {
      name: 'stop all',
      method: 'DELETE',
      path: '/butler',
      viaSdk: (sdk) => sdk.butler.stopTasks(),
      viaClient: (client) => client.stopAllTasks(),
    },
    {
      name: 'identity',
      method: 'GET',
      path: '/identity',
      viaSdk: (sdk) => sdk.general.getIdentity(),
      viaClient: (client) => client.getIdentity(),
    },
  ];
  const sent = new Map<string, { sdk: RecordedExchange; ours: RecordedExchange }>();
  /** Every X-Plex-* header the SDK sends on some operation: the names the spec defines. */
  const sdkHeaderNames = new Set<string>();
  let sim: PlexSimulator;
  let client: ButlerClient;

  before(async function () {
    sim = await startSimulator({ taskDurationMs: TASK_DURATION_MS });
    client = ourClient(sim);
    const sdk = plexjs(sim);
    for (const operation of operations) {
      await operation.viaSdk(sdk);
      const fromSdk = lastExchange(sim, operation.method, operation.path);
      await operation.viaClient(client);
      const fromOurs = lastExchange(sim, operation.method, operation.path);
      assert.notEqual(fromOurs, fromSdk, `our client sent no ${operation.name} request`);
      sent.set(operation.name, { sdk: fromSdk, ours: fromOurs });
      for (const name of Object.keys(plexHeaders(fromSdk))) sdkHeaderNames.add(name);
    }
  });

  after(async function () {
    client?.close();
    await sim?.stop();
  });

  for (const operation of operations) {
    it(`${operation.name}: ${operation.method} ${operation.path}, same URL, headers and no body`, function () {
      const pair = sent.get(operation.name);
      assert.ok(pair);
      assert.equal(pair.ours.method, pair.sdk.method);
      assert.equal(pair.ours.url, pair.sdk.url);
      const ours = plexHeaders(pair.ours);
      for (const [name, value] of Object.entries(plexHeaders(pair.sdk))) {
        assert.equal(ours[name], value, `${name} differs from the SDK's`);
      }
      assert.equal(sentABody(pair.sdk), false);
      assert.equal(sentABody(pair.ours), false);
      // The SDK asks for JSON on the operations that answer a body; so must we.
      if (operation.method === 'GET') {
        assert.equal(pair.ours.headers.accept, pair.sdk.headers.accept);
      }
    });
  }

  it('sends no X-Plex-* header the SDK does not know', function () {
    assert.ok(sdkHeaderNames.has('x-plex-token'));
    assert.ok(sdkHeaderNames.has('x-plex-client-identifier'));
    for (const { ours } of sent.values()) {
      for (const name of Object.keys(plexHeaders(ours))) {
        assert.ok(sdkHeaderNames.has(name), `${name} is no header of the SDK`);
      }
    }
  });
});
