export { ButlerClient } from './butler/client';
export type { ConnectionReport } from './butler/client';
export {
  LIMITS,
  PACKAGE_VERSION,
  checkNumber,
  normaliseBaseUrl,
  resolveClientOptions,
  /** @deprecated The name of releases up to 0.1.0: resolveClientOptions. */
  resolveClientOptions as resolveSettings,
} from './butler/client-options';
export type {
  ButlerClientOptions,
  NumericLimit,
  ResolvedClientOptions,
  /** @deprecated The name of releases up to 0.1.0: ResolvedClientOptions. */
  ResolvedClientOptions as ResolvedSettings,
  TlsOptions,
} from './butler/client-options';
export { BUTLER_ERROR_CODES, ButlerError, isButlerError } from './failures/errors';
export { ENGLISH, formatMessage, interpolate, lookup, message } from './messages';
export type { Catalog, MessageParam, MessageRef } from './messages';
export type { ButlerErrorCode, ButlerErrorDetails } from './failures/errors';
export { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES } from './butler/retry';
export type { RetryPolicy } from './butler/retry';
export {
  STATIC_TASK_NAMES,
  TASK_NAME_PATTERN,
  checkTaskNameSyntax,
  describeValue,
  suggestTaskNames,
} from './butler/tasks';
export type {
  Activity,
  ButlerTask,
  CallOptions,
  PlexSetting,
  SettingType,
  SettingValue,
  ServerIdentity,
  TaskAction,
  TaskResult,
  TaskStatus,
} from './butler/types';
export { ActivityWatcher, NOTIFICATIONS_PATH } from './activity/watch';
export type { ActivityEvent, WatchOptions, WatchState, WatchStatus } from './activity/watch';
export { CompletionTracker, matchesActivity } from './activity/completion';
export type { ActivityMatch, CompletionOptions, CompletionReport } from './activity/completion';
export { parseActivityNotification } from './butler/parse';
export type { ActivityEventKind, ParsedActivityEvent } from './butler/parse';
export { PLEX_APP_AUTH_URL, PLEX_TV_URL, PlexTvClient } from './plextv/plextv';
export type {
  PlexAccount,
  PlexConnection,
  PlexPin,
  PlexServerResource,
  PlexTvOptions,
} from './plextv/plextv';
export {
  listedConnection,
  listsAddress,
  locateServer,
  plexDirectHashOfServer,
  rankConnections,
  usableConnections,
} from './plextv/locate';
export type { LocateOptions, LocatedServer } from './plextv/locate';
export { GDM_ADDRESS, discoverServers, parseGdmReply } from './plextv/gdm';
export type { DiscoverOptions, DiscoveredServer } from './plextv/gdm';
export { probeIdentity } from './butler/identity';
export type { ProbeOptions, ProbedIdentity } from './butler/identity';
export {
  isPlexDirectCertificateOf,
  plexDirectAddress,
  plexDirectHashOf,
} from './plextv/plexdirect';
export {
  BEHAVIOR_SUFFIX,
  TASK_SWITCH_PREFIX,
  butlerSchedule,
  changeOutcome,
  notHeldError,
  isBehaviorSetting,
  isButlerSetting,
  planScheduleChange,
} from './schedule/schedule';
export type { ButlerSchedule } from './schedule/schedule';
export { findMovedServer, isBareHttps, pickServerAddress } from './plextv/where';
export type { PickedAddress } from './plextv/where';
export { parsePlayingNotification } from './butler/parse';
export type { PlayingEvent, PlayingState } from './butler/parse';
export { parseBackgroundSessions, parseLiveSessions, parseSessions } from './viewers/sessions';
export type { Playback, PlaybackKind, PlaybackLocation, PlaybackState } from './viewers/sessions';
export {
  DEFAULT_VIEWER_RULES,
  IGNORE_REASONS,
  judgePlaybacks,
  pausedLimitEnds,
  resolveViewerRules,
} from './viewers/rules';
export type {
  IgnoreReason,
  IgnoredSession,
  ViewerRuleOptions,
  ViewerRules,
  ViewerSession,
  ViewerVerdict,
} from './viewers/rules';
export {
  TIME_OF_DAY_PATTERN,
  configuredDeadline,
  deadlineAt,
  messageDeadline,
  nextTimeOfDay,
  parseTimeOfDay,
} from './viewers/deadline';
export type { DeadlineSpec } from './viewers/deadline';
export { ViewerMonitor } from './viewers/monitor';
export type {
  PlayingSource,
  ViewerMonitorOptions,
  ViewerReading,
  ViewerState,
} from './viewers/monitor';
export {
  JOURNAL_DEFAULTS,
  Journal,
  PERIOD_KINDS,
  TASK_OF_ACTIVITY_TYPE,
  checkPeriod,
  deleteJournal,
  durationWords,
  findJournal,
  journalFinder,
  journalPath,
  maintenanceWindow,
  openJournal,
  parseJournal,
  parseReportTime,
} from './journal';
export type {
  GapReason,
  JournalActivity,
  JournalActivityEvent,
  JournalNode,
  JournalOptions,
  JournalReport,
  JournalWarning,
  JournalWriter,
  ParsedJournal,
  PeriodKind,
  ReportAction,
  ReportActivity,
  ReportGap,
  ReportOptions,
  ReportPeriod,
  ReportTotals,
  ScheduleChangeEntry,
  ScheduleStatus,
  TaskActionEntry,
  TimeInput,
} from './journal';
