/**
 * The simulator itself: one HTTP(S) server on loopback that ties the parts together. Requests
 * are counted, may meet an injected fault (faults.ts), are routed (router.ts, routes.ts) and
 * recorded (exchange.ts); the Butler (butler.ts) runs tasks, whose activity events go to the
 * 'activity' event and the notification WebSocket (notifications.ts). Playbacks, recordings
 * and background transcodes (sessions.ts) are started and stopped by the control API below, or
 * over HTTP on the simulator's own path (control.ts); playbacks send `playing` notifications.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Butler, type SimActivity, type SimActivityEvent } from './butler';
import { htmlAnswer, wantsJson, type PlannedAnswer } from './answers';
import {
  appendBounded,
  ExchangeContext,
  exchangeLimit,
  handshakeExchange,
  type RecordedExchange,
} from './exchange';
import { answerControl, isControlPath } from './control';
import { answerWithFault, faultDelayMs, FaultList, type Fault } from './faults';
import { NOTIFICATIONS_ROUTE, NotificationHub, type NotificationMode } from './notifications';
import { PROXY_NOT_FOUND_HTML } from './pages';
import { answerRoute, requestToken, routeTemplate, splitRequestUrl, type Route } from './router';
import { Preferences, preferenceRoutes, type SimSetting } from './preferences';
import { butlerRoutes, identityRoute } from './routes';
import { sessionRoutes } from './session-routes';
import {
  Sessions,
  type SimBackgroundJob,
  type SimBackgroundOptions,
  type SimPlayback,
  type SimPlaybackOptions,
  type SimPlayingNotification,
  type SimRecording,
  type SimRecordingOptions,
} from './sessions';
import { DEFAULT_TASKS, type SimTask } from './tasks';
import { Timers } from './timers';

export interface SimulatorOptions {
  /** Default 'simulator-token'. */
  token?: string;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** The server's machine identifier (40 hex digits on real servers); default random. */
  machineIdentifier?: string;
  /** The server's settings (`/:/prefs`); default: the Butler's and a few others. */
  settings?: SimSetting[];
  /** The server's clock, for the maintenance window; default the real one. */
  now?: () => Date;
  /** How long a started task runs; default 3000. */
  taskDurationMs?: number;
  /** Base latency for every answer; default 0. */
  latencyMs?: number;
  /** Default: the 22 tasks of the spec (DEFAULT_TASKS). */
  tasks?: SimTask[];
  /** Act like a reverse proxy serving the server under this path, e.g. '/plex'. */
  pathPrefix?: string;
  /** How often a running task reports its progress ('updated' events); default 1000. */
  progressIntervalMs?: number;
  /**
   * How often a playing session repeats its `playing` notification, as players report their
   * position (the interval is not documented; players report about every 10 s); default 10000.
   */
  timelineIntervalMs?: number;
  /**
   * 'websocket' (default): the notification socket works. 'refused': its handshake is answered
   * 404, as by a reverse proxy that does not pass WebSockets on.
   */
  notifications?: NotificationMode;
  /**
   * How many exchanges `exchanges` keeps, the oldest dropped first; default 10 000, Infinity
   * for all. The 'exchange' event reports every one either way.
   */
  maxExchanges?: number;
}

export interface PlexSimulatorEvents {
  exchange: [RecordedExchange];
  request: [http.IncomingMessage];
  activity: [SimActivityEvent];
  /** Every `playing` notification entry, when it is sent (whether or not a socket takes it). */
  playing: [SimPlayingNotification];
}

export interface SimulatorStats {
  requests: number;
  connections: number;
  readonly openConnections: number;
  /** Keyed like 'POST /butler/{task}'; paths that are no route count as 'GET *'. */
  requestsByRoute: Record<string, number>;
  /** Notification WebSockets accepted since the last resetStats(). */
  notificationSockets: number;
  readonly openNotificationSockets: number;
}

const DEFAULT_TOKEN = 'simulator-token';
const DEFAULT_TASK_DURATION_MS = 3000;
const DEFAULT_PROGRESS_INTERVAL_MS = 1000;
const DEFAULT_TIMELINE_INTERVAL_MS = 10_000;
/** Longer than the keep-alive timeouts of common clients, as on real servers behind proxies. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

function normalizePrefix(prefix: string | undefined): string {
  if (!prefix) return '';
  const trimmed = prefix.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

export class PlexSimulator extends EventEmitter<PlexSimulatorEvents> {
  readonly token: string;
  /** The latest exchanges, oldest first: at most maxExchanges. */
  exchanges: RecordedExchange[] = [];
  readonly maxExchanges: number;
  readonly stats: SimulatorStats;

  private readonly options: SimulatorOptions;
  private readonly pathPrefix: string;
  /** What /identity names; random unless given (a plex.tv stand-in lists it). */
  readonly machineIdentifier: string;
  private readonly notifications: NotificationHub;
  private latencyMs: number;
  private readonly faults = new FaultList();
  private readonly timers = new Timers();
  private readonly butler: Butler;
  private readonly sessions: Sessions;
  private readonly routes: Route[];
  /** The server's settings: the Butler's window and switches among them. */
  readonly preferences: Preferences;
  private readonly sockets = new Set<Socket>();
  /** Sockets that count as connections: TCP for HTTP, TLS after the handshake for HTTPS. */
  private readonly clientSockets = new Set<Socket>();
  private server: http.Server | undefined;
  private baseUrl = '';
  /** Kept across stop() so that a restarted simulator is found at the same URL. */
  private boundPort: number | undefined;

  constructor(options: SimulatorOptions = {}) {
    super();
    this.options = options;
    this.token = options.token ?? DEFAULT_TOKEN;
    this.machineIdentifier = options.machineIdentifier ?? randomBytes(20).toString('hex');
    this.maxExchanges = exchangeLimit(options.maxExchanges);
    this.pathPrefix = normalizePrefix(options.pathPrefix);
    this.notifications = new NotificationHub(options.notifications ?? 'websocket');
    this.latencyMs = options.latencyMs ?? 0;
    this.preferences = new Preferences(options.settings);
    const now = options.now ?? ((): Date => new Date());
    this.butler = new Butler({
      switchOf: (task) => this.preferences.taskSwitch(task),
      tasks: options.tasks ?? DEFAULT_TASKS,
      taskDurationMs: options.taskDurationMs ?? DEFAULT_TASK_DURATION_MS,
      progressIntervalMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
      timers: this.timers,
      onActivity: (event) => this.activityEvent(event),
    });
    this.sessions = new Sessions({
      timers: this.timers,
      timelineIntervalMs: options.timelineIntervalMs ?? DEFAULT_TIMELINE_INTERVAL_MS,
      notify: (entry) => this.playingEvent(entry),
    });
    this.routes = [
      identityRoute(this.machineIdentifier),
      ...butlerRoutes(this.butler, (task) => {
        // Inside the maintenance window a randomised task starts at a random time in it.
        const at = now();
        if (!task.scheduleRandomized || !this.preferences.insideWindow(at.getHours())) {
          return undefined;
        }
        return Math.floor(Math.random() * (this.preferences.msLeft(at) - 1)) + 1;
      }),
      ...preferenceRoutes(this.preferences),
      ...sessionRoutes(this.sessions),
      NOTIFICATIONS_ROUTE,
    ];
    const clientSockets = this.clientSockets;
    const notifications = this.notifications;
    this.stats = {
      requests: 0,
      connections: 0,
      get openConnections() {
        return clientSockets.size;
      },
      requestsByRoute: {},
      notificationSockets: 0,
      get openNotificationSockets() {
        return notifications.openSockets;
      },
    };
  }

  /** The base URL including pathPrefix; '' before the first start(), kept after stop(). */
  get url(): string {
    return this.baseUrl;
  }

  async start(): Promise<string> {
    if (this.server) return this.baseUrl;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void =>
      this.handle(req, res);
    const server = this.options.tls
      ? https.createServer({ key: this.options.tls.key, cert: this.options.tls.cert }, handler)
      : http.createServer(handler);
    server.on('upgrade', (req: http.IncomingMessage, socket: Socket, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
    // Must exceed keepAliveTimeout, or an idle kept-alive socket can be cut by the headers timer.
    server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
    server.on('connection', (socket: Socket) => {
      this.track(socket, this.sockets);
      if (!this.options.tls) {
        this.stats.connections += 1;
        this.track(socket, this.clientSockets);
      }
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      this.stats.connections += 1;
      this.track(socket, this.sockets);
      this.track(socket, this.clientSockets);
    });
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      server.once('error', onError);
      server.listen(this.boundPort ?? this.options.port ?? 0, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') {
      server.close();
      throw new Error('the simulator is not listening on a TCP port');
    }
    this.server = server;
    this.boundPort = address.port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const hostPart = shownHost.includes(':') ? `[${shownHost}]` : shownHost;
    this.baseUrl = `${this.options.tls ? 'https' : 'http'}://${hostPart}:${address.port}${this.pathPrefix}`;
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    this.timers.cancelAll();
    this.butler.forgetRunning();
    this.sessions.forgetAll();
    this.notifications.closeAll();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    // The server counts a socket gone when it is destroyed, before its handle has closed: wait
    // for each 'close' too, so that nothing is left when stop() resolves.
    const socketsClosed = [...this.sockets].map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([serverClosed, ...socketsClosed]);
  }

  resetStats(): void {
    this.stats.requests = 0;
    this.stats.connections = 0;
    this.stats.requestsByRoute = {};
    this.stats.notificationSockets = 0;
    this.exchanges = [];
  }

  injectFault(fault: Fault): void {
    this.faults.inject(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /**
   * Replaces the task list (another server version); running tasks no longer listed end. A
   * task's `enabled` goes to its switch where the server has one: on a real server the switch
   * is what GET /butler reports.
   */
  setTasks(tasks: SimTask[]): void {
    for (const task of tasks) {
      if (typeof task.enabled === 'boolean')
        this.preferences.setTaskSwitch(task.name, task.enabled);
    }
    this.butler.setTasks(tasks);
  }

  /** 'refused' answers new notification handshakes 404; open sockets stay open. */
  setNotifications(mode: NotificationMode): void {
    this.notifications.mode = mode;
  }

  /** Cuts every notification socket without a close frame, as a network drop does. */
  dropNotificationSockets(): void {
    this.notifications.cutAll();
  }

  /** Sends a raw notification (any type) to every open notification socket. */
  broadcastNotification(container: Record<string, unknown>): void {
    this.notifications.broadcast(container);
  }

  runningTasks(): string[] {
    return this.butler.runningTasks();
  }

  /** The tasks as GET /butler lists them now (switches applied). */
  butlerTasks(): readonly SimTask[] {
    return this.butler.tasks;
  }

  /** Tasks that start-all scheduled for later in the maintenance window. */
  scheduledTasks(): Array<{ name: string; at: number }> {
    return this.butler.scheduledTasks();
  }

  activities(): SimActivity[] {
    return this.butler.activities();
  }

  // ---- who is watching: the control API (also over HTTP, see control.ts) -----------------------

  /** Someone starts playing: listed by GET /status/sessions, announced by a `playing` notification. */
  startPlayback(options: SimPlaybackOptions = {}): SimPlayback {
    return this.sessions.startPlayback(options);
  }

  /** The next calls throw for a sessionKey the simulator does not have. */
  pausePlayback(sessionKey: string): SimPlayback {
    return this.sessions.setPlaybackState(sessionKey, 'paused');
  }

  resumePlayback(sessionKey: string): SimPlayback {
    return this.sessions.setPlaybackState(sessionKey, 'playing');
  }

  bufferPlayback(sessionKey: string): SimPlayback {
    return this.sessions.setPlaybackState(sessionKey, 'buffering');
  }

  /** Ends a playback: gone from the list, a `stopped` notification sent. */
  stopPlayback(sessionKey: string): void {
    this.sessions.stopPlayback(sessionKey);
  }

  playbacks(): SimPlayback[] {
    return this.sessions.playbacks();
  }

  /** A live TV/DVR recording starts: listed by GET /livetv/sessions. */
  startRecording(options: SimRecordingOptions = {}): SimRecording {
    return this.sessions.startRecording(options);
  }

  stopRecording(key: string): void {
    this.sessions.stopRecording(key);
  }

  recordings(): SimRecording[] {
    return this.sessions.recordings();
  }

  /** An optimised version, download or sync starts: listed by /status/sessions/background. */
  startBackgroundTranscode(options: SimBackgroundOptions = {}): SimBackgroundJob {
    return this.sessions.startBackgroundTranscode(options);
  }

  stopBackgroundTranscode(id: string): void {
    this.sessions.stopBackgroundTranscode(id);
  }

  backgroundTranscodes(): SimBackgroundJob[] {
    return this.sessions.backgroundTranscodes();
  }

  // ---- activity events and the notification WebSocket ------------------------------------

  private activityEvent(event: SimActivityEvent): void {
    this.emit('activity', event);
    this.notifications.sendActivity(event);
  }

  private playingEvent(entry: SimPlayingNotification): void {
    this.emit('playing', entry);
    this.notifications.sendPlaying(entry);
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const { rawPath, query } = splitRequestUrl(req.url ?? '/');
    const innerPath = this.stripPrefix(rawPath);
    this.count('GET', innerPath);
    const path = innerPath ?? rawPath;
    this.notifications.upgrade(req, socket, head, {
      innerPath,
      query,
      authorized: this.authorized(req, query),
      record: (status, contentType, body, fault) =>
        this.log(handshakeExchange(req, path, status, contentType, body, fault)),
      accepted: () => {
        this.stats.notificationSockets += 1;
      },
    });
  }

  // ---- sockets ------------------------------------------------------------------------------

  private track(socket: Socket, set: Set<Socket>): void {
    set.add(socket);
    socket.once('close', () => set.delete(socket));
  }

  // ---- requests -----------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Errors of an aborted request are expected here; the recorder notes them via 'close'.
    req.on('error', () => undefined);
    req.resume();
    const method = req.method ?? 'GET';
    const { rawPath, query } = splitRequestUrl(req.url ?? '/');
    let path: string;
    try {
      path = decodeURIComponent(rawPath);
    } catch {
      path = rawPath;
    }
    const innerPath = this.stripPrefix(path);
    if (isControlPath(innerPath)) {
      this.control(req, res, method, innerPath, query);
      return;
    }
    const context = new ExchangeContext(req, res, innerPath ?? path, this.timers, (exchange) =>
      this.log(exchange),
    );
    this.count(method, innerPath);
    this.emit('request', req);

    res.on('close', () => {
      context.cancelTimers();
      // Still unrecorded: the client went away or the socket was cut before the answer was whole.
      if (!context.isRecorded) context.record(0, context.sentBody);
    });

    const fault = this.faults.take(method, innerPath ?? path);
    if (fault) context.faultInjected = true;
    const delay = this.latencyMs + faultDelayMs(fault);
    const answer = (): void =>
      answerWithFault(context, fault, (forceXml) =>
        this.route(req, method, query, innerPath, forceXml),
      );
    if (delay > 0) context.later(delay, answer);
    else answer();
  }

  /** The simulator's own path: no Plex request, so neither counted nor recorded. */
  private control(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    method: string,
    path: string,
    query: URLSearchParams,
  ): void {
    const { status, body } = answerControl(this, method, path, query, this.authorized(req, query));
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  private count(method: string, innerPath: string | undefined): void {
    this.stats.requests += 1;
    const routeKey = `${method} ${routeTemplate(this.routes, innerPath)}`;
    this.stats.requestsByRoute[routeKey] = (this.stats.requestsByRoute[routeKey] ?? 0) + 1;
  }

  /** The path inside the server, or undefined when a pathPrefix is set and missing. */
  private stripPrefix(path: string): string | undefined {
    if (!this.pathPrefix) return path;
    if (path === this.pathPrefix) return '/';
    if (path.startsWith(`${this.pathPrefix}/`)) return path.slice(this.pathPrefix.length);
    return undefined;
  }

  private route(
    req: http.IncomingMessage,
    method: string,
    query: URLSearchParams,
    innerPath: string | undefined,
    forceXml: boolean,
  ): PlannedAnswer {
    if (innerPath === undefined) return htmlAnswer(404, PROXY_NOT_FOUND_HTML);
    const json = wantsJson(req.headers) && !forceXml;
    const request = { method, path: innerPath, query, headers: req.headers, json };
    return answerRoute(this.routes, request, this.authorized(req, query));
  }

  private authorized(req: http.IncomingMessage, query: URLSearchParams): boolean {
    return requestToken(req.headers, query) === this.token;
  }

  private log(exchange: RecordedExchange): void {
    appendBounded(this.exchanges, exchange, this.maxExchanges);
    this.emit('exchange', exchange);
  }
}
