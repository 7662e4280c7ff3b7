/**
 * The editor's task-list route in a real Node-RED with adminAuth: an admin, a read-only user
 * and nobody. Only a caller who may change server configs makes the runtime reach an address
 * of their choosing; a reader reads the list of a deployed server with its saved token, and
 * nothing a reader sends is expanded from the environment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
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
import { startSimulator } from '../support/simulator';
import { ADMIN, READER } from '../support/admin-users';

const TOKEN = 'perm-Tok3n-5a5a';
const SECRET = 'perm-Secret-From-Env-77e1';

/** A port standing for an address of the caller's choosing: it records whatever reaches it. */
async function foreignListener(): Promise<{
  url: string;
  heard: () => string;
  close(): Promise<void>;
}> {
  let heard = '';
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    heard += '[connection]';
    socket.on('data', (chunk: Buffer) => {
      heard += chunk.toString();
      socket.destroy();
    });
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    heard: () => heard,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('editor routes and permissions (Node-RED with adminAuth)', function () {
  this.timeout(60_000);
  let sim: PlexSimulator;
  let nodeRed: NodeRedProcess;
  let foreign: Awaited<ReturnType<typeof foreignListener>>;
  let tmp: string;
  const bearer: Record<'admin' | 'reader', string> = { admin: '', reader: '' };

  before(async () => {
    sim = await startSimulator({ token: TOKEN });
    foreign = await foreignListener();
    tmp = mkdtempSync(join(tmpdir(), 'plex-butler-perm-'));
    process.env.PLEX_BUTLER_PERM_SECRET = SECRET;
    try {
      nodeRed = await startNodeRed({
        userDir: join(tmp, 'user'),
        install: 'link',
        adminAuth: [ADMIN, READER],
      });
    } finally {
      delete process.env.PLEX_BUTLER_PERM_SECRET;
    }
    bearer.admin = await adminToken(nodeRed.url, ADMIN.username, ADMIN.password);
    bearer.reader = await adminToken(nodeRed.url, READER.username, READER.password, 'read');
    await deployFlow(
      nodeRed.url,
      [
        {
          id: 'perm-server',
          type: 'plex-butler-server',
          name: 'Perm Plex',
          url: sim.url,
          clientId: 'perm-client',
          verifyTls: true,
          ca: '',
          timeout: 2000,
          retries: 0,
          credentials: { token: TOKEN },
        },
      ],
      { token: bearer.admin },
    );
    await nodeRed.waitForOutput(/Started flows/);
  });
  after(async () => {
    await nodeRed?.stop();
    await foreign?.close();
    await sim?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function post(
    path: string,
    body: Record<string, unknown>,
    who?: 'admin' | 'reader',
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${nodeRed.url}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(who ? { Authorization: `Bearer ${bearer[who]}` } : {}),
      },
      body: JSON.stringify(body),
    });
    // Node-RED's own refusals are plain text ("Unauthorized"); our answers are JSON.
    const json = (response.headers.get('content-type') ?? '').includes('json');
    const answer = json ? flatAnswer(await response.json()) : {};
    return { status: response.status, body: answer };
  }

  /** What the editor of a typed-in server sends: an address and a token of the caller's own. */
  const typed = (): Record<string, unknown> => ({
    url: foreign.url,
    token: '${PLEX_BUTLER_PERM_SECRET}',
  });
  /** A deployed server with its saved token, pointed elsewhere. */
  const savedTokenElsewhere = (): Record<string, unknown> => ({
    server: 'perm-server',
    url: foreign.url,
    token: '__PWRD__',
  });

  it('nobody: 401 for the task list and the connection test, and the foreign address hears nothing', async () => {
    for (const path of ['/plex-butler/tasks', '/plex-butler/test-connection']) {
      for (const body of [typed(), savedTokenElsewhere(), { server: 'perm-server' }]) {
        assert.equal((await post(path, body)).status, 401, `${path} ${JSON.stringify(body)}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(foreign.heard(), '');
  });

  it('a read-only user: the deployed list with its saved token, nothing typed, nothing elsewhere', async () => {
    const before = sim.exchanges.length;
    const deployed = await post(
      '/plex-butler/tasks',
      { server: 'perm-server', url: sim.url, token: '__PWRD__' },
      'reader',
    );
    assert.equal(deployed.status, 200);
    assert.equal(deployed.body.source, 'live');
    assert.equal((deployed.body.tasks as unknown[]).length, 22);
    assert.ok(sim.exchanges.length > before, 'read from the deployed server');
    assert.equal(sim.exchanges.at(-1)?.headers['x-plex-token'], TOKEN);

    for (const body of [
      typed(),
      savedTokenElsewhere(),
      { url: foreign.url, token: 'typed-by-reader' },
    ]) {
      const refused = await post('/plex-butler/tasks', body, 'reader');
      assert.equal(refused.status, 403, JSON.stringify(body));
      assert.equal((refused.body.error as { code: string }).code, 'forbidden');
      assert.match(
        (refused.body.error as { message: string }).message,
        /permission to change server configs/,
      );
    }
    assert.equal((await post('/plex-butler/test-connection', typed(), 'reader')).status, 401);
    // A reader's URL is compared with the deployed one: 200,000 slashes are no way to stall
    // the runtime (a trailing-slash pattern once took quadratic time on them).
    const stalling = await post(
      '/plex-butler/tasks',
      { server: 'perm-server', url: `${sim.url}/${'/'.repeat(200_000)}x${'/'.repeat(200_000)}` },
      'reader',
    );
    assert.equal(stalling.status, 403);
    // Signing in, listing or choosing the account's servers and searching the LAN change a
    // config or reach out: not for a reader.
    for (const path of [
      '/plex-butler/sign-in',
      '/plex-butler/sign-in/status',
      '/plex-butler/sign-in/cancel',
      '/plex-butler/servers',
      '/plex-butler/servers/choose',
      '/plex-butler/servers/keep',
      '/plex-butler/servers/forget',
      '/plex-butler/discover',
    ]) {
      assert.equal((await post(path, { id: 'perm-server' }, 'reader')).status, 401, path);
      assert.equal((await post(path, { id: 'perm-server' })).status, 401, `${path}, nobody`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(foreign.heard(), '', 'no request, no port probe, no environment variable');
    assert.doesNotMatch(nodeRed.output(), new RegExp(SECRET));
  });

  it('an admin: the editor works, typed values included (so the listener does hear an admin)', async () => {
    const deployed = await post(
      '/plex-butler/tasks',
      { server: 'perm-server', url: sim.url, token: '__PWRD__' },
      'admin',
    );
    assert.equal(deployed.body.source, 'live');
    const typedList = await post('/plex-butler/tasks', { url: sim.url, token: TOKEN }, 'admin');
    assert.equal(typedList.status, 200);
    assert.equal(typedList.body.source, 'live');
    const tested = await post(
      '/plex-butler/test-connection',
      { id: 'perm-server', url: sim.url, token: '__PWRD__' },
      'admin',
    );
    assert.equal(tested.body.ok, true);
    // The saved token never goes to another address, even for an admin.
    const elsewhere = await post('/plex-butler/tasks', savedTokenElsewhere(), 'admin');
    assert.equal((elsewhere.body.error as { code: string }).code, 'invalid-config');
    assert.equal(foreign.heard(), '');
    const reached = await post(
      '/plex-butler/tasks',
      { url: foreign.url, token: 'typed-by-admin' },
      'admin',
    );
    assert.equal(reached.body.source, 'static');
    assert.match(foreign.heard(), /GET \/butler HTTP\/1\.1/);
    assert.doesNotMatch(foreign.heard(), new RegExp(TOKEN));
  });
});
