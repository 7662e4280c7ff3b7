import { setMaxListeners } from 'node:events';
import { ButlerError } from '../failures/errors';
import { outcomeUnknown, statusFailure, transportFailure } from '../failures/classify';
import { message, type MessageRef } from '../messages';
import {
  looksLikeHtmlPage,
  parseActivities,
  parseIdentity,
  parseSettings,
  parseTaskList,
} from './parse';
import { backoffDelay, parseRetryAfter, type RetryPolicy } from './retry';
import { resolveClientOptions, type ButlerClientOptions } from './client-options';
import {
  HttpTransport,
  LinkedList,
  RequestFailure,
  type Link,
  type TransportResponse,
} from './transport';
import {
  STATIC_TASK_NAMES,
  TASK_NAME_PATTERN,
  checkTaskNameSyntax,
  unknownTaskError,
} from './tasks';
import type {
  Activity,
  ButlerTask,
  CallOptions,
  PlexSetting,
  ServerIdentity,
  TaskAction,
  TaskResult,
  TaskStatus,
} from './types';
import {
  parseBackgroundSessions,
  parseLiveSessions,
  parseSessions,
  type Playback,
} from '../viewers/sessions';

export interface ConnectionReport {
  identity: ServerIdentity;
  tasks: ButlerTask[];
}

interface SharedCall<T> {
  controller: AbortController;
  promise: Promise<T>;
  waiters: number;
}

/** Waits, unless one of the signals aborts first; listeners are removed either way. */
function sleep(ms: number, signals: readonly AbortSignal[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = signals.find((signal) => signal.aborted);
    if (aborted) {
      reject(aborted.reason);
      return;
    }
    const cleanUp = (): void => {
      clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener('abort', onAbort);
    };
    function onAbort(this: AbortSignal): void {
      cleanUp();
      reject(this.reason);
    }
    const timer = setTimeout(() => {
      cleanUp();
      resolve();
    }, ms);
    for (const signal of signals) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A client for one Plex Media Server's Butler API. Knows nothing of Node-RED. Every error it
 * throws is a ButlerError, which never holds the token, request headers or a raw transport error.
 */
export class ButlerClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly retryPolicy: Readonly<RetryPolicy>;

  private readonly transport: HttpTransport;
  private readonly taskListTtlMs: number;
  /** Aborted by close(): retry waits and shared calls listen to it. */
  private readonly lifetime = new AbortController();
  private readonly inflight = new Map<string, SharedCall<unknown>>();
  private cachedTasks: ButlerTask[] | undefined;
  private cachedTaskNames: Set<string> | undefined;
  private cachedAt = 0;

  constructor(options: ButlerClientOptions) {
    // Every request waiting to retry listens for close(): many at once is normal, not a leak.
    setMaxListeners(0, this.lifetime.signal);
    const resolved = resolveClientOptions(options);
    this.baseUrl = resolved.baseUrl;
    this.timeoutMs = resolved.timeoutMs;
    this.taskListTtlMs = resolved.taskListTtlMs;
    this.retryPolicy = resolved.retryPolicy;
    this.transport = new HttpTransport(resolved);
  }

  get closed(): boolean {
    return this.lifetime.signal.aborted;
  }

  /** Aborts every request in flight and frees the sockets. The client cannot be used after. */
  close(): void {
    if (this.closed) return;
    this.lifetime.abort(new ButlerError('aborted', message('errors.clientClosed')));
    this.transport.destroyAll(this.lifetime.signal.reason as ButlerError);
  }

  /** GET /butler. Concurrent calls share one request. */
  listTasks(options: CallOptions = {}): Promise<ButlerTask[]> {
    return this.shared('GET /butler', options.signal, async (signal) => {
      const response = await this.request('GET', '/butler', signal, message('doing.listTasks'));
      const tasks = parseTaskList(response.body, response.contentType);
      this.rememberTasks(tasks);
      return tasks;
    });
  }

  /** GET /activities: work running on the server now. Concurrent calls share one request. */
  listActivities(options: CallOptions = {}): Promise<Activity[]> {
    return this.shared('GET /activities', options.signal, async (signal) => {
      const response = await this.request(
        'GET',
        '/activities',
        signal,
        message('doing.listActivities'),
      );
      return parseActivities(response.body, response.contentType);
    });
  }

  /** GET /status/sessions: the playbacks on the server now. Concurrent calls share one request. */
  listSessions(options: CallOptions = {}): Promise<Playback[]> {
    return this.shared('GET /status/sessions', options.signal, async (signal) => {
      const doing = message('doing.listSessions');
      const response = await this.request('GET', '/status/sessions', signal, doing);
      return parseSessions(response.body, response.contentType);
    });
  }

  /**
   * GET /livetv/sessions: live TV and DVR recordings in progress. A server without a DVR has no
   * such endpoint and answers 404: that is "none", not a failure, or every check on such a
   * server would fail. (A URL that reaches no Plex at all fails on /status/sessions instead.)
   */
  listLiveSessions(options: CallOptions = {}): Promise<Playback[]> {
    return this.shared('GET /livetv/sessions', options.signal, async (signal) => {
      const doing = message('doing.listLiveSessions');
      const response = await this.request('GET', '/livetv/sessions', signal, doing, [200, 404]);
      if (response.status === 404) return [];
      return parseLiveSessions(response.body, response.contentType);
    });
  }

  /** GET /status/sessions/background: optimised versions, downloads and sync being transcoded. */
  listBackgroundSessions(options: CallOptions = {}): Promise<Playback[]> {
    return this.shared('GET /status/sessions/background', options.signal, async (signal) => {
      const doing = message('doing.listBackgroundSessions');
      const response = await this.request('GET', '/status/sessions/background', signal, doing);
      return parseBackgroundSessions(response.body, response.contentType);
    });
  }

  /** GET /:/prefs: every setting of the server, its values read for their types. */
  listSettings(options: CallOptions & { fresh?: boolean } = {}): Promise<PlexSetting[]> {
    const read = async (signal: AbortSignal): Promise<PlexSetting[]> => {
      const response = await this.request('GET', '/:/prefs', signal, message('doing.readSettings'));
      return parseSettings(response.body, response.contentType);
    };
    // After a change: a read already under way may have begun before it, so one of its own.
    if (options.fresh) return read(this.signalFor(options.signal));
    return this.shared('GET /:/prefs', options.signal, read);
  }

  /**
   * PUT /:/prefs?Id=value…: sets these settings in one request. Sent again after a failure
   * like a read, since setting the same values twice is the same as once. Check the ids and
   * values first (lib/schedule/schedule.ts does for the Butler's): the server refuses an unknown id
   * with 400 and changes nothing.
   */
  async setSettings(
    values: Readonly<Record<string, string>>,
    options: CallOptions = {},
  ): Promise<void> {
    const query = new URLSearchParams(Object.entries(values)).toString();
    await this.request(
      'PUT',
      `/:/prefs?${query}`,
      this.signalFor(options.signal),
      message('doing.writeSettings'),
    );
  }

  /** GET /identity: answers without a valid token, so it tells "unreachable" from "token rejected". */
  getIdentity(options: CallOptions = {}): Promise<ServerIdentity> {
    return this.shared('GET /identity', options.signal, async (signal) => {
      const response = await this.request(
        'GET',
        '/identity',
        signal,
        message('doing.readIdentity'),
      );
      return parseIdentity(response.body, response.contentType);
    });
  }

  /** Identity first, then the task list: the first failure says what is wrong. */
  async testConnection(options: CallOptions = {}): Promise<ConnectionReport> {
    const identity = await this.getIdentity(options);
    const tasks = await this.listTasks(options);
    return { identity, tasks };
  }

  async startAllTasks(options: CallOptions = {}): Promise<TaskResult> {
    const doing = message('doing.startAll');
    const response = await this.request('POST', '/butler', this.signalFor(options.signal), doing);
    expectPlexAnswer(response, doing);
    return result('start', 'all', 'started', response.status);
  }

  async stopAllTasks(options: CallOptions = {}): Promise<TaskResult> {
    const doing = message('doing.stopAll');
    const response = await this.request('DELETE', '/butler', this.signalFor(options.signal), doing);
    expectPlexAnswer(response, doing);
    return result('stop', 'all', 'stopped', response.status);
  }

  /**
   * POST /butler/{task}: `started` (200) or `already-running` (202). The name is checked
   * against the server's live list first; when that list cannot be read, nothing is sent.
   */
  async startTask(name: unknown, options: CallOptions = {}): Promise<TaskResult> {
    const task = this.checkedName(name) ?? (await this.validateTaskName(name, options));
    const doing = message('doing.startTask', { task });
    const response = await this.request(
      'POST',
      `/butler/${task}`,
      this.signalFor(options.signal),
      doing,
      START_ANSWERS,
    );
    if (response.status === 404) throw await this.taskVanished(task, doing, options);
    expectPlexAnswer(response, doing);
    return result(
      'start',
      task,
      response.status === 202 ? 'already-running' : 'started',
      response.status,
    );
  }

  /** DELETE /butler/{task}: `stopped` (200) or `not-running` (404 for a task the server lists). */
  async stopTask(name: unknown, options: CallOptions = {}): Promise<TaskResult> {
    const task = this.checkedName(name) ?? (await this.validateTaskName(name, options));
    const doing = message('doing.stopTask', { task });
    const response = await this.request(
      'DELETE',
      `/butler/${task}`,
      this.signalFor(options.signal),
      doing,
      STOP_ANSWERS,
    );
    // The name was just checked against the live list, so 404 here means "not running".
    if (response.status === 404) return result('stop', task, 'not-running', 404);
    expectPlexAnswer(response, doing);
    return result('stop', task, 'stopped', 200);
  }

  /** The task names to offer: the live list when one was fetched, else the spec's. */
  knownTaskNames(): readonly string[] {
    return this.cachedTasks ? this.cachedTasks.map((task) => task.name) : STATIC_TASK_NAMES;
  }

  /**
   * Resolves to the name when the server lists it; refuses malformed names before any
   * request, and unknown ones with the valid names and a "did you mean". A list that cannot
   * be read fails the check with the list's own error: an unchecked name is never sent.
   */
  async validateTaskName(name: unknown, options: CallOptions = {}): Promise<string> {
    const task = checkTaskNameSyntax(name, this.knownTaskNames());
    if (this.cachedTaskNames?.has(task) && Date.now() - this.cachedAt < this.taskListTtlMs) {
      return task;
    }
    const tasks = await this.listTasks(options);
    if (tasks.some((listed) => listed.name === task)) return task;
    throw unknownTaskError(
      task,
      tasks.map((listed) => listed.name),
    );
  }

  /**
   * The name, when the cached live list has it and is fresh: what validateTaskName() would
   * resolve to, without its await (a start or stop message's usual case). Else undefined.
   */
  private checkedName(name: unknown): string | undefined {
    if (
      typeof name === 'string' &&
      this.cachedTaskNames?.has(name) &&
      Date.now() - this.cachedAt < this.taskListTtlMs
    ) {
      return name;
    }
    return undefined;
  }

  private rememberTasks(tasks: ButlerTask[]): void {
    this.cachedTasks = tasks;
    // Only names fit for a URL path: one found here needs no syntax check of its own.
    this.cachedTaskNames = new Set(
      tasks.map((task) => task.name).filter((name) => TASK_NAME_PATTERN.test(name)),
    );
    this.cachedAt = Date.now();
  }

  /**
   * A 404 on start for a task we had listed: the server's list changed under us, or (when it
   * still lists the task) something in between answers 404 to the start alone.
   */
  private async taskVanished(
    task: string,
    doing: MessageRef,
    options: CallOptions,
  ): Promise<ButlerError> {
    this.cachedAt = 0;
    try {
      const names = (await this.listTasks(options)).map((listed) => listed.name);
      return names.includes(task) ? statusFailure(404, doing) : unknownTaskError(task, names);
    } catch (error) {
      return error instanceof ButlerError ? error : unknownTaskError(task, this.knownTaskNames());
    }
  }

  private signalFor(signal: AbortSignal | undefined): AbortSignal {
    return signal ?? this.lifetime.signal;
  }

  /** One request in flight per key; it is aborted only when every caller waiting on it gave up. */
  private shared<T>(
    key: string,
    callerSignal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (callerSignal?.aborted) return Promise.reject(abortedError(callerSignal));
    let entry = this.inflight.get(key) as SharedCall<T> | undefined;
    if (!entry) {
      const controller = new AbortController();
      const created: SharedCall<T> = {
        controller,
        waiters: 0,
        promise: run(controller.signal).finally(() => {
          if (this.inflight.get(key) === created) this.inflight.delete(key);
        }),
      };
      // Settled even when every waiter has left, so a late rejection is never unhandled.
      created.promise.catch(() => undefined);
      this.inflight.set(key, created);
      entry = created;
    }
    const call = entry;
    call.waiters++;
    if (!callerSignal) {
      return call.promise.finally(() => {
        call.waiters--;
      });
    }
    const signal = callerSignal;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        call.waiters--;
        if (call.waiters === 0) {
          call.controller.abort(abortedError(signal));
          // Gone at once: a caller that comes next starts afresh instead of joining the abort.
          if (this.inflight.get(key) === call) this.inflight.delete(key);
        }
        reject(abortedError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          call.waiters--;
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          call.waiters--;
          reject(error);
        },
      );
    });
  }

  /**
   * Sends one request with retries and resolves with an answer whose status is in `expected`;
   * any other status becomes its ButlerError. A POST or DELETE is sent again only when it
   * cannot have reached the server (no connection came about) or the server said 429 or 503:
   * otherwise a retry's 202 or 404 would be reported for this request's own work.
   */
  private async request(
    method: string,
    path: string,
    signal: AbortSignal,
    doing: MessageRef,
    expected: readonly number[] = OK_ONLY,
  ): Promise<TransportResponse> {
    const policy = this.retryPolicy;
    const repeatable = method !== 'POST' && method !== 'DELETE';
    const startedAt = Date.now();
    // close() ends a request through the transport; the caller's own signal, through this.
    const cancellers = signal === this.lifetime.signal ? undefined : cancellersOf(signal);
    for (let attempt = 0; ; attempt++) {
      let failure: ButlerError;
      let waitMs: number | undefined;
      let canceller: Link<Canceller> | undefined;
      try {
        if (signal.aborted) throw signal.reason;
        if (this.closed) throw this.lifetime.signal.reason;
        let answer: Promise<TransportResponse>;
        if (cancellers) {
          let cancel: Canceller | undefined;
          answer = this.transport.send(method, path, this.timeoutMs, (cancelRequest) => {
            cancel = cancelRequest;
          });
          canceller = cancellers.add((reason) => cancel?.(reason));
        } else {
          answer = this.transport.send(method, path, this.timeoutMs);
        }
        const response = await answer;
        if (expected.includes(response.status)) return response;
        failure = statusFailure(response.status, doing, response.retryAfter);
        // A 502 or 504 comes from a proxy, which may have passed the request on.
        if (
          !repeatable &&
          failure.retryable &&
          response.status !== 429 &&
          response.status !== 503
        ) {
          throw outcomeUnknown(doing, failure);
        }
        waitMs = parseRetryAfter(response.retryAfter);
      } catch (error) {
        if (error instanceof ButlerError && error.code === 'outcome-unknown') throw error;
        const connected = error instanceof RequestFailure && error.connected;
        failure = this.failureOf(error, signal);
        if (!repeatable && connected && failure.code !== 'aborted') {
          throw outcomeUnknown(doing, failure);
        }
      } finally {
        canceller?.remove();
      }
      if (!failure.retryable || attempt >= policy.retries) throw failure;
      const delay = waitMs ?? backoffDelay(policy, attempt);
      if (Date.now() - startedAt + delay > policy.maxElapsedMs) throw failure;
      try {
        await sleep(delay, [signal, this.lifetime.signal]);
      } catch (error) {
        throw this.failureOf(error, signal);
      }
    }
  }

  /** Anything a request failed with, as a ButlerError without secrets. */
  private failureOf(error: unknown, signal: AbortSignal): ButlerError {
    if (signal.aborted || this.closed) {
      return abortedError(signal.aborted ? signal : this.lifetime.signal);
    }
    const connected = error instanceof RequestFailure ? error.connected : undefined;
    const reason = error instanceof RequestFailure ? error.reason : error;
    return transportFailure(reason, {
      baseUrl: this.baseUrl,
      connected,
      timeoutMs: this.timeoutMs,
    });
  }
}

type Canceller = (reason: unknown) => void;

/** What each request may answer with; anything else becomes its ButlerError. */
const OK_ONLY: readonly number[] = [200];
const START_ANSWERS: readonly number[] = [200, 202, 404];
const STOP_ANSWERS: readonly number[] = [200, 404];

const cancellersBySignal = new WeakMap<AbortSignal, LinkedList<Canceller>>();

/**
 * What to cancel when a caller's signal aborts. One 'abort' listener per signal, however many
 * requests use it: a node passes one signal for all its messages, and an EventTarget listener
 * added and removed per request cost more than the rest of the request's own work (profile).
 * A LinkedList, not a Set: see transport.ts.
 */
function cancellersOf(signal: AbortSignal): LinkedList<Canceller> {
  let cancellers = cancellersBySignal.get(signal);
  if (!cancellers) {
    const created = new LinkedList<Canceller>();
    cancellersBySignal.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        created.drain((cancel) => cancel(signal.reason));
      },
      { once: true },
    );
    cancellers = created;
  }
  return cancellers;
}

function result(
  action: TaskAction,
  task: string,
  status: TaskStatus,
  httpStatus: number,
): TaskResult {
  return { action, task, status, httpStatus };
}

/** A 200 that is an HTML page came from a proxy or a web page, not from Plex. */
function expectPlexAnswer(response: TransportResponse, doing: MessageRef): void {
  if (looksLikeHtmlPage(response.body)) {
    throw new ButlerError(
      'bad-response',
      message('errors.couldNot', { doing, reason: message('errors.htmlAnswer') }),
    );
  }
}

function abortedError(signal: AbortSignal): ButlerError {
  const reason: unknown = signal.reason;
  if (reason instanceof ButlerError) return reason;
  return new ButlerError('aborted', message('errors.cancelled'));
}
