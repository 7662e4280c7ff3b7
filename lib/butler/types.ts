/** A Butler task as GET /butler lists it, with real booleans and the interval in days. */
export interface ButlerTask {
  name: string;
  /** The server's title, or the name when the server gives none. */
  title: string;
  description: string;
  enabled: boolean;
  interval: number;
  scheduleRandomized: boolean;
}

export type TaskAction = 'start' | 'stop';
export type TaskStatus = 'started' | 'already-running' | 'stopped' | 'not-running';

/** What a start or stop call did. `task` is the task name, or "all". */
export interface TaskResult {
  action: TaskAction;
  task: string;
  status: TaskStatus;
  httpStatus: number;
}

/** A running piece of server work from GET /activities. */
export interface Activity {
  uuid: string;
  type: string;
  title: string;
  subtitle: string;
  /** 0-100, or -1 when the server does not know. */
  progress: number;
  cancellable: boolean;
  userId?: number;
  context?: Record<string, unknown>;
}

export interface ServerIdentity {
  claimed: boolean;
  machineIdentifier: string;
  version: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export type SettingType = 'bool' | 'int' | 'text' | 'double';
export type SettingValue = boolean | number | string;

/** One of the server's settings (GET /:/prefs), its values read for its type. */
export interface PlexSetting {
  id: string;
  label: string;
  summary: string;
  type: SettingType;
  default: SettingValue;
  value: SettingValue;
  hidden: boolean;
  advanced: boolean;
  group: string;
  /** When only some values are allowed: each with the label Plex shows for it. */
  allowed?: Array<{ value: string; label: string }>;
}
