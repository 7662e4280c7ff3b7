import { setMaxListeners } from 'node:events';
import { ButlerError, type ButlerErrorCode } from './errors';
import { parseActivities, parseIdentity, parseTaskList } from './parse';
import { RETRYABLE_STATUSES, backoffDelay, parseRetryAfter, type RetryPolicy } from './retry';
import { resolveSettings, type ButlerClientOptions } from './settings';
import { HttpTransport, type TransportResponse } from './transport';
import { STATIC_TASK_NAMES, checkTaskNameSyntax, unknownTaskError } from './tasks';
import type {
  Activity,
  ButlerTask,
  CallOptions,
  ServerIdentity,
  TaskAction,
  TaskResult,
  TaskStatus,
} from './types';

export interface ConnectionReport {
  identity: ServerIdentity;
  tasks: ButlerTask[];
}

interface SharedCall<T> {
  controller: AbortController;
  promise: Promise<T>;
  waiters: number;
}

const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

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
    const settings = resolveSettings(options);
    this.baseUrl = settings.baseUrl;
    this.timeoutMs = settings.timeoutMs;
    this.taskListTtlMs = settings.taskListTtlMs;
    this.retryPolicy = settings.retryPolicy;
    this.transport = new HttpTransport(settings);
  }

  get closed(): boolean {
    return this.lifetime.signal.aborted;
  }

  /** Aborts every request in flight and frees the sockets. The client cannot be used after. */
  close(): void {
    if (this.closed) return;
    this.lifetime.abort(new ButlerError('aborted', 'the Plex client was closed'));
    this.transport.destroyAll(this.lifetime.signal.reason as ButlerError);
  }

  /** GET /butler. Concurrent calls share one request. */
  listTasks(options: CallOptions = {}): Promise<ButlerTask[]> {
    return this.shared('GET /butler', options.signal, async (signal) => {
      const response = await this.request('GET', '/butler', signal);
      this.expectStatus(response, [200], 'list the Butler tasks');
      const tasks = parseTaskList(response.body, response.contentType);
      this.rememberTasks(tasks);
      return tasks;
    });
  }

  /** GET /activities: work running on the server now. Concurrent calls share one request. */
  listActivities(options: CallOptions = {}): Promise<Activity[]> {
    return this.shared('GET /activities', options.signal, async (signal) => {
      const response = await this.request('GET', '/activities', signal);
      this.expectStatus(response, [200], 'list the server activities');
      return parseActivities(response.body, response.contentType);
    });
  }

  /** GET /identity: answers without a valid token, so it tells "unreachable" from "token rejected". */
  getIdentity(options: CallOptions = {}): Promise<ServerIdentity> {
    return this.shared('GET /identity', options.signal, async (signal) => {
      const response = await this.request('GET', '/identity', signal);
      this.expectStatus(response, [200], 'read the server identity');
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
    const response = await this.request('POST', '/butler', this.signalFor(options.signal));
    this.expectStatus(response, [200], 'start all Butler tasks');
    return result('start', 'all', 'started', response.status);
  }

  async stopAllTasks(options: CallOptions = {}): Promise<TaskResult> {
    const response = await this.request('DELETE', '/butler', this.signalFor(options.signal));
    this.expectStatus(response, [200], 'stop all Butler tasks');
    return result('stop', 'all', 'stopped', response.status);
  }

  /** POST /butler/{task}: `started` (200) or `already-running` (202). */
  async startTask(name: unknown, options: CallOptions = {}): Promise<TaskResult> {
    const task = await this.validateTaskName(name, options);
    const response = await this.request('POST', `/butler/${task}`, this.signalFor(options.signal));
    if (response.status === 200) return result('start', task, 'started', 200);
    if (response.status === 202) return result('start', task, 'already-running', 202);
    if (response.status === 404) throw await this.taskVanished(task, options);
    throw this.statusError(response, `start ${task}`);
  }

  /** DELETE /butler/{task}: `stopped` (200) or `not-running` (404 for a task the server lists). */
  async stopTask(name: unknown, options: CallOptions = {}): Promise<TaskResult> {
    const task = await this.validateTaskName(name, options);
    const response = await this.request(
      'DELETE',
      `/butler/${task}`,
      this.signalFor(options.signal),
    );
    if (response.status === 200) return result('stop', task, 'stopped', 200);
    // The name was just checked against the live list, so 404 here means "not running".
    if (response.status === 404) return result('stop', task, 'not-running', 404);
    throw this.statusError(response, `stop ${task}`);
  }

  /** The task names to offer: the live list when one was fetched, else the spec's. */
  knownTaskNames(): readonly string[] {
    return this.cachedTasks ? this.cachedTasks.map((task) => task.name) : STATIC_TASK_NAMES;
  }

  /**
   * Resolves to the name when the server lists it; refuses malformed names before any
   * request, and unknown ones with the valid names and a "did you mean".
   */
  async validateTaskName(name: unknown, options: CallOptions = {}): Promise<string> {
    const task = checkTaskNameSyntax(name, this.knownTaskNames());
    if (this.cachedTaskNames?.has(task) && Date.now() - this.cachedAt < this.taskListTtlMs) {
      return task;
    }
    let tasks: ButlerTask[];
    try {
      tasks = await this.listTasks(options);
    } catch (error) {
      // Offline fallback: a name from the spec goes ahead, and its own request reports the failure.
      if (
        error instanceof ButlerError &&
        error.code !== 'aborted' &&
        STATIC_TASK_NAMES.includes(task)
      ) {
        return task;
      }
      throw error;
    }
    if (tasks.some((listed) => listed.name === task)) return task;
    throw unknownTaskError(
      task,
      tasks.map((listed) => listed.name),
    );
  }

  private rememberTasks(tasks: ButlerTask[]): void {
    this.cachedTasks = tasks;
    this.cachedTaskNames = new Set(tasks.map((task) => task.name));
    this.cachedAt = Date.now();
  }

  /** A 404 on start for a task we had listed: the server's list changed under us. */
  private async taskVanished(task: string, options: CallOptions): Promise<ButlerError> {
    this.cachedAt = 0;
    try {
      const tasks = await this.listTasks(options);
      return unknownTaskError(
        task,
        tasks.map((listed) => listed.name),
      );
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
        if (call.waiters === 0) call.controller.abort(abortedError(signal));
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

  /** Sends one request with retries; resolves with any HTTP answer that is not retried. */
  private async request(
    method: string,
    path: string,
    signal: AbortSignal,
  ): Promise<TransportResponse> {
    const policy = this.retryPolicy;
    const startedAt = Date.now();
    for (let attempt = 0; ; attempt++) {
      let failure: ButlerError;
      let waitMs: number | undefined;
      try {
        const response = await this.attempt(method, path, signal);
        if (!RETRYABLE_STATUSES.has(response.status)) return response;
        failure = this.statusError(response, `${method} ${path}`);
        waitMs = parseRetryAfter(response.retryAfter);
      } catch (error) {
        failure = this.toButlerError(error, signal);
      }
      if (!failure.retryable || attempt >= policy.retries) throw failure;
      const delay = waitMs ?? backoffDelay(policy, attempt);
      if (Date.now() - startedAt + delay > policy.maxElapsedMs) throw failure;
      try {
        await sleep(delay, [signal, this.lifetime.signal]);
      } catch (error) {
        throw this.toButlerError(error, signal);
      }
    }
  }

  private async attempt(
    method: string,
    path: string,
    signal: AbortSignal,
  ): Promise<TransportResponse> {
    if (signal.aborted) throw signal.reason;
    if (this.closed) throw this.lifetime.signal.reason;
    let cancel: ((failure: unknown) => void) | undefined;
    const answer = this.transport.send(method, path, (cancelRequest) => {
      cancel = cancelRequest;
    });
    const timer = setTimeout(() => cancel?.(this.timeoutError()), this.timeoutMs);
    // close() ends the request through the transport; the caller's own signal, here.
    const cancellers = signal === this.lifetime.signal ? undefined : cancellersOf(signal);
    const onCallerAbort = (reason: unknown): void => cancel?.(reason);
    cancellers?.add(onCallerAbort);
    try {
      return await answer;
    } finally {
      clearTimeout(timer);
      cancellers?.delete(onCallerAbort);
    }
  }

  private timeoutError(): ButlerError {
    return new ButlerError(
      'timeout',
      `Plex did not answer within ${this.timeoutMs} ms: check that the server is running, or raise the timeout in the server config`,
      { retryable: true },
    );
  }

  private expectStatus(response: TransportResponse, expected: number[], doing: string): void {
    if (!expected.includes(response.status)) throw this.statusError(response, doing);
  }

  private statusError(response: TransportResponse, doing: string): ButlerError {
    const status = response.status;
    const retryAfterMs = parseRetryAfter(response.retryAfter);
    const details = {
      status,
      retryable: RETRYABLE_STATUSES.has(status),
      ...(retryAfterMs !== undefined ? { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) } : {}),
    };
    const failed = `could not ${doing}:`;
    let code: ButlerErrorCode;
    let advice: string;
    if (status === 401) {
      code = 'unauthorized';
      advice = 'token rejected by the server (401): check the token in the server config';
    } else if (status === 403) {
      code = 'forbidden';
      advice =
        'the server refused this token (403): Butler tasks need the token of the server owner or an admin';
    } else if (status === 404) {
      code = 'not-found';
      advice =
        'the server has no such endpoint (404): check the server URL and any reverse-proxy path';
    } else if (status === 429) {
      code = 'rate-limited';
      advice =
        'the server is rate-limiting requests (429): send fewer requests, or wait and try again';
    } else if (status >= 500) {
      code = 'server-error';
      advice = `Plex answered ${status}${RETRYABLE_STATUSES.has(status) ? ': it may be restarting or updating, try again in a minute' : ': an internal server error, see the Plex server logs'}`;
    } else if (status >= 300 && status < 400) {
      code = 'bad-response';
      advice = `the server redirected the request (${status}): use the address it redirects to (often https://) in the server config`;
    } else if (status >= 400) {
      code = 'bad-request';
      advice = `the server refused the request as malformed (${status})`;
    } else {
      code = 'bad-response';
      advice = `the server gave an unexpected answer (${status})`;
    }
    return new ButlerError(code, `${failed} ${advice}`, details);
  }

  /** Turns anything thrown by Node or an abort into a ButlerError without secrets. */
  private toButlerError(error: unknown, signal: AbortSignal): ButlerError {
    if (error instanceof ButlerError) return error;
    if (signal.aborted || this.closed)
      return abortedError(signal.aborted ? signal : this.lifetime.signal);
    const codes = errorCodes(error);
    const has = (...wanted: string[]): boolean => wanted.some((code) => codes.includes(code));
    const target = new URL(this.baseUrl).host;
    if (has('ECONNREFUSED')) {
      return new ButlerError(
        'connection-refused',
        `nothing answers at ${target}: check that Plex is running and the host and port in the server URL`,
        { retryable: true },
      );
    }
    if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL')) {
      return new ButlerError(
        'host-not-found',
        `the host name in the server URL (${new URL(this.baseUrl).hostname}) cannot be resolved: check it, or use the server's IP address`,
        { retryable: has('EAI_AGAIN') },
      );
    }
    const tlsCode = codes.find((code) => TLS_ERROR_CODES.has(code));
    if (tlsCode !== undefined) return tlsError(tlsCode, this.baseUrl);
    if (has('ETIMEDOUT', 'ECONNABORTED')) {
      return new ButlerError(
        'timeout',
        `the connection to ${target} timed out: check the network and the server URL`,
        {
          retryable: true,
        },
      );
    }
    if (
      has('ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE') ||
      /socket hang up|aborted/i.test(messageOf(error))
    ) {
      const plainToTls = this.baseUrl.startsWith('http:');
      return new ButlerError(
        'connection-reset',
        `the server closed the connection before answering completely${plainToTls ? ' (if the server only accepts HTTPS on this port, use an https:// URL)' : ''}: try again`,
        { retryable: true },
      );
    }
    if (codes.some((code) => code.startsWith('HPE_'))) {
      return new ButlerError(
        'bad-response',
        'the server sent an answer that is not valid HTTP: check the server URL and port',
      );
    }
    return new ButlerError(
      'bad-response',
      `the request to Plex failed (${codes[0] ?? 'unknown error'})`,
      {
        retryable: false,
      },
    );
  }
}

const cancellersBySignal = new WeakMap<AbortSignal, Set<(reason: unknown) => void>>();

/**
 * What to cancel when a caller's signal aborts. One 'abort' listener per signal, however many
 * requests use it: a node passes one signal for all its messages, and an EventTarget listener
 * added and removed per request cost more than the rest of the request's own work (profile).
 */
function cancellersOf(signal: AbortSignal): Set<(reason: unknown) => void> {
  let cancellers = cancellersBySignal.get(signal);
  if (!cancellers) {
    const created = new Set<(reason: unknown) => void>();
    cancellersBySignal.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        for (const cancel of created) cancel(signal.reason);
        created.clear();
      },
      { once: true },
    );
    cancellers = created;
  }
  return cancellers;
}

function tlsError(code: string, baseUrl: string): ButlerError {
  let advice: string;
  if (code === 'EPROTO' || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    advice = `the server does not speak HTTPS on this port: use ${baseUrl.replace(/^https:/, 'http:')} or the server's HTTPS port`;
  } else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    advice =
      "the server's certificate is for another host name (a *.plex.direct certificate reached by IP address?): use the https://<ip-dashed>.<id>.plex.direct:32400 address, or turn off certificate verification in the server config";
  } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    advice =
      "the server's certificate is expired or not yet valid: renew it, or check this machine's clock";
  } else {
    advice =
      "the server's certificate is not trusted (self-signed or unknown issuer): paste its CA certificate (PEM) into the server config, or turn off certificate verification";
  }
  return new ButlerError('tls-error', `TLS error (${code}): ${advice}`);
}

function result(
  action: TaskAction,
  task: string,
  status: TaskStatus,
  httpStatus: number,
): TaskResult {
  return { action, task, status, httpStatus };
}

function abortedError(signal: AbortSignal): ButlerError {
  const reason: unknown = signal.reason;
  if (reason instanceof ButlerError) return reason;
  return new ButlerError('aborted', 'the request was cancelled before Plex answered');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : '';
}

/** Error codes of an error and its causes (a cause may carry the code that matters). */
function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    const errors = (current as { errors?: unknown }).errors;
    if (Array.isArray(errors)) {
      for (const inner of errors) {
        const innerCode = (inner as { code?: unknown } | null)?.code;
        if (typeof innerCode === 'string') codes.push(innerCode);
      }
    }
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}
