/**
 * The Butler's schedule, as the server's own settings hold it: the maintenance window, one
 * switch per task, the behaviours of the heavy analysis work, the backup folder, the update
 * settings. Read from the live setting list, never from a table here: which switch belongs to
 * which task is in its id (`ButlerTask<name>`), a behaviour is known by its id and its choices,
 * and what a server does not list is simply absent.
 */
import { ButlerError } from '../failures/errors';
import { message, type MessageParam } from '../messages';
import { describeValue, suggestTaskNames } from '../butler/tasks';
import type { PlexSetting, SettingValue } from '../butler/types';

/** Where a task's switch is: `ButlerTaskBackupDatabase` switches BackupDatabase. */
export const TASK_SWITCH_PREFIX = 'ButlerTask';
const START_HOUR = 'ButlerStartHour';
const END_HOUR = 'ButlerEndHour';
const BACKUP_PATH = 'ButlerDatabaseBackupPath';
/** Where a behaviour's id ends: `GenerateBIFBehavior`, `LoudnessAnalysisBehavior`. */
export const BEHAVIOR_SUFFIX = 'Behavior';
/** The parts a schedule change may have. */
const PARTS = ['window', 'tasks', 'behaviors', 'backupPath', 'settings'];

export interface ButlerSchedule {
  /** Hours 0-23; the window may wrap past midnight (22 to 5). */
  window: { startHour: number; endHour: number };
  /** Each task the server has a switch for, by task name. */
  tasks: Record<string, boolean>;
  /**
   * When each kind of heavy work runs (preview thumbnails, chapter images, markers, voice
   * activity, loudness and music analysis), by setting id: `never`, `scheduled` (in the
   * maintenance window) or `asap` (also as soon as media is added), the server's own values.
   */
  behaviors: Record<string, string>;
  backupPath: string;
  /** Every Butler setting as the server describes it. */
  settings: PlexSetting[];
}

/** The Butler's settings: group `butler`, and the update settings, whose ids start Butler. */
export function isButlerSetting(setting: Pick<PlexSetting, 'id' | 'group'>): boolean {
  return setting.group === 'butler' || setting.id.startsWith('Butler');
}

/**
 * A behaviour: a setting that says when a kind of heavy work runs. Its id ends in `Behavior`
 * and `never` is among its choices; which ones a server has (ad markers with a DVR, intro
 * markers with Plex Pass) and what else they allow is the server's to say.
 */
export function isBehaviorSetting(setting: Pick<PlexSetting, 'id' | 'allowed'>): boolean {
  return (
    setting.id.length > BEHAVIOR_SUFFIX.length &&
    setting.id.endsWith(BEHAVIOR_SUFFIX) &&
    (setting.allowed?.some((entry) => entry.value === 'never') ?? false)
  );
}

function taskOfSwitch(setting: PlexSetting): string | undefined {
  if (setting.type !== 'bool' || !setting.id.startsWith(TASK_SWITCH_PREFIX)) return undefined;
  const task = setting.id.slice(TASK_SWITCH_PREFIX.length);
  return task === '' ? undefined : task;
}

/** The schedule in the shape the schedule node sends, from GET /:/prefs. */
export function butlerSchedule(all: readonly PlexSetting[]): ButlerSchedule {
  const settings = all.filter(isButlerSetting).map((setting) => ({ ...setting }));
  const byId = new Map(settings.map((setting) => [setting.id, setting]));
  const tasks: Record<string, boolean> = {};
  for (const setting of settings) {
    const task = taskOfSwitch(setting);
    if (task !== undefined) tasks[task] = setting.value === true;
  }
  // The server's values are the words (never, scheduled, asap): one it adds later is shown as
  // it holds it, not guessed into one of ours.
  const behaviors: Record<string, string> = {};
  for (const setting of all) {
    if (isBehaviorSetting(setting)) behaviors[setting.id] = String(setting.value);
  }
  return {
    window: {
      startHour: Number(byId.get(START_HOUR)?.value ?? 2),
      endHour: Number(byId.get(END_HOUR)?.value ?? 5),
    },
    tasks,
    behaviors,
    backupPath: String(byId.get(BACKUP_PATH)?.value ?? ''),
    settings,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function refused(key: string, params: Record<string, MessageParam>): ButlerError {
  return new ButlerError('invalid-setting', message(`errors.${key}`, params));
}

/** " Did you mean …?" for a name close to known ones, or nothing. */
function didYouMean(name: string, known: readonly string[]): MessageParam {
  const suggestions = suggestTaskNames(name, known);
  return suggestions.length > 0
    ? message('errors.didYouMean', { names: suggestions.join(', ') })
    : '';
}

/** The window's hours, whether or not the server lists them as choices. */
const HOURS = new Set([START_HOUR, END_HOUR]);

/** What a setting allows, in words, for an error. */
function allowedWords(setting: PlexSetting): MessageParam {
  if (setting.allowed) {
    return setting.allowed.map((entry) => entry.value).join(', ');
  }
  if (HOURS.has(setting.id)) return '0-23';
  return message(`settingType.${setting.type}`);
}

/** A value for the wire (PUT /:/prefs), or undefined when the setting does not allow it. */
function wireValue(setting: PlexSetting, value: unknown): string | undefined {
  let text: string | undefined;
  if (setting.type === 'bool') {
    if (value === true || value === 'true') text = 'true';
    else if (value === false || value === 'false') text = 'false';
  } else if (setting.type === 'int') {
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^-?\d+$/.test(value.trim())
          ? Number(value)
          : NaN;
    if (Number.isSafeInteger(number)) text = String(number);
  } else if (setting.type === 'double') {
    const number =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && value.trim() !== ''
          ? Number(value)
          : NaN;
    if (Number.isFinite(number)) text = String(number);
  } else if (typeof value === 'string' && !hasControlCharacter(value) && value.length <= 4096) {
    text = value;
  } else if (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (setting.allowed !== undefined || HOURS.has(setting.id))
  ) {
    // A text setting whose choices are numbers ("16", "8"), or an hour: 8 means "8". A free
    // text (the backup folder) takes no number: 7 there is a mistake, not a folder.
    text = String(value);
  }
  if (text === undefined) return undefined;
  if (HOURS.has(setting.id) && !/^(1?\d|2[0-3])$/.test(text)) return undefined;
  if (setting.allowed && !setting.allowed.some((entry) => entry.value === text)) return undefined;
  return text;
}

/**
 * The settings a change of the schedule asks for, checked against the server's own list:
 * `{ window: { startHour, endHour } }`, `{ tasks: { DeepMediaAnalysis: false } }`,
 * `{ behaviors: { GenerateBIFBehavior: 'never' } }`, `{ backupPath }`,
 * `{ settings: { ButlerUpdateChannel: '8' } }` (or `[{ id, value }]`), any together. Only
 * Butler settings and behaviours; every id known, every value allowed, or an
 * `invalid-setting` error that says what is allowed, and nothing to send.
 */
export function planScheduleChange(
  all: readonly PlexSetting[],
  change: unknown,
): Record<string, string> {
  if (!isRecord(change)) {
    throw refused('scheduleShape', { value: describeValue(change) });
  }
  const butler = all.filter(isButlerSetting);
  const byId = new Map(butler.map((setting) => [setting.id, setting]));
  const wanted = new Map<string, unknown>();
  const keys = Object.keys(change);
  for (const key of keys) {
    if (!PARTS.includes(key)) {
      throw refused('unknownPart', { part: describeValue(key), parts: PARTS.join(', ') });
    }
  }
  const want = (id: string, value: unknown, shownAs: string): void => {
    if (!byId.has(id)) throw refused('noSuchSetting', { setting: shownAs });
    wanted.set(id, value);
  };
  if (Object.hasOwn(change, 'window')) {
    const window = change.window;
    if (!isRecord(window)) throw refused('windowShape', { value: describeValue(window) });
    for (const key of Object.keys(window)) {
      if (key !== 'startHour' && key !== 'endHour') {
        throw refused('unknownPart', {
          part: describeValue(`window.${key}`),
          parts: 'window.startHour, window.endHour',
        });
      }
    }
    if (Object.hasOwn(window, 'startHour')) want(START_HOUR, window.startHour, 'window.startHour');
    if (Object.hasOwn(window, 'endHour')) want(END_HOUR, window.endHour, 'window.endHour');
  }
  if (Object.hasOwn(change, 'tasks')) {
    const tasks = change.tasks;
    if (!isRecord(tasks)) throw refused('tasksShape', { value: describeValue(tasks) });
    const switched = butler.map(taskOfSwitch).filter((task): task is string => task !== undefined);
    for (const [task, value] of Object.entries(tasks)) {
      const setting = byId.get(`${TASK_SWITCH_PREFIX}${task}`);
      if (!setting || taskOfSwitch(setting) === undefined) {
        throw refused('noSuchSwitch', {
          task: describeValue(task),
          suggestion: didYouMean(task, switched),
          tasks: switched.join(', '),
        });
      }
      wanted.set(setting.id, value);
    }
  }
  const behaviorById = new Map(
    all.filter(isBehaviorSetting).map((setting) => [setting.id, setting]),
  );
  const behaviorIds = [...behaviorById.keys()];
  if (Object.hasOwn(change, 'behaviors')) {
    const behaviors = change.behaviors;
    if (!isRecord(behaviors)) throw refused('behaviorsShape', { value: describeValue(behaviors) });
    for (const [id, value] of Object.entries(behaviors)) {
      if (!behaviorById.has(id)) {
        if (behaviorIds.length === 0) throw refused('noBehaviors', { id: describeValue(id) });
        throw refused('noSuchBehavior', {
          id: describeValue(id),
          suggestion: didYouMean(id, behaviorIds),
          ids: behaviorIds.join(', '),
        });
      }
      wanted.set(id, value);
    }
  }
  if (Object.hasOwn(change, 'backupPath')) want(BACKUP_PATH, change.backupPath, 'backupPath');
  if (Object.hasOwn(change, 'settings')) {
    const settings = change.settings;
    const entries: Array<[string, unknown]> = Array.isArray(settings)
      ? settings.map((entry: unknown) => {
          if (!isRecord(entry) || typeof entry.id !== 'string' || !Object.hasOwn(entry, 'value')) {
            throw refused('settingsShape', { value: describeValue(entry) });
          }
          return [entry.id, entry.value];
        })
      : isRecord(settings)
        ? Object.entries(settings)
        : (() => {
            throw refused('settingsShape', { value: describeValue(settings) });
          })();
    const ids = butler.map((setting) => setting.id);
    for (const [id, value] of entries) {
      // One way to change a behaviour, checked as one: under behaviors.
      if (behaviorById.has(id)) throw refused('behaviorInSettings', { id });
      if (!byId.has(id)) {
        throw refused(all.some((setting) => setting.id === id) ? 'notButler' : 'unknownSetting', {
          id: describeValue(id),
          suggestion: didYouMean(id, ids),
          ids: ids.join(', '),
        });
      }
      wanted.set(id, value);
    }
  }
  if (wanted.size === 0) throw refused('nothingToChange', { parts: PARTS.join(', ') });
  const values: Record<string, string> = {};
  for (const [id, value] of wanted) {
    const setting = (byId.get(id) ?? behaviorById.get(id)) as PlexSetting;
    const text = wireValue(setting, value);
    if (text === undefined) {
      throw refused('badValue', {
        id,
        value: describeSettingValue(value),
        allowed: allowedWords(setting),
      });
    }
    values[id] = text;
  }
  return values;
}

function describeSettingValue(value: unknown): MessageParam {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeValue(value);
}

function valueIn(all: readonly PlexSetting[], id: string): SettingValue | undefined {
  return all.find((setting) => setting.id === id)?.value;
}

/** Whether a setting holds the value of a wire string (`'3'` for 3, `'true'` for true). */
function holds(all: readonly PlexSetting[], id: string, text: string): boolean {
  const current = valueIn(all, id);
  return current !== undefined && String(current) === text;
}

/**
 * What a change did, from the settings read before it and read back after it: the ids that
 * now hold the value asked for and did not before, and the ids whose value the server kept as
 * it was (the change was ignored). A third value is someone else's change since: not a fault.
 */
export function changeOutcome(
  before: readonly PlexSetting[],
  after: readonly PlexSetting[],
  values: Readonly<Record<string, string>>,
): { updated: string[]; notHeld: string[] } {
  const updated: string[] = [];
  const notHeld: string[] = [];
  for (const [id, text] of Object.entries(values)) {
    if (holds(after, id, text)) {
      if (!holds(before, id, text)) updated.push(id);
    } else if (valueIn(before, id) === valueIn(after, id)) {
      notHeld.push(id);
    }
  }
  return { updated, notHeld };
}

/** The error for a change the server answered with success but does not hold. */
export function notHeldError(
  after: readonly PlexSetting[],
  values: Readonly<Record<string, string>>,
  notHeld: readonly string[],
): ButlerError {
  const settings = notHeld
    .map((id) => {
      const current = valueIn(after, id);
      return `${id} ${current === undefined ? '(absent)' : JSON.stringify(current)} ≠ ${JSON.stringify(values[id])}`;
    })
    .join(', ');
  return new ButlerError('bad-response', message('errors.notHeld', { settings }));
}

/** Control characters would arrive as a query parameter no Plex setting takes. */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    if (text.charCodeAt(index) < 0x20) return true;
  }
  return false;
}
