/**
 * The schedule node in a Node-RED runtime: reads, writes exactly what a message asks
 * for (one PUT, then a read-back), refuses anything else before a request, and the task
 * switches it sets are what get tasks shows; the behaviours of the heavy work the same way.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultSettings, type PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';
import {
  allNodes,
  coreNodes,
  helper,
  lastStatus,
  loadFlow,
  nextMessage,
  setLanguage,
  type FlowNode,
} from '../support/node-red-helper';

const TOKEN = 'tok-ScheduleNode-8080';

/** Core nodes the examples use, from the Node-RED under test. */
const exampleNodes = coreNodes('common/20-inject', 'common/90-comment', 'function/15-change');

interface ScheduleMessage {
  payload: {
    window: { startHour: number; endHour: number };
    tasks: Record<string, boolean>;
    behaviors: Record<string, string>;
    backupPath: string;
    settings: Array<{ id: string; value: unknown }>;
  };
  updated: string[];
  topic?: string;
}

describe('plex-butler-schedule', function () {
  let sim: PlexSimulator;

  beforeEach(async () => {
    sim = await startSimulator({ token: TOKEN });
  });
  afterEach(async () => {
    await helper.unload();
    setLanguage('en-US');
    await sim.stop();
  });

  function flow(extra: FlowNode[] = []): FlowNode[] {
    return [
      { id: 'tab', type: 'tab' },
      {
        id: 'server',
        type: 'plex-butler-server',
        url: sim.url,
        clientId: 'schedule-node',
        timeout: 2000,
        retries: 0,
        version: 2,
      },
      {
        id: 'node',
        type: 'plex-butler-schedule',
        z: 'tab',
        server: 'server',
        property: 'payload',
        version: 2,
        wires: [['out']],
      },
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
      ...extra,
    ];
  }

  async function load(extra: FlowNode[] = []): Promise<void> {
    await loadFlow(flow(extra), { server: { token: TOKEN } });
  }

  async function run(payload: unknown): Promise<ScheduleMessage> {
    const received = nextMessage<ScheduleMessage>('out');
    helper.getNode('node').receive({ payload, topic: 'weekend' });
    return received;
  }

  async function refusal(payload: unknown): Promise<{ code: string; message: string }> {
    const caught = nextMessage<{ error: { code: string; message: string } }>('caught');
    helper.getNode('node').receive({ payload });
    return (await caught).error;
  }

  function collect<T = ScheduleMessage>(id: string): T[] {
    const seen: T[] = [];
    helper.getNode(id).on('input', (msg: unknown) => seen.push(msg as T));
    return seen;
  }

  const puts = (): number => sim.stats.requestsByRoute['PUT /:/prefs'] ?? 0;

  it('a timestamp reads the schedule; the message passes through', async () => {
    await load();
    const read = await run(Date.now());
    assert.deepEqual(read.payload.window, { startHour: 2, endHour: 5 });
    assert.equal(read.payload.tasks.DeepMediaAnalysis, true);
    assert.deepEqual(read.payload.behaviors, {
      GenerateBIFBehavior: 'never',
      GenerateChapterThumbBehavior: 'scheduled',
      LoudnessAnalysisBehavior: 'scheduled',
      GenerateIntroMarkerBehavior: 'asap',
      GenerateCreditsMarkerBehavior: 'asap',
      GenerateVADBehavior: 'scheduled',
      MusicAnalysisBehavior: 'scheduled',
    });
    assert.equal(read.topic, 'weekend');
    assert.deepEqual(read.updated, []);
    assert.equal(puts(), 0);
    assert.match(lastStatus('node')?.text ?? '', /^read \d\d:\d\d$/);
  });

  it('a window: one PUT with those two settings, then what the server holds', async () => {
    await load();
    const written = await run({ window: { startHour: 0, endHour: 8 } });
    assert.deepEqual(written.payload.window, { startHour: 0, endHour: 8 });
    assert.deepEqual(written.updated, ['ButlerStartHour', 'ButlerEndHour']);
    assert.equal(puts(), 1);
    const put = sim.exchanges.find((exchange) => exchange.method === 'PUT');
    assert.equal(put?.url, '/:/prefs?ButlerStartHour=0&ButlerEndHour=8');
    assert.equal(sim.exchanges.at(-1)?.path, '/:/prefs', 'read back after the change');
    assert.match(lastStatus('node')?.text ?? '', /^updated \d\d:\d\d$/);
  });

  it('a window whose start hour is already 2: only the end hour counts as updated', async () => {
    await load();
    const written = await run({ window: { startHour: 2, endHour: 6 } });
    assert.deepEqual(written.updated, ['ButlerEndHour'], 'the start hour was 2 already');
  });

  it('a change to the values the server holds already: sent, read back, and the status says unchanged', async () => {
    await load();
    const written = await run({ window: { startHour: 2, endHour: 5 } });
    assert.deepEqual(written.updated, []);
    assert.equal(puts(), 1);
    assert.match(lastStatus('node')?.text ?? '', /^unchanged \d\d:\d\d$/);
  });

  it('a PUT answered with success that the server does not hold: bad-response, no message', async () => {
    await load();
    // A proxy (or a server) answering 200 without applying the change.
    sim.injectFault({ kind: 'empty', times: 1, match: { method: 'PUT', path: '/:/prefs' } });
    const sent: unknown[] = [];
    helper.getNode('out').on('input', (msg: unknown) => sent.push(msg));
    const error = await refusal({ window: { startHour: 3 } });
    assert.equal(error.code, 'bad-response');
    assert.match(
      error.message,
      /still holds the old value when read back .*: ButlerStartHour 2 ≠ "3"/,
    );
    assert.equal(sim.preferences.get('ButlerStartHour')?.value, 2);
    assert.equal(sim.exchanges.at(-1)?.path, '/:/prefs', 'read back');
    assert.deepEqual(sent, []);
  });

  it('two changes at once take turns: each reports its own change, neither a fault', async () => {
    await load();
    const sent = collect('out');
    const caught = collect('caught');
    helper.getNode('node').receive({ payload: { window: { startHour: 3 } } });
    helper.getNode('node').receive({ payload: { window: { startHour: 4 } } });
    await waitUntil(() => sent.length + caught.length === 2, 5000, 'two answers');
    assert.deepEqual(caught, []);
    assert.deepEqual(
      sent.map((msg) => [msg.payload.window.startHour, msg.updated]),
      [
        [3, ['ButlerStartHour']],
        [4, ['ButlerStartHour']],
      ],
    );
    assert.deepEqual(
      sim.exchanges.map((exchange) => exchange.method).slice(-6),
      ['GET', 'PUT', 'GET', 'GET', 'PUT', 'GET'],
      'the second change begins after the first read back',
    );
  });

  it('a task switch off: get tasks shows the task disabled', async () => {
    await load([
      {
        id: 'lister',
        type: 'plex-butler-tasks',
        z: 'tab',
        server: 'server',
        property: 'payload',
        wires: [['listed']],
      },
      { id: 'listed', type: 'helper', z: 'tab' },
    ]);
    const written = await run({ tasks: { DeepMediaAnalysis: false } });
    assert.equal(written.payload.tasks.DeepMediaAnalysis, false);
    const listed = nextMessage<{ payload: Array<{ name: string; enabled: boolean }> }>('listed');
    helper.getNode('lister').receive({});
    const task = (await listed).payload.find((entry) => entry.name === 'DeepMediaAnalysis');
    assert.equal(task?.enabled, false);
  });

  it('behaviours with a window and a switch: one PUT of them all, read back, nothing else changed', async () => {
    await load();
    const before = new Map(sim.preferences.list().map((setting) => [setting.id, setting.value]));
    const written = await run({
      window: { endHour: 6 },
      tasks: { UpgradeMediaAnalysis: false },
      behaviors: {
        GenerateIntroMarkerBehavior: 'scheduled',
        LoudnessAnalysisBehavior: 'never',
        GenerateBIFBehavior: 'never',
      },
    });
    assert.equal(puts(), 1);
    const put = sim.exchanges.find((exchange) => exchange.method === 'PUT');
    assert.equal(
      put?.url,
      '/:/prefs?ButlerEndHour=6&ButlerTaskUpgradeMediaAnalysis=false' +
        '&GenerateIntroMarkerBehavior=scheduled&LoudnessAnalysisBehavior=never&GenerateBIFBehavior=never',
    );
    assert.equal(sim.exchanges.at(-1)?.path, '/:/prefs', 'read back after the change');
    assert.equal(written.payload.behaviors.GenerateIntroMarkerBehavior, 'scheduled');
    assert.equal(written.payload.behaviors.LoudnessAnalysisBehavior, 'never');
    assert.equal(written.payload.behaviors.GenerateCreditsMarkerBehavior, 'asap');
    // GenerateBIFBehavior was never already: sent, but not updated.
    assert.deepEqual(written.updated, [
      'ButlerEndHour',
      'ButlerTaskUpgradeMediaAnalysis',
      'GenerateIntroMarkerBehavior',
      'LoudnessAnalysisBehavior',
    ]);
    const changed = sim.preferences
      .list()
      .filter((setting) => before.get(setting.id) !== setting.value)
      .map((setting) => setting.id);
    assert.deepEqual(changed.sort(), [...written.updated].sort(), 'nothing else changed');
  });

  it("a server's own behaviour values: one this package does not know is shown and set as it is", async () => {
    await sim.stop();
    sim = await startSimulator({
      token: TOKEN,
      settings: defaultSettings()
        .filter((setting) => setting.id !== 'GenerateIntroMarkerBehavior')
        .map((setting) =>
          setting.id === 'GenerateBIFBehavior'
            ? {
                ...setting,
                value: 'idle',
                enumValues: `${setting.enumValues ?? ''}|idle:when the server is idle`,
              }
            : setting,
        ),
    });
    await load();
    const read = await run('read');
    assert.equal(read.payload.behaviors.GenerateBIFBehavior, 'idle');
    assert.equal('GenerateIntroMarkerBehavior' in read.payload.behaviors, false);
    const written = await run({ behaviors: { GenerateBIFBehavior: 'scheduled' } });
    assert.equal(written.payload.behaviors.GenerateBIFBehavior, 'scheduled');
    assert.equal(
      (await run({ behaviors: { GenerateBIFBehavior: 'idle' } })).payload.behaviors
        .GenerateBIFBehavior,
      'idle',
    );
    const error = await refusal({ behaviors: { GenerateIntroMarkerBehavior: 'never' } });
    assert.equal(error.code, 'invalid-setting');
    assert.match(error.message, /the server has no behaviour "GenerateIntroMarkerBehavior"/);
    assert.doesNotMatch(error.message, /Behaviours: .*GenerateIntroMarkerBehavior/);
  });

  for (const [name, payload, words] of [
    [
      'another server setting',
      { settings: { FriendlyName: 'pwned' } },
      /"FriendlyName" is not a Butler setting/,
    ],
    ['a window hour of 25', { window: { startHour: 25 } }, /ButlerStartHour cannot be 25/],
    [
      'an unknown part',
      { window: { startHour: 1 }, FriendlyName: 'pwned' },
      /"FriendlyName" is not part of the Butler schedule/,
    ],
    ['a mistyped task', { tasks: { OptimiseDatabase: false } }, /Did you mean OptimizeDatabase\?/],
    [
      'an unknown behaviour',
      { window: { startHour: 1 }, behaviors: { GenerateThumbsBehavior: 'never' } },
      /no behaviour "GenerateThumbsBehavior"\..* Behaviours: GenerateBIFBehavior, GenerateChapterThumbBehavior, LoudnessAnalysisBehavior, GenerateIntroMarkerBehavior, GenerateCreditsMarkerBehavior, GenerateVADBehavior, MusicAnalysisBehavior$/,
    ],
    [
      'a behaviour value not allowed',
      { behaviors: { GenerateBIFBehavior: 'never', MusicAnalysisBehavior: 'later' } },
      /MusicAnalysisBehavior cannot be "later": allowed is never, scheduled, asap/,
    ],
    [
      'another server setting as a behaviour',
      { behaviors: { FriendlyName: 'pwned' } },
      /no behaviour "FriendlyName"/,
    ],
  ] as const) {
    it(`${name}: invalid-setting, and no PUT at all`, async () => {
      await load();
      const error = await refusal(payload);
      assert.equal(error.code, 'invalid-setting');
      assert.match(error.message, words);
      assert.equal(puts(), 0);
      assert.equal(sim.preferences.get('FriendlyName')?.value, '');
      assert.equal(lastStatus('node')?.text, 'invalid setting');
    });
  }

  it('says so in German under de', async () => {
    setLanguage('de');
    await load();
    const error = await refusal({ settings: { GdmEnabled: false } });
    assert.match(error.message, /"GdmEnabled" ist keine Butler-Einstellung/);
    assert.equal(lastStatus('node')?.text, 'Einstellung ungültig');
    const behaviour = await refusal({ behaviors: { GenerateBifBehavior: 'never' } });
    assert.match(
      behaviour.message,
      /keine Verhaltens-Einstellung "GenerateBifBehavior"\. Meinten Sie GenerateBIFBehavior\?/,
    );
  });

  it('example "pause heavy analysis": busy sets every behaviour to never and remembers them, idle gives each its value back', async () => {
    const example = JSON.parse(
      readFileSync(path.join(__dirname, '../../examples/07 - pause heavy analysis.json'), 'utf8'),
    ) as Array<FlowNode & { name?: string }>;
    // Debug nodes become test helpers; the server is the simulator.
    const flowOfExample = example.map((node) =>
      node.type === 'debug'
        ? { ...node, type: 'helper' }
        : node.type === 'plex-butler-server'
          ? { ...node, url: sim.url }
          : node,
    );
    const idOf = (name: string): string => {
      const node = example.find((entry) => entry.name === name);
      assert.ok(node, name);
      return node.id;
    };
    const serverId = example.find((node) => node.type === 'plex-butler-server')?.id ?? '';
    await helper.load(
      [...allNodes, ...exampleNodes],
      flowOfExample as unknown as Parameters<typeof helper.load>[1],
      { [serverId]: { token: TOKEN } },
    );
    await plexRequest(sim, 'PUT', '/:/prefs?GenerateBIFBehavior=scheduled');
    const behaviorsOnServer = (): Record<string, unknown> =>
      Object.fromEntries(
        sim.preferences
          .list()
          .filter((setting) => setting.id.endsWith('Behavior'))
          .map((setting) => [setting.id, setting.value]),
      );
    const before = behaviorsOnServer();
    const failures = collect(idOf('failure'));
    const press = async (inject: string): Promise<ScheduleMessage['payload']> => {
      const now = nextMessage<{ payload: ScheduleMessage['payload'] }>(idOf('now'));
      helper.getNode(idOf(inject)).receive({});
      return (await now).payload;
    };

    const paused = await press('NAS busy');
    const never = Object.fromEntries(Object.keys(before).map((id) => [id, 'never']));
    assert.deepEqual(paused.behaviors, never);
    assert.deepEqual(
      [
        paused.tasks.DeepMediaAnalysis,
        paused.tasks.UpgradeMediaAnalysis,
        paused.tasks.BackupDatabase,
      ],
      [false, false, true],
    );
    assert.deepEqual(behaviorsOnServer(), never);
    assert.equal(sim.preferences.taskSwitch('DeepMediaAnalysis'), false);
    // Busy twice: the values remembered are still the ones from before the first.
    await press('NAS busy');
    const back = await press('NAS idle');
    assert.deepEqual(back.behaviors, before);
    assert.deepEqual(behaviorsOnServer(), before);
    assert.equal(sim.preferences.taskSwitch('UpgradeMediaAnalysis'), true);
    assert.deepEqual(failures, []);
    // Idle without busy: only the switches, no behaviour.
    const putsBefore = sim.exchanges.filter((exchange) => exchange.method === 'PUT').length;
    await press('NAS idle');
    const last = sim.exchanges.filter((exchange) => exchange.method === 'PUT');
    assert.equal(last.length, putsBefore + 1);
    assert.equal(
      last.at(-1)?.url,
      '/:/prefs?ButlerTaskDeepMediaAnalysis=true&ButlerTaskUpgradeMediaAnalysis=true',
    );
  });

  it('a read while another client changed the window shows the change', async () => {
    await load();
    await plexRequest(sim, 'PUT', '/:/prefs?ButlerEndHour=7');
    assert.equal((await run('read')).payload.window.endHour, 7);
  });
});
