import { EventEmitter } from 'node:events';
import type { ClientRequestArgs } from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { ButlerClient } from '../butler/client';
import { ButlerError } from '../failures/errors';
import { statusFailure, transportFailure } from '../failures/classify';
import { message } from '../messages';
import { plexDirectAddress, plexDirectLookup } from '../plextv/plexdirect';
import {
  parseActivityNotification,
  parsePlayingNotification,
  type ActivityEventKind,
  type PlayingEvent,
} from '../butler/parse';
import {
  resolveClientOptions,
  type ButlerClientOptions,
  type ResolvedClientOptions,
} from '../butler/client-options';
import type { Activity } from '../butler/types';

/** One activity event, as the watch node sends it in msg.payload. */
export type ActivityEvent = { event: ActivityEventKind } & Pick<
  Activity,
  'uuid' | 'type' | 'title' | 'subtitle' | 'progress' | 'cancellable'
>;

/**
 * connecting: first attempt; connected: the notification socket is open; reconnecting: waiting
 * to try again after a failure or a drop; polling: the socket was refused (a proxy without
 * WebSockets), so GET /activities is read at an interval instead; closed: close() was called.
 */
export type WatchState = 'connecting' | 'connected' | 'reconnecting' | 'polling' | 'closed';

export interface WatchStatus {
  state: WatchState;
  /** The last failure, while not connected (or a failed poll while polling). */
  error?: ButlerError;
  /** reconnecting: how long until the next attempt. */
  retryInMs?: number;
  /** polling: the interval. */
  pollIntervalMs?: number;
}

export interface WatchOptions {
  /** GET /activities interval while the socket is refused; default 5000. */
  pollIntervalMs?: number;
  /** First wait before reconnecting; doubles up to reconnectMaxMs, ±25% jitter. Default 1000. */
  reconnectInitialMs?: number;
  /** Default 30000. */
  reconnectMaxMs?: number;
  /** While polling, how often the socket is tried again; default 60000. */
  webSocketRetryMs?: number;
  /** A ping this often; no pong before the next one means a dead connection. Default 30000. */
  pingIntervalMs?: number;
}

interface Tracked {
  activity: Activity;
  /** When an event or a poll last showed it (ms), to reconcile with a snapshot taken before. */
  seenAt: number;
}

export const NOTIFICATIONS_PATH = '/:/websockets/notifications';

const DEFAULTS: Required<WatchOptions> = {
  pollIntervalMs: 5000,
  reconnectInitialMs: 1000,
  reconnectMaxMs: 30_000,
  webSocketRetryMs: 60_000,
  pingIntervalMs: 30_000,
};

/**
 * How long an ended activity is remembered, and how many at most: a list read before the end
 * may arrive after it (a busy server, a proxy that buffers HTTP but not the socket), at the
 * latest when its own time limit runs out.
 */
const ENDED_MEMORY_MS = 10 * 60_000;
const ENDED_MEMORY_SIZE = 1000;

/** Statuses a proxy or an old server gives when it does not serve the socket: poll instead. */
function socketRefused(status: number): boolean {
  return status !== 401 && status !== 403 && status !== 429 && status < 500;
}

/** A handshake refused as for a token: the token's, or only the socket's (see lost()). */
function refusedAsToken(status: number): boolean {
  return status === 401 || status === 403;
}

/** The event's fields only: no user id or context, which the server may add. */
export function toEvent(event: ActivityEventKind, activity: Activity): ActivityEvent {
  return {
    event,
    uuid: activity.uuid,
    type: activity.type,
    title: activity.title,
    subtitle: activity.subtitle,
    progress: activity.progress,
    cancellable: activity.cancellable,
  };
}

function changed(before: Activity, after: Activity): boolean {
  return (
    before.progress !== after.progress ||
    before.title !== after.title ||
    before.subtitle !== after.subtitle ||
    before.type !== after.type
  );
}

/**
 * Follows one server's activities: the notification WebSocket (token in a header, never in the
 * URL), reconnecting with backoff, or GET /activities at an interval when the socket is
 * refused. Emits 'activity' per event, 'playing' per playback state notification (the socket
 * asks for both types), and 'status' on every state change. Knows nothing of Node-RED; one
 * watcher per server is meant to be shared by everything that listens.
 */
export class ActivityWatcher extends EventEmitter<{
  activity: [ActivityEvent];
  playing: [PlayingEvent];
  status: [WatchStatus];
}> {
  private resolved: ResolvedClientOptions;
  private client: ButlerClient;
  private readonly options: Required<WatchOptions>;
  private readonly tracked = new Map<string, Tracked>();
  /**
   * Activities that ended, with when (ms), oldest first: an end is final, and a list that
   * still shows one was read before it. Bounded by ENDED_MEMORY_MS and ENDED_MEMORY_SIZE.
   */
  private readonly ended = new Map<string, number>();
  private current: WatchStatus = { state: 'connecting' };
  private socket: WebSocket | undefined;
  /** The one pending reconnect, poll or socket retry. */
  private timer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private started = false;
  /** Set once a first snapshot was taken: later snapshots report what changed meanwhile. */
  private synced = false;
  private pollController: AbortController | undefined;
  private lastPollAt = 0;

  constructor(clientOptions: ButlerClientOptions, options: WatchOptions = {}) {
    super();
    // Many nodes may listen to one watcher: that is its purpose, not a leak.
    this.setMaxListeners(0);
    this.resolved = resolveClientOptions(clientOptions);
    this.options = { ...DEFAULTS };
    for (const [key, value] of Object.entries(options) as [keyof WatchOptions, unknown][]) {
      if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
        this.options[key] = value;
      }
    }
    // Polls and snapshots are repeated anyway: one attempt each, no backoff of their own.
    this.client = new ButlerClient({ ...clientOptions, retry: { retries: 0 } });
  }

  get status(): WatchStatus {
    return this.current;
  }

  get closed(): boolean {
    return this.current.state === 'closed';
  }

  /** The activities running now, as far as the events and polls have told. */
  running(): Activity[] {
    return [...this.tracked.values()].map((entry) => entry.activity);
  }

  /** Connects; calling it again does nothing. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.connect();
  }

  /**
   * Follows the server to another address (it was found again under a new one): the socket
   * reconnects there, polls read there. Throws like the constructor for unusable options.
   */
  retarget(clientOptions: ButlerClientOptions): void {
    if (this.closed) return;
    const resolved = resolveClientOptions(clientOptions);
    const previous = this.client;
    this.resolved = resolved;
    this.client = new ButlerClient({ ...clientOptions, retry: { retries: 0 } });
    this.pollController?.abort();
    previous.close();
    // A drop like any other: the close handler reconnects, now to the new address.
    this.socket?.terminate();
  }

  close(): void {
    if (this.closed) return;
    this.clearTimer();
    this.stopPing();
    this.pollController?.abort();
    const socket = this.socket;
    this.socket = undefined;
    socket?.removeAllListeners();
    socket?.on('error', () => undefined);
    socket?.terminate();
    this.client.close();
    this.tracked.clear();
    this.ended.clear();
    this.setStatus({ state: 'closed' });
  }

  // ---- the socket ---------------------------------------------------------------------------

  private connect(): void {
    if (this.closed) return;
    const url = `${this.resolved.baseUrl.replace(/^http/, 'ws')}${NOTIFICATIONS_PATH}?filters=activity,playing`;
    const secure = url.startsWith('wss:');
    // Whether the TCP (TLS) connection came about: a handshake timeout before it is a host
    // that does not answer, after it a server that does not upgrade.
    let connected = false;
    const socket = new WebSocket(url, {
      createConnection: ((options: tls.ConnectionOptions & { host?: string }) => {
        // plex.direct names carry their address: no DNS (see plexdirect.ts).
        const lookup = plexDirectAddress(options.host ?? '') ? plexDirectLookup : undefined;
        const stream = secure
          ? tls.connect({
              ...options,
              path: undefined,
              servername: options.servername ?? (net.isIP(options.host ?? '') ? '' : options.host),
              ...(lookup ? { lookup: lookup as never } : {}),
            })
          : net.connect({
              ...options,
              path: undefined,
              ...(lookup ? { lookup: lookup as never } : {}),
            } as net.NetConnectOpts);
        stream.once(secure ? 'secureConnect' : 'connect', () => {
          connected = true;
        });
        return stream;
      }) as unknown as ClientRequestArgs['createConnection'],
      // The token travels in a header: URLs end up in proxy and server logs.
      headers: { ...this.resolved.headers },
      handshakeTimeout: this.resolved.timeoutMs,
      followRedirects: false,
      perMessageDeflate: false,
      maxPayload: this.resolved.maxResponseBytes,
      ...this.resolved.tlsOptions,
    });
    this.socket = socket;
    let refusedWith: number | undefined;
    let failure: unknown;
    socket.on('unexpected-response', (_req, res) => {
      refusedWith = res.statusCode ?? 0;
      res.resume();
      socket.terminate();
    });
    socket.on('error', (error) => {
      failure ??= error;
    });
    socket.on('open', () => this.opened(socket));
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) this.received(data.toString());
    });
    socket.on('pong', () => {
      socketAlive.set(socket, true);
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.stopPing();
      this.lost(refusedWith, failure, connected);
    });
  }

  private opened(socket: WebSocket): void {
    if (this.socket !== socket) return;
    this.clearTimer();
    this.failures = 0;
    this.setStatus({ state: 'connected' });
    socketAlive.set(socket, true);
    this.pingTimer = setInterval(() => {
      // No pong since the last ping: the connection is dead without having said so.
      if (socketAlive.get(socket) !== true) {
        socket.terminate();
        return;
      }
      socketAlive.set(socket, false);
      socket.ping();
    }, this.options.pingIntervalMs);
    // Events may have been missed while away (or before the first connect): one snapshot.
    void this.snapshot();
  }

  private lost(refusedWith: number | undefined, failure: unknown, connected: boolean): void {
    if (this.closed) return;
    if (refusedWith !== undefined && socketRefused(refusedWith)) {
      this.startPolling();
      return;
    }
    if (
      refusedWith !== undefined &&
      refusedAsToken(refusedWith) &&
      this.current.state !== 'polling'
    ) {
      void this.checkToken(refusedWith);
      return;
    }
    this.retry(refusedWith, failure, connected);
  }

  /**
   * The handshake was refused with 401 or 403: the token, or a proxy that refuses WebSockets
   * alone? One read of the API with the same token tells. It works: the socket alone is
   * refused, so poll (trying the socket now and then, as for a 404). It is refused too: the
   * token is, as the handshake said. Anything else tells nothing: as the handshake said.
   */
  private async checkToken(refusedWith: number): Promise<void> {
    const controller = new AbortController();
    this.pollController = controller;
    let socketOnly = false;
    try {
      await this.client.listActivities({ signal: controller.signal });
      socketOnly = true;
    } catch {
      // What the read failed with is not the question; the handshake's status is the answer.
    } finally {
      if (this.pollController === controller) this.pollController = undefined;
    }
    if (this.closed) return;
    if (controller.signal.aborted) {
      // retarget(): the address changed while asking; try the socket there.
      this.connect();
      return;
    }
    if (socketOnly) {
      this.startPolling();
      return;
    }
    this.retry(refusedWith, undefined, true);
  }

  /** Reconnects after a backoff, saying why; while polling, keeps polling instead. */
  private retry(refusedWith: number | undefined, failure: unknown, connected: boolean): void {
    const error =
      refusedWith !== undefined
        ? statusFailure(refusedWith, message('doing.openSocket'))
        : failure !== undefined
          ? transportFailure(failure, {
              baseUrl: this.resolved.baseUrl,
              channel: 'notification socket',
              connected,
              timeoutMs: this.resolved.timeoutMs,
            })
          : new ButlerError('connection-reset', message('errors.socketClosed'), {
              retryable: true,
            });
    if (this.current.state === 'polling') {
      // The socket retry failed while polling: keep polling, try the socket again later.
      this.timer = setTimeout(() => this.pollOrRetry(), this.options.pollIntervalMs);
      return;
    }
    const delay = this.backoff();
    this.setStatus({ state: 'reconnecting', error, retryInMs: delay });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect();
    }, delay);
  }

  private backoff(): number {
    const base = Math.min(
      this.options.reconnectMaxMs,
      this.options.reconnectInitialMs * 2 ** Math.min(this.failures, 20),
    );
    this.failures += 1;
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  private received(text: string): void {
    const now = Date.now();
    for (const { event, activity } of parseActivityNotification(text)) {
      if (event === 'ended') {
        this.tracked.delete(activity.uuid);
        this.rememberEnded(activity.uuid, now);
      } else {
        this.tracked.set(activity.uuid, { activity, seenAt: now });
      }
      this.emit('activity', toEvent(event, activity));
    }
    for (const playing of parsePlayingNotification(text)) this.emit('playing', playing);
  }

  // ---- snapshots and polling ------------------------------------------------------------------

  /**
   * Reads GET /activities and reports the difference from what is known: after a reconnect or
   * on each poll. The first snapshot only learns what runs already. Resolves to 'read', to
   * the failure, or to 'aborted' when closed or retargeted meanwhile.
   */
  private async snapshot(): Promise<'read' | 'aborted' | ButlerError> {
    const takenAt = Date.now();
    const controller = new AbortController();
    this.pollController = controller;
    let activities: Activity[];
    try {
      activities = await this.client.listActivities({ signal: controller.signal });
    } catch (error) {
      if (this.closed || controller.signal.aborted) return 'aborted';
      return transportFailure(error, {
        baseUrl: this.resolved.baseUrl,
        timeoutMs: this.resolved.timeoutMs,
      });
    } finally {
      if (this.pollController === controller) this.pollController = undefined;
    }
    if (this.closed) return 'aborted';
    const report = this.synced;
    this.synced = true;
    const present = new Set<string>();
    for (const activity of activities) {
      // It ended: this list was read before the end came (or is a stale copy of one).
      if (this.ended.has(activity.uuid)) continue;
      present.add(activity.uuid);
      const known = this.tracked.get(activity.uuid);
      // An event newer than this snapshot knows better.
      if (known && known.seenAt > takenAt) continue;
      this.tracked.set(activity.uuid, { activity, seenAt: takenAt });
      if (!report) continue;
      if (!known) this.emit('activity', toEvent('started', activity));
      else if (changed(known.activity, activity))
        this.emit('activity', toEvent('updated', activity));
    }
    const now = Date.now();
    for (const [uuid, known] of [...this.tracked]) {
      if (present.has(uuid) || known.seenAt > takenAt) continue;
      this.tracked.delete(uuid);
      this.rememberEnded(uuid, now);
      if (report) this.emit('activity', toEvent('ended', known.activity));
    }
    return 'read';
  }

  private rememberEnded(uuid: string, at: number): void {
    this.ended.delete(uuid);
    this.ended.set(uuid, at);
    // A list older than this has run out of time long since (timeoutMs is at most 10 min).
    const keepFrom = at - Math.max(ENDED_MEMORY_MS, this.resolved.timeoutMs);
    for (const [oldest, endedAt] of this.ended) {
      if (this.ended.size <= ENDED_MEMORY_SIZE && endedAt >= keepFrom) break;
      this.ended.delete(oldest);
    }
  }

  private startPolling(): void {
    this.clearTimer();
    this.lastPollAt = Date.now();
    void this.poll(true);
  }

  /**
   * One poll. Starting, "polling" is said only once the first list is read: a task started
   * after the word is then one the watcher reports, not one it takes for already running.
   */
  private async poll(starting = false): Promise<void> {
    const result = await this.snapshot();
    if (this.closed) return;
    if (starting && result === 'aborted') {
      // retarget(): read the first list at the new address.
      this.startPolling();
      return;
    }
    if (!starting && this.current.state !== 'polling') return;
    const failure = result instanceof ButlerError ? result : undefined;
    if (starting || failure || (result === 'read' && this.current.error)) {
      this.setStatus({
        state: 'polling',
        pollIntervalMs: this.options.pollIntervalMs,
        ...(failure ? { error: failure } : {}),
      });
    }
    this.timer = setTimeout(() => this.pollOrRetry(), this.options.pollIntervalMs);
  }

  /** Next poll, or now and then another try of the socket (a proxy may have been fixed). */
  private pollOrRetry(): void {
    this.timer = undefined;
    if (this.closed) return;
    if (Date.now() - this.lastPollAt >= this.options.webSocketRetryMs) {
      this.lastPollAt = Date.now();
      this.connect();
      return;
    }
    void this.poll();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private stopPing(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private setStatus(status: WatchStatus): void {
    this.current = status;
    this.emit('status', status);
  }
}

/** Whether a pong came since the last ping, per socket. */
const socketAlive = new WeakMap<WebSocket, boolean>();
