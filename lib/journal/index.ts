/**
 * What the Butler did: a journal of one server, kept by the nodes that watch it, and reports
 * of a period from it. Plex keeps no history of its Butler; this journal holds what our nodes
 * saw and did.
 *
 *   const journal = openJournal({ directory: RED.settings.userDir, serverId: config.id,
 *                                 server: config.name });      // shared per file, counted
 *   journal.on('warning', (w) => node.warn(w.message));        // file problems, never thrown
 *   journal.follow(watcher);                                   // activities, reachability
 *   journal.reconcile(await client.listActivities());           // after a start or reconnect
 *   const report = await journal.report({ period: { kind: 'maintenance-window',
 *     startHour: 2, endHour: 5 }, node: { id: node.id, name: node.name }, translate });
 *   await journal.release();                                   // in the node's close handler
 *
 * Start, stop and schedule nodes record into the journal a report node keeps open:
 * `findJournal(directory, serverId)?.taskAction({ action, task, status | error, node })`,
 * `.scheduleChange({ settings, status, node })`, and `.tie(uuid, task)` when a waiting start
 * node knows which activity its task produced (`journalFinder(directory, serverId)` is the
 * same look-up, the path worked out once). `deleteJournal(directory, serverId)` removes
 * the file when the server config is removed.
 *
 * The file: `<directory>/plex-butler-journal-<serverId>.jsonl`, one JSON record per line,
 * appended and flushed (fdatasync) per batch; a torn last line is cut off when read; entries
 * older than 14 days (maxAgeDays) are dropped and the file stays below 16 MiB (maxBytes) by a
 * compaction that rewrites it into `<file>.tmp` and renames that over it. A line every five
 * minutes (heartbeatMs) and a "stopped" line on a clean close date a crash: the next start
 * records the time between as Node-RED not running. Nothing else is written anywhere, and only
 * what the API takes goes in: activity type, title, subtitle and progress, task names, status
 * words, error codes, Butler and behaviour setting ids and values, node ids and names, the server's label
 * without credentials or query.
 *
 * Activities are named after a task only where that is known: tied by a start node, or of a
 * type that public sources show for one task (TASK_OF_ACTIVITY_TYPE, an inference); otherwise
 * by their own title. Times of day (the maintenance window, dates) are local time.
 */
export {
  JOURNAL_DEFAULTS,
  Journal,
  deleteJournal,
  findJournal,
  journalFinder,
  journalPath,
  openJournal,
} from './journal';
export type {
  JournalActivity,
  JournalActivityEvent,
  JournalOptions,
  JournalWarning,
  JournalWriter,
  ReportOptions,
  ScheduleChangeEntry,
  TaskActionEntry,
} from './journal';
export { PERIOD_KINDS, checkPeriod, maintenanceWindow, parseReportTime } from './period';
export type { PeriodKind, ReportPeriod, TimeInput } from './period';
export { parseJournal } from './records';
export type { GapReason, JournalNode, ParsedJournal, ScheduleStatus } from './records';
export { TASK_OF_ACTIVITY_TYPE } from './report';
export type {
  JournalReport,
  ReportAction,
  ReportActivity,
  ReportGap,
  ReportTotals,
} from './report';
export { durationWords } from './words';
