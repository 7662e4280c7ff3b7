/**
 * The server's settings (`/:/prefs`), as far as the Butler goes: the maintenance window, one
 * switch per task, the backup folder, the update settings and the behaviours of the heavy
 * analysis work, as a real server lists them (ids, types, defaults and choices from public
 * captures and python-plexapi's list, see shared/plex-api/README.md), plus a few of the
 * server's other settings, which a Butler client must never touch. The switches decide
 * `enabled` in GET /butler; the window decides what POST /butler starts at once.
 */
import { documentAnswer, htmlAnswer, notFoundAnswer, type PlannedAnswer } from './answers';
import type { Route } from './router';

export type SettingType = 'bool' | 'int' | 'text' | 'double';

export interface SimSetting {
  id: string;
  label: string;
  summary: string;
  type: SettingType;
  default: string | number | boolean;
  value: string | number | boolean;
  hidden: boolean;
  advanced: boolean;
  group: string;
  /** `value:label|…`, when only these values are allowed. */
  enumValues?: string;
}

const HOURS = Array.from({ length: 24 }, (_, hour) => {
  const label =
    hour === 0 ? 'Midnight' : hour === 12 ? 'Noon' : hour < 12 ? `${hour} am` : `${hour - 12} pm`;
  return `${hour}:${label}`;
}).join('|');

function setting(
  id: string,
  label: string,
  summary: string,
  type: SettingType,
  defaultValue: string | number | boolean,
  extra: Partial<SimSetting> = {},
): SimSetting {
  return {
    id,
    label,
    summary,
    type,
    default: defaultValue,
    value: defaultValue,
    hidden: false,
    advanced: false,
    group: 'butler',
    ...extra,
  };
}

function taskSwitch(task: string, label: string, enabled: boolean, hidden = false): SimSetting {
  return setting(`ButlerTask${task}`, label, '', 'bool', enabled, { hidden });
}

/**
 * When a kind of heavy work runs: a text setting of group library whose values are words
 * (never, scheduled, asap), as public captures of real servers list them.
 */
function behavior(
  id: string,
  label: string,
  defaultValue: 'never' | 'scheduled' | 'asap',
): SimSetting {
  return setting(id, label, '', 'text', defaultValue, {
    group: 'library',
    enumValues:
      'never:never|scheduled:during scheduled maintenance|asap:during maintenance and when media is added',
  });
}

/** A server's Butler settings and a few others; labels are plausible wording, not Plex's own. */
export function defaultSettings(): SimSetting[] {
  return [
    setting(
      'FriendlyName',
      'Friendly name',
      'The name other devices show for this server.',
      'text',
      '',
      {
        group: 'general',
      },
    ),
    setting('GdmEnabled', 'Enable local network discovery (GDM)', '', 'bool', true, {
      group: 'network',
    }),
    setting('ManualPortMappingPort', 'Manually specify public port', '', 'int', 32400, {
      group: 'network',
      advanced: true,
    }),
    setting(
      'ButlerStartHour',
      'Time at which tasks start to run',
      'The time at which the server starts running background maintenance tasks.',
      'int',
      2,
      { enumValues: HOURS },
    ),
    setting(
      'ButlerEndHour',
      'Time at which tasks stop running',
      'The time at which the background maintenance tasks stop running.',
      'int',
      5,
      { enumValues: HOURS },
    ),
    setting(
      'ButlerDatabaseBackupPath',
      'Backup directory',
      'The directory in which database backups are stored.',
      'text',
      '/var/lib/plexmediaserver/Library/Application Support/Plex Media Server/Plug-in Support/Databases',
    ),
    taskSwitch('BackupDatabase', 'Backup database every three days', true),
    taskSwitch('OptimizeDatabase', 'Optimize database every week', true),
    taskSwitch('CleanOldBundles', 'Remove old bundles every week', true),
    taskSwitch('CleanOldCacheFiles', 'Remove old cache files every week', true),
    taskSwitch('RefreshLocalMedia', 'Refresh local metadata every three days', true),
    taskSwitch('RefreshLibraries', 'Update all libraries during maintenance', false),
    taskSwitch('UpgradeMediaAnalysis', 'Upgrade media analysis during maintenance', true),
    taskSwitch('RefreshPeriodicMetadata', 'Refresh metadata periodically', true),
    taskSwitch('DeepMediaAnalysis', 'Perform extensive media analysis during maintenance', true),
    taskSwitch('RefreshEpgGuides', 'Refresh program guide data', true),
    taskSwitch('ReverseGeocode', 'Update the locations of photos', true),
    taskSwitch('GenerateAutoTags', 'Analyze and tag photos', true),
    taskSwitch('GarbageCollectBlobs', 'Garbage collect blobs', true),
    taskSwitch(
      'GenerateMediaIndexFiles',
      'Generate preview thumbnails during maintenance',
      false,
      true,
    ),
    setting('ButlerTaskUpdateServer', 'Update my server', '', 'text', 'askme', {
      group: 'general',
      enumValues: 'askme:Ask me|always:Automatically during scheduled maintenance',
    }),
    setting('ButlerUpdateChannel', 'Server update channel', '', 'text', '16', {
      group: 'general',
      enumValues: '16:Public|8:Plex Pass',
    }),
    behavior('GenerateBIFBehavior', 'Create video preview thumbnails', 'never'),
    behavior('GenerateChapterThumbBehavior', 'Create chapter images', 'scheduled'),
    behavior('LoudnessAnalysisBehavior', 'Measure the loudness of audio tracks', 'scheduled'),
    behavior('GenerateIntroMarkerBehavior', 'Find intros', 'asap'),
    behavior('GenerateCreditsMarkerBehavior', 'Find end credits', 'asap'),
    behavior('GenerateVADBehavior', 'Detect voice activity', 'scheduled'),
    behavior('MusicAnalysisBehavior', 'Analyse music for sonic features', 'scheduled'),
  ];
}

/** The values a setting allows, when it is limited to some. */
export function allowedValues(item: SimSetting): string[] | undefined {
  return item.enumValues?.split('|').map((entry) => entry.split(':')[0]);
}

export class Preferences {
  private settings: SimSetting[];

  constructor(settings: SimSetting[] = defaultSettings()) {
    this.settings = settings.map((item) => ({ ...item }));
  }

  list(): readonly SimSetting[] {
    return this.settings;
  }

  get(id: string): SimSetting | undefined {
    return this.settings.find((item) => item.id === id);
  }

  /** The switch of a Butler task, when the server has one: `ButlerTask<name>`. */
  taskSwitch(task: string): boolean | undefined {
    const item = this.get(`ButlerTask${task}`);
    return item?.type === 'bool' ? item.value === true : undefined;
  }

  /** Sets the switch of a Butler task, when the server has one. */
  setTaskSwitch(task: string, enabled: boolean): void {
    const item = this.get(`ButlerTask${task}`);
    if (item?.type === 'bool') item.value = enabled;
  }

  /** Whether `hour` (0-23) is inside the maintenance window; start == end is no window. */
  insideWindow(hour: number): boolean {
    const start = Number(this.get('ButlerStartHour')?.value ?? 2);
    const end = Number(this.get('ButlerEndHour')?.value ?? 5);
    if (start === end) return false;
    return start < end ? hour >= start && hour < end : hour >= start || hour < end;
  }

  /** Milliseconds from `now` to the end of the window (for a task scheduled inside it). */
  msLeft(now: Date): number {
    const end = new Date(now);
    end.setHours(Number(this.get('ButlerEndHour')?.value ?? 5), 0, 0, 0);
    if (end.getTime() <= now.getTime()) end.setDate(end.getDate() + 1);
    return end.getTime() - now.getTime();
  }

  /**
   * PUT /:/prefs?Id=value…: every value is read for its setting's type, and nothing changes
   * unless all of them can be (as one request). Returns the id that could not be set.
   */
  set(query: URLSearchParams): { refused?: string; unknown?: boolean } {
    const updates: Array<[SimSetting, string | number | boolean]> = [];
    for (const [id, raw] of query) {
      if (id === 'X-Plex-Token' || id.startsWith('X-Plex-')) continue;
      const item = this.get(id);
      if (!item) return { refused: id, unknown: true };
      const value = parseValue(item, raw);
      if (value === undefined) return { refused: id };
      updates.push([item, value]);
    }
    for (const [item, value] of updates) item.value = value;
    return {};
  }
}

function parseValue(item: SimSetting, raw: string): string | number | boolean | undefined {
  const allowed = allowedValues(item);
  if (allowed && !allowed.includes(raw)) return undefined;
  if (item.type === 'bool') {
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    return undefined;
  }
  if (item.type === 'int') return /^-?\d+$/.test(raw) ? Number(raw) : undefined;
  if (item.type === 'double')
    return raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : undefined;
  return raw;
}

function settingsAnswer(items: readonly SimSetting[], json: boolean): PlannedAnswer {
  return documentAnswer(json, {
    root: 'MediaContainer',
    attributes: { size: items.length },
    children: { name: 'Setting', items },
  });
}

export function preferenceRoutes(preferences: Preferences): Route[] {
  return [
    {
      template: '/:/prefs',
      methods: {
        GET: ({ json }) => settingsAnswer(preferences.list(), json),
        PUT: ({ query }) => {
          const { refused, unknown } = preferences.set(query);
          if (refused === undefined) return htmlAnswer(200, '');
          // The words of a real server's 400 (the official spec's example).
          return htmlAnswer(
            400,
            unknown
              ? `cannot set preference value for unknown preference ${refused}`
              : `cannot set preference value for ${refused}`,
          );
        },
      },
    },
    {
      template: '/:/prefs/get',
      methods: {
        GET: ({ query, json }) => {
          const item = preferences.get(query.get('id') ?? '');
          return item ? settingsAnswer([item], json) : notFoundAnswer();
        },
      },
    },
  ];
}
