/**
 * The package as a user gets it: `npm pack` of a clean copy of the tree (its `prepack` builds),
 * installed into a fresh Node-RED user directory the way the palette manager does, flows
 * deployed through the admin API, driven over HTTP, against the Plex simulator. Part (d) links
 * this checkout instead, so it needs `npm run build` first (npm test does it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { join } from 'node:path';
import type { PlexSimulator } from '../../simulator';
import {
  NODE_RED_MODULE,
  PACKAGE_NAME,
  REPO_ROOT,
  adminToken,
  deployFlow,
  packCleanTree,
  startNodeRed,
  type NodeRedProcess,
} from '../../scripts/node-red-process';
import { flatAnswer } from '../support/editor-answer';
import { ADMIN } from '../support/admin-users';
import { startSimulator } from '../support/simulator';
import { NODE_TYPES } from '../support/node-types';

/** Distinctive, so that finding it anywhere (files, logs, answers) is a real leak. */
const TOKEN = 'e2e-Tok3n-9f8e7d';
const CLIENT_ID = 'e2e-client-4b1d';
const SERVER_NAME = 'E2E Plex';
const MODULE_PATH = PACKAGE_NAME;
/** The editor's scripts, which the nodes' .html files load from the package's resources/. */
const EDITOR_SCRIPTS = readdirSync(join(REPO_ROOT, 'resources')).filter((file) =>
  file.endsWith('.js'),
);

interface PackageManifest {
  main: string;
  types: string;
  dependencies: Record<string, string>;
  'node-red': { nodes: Record<string, string> };
}

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: unknown;
}

function e2eFlow(plexUrl: string): Record<string, unknown>[] {
  const z = 'e2e-tab';
  const nodes: Record<string, unknown>[] = [
    { id: z, type: 'tab', label: 'e2e' },
    {
      id: 'e2e-server',
      type: 'plex-butler-server',
      name: SERVER_NAME,
      url: plexUrl,
      clientId: CLIENT_ID,
      verifyTls: true,
      ca: '',
      timeout: 5000,
      retries: 0,
      // Sent once, as the editor does; Node-RED moves it to the encrypted flows_cred.json.
      credentials: { token: TOKEN },
    },
    { id: 'in-start', type: 'http in', z, url: '/e2e/start', method: 'post', wires: [['task']] },
    {
      id: 'task',
      type: 'change',
      z,
      rules: [{ t: 'set', p: 'task', pt: 'msg', to: 'payload.task', tot: 'msg' }],
      wires: [['start']],
    },
    {
      id: 'start',
      type: 'plex-butler-start',
      z,
      server: 'e2e-server',
      task: 'task',
      taskType: 'msg',
      wires: [['out-start']],
    },
    { id: 'out-start', type: 'http response', z, wires: [] },
    { id: 'in-tasks', type: 'http in', z, url: '/e2e/tasks', method: 'get', wires: [['tasks']] },
    {
      id: 'tasks',
      type: 'plex-butler-tasks',
      z,
      server: 'e2e-server',
      enabledOnly: false,
      split: false,
      property: 'payload',
      wires: [['out-tasks']],
    },
    { id: 'out-tasks', type: 'http response', z, wires: [] },
    {
      id: 'in-schedule',
      type: 'http in',
      z,
      url: '/e2e/schedule',
      method: 'post',
      wires: [['schedule']],
    },
    {
      id: 'schedule',
      type: 'plex-butler-schedule',
      z,
      server: 'e2e-server',
      property: 'payload',
      wires: [['out-schedule']],
    },
    { id: 'out-schedule', type: 'http response', z, wires: [] },
    // Not wired to anything: deployed so that every one of our types runs in this Node-RED.
    { id: 'stop', type: 'plex-butler-stop', z, server: 'e2e-server', taskType: 'all', wires: [[]] },
    {
      id: 'watch',
      type: 'plex-butler-watch',
      z,
      server: 'e2e-server',
      updates: 'all',
      wires: [[]],
    },
    { id: 'catch', type: 'catch', z, scope: null, uncaught: false, wires: [['failure']] },
    {
      id: 'failure',
      type: 'function',
      z,
      func: 'msg.payload = { error: msg.error };\nmsg.statusCode = 500;\nreturn msg;',
      outputs: 1,
      wires: [['out-failure']],
    },
    { id: 'out-failure', type: 'http response', z, wires: [] },
  ];
  // Without a position Node-RED takes a node for a config node and never wires it.
  return nodes.map((node, index) => (node.z ? { ...node, x: 200, y: 40 * index } : node));
}

async function postJson(url: string, body: unknown, token?: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

describe('end to end: the packed package in a real Node-RED', function () {
  let tmp: string;
  let packedFiles: string[];
  let packedManifest: PackageManifest;
  let nodeRed: NodeRedProcess;
  let securedNodeRed: NodeRedProcess | undefined;
  let sim: PlexSimulator;

  before(async function () {
    // The build in the clean copy and npm install of the tarball (ws from the registry or npm's
    // cache) are the slow parts.
    this.timeout(180_000);
    assert.ok(
      existsSync(join(REPO_ROOT, 'dist/nodes/plex-butler-start.js')),
      'dist/ is missing: run npm run build first (part d links this checkout)',
    );
    tmp = mkdtempSync(join(tmpdir(), 'plex-butler-e2e-'));
    const packed = await packCleanTree(tmp);
    packedFiles = packed.files;
    packedManifest = JSON.parse(
      readFileSync(join(tmp, 'tree/package.json'), 'utf8'),
    ) as PackageManifest;
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 30_000 });
    nodeRed = await startNodeRed({
      userDir: join(tmp, 'user'),
      install: { tarball: packed.tarball },
      logFile: join(tmp, 'node-red.log'),
    });
  });

  after(async function () {
    this.timeout(20_000);
    await Promise.allSettled([nodeRed?.stop(), securedNodeRed?.stop(), sim?.stop()]);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe('(a) install and load', function () {
    it('packs what Node-RED needs and none of the sources', function () {
      for (const file of [
        'package.json',
        'LICENSE',
        'dist/lib/index.js',
        'dist/nodes/icons/plex-butler.svg',
        'dist/nodes/locales/en-US/plex-butler-start.json',
        'examples/04 - nightly maintenance.json',
        'examples/05 - optimise, back up, notify.json',
        ...EDITOR_SCRIPTS.map((file) => `resources/${file}`),
        ...NODE_TYPES.flatMap((type) => [`dist/nodes/${type}.js`, `dist/nodes/${type}.html`]),
      ]) {
        assert.ok(packedFiles.includes(file), `${file} is not in the tarball`);
      }
      const sources = packedFiles.filter((file) =>
        /^(test|scripts|simulator|nodes|lib|node_modules|\.node-red-dev)\/|\.tgz$/.test(file),
      );
      assert.deepEqual(sources, []);
    });

    it('holds every file package.json names, and only ws as a dependency', function () {
      const named = [
        packedManifest.main,
        packedManifest.types,
        ...Object.values(packedManifest['node-red'].nodes),
      ];
      assert.equal(named.length, 2 + NODE_TYPES.length);
      for (const file of named) {
        assert.ok(packedFiles.includes(file), `${file}, named in package.json, is not packed`);
      }
      // Test tools such as the plexjs oracle stay devDependencies, out of a user's install.
      assert.deepEqual(Object.keys(packedManifest.dependencies), ['ws']);
    });

    it('installs into the user directory and loads our eight node types without errors', async function () {
      const manifest = JSON.parse(readFileSync(join(nodeRed.userDir, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      assert.ok(manifest.dependencies?.[PACKAGE_NAME], 'the package is not saved as a dependency');
      const log = nodeRed.output();
      // 4.x under npm test, 5.x under npm run test:compat.
      const major = NODE_RED_MODULE === 'node-red-5' ? '5' : '4';
      assert.match(log, new RegExp(`Node-RED version: v${major}\\.`));
      assert.match(log, /Loading palette nodes/);
      assert.match(log, /Started flows/);
      assert.doesNotMatch(log, /Waiting for missing types/);
      const ourProblems = log.split('\n').filter((line) => line.includes(PACKAGE_NAME));
      assert.deepEqual(ourProblems, [], 'Node-RED logged something about our module');

      const response = await fetch(`${nodeRed.url}/nodes`, {
        headers: { Accept: 'application/json' },
      });
      assert.equal(response.status, 200);
      const sets = ((await response.json()) as NodeSet[]).filter(
        (set) => set.module === PACKAGE_NAME,
      );
      assert.deepEqual(sets.flatMap((set) => set.types).sort(), [...NODE_TYPES].sort());
      for (const set of sets) {
        assert.equal(set.enabled, true, `${set.id} is disabled`);
        assert.equal(set.err, undefined, `${set.id} failed to load: ${String(set.err)}`);
      }
    });

    it('serves our editor code, icon, locales and examples', async function () {
      const html = await fetch(`${nodeRed.url}/nodes`, { headers: { Accept: 'text/html' } });
      assert.equal(html.status, 200);
      const editor = await html.text();
      for (const type of NODE_TYPES) {
        assert.match(editor, new RegExp(`RED\\.nodes\\.registerType\\(\\s*'${type}'`));
      }
      // The editor loads these relative to its own URL before it runs registerType; one that
      // does not load stops the whole editor, so each one named must be served, as packed.
      const ourSets = editor
        .split(/(?=<!-- --- \[red-module:)/)
        .filter((set) => set.startsWith(`<!-- --- [red-module:${PACKAGE_NAME}/`));
      assert.equal(ourSets.length, NODE_TYPES.length);
      // The Butler panel is a plugin: its script comes with the plugins' HTML.
      const plugins = await (
        await fetch(`${nodeRed.url}/plugins`, { headers: { Accept: 'text/html' } })
      ).text();
      const ourPlugins = plugins
        .split(/(?=<!-- --- \[red-plugin:)/)
        .filter((set) => set.startsWith(`<!-- --- [red-plugin:${PACKAGE_NAME}/`));
      assert.equal(ourPlugins.length, 1);
      assert.match(ourPlugins[0], /RED\.plugins\.registerPlugin\(\s*'plex-butler-panel'/);
      const named = [...ourSets, ...ourPlugins].flatMap((set) =>
        [...set.matchAll(/<script src="([^"]+)"><\/script>/g)].map((match) => match[1]),
      );
      const ours = `resources/${MODULE_PATH}/`;
      assert.deepEqual(
        [...new Set(named)].sort(),
        EDITOR_SCRIPTS.map((file) => ours + file).sort(),
      );
      for (const file of EDITOR_SCRIPTS) {
        const script = await fetch(`${nodeRed.url}/${ours}${file}`);
        assert.equal(script.status, 200, `${ours}${file}`);
        assert.match(script.headers.get('content-type') ?? '', /javascript/);
        assert.equal(
          await script.text(),
          readFileSync(join(REPO_ROOT, 'resources', file), 'utf8'),
          `${file} as served`,
        );
      }

      const icon = await fetch(`${nodeRed.url}/icons/${MODULE_PATH}/plex-butler.svg`);
      assert.equal(icon.status, 200);
      assert.match(icon.headers.get('content-type') ?? '', /^image\/svg\+xml/);
      assert.match(await icon.text(), /<svg/);

      const locale = await fetch(
        `${nodeRed.url}/locales/${MODULE_PATH}/plex-butler-start?lng=en-US`,
      );
      assert.equal(locale.status, 200);
      const labels = (await locale.json()) as Record<string, { paletteLabel?: string }>;
      const source = JSON.parse(
        readFileSync(join(REPO_ROOT, 'nodes/locales/en-US/plex-butler-start.json'), 'utf8'),
      ) as Record<string, { paletteLabel?: string }>;
      assert.ok(source['plex-butler-start'].paletteLabel);
      assert.equal(
        labels['plex-butler-start']?.paletteLabel,
        source['plex-butler-start'].paletteLabel,
      );

      // Import > Examples reads the runtime's "examples" library.
      const examplesUrl = `${nodeRed.url}/library/examples/flows/${MODULE_PATH}`;
      const listing = await fetch(examplesUrl);
      assert.equal(listing.status, 200);
      const names = ((await listing.json()) as Array<{ fn?: string }>).map((entry) => entry.fn);
      const expected = readdirSync(join(REPO_ROOT, 'examples'))
        .filter((file) => file.endsWith('.json'))
        .map((file) => file.replace(/\.json$/, ''));
      assert.deepEqual([...names].sort(), expected.sort());
      const nightly = await fetch(
        `${examplesUrl}/${encodeURIComponent('04 - nightly maintenance')}`,
      );
      assert.equal(nightly.status, 200);
      const flow = (await nightly.json()) as Array<{ type: string }>;
      assert.ok(flow.some((node) => node.type === 'plex-butler-start'));
    });
  });

  describe('(b) flows deployed through the admin API', function () {
    before(async function () {
      this.timeout(15_000);
      const logBefore = nodeRed.output().length;
      await deployFlow(nodeRed.url, e2eFlow(sim.url));
      await nodeRed.waitForOutput(/Started flows|Waiting for missing types/, logBefore);
      const deployLog = nodeRed.output().slice(logBefore);
      assert.match(deployLog, /Started flows/);
      assert.doesNotMatch(deployLog, /Waiting for missing types|\[(warn|error)\]|Error:/);
    });

    it('lists the 22 tasks through a plex-butler-tasks node', async function () {
      const response = await fetch(`${nodeRed.url}/e2e/tasks`);
      assert.equal(response.status, 200);
      const tasks = (await response.json()) as Array<{ name: string; enabled: boolean }>;
      assert.equal(tasks.length, 22);
      assert.ok(tasks.some((task) => task.name === 'OptimizeDatabase'));
    });

    it('moves the Butler window through a plex-butler-schedule node, as the server holds it', async function () {
      const response = await postJson(`${nodeRed.url}/e2e/schedule`, {
        window: { startHour: 1, endHour: 4 },
      });
      assert.equal(response.status, 200);
      const schedule = (await response.json()) as {
        window: { startHour: number; endHour: number };
        tasks: Record<string, boolean>;
      };
      assert.deepEqual(schedule.window, { startHour: 1, endHour: 4 });
      assert.equal(schedule.tasks.BackupDatabase, true);
      assert.equal(sim.preferences.get('ButlerStartHour')?.value, 1);
      assert.equal(sim.preferences.get('ButlerEndHour')?.value, 4);
      const writes = sim.exchanges.filter(
        (exchange) => exchange.method === 'PUT' && exchange.path === '/:/prefs',
      );
      assert.equal(writes.length, 1);
      assert.equal(writes[0].headers['x-plex-token'], TOKEN);
    });

    it('starts a task named by msg.task, then reports it already running', async function () {
      const first = await postJson(`${nodeRed.url}/e2e/start`, { task: 'OptimizeDatabase' });
      assert.equal(first.status, 200);
      assert.deepEqual(await first.json(), {
        action: 'start',
        task: 'OptimizeDatabase',
        status: 'started',
        server: SERVER_NAME,
      });
      const second = await postJson(`${nodeRed.url}/e2e/start`, { task: 'OptimizeDatabase' });
      assert.equal(second.status, 200);
      assert.deepEqual(await second.json(), {
        action: 'start',
        task: 'OptimizeDatabase',
        status: 'already-running',
        server: SERVER_NAME,
      });
      assert.deepEqual(sim.runningTasks(), ['OptimizeDatabase']);

      const starts = sim.exchanges.filter(
        (exchange) => exchange.method === 'POST' && exchange.path === '/butler/OptimizeDatabase',
      );
      assert.equal(starts.length, 2);
      for (const exchange of starts) {
        assert.equal(exchange.headers['x-plex-token'], TOKEN);
        assert.equal(exchange.headers['x-plex-client-identifier'], CLIENT_ID);
      }
      assert.deepEqual(
        starts.map((exchange) => exchange.status),
        [200, 202],
      );
    });

    it('turns a bad task name into invalid-task for the Catch node, without a request', async function () {
      const before = sim.exchanges.length;
      const response = await postJson(`${nodeRed.url}/e2e/start`, { task: '../x' });
      assert.equal(response.status, 500);
      const body = (await response.json()) as {
        error?: { code?: string; source?: { id?: string } };
      };
      assert.equal(body.error?.code, 'invalid-task');
      assert.equal(body.error?.source?.id, 'start');
      assert.equal(sim.exchanges.length, before, 'a request reached the simulator');
    });

    it('runs the watch node on the installed ws: one notification socket, token in a header', async function () {
      const deadline = Date.now() + 5000;
      while (sim.stats.openNotificationSockets === 0 && Date.now() < deadline) await delay(50);
      assert.equal(sim.stats.openNotificationSockets, 1);
      const handshakes = sim.exchanges.filter((exchange) =>
        exchange.path.startsWith('/:/websockets/notifications'),
      );
      assert.ok(handshakes.length >= 1);
      for (const handshake of handshakes) {
        assert.equal(handshake.status, 101);
        assert.equal(handshake.headers['x-plex-token'], TOKEN);
        assert.doesNotMatch(handshake.url, new RegExp(TOKEN));
      }
    });
  });

  describe('(c) secrets', function () {
    it('keeps the token out of flows.json, GET /flows and the log, and encrypts it', async function () {
      const flows = readFileSync(join(nodeRed.userDir, 'flows.json'), 'utf8');
      assert.ok(flows.includes('e2e-server'), 'flows.json does not hold the deployed flow');
      assert.ok(!flows.includes(TOKEN), 'flows.json contains the token');

      const credentialsFile = join(nodeRed.userDir, 'flows_cred.json');
      assert.ok(existsSync(credentialsFile), 'flows_cred.json was not written');
      const credentialsText = readFileSync(credentialsFile, 'utf8');
      assert.ok(!credentialsText.includes(TOKEN), 'flows_cred.json holds the token in clear');
      const credentials = JSON.parse(credentialsText) as Record<string, unknown>;
      assert.deepEqual(Object.keys(credentials), ['$'], 'flows_cred.json is not encrypted');

      const api = await fetch(`${nodeRed.url}/flows`, { headers: { Accept: 'application/json' } });
      assert.equal(api.status, 200);
      assert.ok(!(await api.text()).includes(TOKEN), 'GET /flows returns the token');

      assert.ok(!nodeRed.output().includes(TOKEN), "Node-RED's log contains the token");
    });
  });

  describe('(d) admin endpoints behind adminAuth', function () {
    let bearer: string;

    before(async function () {
      this.timeout(30_000);
      securedNodeRed = await startNodeRed({
        userDir: join(tmp, 'secured'),
        install: 'link',
        adminAuth: ADMIN,
      });
      bearer = await adminToken(securedNodeRed.url, ADMIN.username, ADMIN.password);
    });

    it('refuses a wrong password and a deploy without a token', async function () {
      const url = securedNodeRed?.url ?? '';
      await assert.rejects(adminToken(url, ADMIN.username, 'wrong'), /auth\/token answered 40[13]/);
      await assert.rejects(deployFlow(url, []), /POST \/flows answered 401/);
    });

    for (const path of ['/plex-butler/test-connection', '/plex-butler/tasks']) {
      it(`POST ${path}: 401 without a token, 200 with one`, async function () {
        const url = `${securedNodeRed?.url ?? ''}${path}`;
        const settings = { url: sim.url, token: TOKEN, clientId: CLIENT_ID };
        const refused = await postJson(url, settings);
        assert.equal(refused.status, 401);
        const refusedBody = await refused.text();
        assert.doesNotMatch(refusedBody, /OptimizeDatabase|tasks|ok/i);

        const before = sim.exchanges.length;
        const allowed = await postJson(url, settings, bearer);
        assert.equal(allowed.status, 200);
        const body = flatAnswer(await allowed.json()) as {
          ok?: boolean;
          taskCount?: number;
          source?: string;
          tasks?: unknown[];
        };
        if (path.endsWith('test-connection')) {
          assert.equal(body.ok, true);
          assert.equal(body.taskCount, 22);
        } else {
          assert.equal(body.source, 'live');
          assert.equal(body.tasks?.length, 22);
        }
        assert.ok(sim.exchanges.length > before, 'the endpoint did not ask the simulator');
      });
    }
  });

  describe('(e) stopping', function () {
    it('stop() ends Node-RED within 5 s, for an installed and a linked package', async function () {
      this.timeout(20_000);
      const instances = [nodeRed, securedNodeRed].filter(
        (instance): instance is NodeRedProcess => instance !== undefined,
      );
      assert.equal(instances.length, 2);
      for (const instance of instances) {
        const ms = await timed(() => instance.stop());
        assert.ok(ms < 5000, `stop() took ${ms} ms`);
        assert.match(instance.output(), /Stopped flows/);
        await assert.rejects(fetch(`${instance.url}/settings`), 'Node-RED still answers');
      }
    });
  });
});
