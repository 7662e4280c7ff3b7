import { strict as assert } from 'node:assert';
import { DEFAULT_TASKS, type PlexSimulator } from '../../simulator';
import { STATIC_TASK_NAMES } from '../../lib';
import { flatAnswer } from '../support/editor-answer';
import { startSimulator } from '../support/simulator';
import { helper, loadFlow } from '../support/node-red-helper';

const TOKEN = 'tok-Secret-4711-admin';

interface TaskListAnswer {
  source: 'live' | 'static';
  tasks: Array<{ name: string; title: string }>;
  error?: { code: string; message: string };
}
interface TestAnswer {
  ok: boolean;
  code?: string;
  message: string;
  version?: string;
  taskCount?: number;
}

describe('server config admin endpoints', () => {
  let sim: PlexSimulator;
  let elsewhere: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN });
    elsewhere = await startSimulator({ token: 'other-token' });
  });
  after(async () => {
    await sim.stop();
    await elsewhere.stop();
  });
  afterEach(async () => {
    await helper.unload();
  });

  async function deploy(): Promise<void> {
    await loadFlow(
      [
        {
          id: 'server',
          type: 'plex-butler-server',
          name: 'Plex',
          url: sim.url,
          clientId: 'c0ffee00-0000-4000-8000-000000000001',
          verifyTls: true,
          ca: '',
          timeout: 2000,
          retries: 0,
        },
      ],
      { server: { token: TOKEN } },
    );
  }

  async function post<T>(
    path: string,
    body: Record<string, unknown>,
  ): Promise<{ status: number; body: T; text: string }> {
    const response = await helper.request().post(path).send(body);
    return { status: response.status, body: flatAnswer(response.body) as T, text: response.text };
  }

  describe('POST /plex-butler/tasks (the task dropdown)', () => {
    it('lists the live tasks of a deployed server', async () => {
      await deploy();
      sim.setTasks([
        { name: 'ProcessAssets', enabled: true, interval: 1, scheduleRandomized: false },
        {
          name: 'BackupDatabase',
          title: 'Backup Database',
          enabled: true,
          interval: 3,
          scheduleRandomized: false,
        },
      ]);
      const answer = await post<TaskListAnswer>('/plex-butler/tasks', {
        server: 'server',
        token: '__PWRD__',
      });
      sim.setTasks(DEFAULT_TASKS);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.source, 'live');
      assert.deepEqual(
        answer.body.tasks.map((task) => task.name),
        ['ProcessAssets', 'BackupDatabase'],
      );
      assert.equal(answer.body.tasks[1].title, 'Backup Database');
    });

    it('lists with unsaved settings from the dialog (server not deployed yet)', async () => {
      await loadFlow([]);
      const answer = await post<TaskListAnswer>('/plex-butler/tasks', {
        server: 'new-node',
        url: sim.url,
        token: TOKEN,
      });
      assert.equal(answer.body.source, 'live');
      assert.equal(answer.body.tasks.length, STATIC_TASK_NAMES.length);
    });

    it('falls back to the static list, saying why, when the server cannot be asked', async () => {
      await loadFlow([]);
      const answer = await post<TaskListAnswer>('/plex-butler/tasks', {
        server: 'new-node',
        url: sim.url,
        token: 'wrong',
      });
      assert.equal(answer.body.source, 'static');
      assert.deepEqual(
        answer.body.tasks.map((task) => task.name),
        STATIC_TASK_NAMES,
      );
      assert.equal(answer.body.error?.code, 'unauthorized');
      const noToken = await post<TaskListAnswer>('/plex-butler/tasks', {
        server: 'new-node',
        url: sim.url,
      });
      assert.equal(noToken.body.source, 'static');
      assert.equal(noToken.body.error?.code, 'invalid-config');
    });
  });

  describe('POST /plex-butler/test-connection', () => {
    it('reports success with the server version and task count', async () => {
      await loadFlow([]);
      const answer = await post<TestAnswer>('/plex-butler/test-connection', {
        id: 'new-node',
        url: sim.url,
        token: TOKEN,
        verifyTls: true,
        timeout: 2000,
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.body.ok, true);
      assert.equal(answer.body.taskCount, STATIC_TASK_NAMES.length);
      assert.match(
        answer.body.message,
        new RegExp(`Connected to Plex .+ \\(${STATIC_TASK_NAMES.length} Butler tasks\\)`),
      );
    });

    it('explains a rejected token in plain words', async () => {
      await loadFlow([]);
      const answer = await post<TestAnswer>('/plex-butler/test-connection', {
        id: 'new-node',
        url: sim.url,
        token: 'wrong-token',
      });
      assert.deepEqual(answer.body.ok, false);
      assert.equal(answer.body.code, 'unauthorized');
      assert.match(answer.body.message, /token rejected by the server/);
    });

    it('explains an unreachable server and a bad URL', async () => {
      await loadFlow([]);
      const down = await post<TestAnswer>('/plex-butler/test-connection', {
        id: 'n',
        url: 'http://127.0.0.1:9',
        token: TOKEN,
      });
      assert.equal(down.body.code, 'connection-refused');
      const bad = await post<TestAnswer>('/plex-butler/test-connection', {
        id: 'n',
        url: 'plex:32400',
        token: TOKEN,
      });
      assert.equal(bad.body.code, 'invalid-config');
    });

    it('uses the saved token when the token field was not changed', async () => {
      await deploy();
      const answer = await post<TestAnswer>('/plex-butler/test-connection', {
        id: 'server',
        url: sim.url,
        token: '__PWRD__',
      });
      assert.equal(answer.body.ok, true, answer.body.message);
    });

    it('never sends the saved token to another URL, and never reveals it', async () => {
      await deploy();
      elsewhere.resetStats();
      const answer = await post<TestAnswer>('/plex-butler/test-connection', {
        id: 'server',
        url: elsewhere.url,
        token: '__PWRD__',
      });
      assert.equal(answer.body.ok, false);
      assert.equal(answer.body.code, 'invalid-config');
      assert.match(answer.body.message, /type the token again/);
      assert.equal(elsewhere.stats.requests, 0, 'nothing reached the other server');
      assert.ok(!answer.text.includes(TOKEN));
      const list = await post<TaskListAnswer>('/plex-butler/tasks', {
        server: 'server',
        url: elsewhere.url,
        token: '',
      });
      assert.ok(!JSON.stringify(list.body).includes(TOKEN));
      assert.equal(elsewhere.stats.requests, 0);
    });
  });
});
