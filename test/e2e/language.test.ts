/**
 * The built package speaks the runtime's language: a real Node-RED set to German loads the
 * library's messages that the build merged into the node catalogs, and words errors and
 * status texts with them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlexSimulator } from '../../simulator';
import { deployFlow, startNodeRed, type NodeRedProcess } from '../../scripts/node-red-process';
import { startSimulator } from '../support/simulator';

const TOKEN = 'lang-Tok3n-2718';

describe('the runtime language in a real Node-RED (lang: de)', function () {
  this.timeout(60_000);
  let sim: PlexSimulator;
  let nodeRed: NodeRedProcess;
  let tmp: string;

  before(async () => {
    sim = await startSimulator({ token: TOKEN });
    tmp = mkdtempSync(join(tmpdir(), 'plex-butler-lang-'));
    nodeRed = await startNodeRed({ userDir: join(tmp, 'user'), install: 'link', lang: 'de' });
    const z = 'lang-tab';
    const from = nodeRed.output().length;
    await deployFlow(nodeRed.url, [
      { id: z, type: 'tab', label: 'lang' },
      {
        id: 'lang-server',
        type: 'plex-butler-server',
        url: sim.url,
        clientId: 'lang-client',
        timeout: 2000,
        retries: 0,
        credentials: { token: 'not-the-token' },
      },
      {
        id: 'in',
        type: 'http in',
        z,
        url: '/lang/tasks',
        method: 'get',
        wires: [['tasks']],
        x: 100,
        y: 40,
      },
      {
        id: 'tasks',
        type: 'plex-butler-tasks',
        z,
        server: 'lang-server',
        property: 'payload',
        wires: [['out']],
        x: 200,
        y: 40,
      },
      { id: 'out', type: 'http response', z, wires: [], x: 300, y: 40 },
      {
        id: 'catch',
        type: 'catch',
        z,
        scope: ['tasks'],
        uncaught: false,
        wires: [['failure']],
        x: 100,
        y: 80,
      },
      {
        id: 'failure',
        type: 'function',
        z,
        func: 'msg.payload = { code: msg.error.code, message: msg.error.message };\nmsg.statusCode = 500;\nreturn msg;',
        outputs: 1,
        wires: [['out']],
        x: 200,
        y: 80,
      },
    ]);
    await nodeRed.waitForOutput(/Flows sind gestartet/, from);
  });
  after(async () => {
    await nodeRed?.stop();
    await sim?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a rejected token reaches the Catch node in German, with the stable code', async () => {
    const response = await fetch(`${nodeRed.url}/lang/tasks`);
    assert.equal(response.status, 500);
    const body = (await response.json()) as { code: string; message: string };
    assert.equal(body.code, 'unauthorized');
    assert.match(
      body.message,
      /konnte nicht die Butler-Aufgaben lesen: Token vom Server abgelehnt \(401\)/,
    );
    assert.doesNotMatch(nodeRed.output(), /not-the-token/);
  });
});
