/**
 * The Butler's schedule: the simulator's /:/prefs (as a real server lists the Butler settings
 * and the behaviours, switches driving GET /butler, the window driving start-all), the
 * client's read and write, and the checks that keep a change to the Butler's own settings and
 * the behaviours.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import {
  ButlerClient,
  butlerSchedule,
  isBehaviorSetting,
  planScheduleChange,
  changeOutcome,
  type ButlerErrorCode,
  type PlexSetting,
} from '../../lib';
import type { PlexSimulator } from '../../simulator';
import { rejectsWithCode } from '../support/errors';
import { plexRequest } from '../support/plex-request';
import { startSimulator } from '../support/simulator';

const TOKEN = 'tok-Schedule-2424';

/** The behaviours a server lists (shared/plex-api/README.md) and their defaults. */
const DEFAULT_BEHAVIORS = {
  GenerateBIFBehavior: 'never',
  GenerateChapterThumbBehavior: 'scheduled',
  LoudnessAnalysisBehavior: 'scheduled',
  GenerateIntroMarkerBehavior: 'asap',
  GenerateCreditsMarkerBehavior: 'asap',
  GenerateVADBehavior: 'scheduled',
  MusicAnalysisBehavior: 'scheduled',
};

/** A setting of the server's list as the client reads it, for lists a test makes up. */
function listed(id: string, value: string, enumValues?: string, group = 'library'): PlexSetting {
  return {
    id,
    label: '',
    summary: '',
    type: 'text',
    default: value,
    value,
    hidden: false,
    advanced: false,
    group,
    ...(enumValues
      ? {
          allowed: enumValues.split('|').map((entry) => {
            const [choice, label] = entry.split(':');
            return { value: choice, label };
          }),
        }
      : {}),
  };
}

/** A raw request, as another client would send it. */
function raw(
  sim: PlexSimulator,
  method: string,
  path: string,
  token = TOKEN,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${sim.url}${path}`, {
      method,
      agent: false,
      headers: {
        'X-Plex-Token': token,
        'X-Plex-Client-Identifier': 'schedule-test',
        Accept: 'application/json',
      },
    });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the Butler schedule', function () {
  let sim: PlexSimulator;
  let client: ButlerClient;
  let hour = 12;

  beforeEach(async () => {
    hour = 12;
    sim = await startSimulator({
      token: TOKEN,
      taskDurationMs: 60_000,
      now: () => new Date(2026, 0, 5, hour, 30),
    });
    client = new ButlerClient({
      url: sim.url,
      token: TOKEN,
      clientIdentifier: 'schedule-test',
      retry: { retries: 0 },
    });
  });
  afterEach(async () => {
    client.close();
    await sim.stop();
  });

  describe("the simulator's /:/prefs", () => {
    it('lists the Butler settings a server has, and others', async () => {
      const answer = JSON.parse((await raw(sim, 'GET', '/:/prefs')).body) as {
        MediaContainer: { Setting: Array<Record<string, unknown>> };
      };
      const byId = new Map(answer.MediaContainer.Setting.map((setting) => [setting.id, setting]));
      assert.deepEqual(
        { type: byId.get('ButlerStartHour')?.type, value: byId.get('ButlerStartHour')?.value },
        { type: 'int', value: 2 },
      );
      assert.equal(byId.get('ButlerEndHour')?.value, 5);
      assert.match(
        String(byId.get('ButlerStartHour')?.enumValues),
        /^0:Midnight\|1:1 am\|.*\|12:Noon\|.*\|23:11 pm$/,
      );
      assert.equal(byId.get('ButlerTaskRefreshLibraries')?.value, false);
      assert.equal(byId.get('ButlerTaskGenerateMediaIndexFiles')?.hidden, true);
      assert.equal(byId.get('ButlerTaskUpdateServer')?.group, 'general');
      assert.equal(byId.get('FriendlyName')?.group, 'general');
    });

    it('lists the behaviours as text settings of group library, with never, scheduled and asap', async () => {
      const answer = JSON.parse((await raw(sim, 'GET', '/:/prefs')).body) as {
        MediaContainer: { Setting: Array<Record<string, unknown>> };
      };
      const behaviors = answer.MediaContainer.Setting.filter((setting) =>
        String(setting.id).endsWith('Behavior'),
      );
      assert.deepEqual(
        Object.fromEntries(behaviors.map((setting) => [setting.id, setting.value])),
        DEFAULT_BEHAVIORS,
      );
      for (const setting of behaviors) {
        assert.equal(setting.type, 'text');
        assert.equal(setting.group, 'library');
        assert.equal(setting.default, setting.value);
        assert.deepEqual(
          String(setting.enumValues)
            .split('|')
            .map((entry) => entry.split(':')[0]),
          ['never', 'scheduled', 'asap'],
        );
      }
      assert.equal((await raw(sim, 'PUT', '/:/prefs?GenerateVADBehavior=never')).status, 200);
      assert.equal(sim.preferences.get('GenerateVADBehavior')?.value, 'never');
      assert.equal((await raw(sim, 'PUT', '/:/prefs?GenerateVADBehavior=sometimes')).status, 400);
      assert.equal(sim.preferences.get('GenerateVADBehavior')?.value, 'never');
    });

    it('one setting by id, and 404 for an unknown one', async () => {
      const one = JSON.parse((await raw(sim, 'GET', '/:/prefs/get?id=ButlerEndHour')).body) as {
        MediaContainer: { Setting: unknown[] };
      };
      assert.equal(one.MediaContainer.Setting.length, 1);
      assert.equal((await raw(sim, 'GET', '/:/prefs/get?id=NoSuchThing')).status, 404);
    });

    it('PUT sets several at once, refuses an unknown one with 400 (and changes none), and wants the token', async () => {
      assert.equal(
        (await raw(sim, 'PUT', '/:/prefs?ButlerStartHour=0&ButlerEndHour=8')).status,
        200,
      );
      assert.equal(sim.preferences.get('ButlerEndHour')?.value, 8);
      const refused = await raw(sim, 'PUT', '/:/prefs?ButlerStartHour=3&foo=1');
      assert.equal(refused.status, 400);
      assert.equal(refused.body, 'cannot set preference value for unknown preference foo');
      assert.equal(sim.preferences.get('ButlerStartHour')?.value, 0, 'nothing changed');
      assert.equal((await raw(sim, 'PUT', '/:/prefs?ButlerStartHour=24')).status, 400);
      assert.equal((await raw(sim, 'PUT', '/:/prefs?ButlerStartHour=1', 'wrong')).status, 401);
    });

    it('a switch decides enabled in GET /butler', async () => {
      await raw(sim, 'PUT', '/:/prefs?ButlerTaskDeepMediaAnalysis=false');
      const tasks = await client.listTasks();
      assert.equal(tasks.find((task) => task.name === 'DeepMediaAnalysis')?.enabled, false);
      assert.equal(tasks.find((task) => task.name === 'OptimizeDatabase')?.enabled, true);
    });

    const randomised = (): string[] =>
      sim
        .butlerTasks()
        .filter((task) => task.scheduleRandomized && task.enabled)
        .map((task) => task.name);

    it('start-all outside the window starts every enabled task at once', async () => {
      hour = 12;
      await plexRequest(sim, 'POST', '/butler');
      assert.deepEqual(sim.scheduledTasks(), []);
      assert.ok(randomised().every((name) => sim.runningTasks().includes(name)));
    });

    for (const [window, at, inside] of [
      [[2, 5], 3, true],
      [[2, 5], 5, false],
      [[22, 5], 23, true],
      [[22, 5], 4, true],
      [[22, 5], 12, false],
      [[3, 3], 3, false],
    ] as const) {
      it(`start-all at ${at}:30, window ${window[0]}-${window[1]}: randomised tasks ${inside ? 'later, in the window' : 'at once'}`, async () => {
        await raw(sim, 'PUT', `/:/prefs?ButlerStartHour=${window[0]}&ButlerEndHour=${window[1]}`);
        hour = at;
        await plexRequest(sim, 'POST', '/butler');
        const later = sim
          .scheduledTasks()
          .map((task) => task.name)
          .sort();
        assert.ok(randomised().length > 0);
        if (inside) {
          assert.deepEqual(later, randomised().sort());
          assert.ok(
            randomised().every((name) => !sim.runningTasks().includes(name)),
            'not run at once',
          );
          // It is at:30 on the simulator's clock: the window ends half an hour before a whole hour.
          const endOfWindow = Date.now() + (((window[1] - at + 24) % 24) * 60 - 30) * 60_000;
          assert.ok(sim.scheduledTasks().every((task) => task.at <= endOfWindow));
        } else {
          assert.deepEqual(later, []);
        }
        const fixed = sim.butlerTasks().find((task) => !task.scheduleRandomized && task.enabled);
        assert.ok(
          fixed && sim.runningTasks().includes(fixed.name),
          'a task not randomised starts at once',
        );
      });
    }
  });

  describe('the client and the schedule', () => {
    it("reads the Butler settings in the node's shape, from JSON and from XML alike", async () => {
      const schedule = butlerSchedule(await client.listSettings());
      assert.deepEqual(schedule.window, { startHour: 2, endHour: 5 });
      assert.equal(schedule.tasks.BackupDatabase, true);
      assert.equal(schedule.tasks.RefreshLibraries, false);
      assert.equal(
        'AutomaticUpdates' in schedule.tasks,
        false,
        'a task without a switch is absent',
      );
      assert.equal('UpdateServer' in schedule.tasks, false, 'a text setting is no switch');
      assert.match(schedule.backupPath, /Databases$/);
      assert.ok(
        schedule.settings.every(
          (setting) => setting.group === 'butler' || setting.id.startsWith('Butler'),
        ),
      );
      assert.equal(
        schedule.settings.some((setting) => setting.id === 'FriendlyName'),
        false,
      );
      const hours = schedule.settings.find((setting) => setting.id === 'ButlerStartHour');
      assert.deepEqual(hours?.allowed?.[0], { value: '0', label: 'Midnight' });
      assert.deepEqual(schedule.behaviors, DEFAULT_BEHAVIORS);
      assert.equal(
        schedule.settings.some((setting) => setting.id.endsWith('Behavior')),
        false,
        'behaviours are no Butler settings',
      );
      // Without Accept: application/json the server answers XML: the same schedule.
      sim.injectFault({ kind: 'xml', times: 1 });
      assert.deepEqual(butlerSchedule(await client.listSettings()), schedule);
    });

    it('writes only what it is asked to, in one PUT', async () => {
      const settings = await client.listSettings();
      const values = planScheduleChange(settings, {
        window: { startHour: 0, endHour: 8 },
        tasks: { DeepMediaAnalysis: false },
      });
      assert.deepEqual(values, {
        ButlerStartHour: '0',
        ButlerEndHour: '8',
        ButlerTaskDeepMediaAnalysis: 'false',
      });
      sim.resetStats();
      await client.setSettings(values);
      assert.equal(sim.stats.requestsByRoute['PUT /:/prefs'], 1);
      assert.equal(
        sim.exchanges.at(-1)?.url,
        '/:/prefs?ButlerStartHour=0&ButlerEndHour=8&ButlerTaskDeepMediaAnalysis=false',
      );
      assert.deepEqual(butlerSchedule(await client.listSettings()).window, {
        startHour: 0,
        endHour: 8,
      });
    });
  });

  describe('planScheduleChange: only Butler settings, only allowed values', () => {
    let settings: PlexSetting[];
    beforeEach(async () => {
      settings = await client.listSettings();
    });

    const refusals: Array<[string, unknown, RegExp]> = [
      ['a string', 'window', /is an object such as/],
      [
        'an unknown part',
        { windows: {} },
        /"windows" is not part of the Butler schedule: use window, tasks, behaviors, backupPath, settings/,
      ],
      [
        'an hour of 24',
        { window: { startHour: 24 } },
        /ButlerStartHour cannot be 24: allowed is 0, 1, 2, .* 23/,
      ],
      ['an hour as text', { window: { endHour: 'five' } }, /ButlerEndHour cannot be "five"/],
      [
        'a switch for no task',
        { tasks: { DeepMediaAnalyss: false } },
        /no switch for the task "DeepMediaAnalyss"\. Did you mean DeepMediaAnalysis\?/,
      ],
      [
        'a switch set to "off"',
        { tasks: { BackupDatabase: 'off' } },
        /ButlerTaskBackupDatabase cannot be "off": allowed is true or false/,
      ],
      [
        'another server setting',
        { settings: { FriendlyName: 'pwned' } },
        /"FriendlyName" is not a Butler setting: this node changes only the Butler's/,
      ],
      [
        'a network setting as a list',
        { settings: [{ id: 'ManualPortMappingPort', value: 1 }] },
        /not a Butler setting/,
      ],
      [
        'an unknown setting',
        { settings: { ButlerStartHuor: 1 } },
        /no setting "ButlerStartHuor"\. Did you mean ButlerStartHour\?/,
      ],
      [
        'a value outside the choices',
        { settings: { ButlerTaskUpdateServer: 'sometimes' } },
        /allowed is askme, always/,
      ],
      ['nothing', { window: {} }, /asks for no change/],
      ['behaviours as a list', { behaviors: ['never'] }, /behaviors must be an object of/],
      ['an empty behaviors', { behaviors: {} }, /asks for no change/],
      [
        'a behaviour in another case',
        { behaviors: { GenerateBifBehavior: 'never' } },
        /no behaviour "GenerateBifBehavior"\. Did you mean GenerateBIFBehavior\? Behaviours: GenerateBIFBehavior, GenerateChapterThumbBehavior, .*MusicAnalysisBehavior$/,
      ],
      [
        'a Butler setting as a behaviour',
        { behaviors: { ButlerStartHour: 'never' } },
        /no behaviour "ButlerStartHour"\. Behaviours: GenerateBIFBehavior/,
      ],
      [
        'another server setting as a behaviour',
        { behaviors: { FriendlyName: 'never' } },
        /no behaviour "FriendlyName"/,
      ],
      [
        'a behaviour value outside the choices',
        { behaviors: { GenerateBIFBehavior: 'sometimes' } },
        /GenerateBIFBehavior cannot be "sometimes": allowed is never, scheduled, asap/,
      ],
      [
        'a behaviour set to false',
        { behaviors: { LoudnessAnalysisBehavior: false } },
        /LoudnessAnalysisBehavior cannot be false: allowed is never, scheduled, asap/,
      ],
      [
        'a behaviour value in capitals',
        { behaviors: { GenerateVADBehavior: 'Never' } },
        /GenerateVADBehavior cannot be "Never"/,
      ],
      [
        'a behaviour under settings',
        { settings: { GenerateBIFBehavior: 'never' } },
        /GenerateBIFBehavior is a behaviour: change it under behaviors/,
      ],
      [
        'a good behaviour with a bad switch',
        { behaviors: { GenerateBIFBehavior: 'never' }, tasks: { Nothing: false } },
        /no switch for the task "Nothing"/,
      ],
      [
        'a prototype key',
        JSON.parse('{"__proto__": {"window": {"startHour": 1}}}'),
        /"__proto__" is not part/,
      ],
    ];
    for (const [name, change, words] of refusals) {
      it(`refuses ${name}, naming what is allowed`, () => {
        assert.throws(
          () => planScheduleChange(settings, change),
          (error: unknown) => {
            const failure = error as { code?: ButlerErrorCode; message: string };
            assert.equal(failure.code, 'invalid-setting');
            assert.match(failure.message, words);
            return true;
          },
        );
      });
    }

    it('behaviours by setting id, in the same one request as the window and the switches', () => {
      assert.deepEqual(
        planScheduleChange(settings, {
          window: { endHour: 7 },
          tasks: { DeepMediaAnalysis: false },
          behaviors: { GenerateBIFBehavior: 'scheduled', MusicAnalysisBehavior: 'never' },
        }),
        {
          ButlerEndHour: '7',
          ButlerTaskDeepMediaAnalysis: 'false',
          GenerateBIFBehavior: 'scheduled',
          MusicAnalysisBehavior: 'never',
        },
      );
      assert.deepEqual(
        planScheduleChange(settings, { behaviors: { GenerateVADBehavior: 'asap' } }),
        {
          GenerateVADBehavior: 'asap',
        },
      );
    });

    it("the server's own list decides which behaviours there are and what they allow", () => {
      // A server of another version: ad markers (with a DVR), a value this package does not
      // know, intro markers without Plex Pass (absent), and settings that only look alike.
      const other = [
        ...settings.filter((setting) => !setting.id.endsWith('Behavior')),
        listed(
          'GenerateBIFBehavior',
          'idle',
          'never:never|scheduled:in the window|asap:at once|idle:when the server is idle',
        ),
        listed('GenerateAdMarkerBehavior', 'scheduled', 'never:never|scheduled:in the window'),
        listed('LibraryVideoPlayedAtBehaviour', '3', '0:at a percentage|3:at the credits'),
        listed('SubtitleBehavior', 'auto', 'auto:automatic|always:always'),
        listed('GenerateVADBehavior', 'scheduled'),
      ];
      assert.deepEqual(butlerSchedule(other).behaviors, {
        GenerateBIFBehavior: 'idle',
        GenerateAdMarkerBehavior: 'scheduled',
      });
      assert.deepEqual(
        other.filter(isBehaviorSetting).map((setting) => setting.id),
        ['GenerateBIFBehavior', 'GenerateAdMarkerBehavior'],
      );
      assert.deepEqual(
        planScheduleChange(other, {
          behaviors: { GenerateBIFBehavior: 'idle', GenerateAdMarkerBehavior: 'never' },
        }),
        { GenerateBIFBehavior: 'idle', GenerateAdMarkerBehavior: 'never' },
      );
      assert.throws(
        () => planScheduleChange(other, { behaviors: { GenerateAdMarkerBehavior: 'asap' } }),
        /GenerateAdMarkerBehavior cannot be "asap": allowed is never, scheduled$/,
      );
      for (const id of ['GenerateIntroMarkerBehavior', 'SubtitleBehavior', 'GenerateVADBehavior']) {
        assert.throws(
          () => planScheduleChange(other, { behaviors: { [id]: 'never' } }),
          new RegExp(
            `no behaviour "${id}"\\.( Did you mean [A-Za-z, ]+\\?)? Behaviours: GenerateBIFBehavior, GenerateAdMarkerBehavior$`,
          ),
        );
      }
      // Nor through settings: that part stays the Butler's.
      assert.throws(
        () => planScheduleChange(other, { settings: { SubtitleBehavior: 'always' } }),
        /"SubtitleBehavior" is not a Butler setting/,
      );
      const none = settings.filter((setting) => !setting.id.endsWith('Behavior'));
      assert.deepEqual(butlerSchedule(none).behaviors, {});
      assert.throws(
        () => planScheduleChange(none, { behaviors: { GenerateBIFBehavior: 'never' } }),
        /lists no behaviours \(such as GenerateBIFBehavior\), so "GenerateBIFBehavior" cannot be set/,
      );
    });

    it('the update settings count as Butler settings', () => {
      assert.deepEqual(
        planScheduleChange(settings, {
          settings: { ButlerUpdateChannel: '8', ButlerTaskUpdateServer: 'always' },
        }),
        {
          ButlerUpdateChannel: '8',
          ButlerTaskUpdateServer: 'always',
        },
      );
      // A text setting whose choices are numbers takes the number too; a free text does not.
      assert.deepEqual(planScheduleChange(settings, { settings: { ButlerUpdateChannel: 8 } }), {
        ButlerUpdateChannel: '8',
      });
      assert.throws(
        () => planScheduleChange(settings, { backupPath: 7 }),
        (error: { code?: string }) => error.code === 'invalid-setting',
      );
    });

    it('a read-back: updated when held, ignored when unchanged, and a third value is not a fault', () => {
      const at = (hour: number): PlexSetting[] =>
        settings.map((setting) =>
          setting.id === 'ButlerStartHour' ? { ...setting, value: hour } : setting,
        );
      const asked = { ButlerStartHour: '3' };
      assert.deepEqual(changeOutcome(at(2), at(3), asked), {
        updated: ['ButlerStartHour'],
        notHeld: [],
      });
      assert.deepEqual(changeOutcome(at(3), at(3), asked), { updated: [], notHeld: [] });
      assert.deepEqual(changeOutcome(at(2), at(2), asked), {
        updated: [],
        notHeld: ['ButlerStartHour'],
      });
      // Someone else set 4 after this change: the server took it, and then another one.
      assert.deepEqual(changeOutcome(at(2), at(4), asked), { updated: [], notHeld: [] });
    });

    it('window hours stay 0-23 on a server that lists no hour choices', () => {
      const plain = settings.map((setting) =>
        setting.id === 'ButlerEndHour' ? { ...setting, allowed: undefined } : setting,
      );
      for (const hour of [24, 99, -1, 7.5]) {
        assert.throws(
          () => planScheduleChange(plain, { window: { endHour: hour } }),
          new RegExp(`ButlerEndHour cannot be ${hour}: allowed is 0-23`),
        );
      }
      assert.deepEqual(planScheduleChange(plain, { window: { endHour: 23 } }), {
        ButlerEndHour: '23',
      });
      assert.deepEqual(planScheduleChange(plain, { window: { endHour: '0' } }), {
        ButlerEndHour: '0',
      });
      // An hour the server lists as text takes a number as well, still 0-23 only.
      const asText = plain.map((setting) =>
        setting.id === 'ButlerEndHour' ? { ...setting, type: 'text' as const } : setting,
      );
      assert.deepEqual(planScheduleChange(asText, { window: { endHour: 6 } }), {
        ButlerEndHour: '6',
      });
      assert.throws(
        () => planScheduleChange(asText, { window: { endHour: 24 } }),
        /allowed is 0-23/,
      );
    });

    it('a server refusal of a PUT is reported, not taken for done', async () => {
      await rejectsWithCode(client.setSettings({ NoSuchSetting: '1' }), 'bad-request');
    });
  });
});
