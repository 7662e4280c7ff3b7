/**
 * The Butler's schedule: the simulator's /:/prefs (as a real server lists the Butler settings,
 * switches driving GET /butler, the window driving start-all), the client's read and write,
 * and the checks that keep a change to the Butler's own settings.
 */
import { strict as assert } from 'node:assert';
import http from 'node:http';
import {
  ButlerClient,
  butlerSchedule,
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
        /"windows" is not part of the Butler schedule: use window, tasks, backupPath, settings/,
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
