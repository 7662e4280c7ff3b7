/**
 * The butler report node: while deployed it keeps the journal of its server (lib/journal):
 * the server's activities from the shared watcher, and what our start, stop and schedule nodes
 * record into it. Any input sends the report of a period: the data in msg.payload, one short
 * paragraph in msg.text. Several report nodes of one server share one journal file.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import {
  ButlerError,
  butlerSchedule,
  checkPeriod,
  message,
  openJournal,
  type ActivityWatcher,
  type Journal,
  type JournalReport,
  type ReportPeriod,
  type WatchStatus,
} from '../lib';
import type { DoneFunction, SendFunction } from './core/contract';
import { ButlerNodeRunner } from './core/runner';
import {
  asButlerError,
  clock,
  errorStatus,
  localized,
  shortReason,
  translator,
  wordsOf,
} from './core/words';
import { migrateConfig } from './core/migrations';
import { registerJournalRoutes } from './server/journal-routes';

const TYPE = 'plex-butler-report';
/** The periods a node can be set to; `between` comes from msg.since and msg.until only. */
const CONFIG_PERIODS = ['since-last-report', 'maintenance-window', 'last-24-hours'];
/** Failures a retry cannot fix: shown red rather than yellow (as the watch node does). */
const CONFIG_FAILURES = new Set(['unauthorized', 'forbidden', 'tls-error', 'invalid-config']);

interface ReportConfig extends NodeDef {
  server: string;
  /** The period of a message that names none. */
  period: string;
}

interface ReportMessage extends NodeMessageInFlow {
  period?: unknown;
  since?: unknown;
  until?: unknown;
  text?: string;
}

/** What msg.payload holds: the report without its paragraph (that is msg.text). */
type ReportPayload = Omit<JournalReport, 'text' | 'textRef'>;

/** The period a message asks for; a maintenance window without hours is the server's. */
type Wanted = { period: ReportPeriod } | { serverWindow: true };

function given(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function wantedPeriod(msg: ReportMessage, configured: string): Wanted {
  if (given(msg.since) || given(msg.until)) {
    return { period: checkPeriod({ kind: 'between', since: msg.since, until: msg.until }) };
  }
  const asked: unknown = given(msg.period) ? msg.period : configured;
  const kind =
    typeof asked === 'object' && asked !== null ? (asked as { kind?: unknown }).kind : asked;
  const hours = asked as { startHour?: unknown; endHour?: unknown };
  if (
    kind === 'maintenance-window' &&
    (typeof asked === 'string' || (hours.startHour === undefined && hours.endHour === undefined))
  ) {
    return { serverWindow: true };
  }
  return { period: checkPeriod(asked) };
}

function payloadOf(report: JournalReport): ReportPayload {
  const { period, from, to, server, activities, actions, gaps, totals, complete } = report;
  return { period, from, to, server, complete, activities, actions, gaps, totals };
}

/** Deployed report nodes by server config id: told when their journal was deleted. */
const reportNodes = new Map<string, Set<() => void>>();

function register(serverId: string, reopen: () => void): () => void {
  let set = reportNodes.get(serverId);
  if (!set) {
    set = new Set();
    reportNodes.set(serverId, set);
  }
  set.add(reopen);
  return () => {
    set.delete(reopen);
    if (set.size === 0 && reportNodes.get(serverId) === set) reportNodes.delete(serverId);
  };
}

export = function registerReport(RED: NodeAPI): void {
  const userDir = (): string | undefined => (RED.settings as { userDir?: string }).userDir;

  function PlexButlerReportNode(this: Node, saved: ReportConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(TYPE, saved);
    const runner = new ButlerNodeRunner(RED, this, config, TYPE);
    const server = runner.server;
    const journalNode = { id: this.id, name: config.name || '' };
    const lifetime = new AbortController();
    let configError: ButlerError | undefined;
    let journal: Journal | undefined;
    let watcher: ActivityWatcher | undefined;
    let closed = false;

    /** A node that cannot keep its journal fails every message with the reason. */
    const fail = (error: ButlerError): void => {
      configError = error;
      this.status(errorStatus(RED, error));
      this.error(localized(RED, error).message);
    };

    if (!CONFIG_PERIODS.includes(config.period || 'since-last-report')) {
      fail(
        new ButlerError(
          'invalid-config',
          message('journal.errors.period', {
            value: JSON.stringify(config.period),
            kinds: CONFIG_PERIODS.join(', '),
          }),
        ),
      );
    }
    const configuredPeriod = config.period || 'since-last-report';

    // ---- the journal and what it follows ---------------------------------------------------

    let reconciled = false;
    let reconciling = false;
    /**
     * Activities that began while Node-RED was down and still run are in GET /activities
     * only: the watcher's first snapshot is silent. Once per journal opened, when the server
     * first answers.
     */
    const reconcile = async (): Promise<void> => {
      const target = journal;
      if (!server || !target || reconciled || reconciling || closed) return;
      reconciling = true;
      const at = Date.now();
      try {
        const activities = await server.connection
          .getClient()
          .listActivities({ signal: lifetime.signal });
        if (journal === target && !target.released) {
          target.reconcile(activities, at);
          reconciled = true;
        }
      } catch {
        // Not reachable now: the watcher says when it is, and this is tried again then.
      } finally {
        reconciling = false;
      }
    };

    const openOwnJournal = (): Journal => {
      const directory = userDir();
      if (!server || !directory) {
        throw new ButlerError(
          'invalid-config',
          message('journal.errors.directory', { value: message('journal.errors.nothing') }),
        );
      }
      const opened = openJournal({ directory, serverId: server.id, server: server.serverName });
      opened.on('warning', (warning) => this.warn(wordsOf(RED, warning.messageRef)));
      if (watcher) opened.follow(watcher);
      journal = opened;
      reconciled = false;
      void reconcile();
      return opened;
    };

    /** The journal to report from: opened again after it was deleted from the editor. */
    const currentJournal = (): Journal => {
      if (configError) throw configError;
      if (journal && !journal.released) return journal;
      return openOwnJournal();
    };

    // ---- status ----------------------------------------------------------------------------

    /** What the status shows now: the watcher's state, until a report replaces it. */
    let showing: 'watcher' | 'report' = 'watcher';
    let watcherProblem = false;
    const watcherStatus = (status: WatchStatus): NodeStatus | undefined => {
      const error = status.error;
      if (status.state === 'connected' || (status.state === 'polling' && !error)) {
        return { fill: 'green', shape: 'ring', text: runner.t('status.journaling') };
      }
      if ((status.state === 'reconnecting' || status.state === 'polling') && error) {
        return CONFIG_FAILURES.has(error.code)
          ? errorStatus(RED, error)
          : { fill: 'yellow', shape: 'ring', text: shortReason(RED, error) };
      }
      return undefined;
    };
    const onStatus = (status: WatchStatus): void => {
      const ok = status.state === 'connected' || (status.state === 'polling' && !status.error);
      if (ok) void reconcile();
      const shown = watcherStatus(status);
      if (!shown || closed) return;
      // A report's status stays while all is well; a problem replaces it, and so does its end.
      if (showing === 'watcher' || !ok || watcherProblem) {
        showing = 'watcher';
        this.status(shown);
      }
      watcherProblem = !ok;
    };

    let unregister = (): void => undefined;
    if (server && !configError) {
      try {
        watcher = server.connection.acquireWatcher();
      } catch (error) {
        // An unusable server config: every message reports it through the runner.
        this.status(errorStatus(RED, asButlerError(error)));
      }
    }
    if (server && watcher) {
      try {
        openOwnJournal();
        unregister = register(server.id, () => {
          if (closed) return;
          try {
            openOwnJournal();
          } catch (error) {
            fail(asButlerError(error));
          }
        });
        watcher.on('status', onStatus);
        this.status(watcherStatus(watcher.status) ?? {});
      } catch (error) {
        server.connection.releaseWatcher();
        watcher = undefined;
        fail(asButlerError(error));
      }
    }

    // ---- reports ---------------------------------------------------------------------------

    this.on('input', (msg: ReportMessage, send: SendFunction, done: DoneFunction) => {
      void runner.handle(done, async (client, signal): Promise<NodeStatus> => {
        if (configError) throw configError;
        const wanted = wantedPeriod(msg, configuredPeriod);
        let period: ReportPeriod;
        if ('serverWindow' in wanted) {
          // The window as the server's schedule has it now (Plex Web: Scheduled Tasks).
          const { window } = butlerSchedule(await client.listSettings({ signal }));
          period = { kind: 'maintenance-window', ...window };
        } else {
          period = wanted.period;
        }
        const report = await currentJournal().report({
          period,
          node: journalNode,
          translate: translator(RED),
        });
        msg.payload = payloadOf(report);
        msg.text = report.text;
        send(msg);
        showing = 'report';
        const count = report.totals.activities;
        const key = count === 0 ? 'reportedNone' : count === 1 ? 'reportedOne' : 'reported';
        return {
          fill: 'green',
          shape: 'dot',
          text: `${runner.t(`status.${key}`, { count })} ${clock()}`,
        };
      });
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      lifetime.abort();
      unregister();
      const held = journal;
      const heldWatcher = watcher;
      journal = undefined;
      watcher = undefined;
      heldWatcher?.off('status', onStatus);
      // The journal first: its last holder writes the "stopped" line, then the watcher goes.
      void (held ? held.release() : Promise.resolve())
        .catch(() => undefined)
        .finally(() => {
          if (heldWatcher) server?.connection.releaseWatcher();
          done();
        });
    });
  }

  RED.nodes.registerType(
    TYPE,
    PlexButlerReportNode as unknown as (this: Node, def: NodeDef) => void,
  );

  registerJournalRoutes({
    RED,
    userDir,
    deleted: (serverId) => {
      for (const reopen of [...(reportNodes.get(serverId) ?? [])]) reopen();
    },
  });
};
