/**
 * Errors and status texts in the runtime's language: the same failure, worded in English and
 * in German, with the same stable code.
 */
import { strict as assert } from 'node:assert';
import type { PlexSimulator } from '../../simulator';
import { startSimulator } from '../support/simulator';
import {
  helper,
  lastStatus,
  loadFlow,
  nextMessage,
  setLanguage,
  type FlowNode,
} from '../support/node-red-helper';
import { waitUntil } from '../support/wait';

const TOKEN = 'tok-Language-3141';

interface CaughtMessage {
  error: { message: string; code?: string };
}

describe('Node-RED nodes in the runtime language', function () {
  let sim: PlexSimulator;

  before(async () => {
    sim = await startSimulator({ token: TOKEN });
  });
  after(async () => {
    await sim.stop();
  });
  afterEach(async () => {
    await helper.unload();
    setLanguage('en-US');
  });

  function flow(node: Record<string, unknown>, server: Record<string, unknown> = {}): FlowNode[] {
    return [
      { id: 'tab', type: 'tab' },
      {
        id: 'server',
        type: 'plex-butler-server',
        name: 'Plex',
        url: sim.url,
        clientId: 'language-client',
        timeout: 2000,
        retries: 0,
        ...server,
      },
      { id: 'node', z: 'tab', server: 'server', wires: [['out']], type: '', ...node },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
    ];
  }

  async function failure(
    lang: string,
    node: Record<string, unknown>,
    server: Record<string, unknown>,
    token = TOKEN,
  ): Promise<{ error: CaughtMessage['error']; status: string }> {
    setLanguage(lang);
    await loadFlow(flow(node, server), { server: { token } });
    const caught = nextMessage<CaughtMessage>('caught');
    helper.getNode('node').receive({});
    const { error } = await caught;
    const status = lastStatus('node')?.text ?? '';
    await helper.unload();
    return { error, status };
  }

  const tasksNode = { type: 'plex-butler-tasks', property: 'payload' };

  it('a rejected token: the same code, English or German words, a short status', async () => {
    const english = await failure('en-US', tasksNode, {}, 'wrong-token');
    const german = await failure('de', tasksNode, {}, 'wrong-token');
    assert.equal(english.error.code, 'unauthorized');
    assert.equal(german.error.code, 'unauthorized');
    assert.match(
      english.error.message,
      /could not list the Butler tasks: token rejected by the server \(401\)/,
    );
    assert.match(
      german.error.message,
      /konnte nicht die Butler-Aufgaben lesen: Token vom Server abgelehnt \(401\)/,
    );
    assert.equal(english.status, 'unauthorized');
    assert.equal(german.status, 'nicht autorisiert');
  });

  it('a setting out of range names the setting and the range in either language', async () => {
    const english = await failure('en-US', tasksNode, { timeout: 'soon' });
    const german = await failure('de', tasksNode, { timeout: 'soon' });
    assert.equal(german.error.code, 'invalid-config');
    assert.match(
      english.error.message,
      /timeout must be a number of milliseconds from 100 to 600000 \(got "soon"\)/,
    );
    assert.match(
      german.error.message,
      /Das Zeitlimit muss eine Zahl von Millisekunden von 100 bis 600000 sein \(erhalten: "soon"\)/,
    );
    assert.equal(german.status, 'Konfig. ungültig');
  });

  it('a start without a task: invalid-task, worded in German', async () => {
    const german = await failure(
      'de',
      { type: 'plex-butler-start', task: 'myTask', taskType: 'msg' },
      {},
    );
    assert.equal(german.error.code, 'invalid-task');
    assert.match(german.error.message, /^Keine Aufgabe angegeben: msg\.myTask ist leer oder fehlt/);
    assert.equal(german.status, 'ungültige Aufgabe');
  });

  it("a watch node's status in German", async () => {
    setLanguage('de');
    await loadFlow(flow({ type: 'plex-butler-watch', updates: 'all' }), {
      server: { token: TOKEN },
    });
    await waitUntil(() => lastStatus('node')?.fill === 'green', 3000, 'connected');
    assert.equal(lastStatus('node')?.text, 'verbunden');
    await sim.stop();
    await waitUntil(() => lastStatus('node')?.fill === 'yellow', 3000, 'reconnecting');
    assert.equal(lastStatus('node')?.text, 'Verbindung getrennt');
    await sim.start();
  });
});
