import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import {
  LIMITS,
  checkNumber,
  matchesActivity,
  type ActivityEvent,
  type ActivityMatch,
  type ActivityWatcher,
  type WatchStatus,
} from '../lib';
import { serverNodeOf } from './core/contract';
import { asButlerError, errorStatus, localized, shortReason } from './core/words';
import { migrateConfig } from './core/migrations';

interface WatchConfig extends NodeDef {
  server: string;
  typePrefix: string;
  titleContains: string;
  /** all: every updated event; none: started and ended only; limit: at most one per rate. */
  updates: string;
  /** Seconds between updated events of one activity with updates = limit. */
  rate: number | string;
}

const TYPE = 'plex-butler-watch';
/** Failures a retry cannot fix: shown red rather than yellow. */
const CONFIG_FAILURES = new Set(['unauthorized', 'forbidden', 'tls-error', 'invalid-config']);

/** Holds back `updated` events: one per activity per interval, the latest one, sent on time. */
class UpdateLimiter {
  private readonly lastSentAt = new Map<string, number>();
  private readonly pending = new Map<string, { event: ActivityEvent; timer: NodeJS.Timeout }>();

  constructor(
    private readonly intervalMs: number,
    private readonly send: (event: ActivityEvent) => void,
  ) {}

  push(event: ActivityEvent): void {
    const now = Date.now();
    if (event.event !== 'updated') {
      this.dropPending(event.uuid);
      if (event.event === 'ended') this.lastSentAt.delete(event.uuid);
      else this.lastSentAt.set(event.uuid, now);
      this.send(event);
      return;
    }
    const waiting = this.pending.get(event.uuid);
    if (waiting) {
      waiting.event = event;
      return;
    }
    const last = this.lastSentAt.get(event.uuid) ?? 0;
    if (now - last >= this.intervalMs) {
      this.lastSentAt.set(event.uuid, now);
      this.send(event);
      return;
    }
    const timer = setTimeout(
      () => {
        const entry = this.pending.get(event.uuid);
        this.pending.delete(event.uuid);
        if (!entry) return;
        this.lastSentAt.set(event.uuid, Date.now());
        this.send(entry.event);
      },
      last + this.intervalMs - now,
    );
    this.pending.set(event.uuid, { event, timer });
  }

  close(): void {
    for (const entry of this.pending.values()) clearTimeout(entry.timer);
    this.pending.clear();
    this.lastSentAt.clear();
  }

  private dropPending(uuid: string): void {
    const entry = this.pending.get(uuid);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.pending.delete(uuid);
  }
}

export = function registerWatch(RED: NodeAPI): void {
  function PlexButlerWatchNode(this: Node, saved: WatchConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(TYPE, saved);
    const t = (key: string, substitutions?: Record<string, string | number>): string =>
      RED._(`${TYPE}.${key}`, substitutions);
    const server = serverNodeOf(RED, config.server);
    if (!server) {
      this.status({ fill: 'grey', shape: 'ring', text: t('status.noServer') });
      return;
    }
    const match: ActivityMatch = {
      typePrefix: config.typePrefix ?? '',
      titleContains: config.titleContains ?? '',
    };
    const updates = ['all', 'none', 'limit'].includes(config.updates) ? config.updates : 'all';
    let intervalMs = LIMITS.updateIntervalSeconds.default * 1000;
    if (updates === 'limit') {
      try {
        intervalMs = checkNumber(config.rate, LIMITS.updateIntervalSeconds) * 1000;
      } catch (error) {
        // Nothing is watched with a setting that cannot be followed.
        const failure = asButlerError(error);
        this.status(errorStatus(RED, failure));
        this.error(localized(RED, failure).message);
        return;
      }
    }

    const emit = (event: ActivityEvent): void => {
      this.send({ topic: event.type, payload: event });
    };
    const limiter = updates === 'limit' ? new UpdateLimiter(intervalMs, emit) : undefined;

    let watcher: ActivityWatcher;
    try {
      watcher = server.connection.acquireWatcher();
    } catch (error) {
      const failure = asButlerError(error);
      this.status(errorStatus(RED, failure));
      this.error(localized(RED, failure).message);
      return;
    }

    const statusOf = (status: WatchStatus): NodeStatus => {
      const running = watcher.running().length;
      switch (status.state) {
        case 'connected':
          return {
            fill: 'green',
            shape: 'dot',
            text:
              running > 0
                ? t('status.connectedRunning', { count: running })
                : t('status.connected'),
          };
        case 'polling':
          // Yellow: not connected for now and trying again; the text says why, in a few words.
          return status.error
            ? { fill: 'yellow', shape: 'ring', text: shortReason(RED, status.error) }
            : {
                fill: 'blue',
                shape: 'dot',
                text: t('status.polling', {
                  seconds: Math.round((status.pollIntervalMs ?? 0) / 100) / 10,
                }),
              };
        case 'reconnecting': {
          const error = status.error;
          if (error && CONFIG_FAILURES.has(error.code)) return errorStatus(RED, error);
          return {
            fill: 'yellow',
            shape: 'ring',
            text: error ? shortReason(RED, error) : t('status.reconnecting'),
          };
        }
        case 'closed':
          return {};
        default:
          return { fill: 'yellow', shape: 'ring', text: t('status.connecting') };
      }
    };

    let shown = '';
    const showStatus = (): void => {
      const status = statusOf(watcher.status);
      const key = `${status.fill ?? ''}|${status.text ?? ''}`;
      // Progress events come often: only a changed line goes to the editor.
      if (key === shown) return;
      shown = key;
      this.status(status);
    };
    let warned = '';
    const onStatus = (status: WatchStatus): void => {
      // A rejected token is logged once, not at every retry.
      const code = status.error?.code ?? '';
      if (status.state === 'reconnecting' && CONFIG_FAILURES.has(code) && warned !== code) {
        this.warn(status.error ? localized(RED, status.error).message : code);
      }
      warned = status.state === 'connected' || status.state === 'polling' ? '' : code || warned;
      showStatus();
    };
    const onActivity = (event: ActivityEvent): void => {
      showStatus();
      if (!matchesActivity(event, match)) return;
      if (event.event === 'updated' && updates === 'none') return;
      if (limiter) limiter.push(event);
      else emit(event);
    };
    watcher.on('status', onStatus);
    watcher.on('activity', onActivity);
    showStatus();

    this.on('close', (done: () => void) => {
      watcher.off('status', onStatus);
      watcher.off('activity', onActivity);
      limiter?.close();
      server.connection.releaseWatcher();
      done();
    });
  }
  RED.nodes.registerType(
    TYPE,
    PlexButlerWatchNode as unknown as (this: Node, def: NodeDef) => void,
  );
};
