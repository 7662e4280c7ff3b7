/**
 * when idle: never disturb a viewer. `check` routes each message by whether the server is in use
 * now, `wait` holds each message until it is idle (or its deadline comes), `watch` says when
 * the server turns idle or in use. What counts as use is the node's rules (lib/viewers/rules);
 * the server connection shares one ViewerMonitor per set of rules, which follows the playing
 * notifications and reads the session lists only when something changed.
 */
import { setMaxListeners } from 'node:events';
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import {
  ButlerError,
  LIMITS,
  checkNumber,
  describeValue,
  configuredDeadline,
  deadlineAt,
  message,
  messageDeadline,
  resolveViewerRules,
  type DeadlineSpec,
  type ViewerMonitor,
  type ViewerReading,
  type ViewerRuleOptions,
} from '../lib';
import { serverNodeOf, type DoneFunction, type SendFunction } from './core/contract';
import { asButlerError, clock, errorStatus, localized, shortReason } from './core/words';
import { migrateConfig } from './core/migrations';

const TYPE = 'plex-butler-idle';

type Mode = 'check' | 'wait' | 'watch';
const MODES: readonly Mode[] = ['check', 'wait', 'watch'];

interface IdleConfig extends NodeDef {
  server: string;
  mode: string;
  /** minutes: `deadline` minutes after the message came; time: at `deadlineTime` ("HH:MM"). */
  deadlineType: string;
  deadline: number | string;
  deadlineTime: string;
  pausedLimit: number | string;
  countRecordings: boolean | string;
  countBackground: boolean | string;
  onlyTranscodes: boolean | string;
  /** Names or machine identifiers, separated by commas or new lines. */
  ignorePlayers: string;
  minimumPlaybacks: number | string;
}

/** What every output carries besides the message's own properties. */
interface IdleMessage extends NodeMessageInFlow {
  sessions?: ViewerReading['sessions'] | null;
  ignored?: ViewerReading['ignored'] | null;
  forced?: boolean;
  deadline?: unknown;
  force?: unknown;
}

/** A message held in `wait` mode until the server is idle or its deadline comes. */
interface Held {
  msg: IdleMessage;
  send: SendFunction;
  done: DoneFunction;
  timer: NodeJS.Timeout;
}

/** Failures a retry cannot fix: shown red rather than yellow (as the watch node does). */
const CONFIG_FAILURES = new Set(['unauthorized', 'forbidden', 'tls-error', 'invalid-config']);

/** A saved checkbox: true/false, or their text from a hand-written flow; other values as given. */
function flag(value: unknown): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value === '' ? undefined : value;
}

function playersOf(value: unknown): unknown {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'string') return value;
  return value
    .split(/[,\n]/)
    .map((player) => player.trim())
    .filter((player) => player !== '');
}

/** The node's rules as options for the monitor; throws `invalid-config` for what is not allowed. */
function ruleOptionsOf(config: Partial<IdleConfig>): ViewerRuleOptions {
  const options = {
    pausedLimitMinutes: checkNumber(config.pausedLimit, LIMITS.pausedLimitMinutes),
    countRecordings: flag(config.countRecordings),
    countBackground: flag(config.countBackground),
    onlyTranscodes: flag(config.onlyTranscodes),
    ignorePlayers: playersOf(config.ignorePlayers),
    minimumPlaybacks: checkNumber(config.minimumPlaybacks, LIMITS.minimumPlaybacks),
  } as ViewerRuleOptions;
  // Checked as the monitor will; the resolved rules (defaults filled in) are what it shares by.
  return resolveViewerRules(options);
}

export = function registerIdle(RED: NodeAPI): void {
  function PlexButlerIdleNode(this: Node, saved: IdleConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(TYPE, saved);
    const t = (key: string, substitutions?: Record<string, string | number>): string =>
      RED._(`${TYPE}.${key}`, substitutions);
    // A flow written by hand may leave the mode out: that is the dialog's default, wait.
    const modeGiven = config.mode !== undefined && config.mode !== null && config.mode !== '';
    const mode: Mode = MODES.includes(config.mode as Mode) ? (config.mode as Mode) : 'wait';
    const server = serverNodeOf(RED, config.server);

    let setupError: ButlerError | undefined;
    let deadline: DeadlineSpec = { minutes: LIMITS.deadlineMinutes.default };
    let monitor: ViewerMonitor | undefined;
    let releaseMonitor: (() => void) | undefined;
    if (!server) {
      setupError = new ButlerError('invalid-config', message('errors.noServer'));
      this.status({ fill: 'grey', shape: 'ring', text: t('status.noServer') });
    } else {
      try {
        if (modeGiven && !MODES.includes(config.mode as Mode)) {
          throw new ButlerError(
            'invalid-config',
            message('errors.outOfRange', {
              setting: message('setting.mode'),
              allowed: message('range.oneOf', { values: MODES.join(', ') }),
              value: describeValue(config.mode),
            }),
          );
        }
        const options = ruleOptionsOf(config);
        if (mode === 'wait') {
          deadline = configuredDeadline(config.deadlineType, config.deadline, config.deadlineTime);
        }
        // Held from deploy to close in every mode: the monitor notes the playing notifications
        // meanwhile, so that a check knows since when a session is paused.
        ({ monitor, release: releaseMonitor } = server.connection.acquireViewerMonitor(options));
      } catch (error) {
        setupError = asButlerError(error);
        this.status(errorStatus(RED, setupError));
        this.error(localized(RED, setupError).message);
      }
    }

    /** One signal for every read of the node, aborted on close. */
    const lifetime = new AbortController();
    setMaxListeners(0, lifetime.signal);
    let closing = false;
    /** While held (wait) or deployed (watch): gives the monitor back. */
    let releaseUse: (() => void) | undefined;
    const held = new Set<Held>();

    // ---- words and status ------------------------------------------------------------------

    const failureStatus = (error: ButlerError): NodeStatus =>
      CONFIG_FAILURES.has(error.code)
        ? errorStatus(RED, error)
        : { fill: 'yellow', shape: 'ring', text: shortReason(RED, error) };

    /** "idle" or "2 watching": counts only, never who or what. */
    const stateWords = (reading: ViewerReading): string =>
      reading.inUse ? t('status.watching', { count: reading.sessions.length }) : t('status.idle');

    const readingStatus = (reading: ViewerReading, withClock: boolean): NodeStatus => ({
      fill: reading.inUse ? 'blue' : 'green',
      shape: 'dot',
      text: withClock ? `${stateWords(reading)} ${clock()}` : stateWords(reading),
    });

    const showWaiting = (): void => {
      if (!monitor) return;
      if (monitor.error) {
        this.status(failureStatus(monitor.error));
        return;
      }
      const reading = monitor.reading;
      const text =
        reading && reading.inUse
          ? `${t('status.waiting')} · ${t('status.watching', { count: reading.sessions.length })}`
          : t('status.waiting');
      this.status({ fill: 'blue', shape: 'ring', text });
    };

    /** Who is watching goes into the message a user asked for, and nowhere else. */
    const describe = (msg: IdleMessage, reading: ViewerReading | undefined): IdleMessage => {
      msg.sessions = reading ? reading.sessions : null;
      msg.ignored = reading ? reading.ignored : null;
      return msg;
    };

    const route = (msg: IdleMessage, reading: ViewerReading, send: SendFunction): void => {
      describe(msg, reading);
      msg.forced = false;
      send(reading.inUse ? [null, msg] : [msg, null]);
    };

    const fail = (done: DoneFunction, error: ButlerError): void => {
      this.status(errorStatus(RED, error));
      done(localized(RED, error));
    };

    // ---- check --------------------------------------------------------------------------

    const check = (
      monitor: ViewerMonitor,
      msg: IdleMessage,
      send: SendFunction,
      done: DoneFunction,
    ): void => {
      this.status({ fill: 'blue', shape: 'ring', text: t('status.checking') });
      monitor.check({ signal: lifetime.signal }).then(
        (reading) => {
          if (closing) return done();
          route(msg, reading, send);
          this.status(readingStatus(reading, true));
          done();
        },
        (thrown: unknown) => {
          // A failed read is an error for Catch nodes, never "idle" and never output 2.
          if (closing) return done();
          fail(done, asButlerError(thrown));
        },
      );
    };

    // ---- wait ---------------------------------------------------------------------------

    const use = (monitor: ViewerMonitor): void => {
      releaseUse ??= monitor.acquire();
    };
    /** Nothing held: the monitor may rest (no reads for this node). */
    const rest = (): void => {
      if (held.size > 0 || mode !== 'wait') return;
      releaseUse?.();
      releaseUse = undefined;
    };

    /** The server is idle: every held message goes out on output 1. */
    const releaseAll = (reading: ViewerReading): void => {
      if (reading.inUse || held.size === 0) return;
      for (const entry of [...held]) {
        held.delete(entry);
        clearTimeout(entry.timer);
        route(entry.msg, reading, entry.send);
        entry.done();
      }
      this.status(readingStatus(reading, true));
      rest();
    };

    /** Its deadline came first: output 2 while in use, the last error while reads fail. */
    const expire = (monitor: ViewerMonitor, entry: Held): void => {
      if (!held.delete(entry)) return;
      const decide = (reading: ViewerReading): void => {
        route(entry.msg, reading, entry.send);
        entry.done();
        if (held.size > 0) showWaiting();
        else if (reading.inUse) {
          this.status({
            fill: 'yellow',
            shape: 'ring',
            text: `${t('status.deadline')} ${clock()}`,
          });
        } else this.status(readingStatus(reading, true));
      };
      const failed = (error: ButlerError): void => {
        entry.done(localized(RED, error));
        if (held.size > 0) showWaiting();
        else this.status(failureStatus(error));
      };
      const reading = monitor.reading;
      const error = monitor.error;
      if (reading) decide(reading);
      else if (error) failed(error);
      else {
        // No read has ended yet (the first one is under way): its answer decides.
        monitor.check({ signal: lifetime.signal }).then(
          (fresh) => {
            if (!closing) decide(fresh);
          },
          (thrown: unknown) => {
            if (!closing) failed(asButlerError(thrown));
          },
        );
      }
      rest();
    };

    const wait = (
      monitor: ViewerMonitor,
      msg: IdleMessage,
      send: SendFunction,
      done: DoneFunction,
    ): void => {
      let spec: DeadlineSpec;
      try {
        spec = messageDeadline(msg.deadline) ?? deadline;
      } catch (error) {
        const failure = asButlerError(error);
        if (held.size === 0) this.status(errorStatus(RED, failure));
        done(localized(RED, failure));
        return;
      }
      const now = Date.now();
      const entry: Held = { msg, send, done, timer: undefined as unknown as NodeJS.Timeout };
      entry.timer = setTimeout(
        () => expire(monitor, entry),
        Math.max(0, deadlineAt(spec, now) - now),
      );
      held.add(entry);
      use(monitor);
      showWaiting();
      // A fresh read for each new message (the socket misses recordings and background work).
      monitor.check({ signal: lifetime.signal }).then(
        (reading) => {
          if (closing || !held.has(entry)) return;
          if (!reading.inUse) releaseAll(reading);
          else showWaiting();
        },
        // The monitor's 'error' event shows it; the message stays held.
        () => undefined,
      );
    };

    // ---- watch --------------------------------------------------------------------------

    /** The state last sent; undefined until the first reading after deploy. */
    let sentInUse: boolean | undefined;
    const announce = (reading: ViewerReading): void => {
      this.status(readingStatus(reading, true));
      if (sentInUse === reading.inUse) return;
      sentInUse = reading.inUse;
      const msg = describe({ payload: reading.inUse ? 'in-use' : 'idle' } as IdleMessage, reading);
      this.send(reading.inUse ? [null, msg] : [msg, null]);
    };

    // ---- the monitor's news ---------------------------------------------------------------

    const onReading = (reading: ViewerReading): void => {
      if (closing) return;
      if (mode === 'watch') announce(reading);
      else if (mode === 'wait' && held.size > 0) {
        if (reading.inUse) showWaiting();
        else releaseAll(reading);
      }
    };
    const onError = (error: ButlerError): void => {
      if (closing) return;
      // Nothing is sent: the state is unknown until a read succeeds again.
      if (mode === 'watch' || (mode === 'wait' && held.size > 0)) {
        this.status(failureStatus(error));
      }
    };
    if (monitor) {
      monitor.on('reading', onReading);
      monitor.on('error', onError);
      if (mode === 'watch') {
        use(monitor);
        if (monitor.reading) announce(monitor.reading);
        else if (monitor.error) onError(monitor.error);
        else this.status({ fill: 'blue', shape: 'ring', text: t('status.reading') });
      }
    }

    this.on('input', (received: NodeMessageInFlow, send: SendFunction, done: DoneFunction) => {
      const msg = received as IdleMessage;
      if (setupError || !monitor) {
        if (server && setupError) this.status(errorStatus(RED, setupError));
        done(
          localized(
            RED,
            setupError ?? new ButlerError('invalid-config', message('errors.noServer')),
          ),
        );
        return;
      }
      if (mode === 'watch') {
        // Watch mode takes no input: a message wired in anyway passes nothing on.
        done();
        return;
      }
      if (msg.force !== undefined && typeof msg.force !== 'boolean') {
        const failure = new ButlerError(
          'invalid-config',
          message('errors.notBoolean', { setting: 'msg.force', value: describeValue(msg.force) }),
        );
        if (held.size === 0) this.status(errorStatus(RED, failure));
        done(localized(RED, failure));
        return;
      }
      if (msg.force === true) {
        // Through at once, without a read: what the node knows now (null when it is not kept).
        describe(msg, monitor.userCount > 0 ? monitor.reading : undefined);
        msg.forced = true;
        send([msg, null]);
        if (held.size === 0) {
          this.status({ fill: 'green', shape: 'dot', text: `${t('status.forced')} ${clock()}` });
        }
        done();
        return;
      }
      if (mode === 'check') check(monitor, msg, send, done);
      else wait(monitor, msg, send, done);
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      closing = true;
      lifetime.abort(new ButlerError('aborted', message('errors.nodeClosed')));
      monitor?.off('reading', onReading);
      monitor?.off('error', onError);
      releaseUse?.();
      releaseUse = undefined;
      releaseMonitor?.();
      // A held message is not kept across a redeploy or a restart: it ends, and nothing is sent.
      const aborted = localized(RED, new ButlerError('aborted', message('errors.nodeClosed')));
      for (const entry of held) {
        clearTimeout(entry.timer);
        entry.done(aborted);
      }
      held.clear();
      done();
    });
  }
  RED.nodes.registerType(TYPE, PlexButlerIdleNode as unknown as (this: Node, def: NodeDef) => void);
};
