/**
 * What the Butler panel shows of one deployed server, kept current while at least one panel
 * follows it: the connection state of the server's shared watcher, the activities running now,
 * the task list, the maintenance window and task switches, whether someone is watching (the
 * viewer monitor with the default rules, counts only) and the last maintenance window's report
 * from the journal a report node keeps. Nothing here runs, reads or listens while nobody follows.
 */
import {
  Journal,
  butlerSchedule,
  findJournal,
  type ActivityEvent,
  type ActivityWatcher,
  type ButlerError,
  type ViewerMonitor,
  type ViewerState,
  type WatchState,
  type WatchStatus,
} from '../../lib';
import type { ButlerServerNode } from '../core/contract';
import { asButlerError } from '../core/words';
import { formatDuration } from '../task-action';
import type { ServerConnection } from './connection';
import {
  editorError,
  editorMessage,
  type EditorError,
  type EditorMessage,
} from './editor-contract';

/** A server as the panel's picker lists it: never its URL, only the host (no credentials). */
export interface PanelServer {
  id: string;
  name: string;
  host: string;
}

export interface PanelConnection {
  state: WatchState;
  /** Why it is not connected (or why a poll failed). */
  error?: EditorError;
  /** polling: seconds between reads. */
  pollSeconds?: number;
}

export interface PanelTask {
  name: string;
  title: string;
  enabled: boolean;
  /** Days. */
  interval: number;
}

export interface PanelActivity {
  uuid: string;
  type: string;
  title: string;
  subtitle: string;
  /** 0-100, or -1 when the server does not say. */
  progress: number;
  /** When the runtime saw it start, or (startSeen false) first saw it running; ISO 8601. */
  since: string;
  startSeen: boolean;
}

export interface PanelEndedActivity extends PanelActivity {
  endedAt: string;
  /** From its start to its end, "1m 15s" as the start node says it; only when the start was seen. */
  duration?: string;
}

export interface PanelSchedule {
  window: { startHour: number; endHour: number };
  /** Each task the server has a switch for, by task name. */
  switches: Record<string, boolean>;
}

export type PanelLastNight =
  /** No report node keeps a journal of this server. */
  | { kind: 'no-journal' }
  /** A journal is kept, but the window is not known yet (the schedule could not be read). */
  | { kind: 'no-window' }
  | ({ kind: 'report'; from: string; to: string; complete: boolean } & EditorMessage)
  | { kind: 'failed'; error: EditorError };

export interface PanelView {
  server: PanelServer;
  /** When this view was made, ISO 8601. */
  at: string;
  connection: PanelConnection;
  /** Activities running now. */
  running: PanelActivity[];
  /** Activities that ended while followed, newest first (a few, for a few minutes). */
  ended: PanelEndedActivity[];
  /** The last list read (`read` false until one was); `error` when the last read failed. */
  tasks: { read: boolean; list: PanelTask[]; error?: EditorError };
  schedule: { read: boolean; value?: PanelSchedule; error?: EditorError };
  /** Counts only: who watches what belongs in the message a user asked for, not here. */
  viewers: { state: ViewerState; count: number; error?: EditorError };
  lastNight: PanelLastNight;
}

/** The server's label without its URL: the name, and the host alone (no credentials). */
export function panelServerOf(server: ButlerServerNode): PanelServer {
  let host = '';
  try {
    host = server.connection.baseUrl ? new URL(server.connection.baseUrl).host : '';
  } catch {
    // A URL the config could not use: the name says which server it is.
  }
  return { id: server.id, name: server.serverName || host || server.id, host };
}

/** How often the task list, the schedule and the report are read again while followed. */
export const REFRESH_MS = 60_000;
/** Views go out at most this often: progress comes every second or faster. */
const PUBLISH_EVERY_MS = 250;
/** Ended activities shown: how many, and for how long. */
const ENDED_KEPT = 5;
const ENDED_FOR_MS = 10 * 60_000;

export interface FollowOptions {
  /** Node-RED's user directory, where a report node keeps the journal. */
  userDir: string | undefined;
  /** Told with every new view (at most every 250 ms). */
  publish(view: PanelView): void;
  refreshMs?: number;
}

/** One followed server: holds its shared watcher and viewer monitor until stop(). */
export class ServerFollow {
  readonly connection: ServerConnection;
  private watcher: ActivityWatcher | undefined;
  private watchError: ButlerError | undefined;
  private viewers:
    { monitor: ViewerMonitor; giveBack: () => void; release: () => void } | undefined;
  private viewerError: ButlerError | undefined;
  private tasks: PanelView['tasks'] = { read: false, list: [] };
  private schedule: PanelView['schedule'] = { read: false };
  private lastNight: PanelLastNight = { kind: 'no-journal' };
  /** When each running activity was seen to start, or first seen. */
  private readonly since = new Map<string, { at: number; startSeen: boolean }>();
  private ended: Array<PanelEndedActivity & { endedAtMs: number }> = [];
  private readonly lifetime = new AbortController();
  private refreshTimer: NodeJS.Timeout | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private lastPublished = 0;
  private refreshing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly server: ButlerServerNode,
    private readonly options: FollowOptions,
  ) {
    this.connection = server.connection;
  }

  get serverId(): string {
    return this.server.id;
  }

  start(): void {
    try {
      this.watcher = this.connection.acquireWatcher();
    } catch (error) {
      // A config that cannot make a client: the view says why, and nothing is read.
      this.watchError = asButlerError(error);
    }
    if (this.watcher) {
      this.watcher.on('status', this.onStatus);
      this.watcher.on('activity', this.onActivity);
      for (const activity of this.watcher.running()) {
        this.since.set(activity.uuid, { at: Date.now(), startSeen: false });
      }
      try {
        // The default rules: the same monitor (and reads) as a viewer gate with them.
        const { monitor, release } = this.connection.acquireViewerMonitor({});
        monitor.on('reading', this.changed);
        monitor.on('error', this.changed);
        this.viewers = { monitor, release, giveBack: monitor.acquire() };
      } catch (error) {
        this.viewerError = asButlerError(error);
      }
    }
    void this.refresh();
    this.refreshTimer = setInterval(() => {
      // A server known to be away is read again once it is back (onStatus), not every minute.
      if (this.watcher?.status.state !== 'reconnecting') void this.refresh();
    }, this.options.refreshMs ?? REFRESH_MS);
    this.refreshTimer.unref();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.lifetime.abort();
    clearInterval(this.refreshTimer);
    clearTimeout(this.publishTimer);
    if (this.viewers) {
      this.viewers.monitor.off('reading', this.changed);
      this.viewers.monitor.off('error', this.changed);
      this.viewers.giveBack();
      this.viewers.release();
      this.viewers = undefined;
    }
    if (this.watcher) {
      this.watcher.off('status', this.onStatus);
      this.watcher.off('activity', this.onActivity);
      this.watcher = undefined;
      this.connection.releaseWatcher();
    }
  }

  /** Reads the task list, the schedule and the report again; one read at a time. */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  view(): PanelView {
    const now = Date.now();
    this.ended = this.ended.filter((entry) => now - entry.endedAtMs < ENDED_FOR_MS);
    const running = (this.watcher?.running() ?? []).map((activity): PanelActivity => {
      let seen = this.since.get(activity.uuid);
      if (!seen) {
        seen = { at: now, startSeen: false };
        this.since.set(activity.uuid, seen);
      }
      return {
        uuid: activity.uuid,
        type: activity.type,
        title: activity.title,
        subtitle: activity.subtitle,
        progress: activity.progress,
        since: new Date(seen.at).toISOString(),
        startSeen: seen.startSeen,
      };
    });
    return {
      server: panelServerOf(this.server),
      at: new Date(now).toISOString(),
      connection: this.connectionView(),
      running,
      ended: this.ended.map(({ endedAtMs: _endedAtMs, ...entry }) => entry),
      tasks: this.tasks,
      schedule: this.schedule,
      viewers: this.viewersView(),
      lastNight: this.lastNight,
    };
  }

  private connectionView(): PanelConnection {
    if (!this.watcher) {
      return {
        state: 'closed',
        ...(this.watchError ? { error: editorError(this.watchError) } : {}),
      };
    }
    const status = this.watcher.status;
    return {
      state: status.state,
      ...(status.error ? { error: editorError(status.error) } : {}),
      ...(status.state === 'polling' && status.pollIntervalMs
        ? { pollSeconds: Math.round(status.pollIntervalMs / 100) / 10 }
        : {}),
    };
  }

  private viewersView(): PanelView['viewers'] {
    const monitor = this.viewers?.monitor;
    if (!monitor) {
      const error = this.viewerError ?? this.watchError;
      return { state: 'unknown', count: 0, ...(error ? { error: editorError(error) } : {}) };
    }
    const reading = monitor.reading;
    const error = monitor.state === 'unknown' ? monitor.error : undefined;
    return {
      state: monitor.state,
      count: reading ? reading.sessions.length : 0,
      ...(error ? { error: editorError(error) } : {}),
    };
  }

  private readonly onStatus = (status: WatchStatus): void => {
    // Back after a failure: what changed meanwhile is read again.
    if (status.state === 'connected' || (status.state === 'polling' && !status.error)) {
      if (this.tasks.error || this.schedule.error) void this.refresh();
    }
    this.changed();
  };

  private readonly onActivity = (event: ActivityEvent): void => {
    const now = Date.now();
    if (event.event === 'started') {
      this.since.set(event.uuid, { at: now, startSeen: true });
    } else if (event.event === 'ended') {
      const seen = this.since.get(event.uuid) ?? { at: now, startSeen: false };
      this.since.delete(event.uuid);
      this.ended = [
        {
          uuid: event.uuid,
          type: event.type,
          title: event.title,
          subtitle: event.subtitle,
          progress: event.progress,
          since: new Date(seen.at).toISOString(),
          startSeen: seen.startSeen,
          endedAt: new Date(now).toISOString(),
          endedAtMs: now,
          ...(seen.startSeen ? { duration: formatDuration(now - seen.at) } : {}),
        },
        ...this.ended.filter((entry) => entry.uuid !== event.uuid),
      ].slice(0, ENDED_KEPT);
    } else if (!this.since.has(event.uuid)) {
      this.since.set(event.uuid, { at: now, startSeen: false });
    }
    this.changed();
  };

  /** Something shown changed: a view goes out, at most every PUBLISH_EVERY_MS. */
  readonly changed = (): void => {
    if (this.stopped || this.publishTimer) return;
    const wait = Math.max(0, this.lastPublished + PUBLISH_EVERY_MS - Date.now());
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      if (this.stopped) return;
      this.lastPublished = Date.now();
      this.options.publish(this.view());
    }, wait);
  };

  private async read(): Promise<void> {
    const signal = this.lifetime.signal;
    let client;
    try {
      client = this.connection.getClient();
    } catch (error) {
      const failure = editorError(asButlerError(error));
      this.tasks = { ...this.tasks, error: failure };
      this.schedule = { ...this.schedule, error: failure };
      this.changed();
      return;
    }
    const [tasks, settings] = await Promise.allSettled([
      client.listTasks({ signal }),
      client.listSettings({ signal }),
    ]);
    if (this.stopped) return;
    this.tasks =
      tasks.status === 'fulfilled'
        ? {
            read: true,
            list: tasks.value.map(({ name, title, enabled, interval }) => ({
              name,
              title,
              enabled,
              interval,
            })),
          }
        : { ...this.tasks, error: editorError(asButlerError(tasks.reason)) };
    if (settings.status === 'fulfilled') {
      const schedule = butlerSchedule(settings.value);
      this.schedule = {
        read: true,
        value: { window: schedule.window, switches: schedule.tasks },
      };
    } else {
      this.schedule = { ...this.schedule, error: editorError(asButlerError(settings.reason)) };
    }
    this.lastNight = await this.report();
    this.changed();
  }

  /** Last night: the most recent maintenance window, from the journal a report node keeps. */
  private async report(): Promise<PanelLastNight> {
    const directory = this.options.userDir;
    const journal = directory ? findJournal(directory, this.server.id) : undefined;
    // A guest handle of the journal a report node holds open (findJournal's own kind).
    if (!(journal instanceof Journal)) return { kind: 'no-journal' };
    const window = this.schedule.value?.window;
    if (!window) return { kind: 'no-window' };
    try {
      // Worded in the editor from its reference, in the editor's language.
      const report = await journal.report({ period: { kind: 'maintenance-window', ...window } });
      return {
        kind: 'report',
        from: report.from,
        to: report.to,
        complete: report.complete,
        ...editorMessage(report.textRef),
      };
    } catch (error) {
      return { kind: 'failed', error: editorError(asButlerError(error)) };
    } finally {
      // A guest holds nothing open; this only stops it from recording anything.
      void journal.release();
    }
  }
}
