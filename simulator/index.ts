/**
 * A small Plex Media Server stand-in for tests, benchmarks and demos: the Butler endpoints,
 * /activities, /identity and the sessions (who is watching), as the specs in /work/shared/plex-api describe them, plus faults a
 * real network, proxy or server produces (latency, error statuses, dropped or cut connections,
 * bodies that are not what the client asked for). This is its public entry: import from here.
 */
export type { SimActivity, SimActivityEvent } from './butler';
export type { RecordedExchange } from './exchange';
export type { Fault, FaultKind } from './faults';
export type { NotificationMode } from './notifications';
export { CONTROL_PREFIX } from './control';
export type {
  SimBackgroundJob,
  SimBackgroundOptions,
  SimLocation,
  SimMediaType,
  SimPlayback,
  SimPlaybackOptions,
  SimPlaybackState,
  SimPlayingNotification,
  SimPlayingState,
  SimRecording,
  SimRecordingOptions,
} from './sessions';
export {
  PlexSimulator,
  type PlexSimulatorEvents,
  type SimulatorOptions,
  type SimulatorStats,
} from './plex-simulator';
export { SIMULATED_VERSION } from './routes';
export { Preferences, defaultSettings, type SettingType, type SimSetting } from './preferences';
export { DEFAULT_TASKS, type SimTask } from './tasks';
export {
  DEFAULT_ACCOUNT,
  PlexTvSimulator,
  type PlexTvSimulatorOptions,
  type StandInAccount,
  type StandInConnection,
  type StandInServer,
} from './plextv';
