export { ButlerClient } from './client';
export type { ConnectionReport } from './client';
export {
  LIMITS,
  PACKAGE_VERSION,
  checkNumber,
  normaliseBaseUrl,
  resolveSettings,
} from './settings';
export type { ButlerClientOptions, NumericLimit, ResolvedSettings, TlsOptions } from './settings';
export { BUTLER_ERROR_CODES, ButlerError, isButlerError } from './errors';
export { ENGLISH, formatMessage, interpolate, lookup, message } from './messages';
export type { Catalog, MessageParam, MessageRef } from './messages';
export type { ButlerErrorCode, ButlerErrorDetails } from './errors';
export { DEFAULT_RETRY_POLICY, RETRYABLE_STATUSES } from './retry';
export type { RetryPolicy } from './retry';
export {
  STATIC_TASK_NAMES,
  TASK_NAME_PATTERN,
  checkTaskNameSyntax,
  describeValue,
  suggestTaskNames,
} from './tasks';
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
} from './types';
export { ActivityWatcher, NOTIFICATIONS_PATH } from './watch';
export type { ActivityEvent, WatchOptions, WatchState, WatchStatus } from './watch';
export { CompletionTracker, matchesActivity } from './completion';
export type { ActivityMatch, CompletionOptions, CompletionReport } from './completion';
export { parseActivityNotification } from './parse';
export type { ActivityEventKind, ParsedActivityEvent } from './parse';
export { PLEX_APP_AUTH_URL, PLEX_TV_URL, PlexTvClient } from './plextv';
export type {
  PlexAccount,
  PlexConnection,
  PlexPin,
  PlexServerResource,
  PlexTvOptions,
} from './plextv';
export {
  listedConnection,
  listsAddress,
  locateServer,
  plexDirectHashOfServer,
  rankConnections,
  usableConnections,
} from './locate';
export type { LocateOptions, LocatedServer } from './locate';
export { GDM_ADDRESS, discoverServers, parseGdmReply } from './gdm';
export type { DiscoverOptions, DiscoveredServer } from './gdm';
export { probeIdentity } from './identity';
export type { ProbeOptions, ProbedIdentity } from './identity';
export { isPlexDirectCertificateOf, plexDirectAddress, plexDirectHashOf } from './plexdirect';
export {
  BEHAVIOR_SUFFIX,
  TASK_SWITCH_PREFIX,
  butlerSchedule,
  changeOutcome,
  notHeldError,
  isBehaviorSetting,
  isButlerSetting,
  planScheduleChange,
} from './schedule';
export type { ButlerSchedule } from './schedule';
export { findMovedServer, isBareHttps, pickServerAddress } from './where';
export type { PickedAddress } from './where';
export { parsePlayingNotification } from './parse';
export type { PlayingEvent, PlayingState } from './parse';
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
