/**
 * The Butler panel's admin routes in a real Node-RED with adminAuth: nobody gets anything, a
 * read-only user follows a server (and the server's one notification socket is open only while
 * followed), only a user who may change flows starts or stops tasks, each action is one request
 * through the same client and checks as the start and stop nodes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlexSimulator } from '../../simulator';
import {
  adminToken,
  deployFlow,
  startNodeRed,
  type NodeRedProcess,
} from '../../scripts/node-red-process';
import { flatAnswer } from '../support/editor-answer';
import { ADMIN, READER, serverConfig } from '../support/admin-users';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';

const TOKEN = 'panel-Tok3n-7c7c';
/** A panel's key, as the editor makes one up. */
const PANEL = 'panelKeyForTests0001';

describe('Butler panel routes (Node-RED with adminAuth)', function () {
  this.timeout(60_000);
  let sim: PlexSimulator;
  let nodeRed: NodeRedProcess;
  let tmp: string;
  const bearer: Record<'admin' | 'reader', string> = { admin: '', reader: '' };

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 60_000 });
    tmp = mkdtempSync(join(tmpdir(), 'plex-butler-panel-'));
    nodeRed = await startNodeRed({
      userDir: join(tmp, 'user'),
      install: 'link',
      adminAuth: [ADMIN, READER],
    });
    bearer.admin = await adminToken(nodeRed.url, ADMIN.username, ADMIN.password);
    bearer.reader = await adminToken(nodeRed.url, READER.username, READER.password, 'read');
    const from = nodeRed.output().length;
    await deployFlow(
      nodeRed.url,
      [
        serverConfig('panel-server', 'Living Room Plex', sim.url, TOKEN),
        // Never followed: its client has read no list, so an action must read one first.
        serverConfig('panel-other', 'Attic Plex', sim.url, TOKEN),
      ],
      { token: bearer.admin },
    );
    await nodeRed.waitForOutput(/Started flows/, from);
  });
  after(async () => {
    await nodeRed?.stop();
    await sim?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function post(
    path: string,
    body: Record<string, unknown>,
    who?: 'admin' | 'reader',
  ): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
    const response = await fetch(`${nodeRed.url}/plex-butler/panel/${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(who ? { Authorization: `Bearer ${bearer[who]}` } : {}),
      },
      body: JSON.stringify(body),
    });
    const raw = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('json');
    const answer = json ? flatAnswer(JSON.parse(raw)) : {};
    return { status: response.status, body: answer, raw };
  }

  const butlerWrites = (since: number): string[] =>
    sim.exchanges
      .slice(since)
      .filter((exchange) => exchange.method !== 'GET' && exchange.path.startsWith('/butler'))
      .map((exchange) => `${exchange.method} ${exchange.path}`);

  it('nobody: 401 for every panel route, and the server hears nothing', async () => {
    const before = sim.exchanges.length;
    for (const path of ['watch', 'unwatch', 'start', 'stop', 'start-all', 'stop-all']) {
      const answer = await post(path, {
        panel: PANEL,
        server: 'panel-server',
        task: 'BackupDatabase',
      });
      assert.equal(answer.status, 401, path);
    }
    assert.equal(sim.exchanges.length, before);
    assert.equal(sim.stats.openNotificationSockets, 0);
  });

  it('a read-only user follows a server: the list, the window, the state, no token; the socket only while followed', async () => {
    assert.equal(sim.stats.openNotificationSockets, 0, 'nothing open before a panel follows');
    const watched = await post('watch', { panel: PANEL, server: 'panel-server' }, 'reader');
    assert.equal(watched.status, 200);
    assert.deepEqual(
      (watched.body.servers as Array<{ name: string }>).map((server) => server.name),
      ['Attic Plex', 'Living Room Plex'],
    );
    assert.equal(watched.body.server, 'panel-server');
    const view = watched.body.view as {
      tasks: {
        read: boolean;
        list: Array<{ name: string; title: string; enabled: boolean; interval: number }>;
      };
      schedule: { read: boolean; value: { window: { startHour: number; endHour: number } } };
      connection: { state: string };
      lastNight: { kind: string };
    };
    assert.equal(view.tasks.read, true);
    assert.equal(view.tasks.list.length, 22);
    const backup = view.tasks.list.find((task) => task.name === 'BackupDatabase');
    assert.equal(typeof backup?.title, 'string');
    assert.equal(typeof backup?.interval, 'number');
    assert.deepEqual(view.schedule.value.window, { startHour: 2, endHour: 5 });
    assert.equal(view.lastNight.kind, 'no-journal');
    assert.ok(!watched.raw.includes(TOKEN), 'the token is never in an answer');
    await waitUntil(() => sim.stats.openNotificationSockets === 1);

    const left = await post('unwatch', { panel: PANEL }, 'reader');
    assert.equal(left.status, 200);
    await waitUntil(() => sim.stats.openNotificationSockets === 0);
  });

  it("a read-only user's start and stop are refused by the runtime and send nothing", async () => {
    const before = sim.exchanges.length;
    for (const path of ['start', 'stop', 'start-all', 'stop-all']) {
      const answer = await post(path, { server: 'panel-server', task: 'BackupDatabase' }, 'reader');
      assert.equal(answer.status, 401, path);
    }
    assert.equal(sim.exchanges.length, before);
    assert.deepEqual(sim.runningTasks(), []);
  });

  it('a user who may change flows starts one task with exactly one start request, in the status words of the start node', async () => {
    const before = sim.exchanges.length;
    const started = await post(
      'start',
      { server: 'panel-server', task: 'BackupDatabase' },
      'admin',
    );
    assert.equal(started.status, 200);
    assert.deepEqual(started.body, {
      ok: true,
      action: 'start',
      task: 'BackupDatabase',
      status: 'started',
      server: 'Living Room Plex',
    });
    assert.deepEqual(butlerWrites(before), ['POST /butler/BackupDatabase']);
    assert.deepEqual(sim.runningTasks(), ['BackupDatabase']);

    const again = await post('start', { server: 'panel-server', task: 'BackupDatabase' }, 'admin');
    assert.equal(again.body.status, 'already-running');
    const stopped = await post('stop', { server: 'panel-server', task: 'BackupDatabase' }, 'admin');
    assert.equal(stopped.body.status, 'stopped');
    const notRunning = await post(
      'stop',
      { server: 'panel-server', task: 'BackupDatabase' },
      'admin',
    );
    assert.equal(notRunning.body.status, 'not-running');
    assert.deepEqual(butlerWrites(before), [
      'POST /butler/BackupDatabase',
      'POST /butler/BackupDatabase',
      'DELETE /butler/BackupDatabase',
      'DELETE /butler/BackupDatabase',
    ]);
  });

  it('start all and stop all: one request each', async () => {
    const before = sim.exchanges.length;
    const all = await post('start-all', { server: 'panel-server' }, 'admin');
    assert.equal(all.body.status, 'started');
    assert.equal(all.body.task, 'all');
    const none = await post('stop-all', { server: 'panel-server' }, 'admin');
    assert.equal(none.body.status, 'stopped');
    assert.deepEqual(butlerWrites(before), ['POST /butler', 'DELETE /butler']);
  });

  it('an unknown task is refused with the valid names; a list that cannot be read stops the request', async () => {
    const before = sim.exchanges.length;
    const unknown = await post('start', { server: 'panel-server', task: 'BackupDatabse' }, 'admin');
    const error = unknown.body.error as { code: string; message: string };
    assert.equal(error.code, 'invalid-task');
    assert.match(error.message, /Did you mean BackupDatabase\?/);

    sim.injectFault({ kind: 'status', status: 503, match: { method: 'GET', path: '/butler' } });
    try {
      const failed = await post(
        'start',
        { server: 'panel-other', task: 'OptimizeDatabase' },
        'admin',
      );
      const failure = failed.body.error as { code: string; message: string };
      assert.equal(failure.code, 'server-error');
      assert.match(failure.message, /try again in a minute/);
    } finally {
      sim.clearFaults();
    }
    assert.deepEqual(butlerWrites(before), [], 'nothing sent after a failed read');

    const gone = await post('start', { server: 'no-such-server', task: 'BackupDatabase' }, 'admin');
    assert.equal((gone.body.error as { code: string }).code, 'invalid-config');
    assert.match((gone.body.error as { message: string }).message, /not deployed/);
  });
});
