/**
 * The connection of one configured server: its client, the one activity watcher that every
 * node of the server shares (opened for the first user, closed after the last), and the move to
 * a new address when a server picked from the account is found elsewhere. Every node asks this
 * object, and nothing else, for the server's client and watcher.
 */
import {
  ActivityWatcher,
  ButlerClient,
  ButlerError,
  message,
  type ButlerClientOptions,
  type TlsOptions,
  type ViewerMonitorOptions,
  type WatchOptions,
  ViewerMonitor,
  resolveViewerRules,
} from '../../lib';

/** Failures after which a server picked from the account may simply have moved. */
export const MOVED_SERVER_CODES: ReadonlySet<string> = new Set([
  'connection-refused',
  'host-not-found',
  'host-unreachable',
  'tls-error',
]);

/** How often a server may be looked up again on plex.tv, at most. */
const RELOCATE_EVERY_MS = 60_000;
/** How long requests under way at an old address may take to finish there. */
const RETIRE_AFTER_MS = 30_000;

/** Where the server answers now, when that is not `currentUrl`; undefined if unknown. */
export type Locator = (
  currentUrl: string,
  tls: TlsOptions | undefined,
) => Promise<{ url: string; tls: TlsOptions | undefined } | undefined>;

export interface ConnectionSetup {
  /** The client options, or why the config cannot make any. */
  options: ButlerClientOptions | ButlerError;
  /** The normalised address, when the URL is one. */
  baseUrl?: string;
  watchOptions: WatchOptions;
  /** Present for a server picked from the account, whose address plex.tv can tell again. */
  locate?: Locator;
  /** Told after a move, with the new address. */
  moved?: (url: string) => void;
}

export class ServerConnection {
  /** The normalised address, when the URL is one; follows a move. */
  baseUrl: string | undefined;
  readonly watchOptions: WatchOptions;
  private options: ButlerClientOptions | undefined;
  private client: ButlerClient | undefined;
  private readonly configError: ButlerError | undefined;
  private watcher: ActivityWatcher | undefined;
  private watcherUsers = 0;
  private readonly retired = new Set<ButlerClient>();
  private lastLookup = 0;
  private closed = false;
  /** One viewer monitor per set of rules, with how many users hold it. */
  private readonly monitors = new Map<string, { monitor: ViewerMonitor; users: number }>();

  constructor(private readonly setup: ConnectionSetup) {
    this.watchOptions = setup.watchOptions;
    this.baseUrl = setup.baseUrl;
    if (setup.options instanceof ButlerError) {
      this.configError = setup.options;
    } else {
      this.options = setup.options;
      this.client = new ButlerClient(setup.options);
    }
  }

  /** The server's client; throws the ButlerError that made the config unusable. */
  getClient(): ButlerClient {
    if (!this.client) throw this.unusable();
    return this.client;
  }

  /**
   * The server's one activity watcher, started on first use; every call needs a
   * releaseWatcher() when the user closes. Throws like getClient().
   */
  acquireWatcher(): ActivityWatcher {
    if (!this.options || !this.client) throw this.unusable();
    if (!this.watcher) {
      const watcher = new ActivityWatcher(this.options, this.watchOptions);
      watcher.on('status', (status) => {
        if (status.state === 'reconnecting' && MOVED_SERVER_CODES.has(status.error?.code ?? '')) {
          void this.relocate();
        }
      });
      watcher.start();
      this.watcher = watcher;
    }
    this.watcherUsers += 1;
    return this.watcher;
  }

  releaseWatcher(): void {
    this.watcherUsers = Math.max(0, this.watcherUsers - 1);
    if (this.watcherUsers === 0) {
      this.watcher?.close();
      this.watcher = undefined;
    }
  }

  /**
   * The server's viewer monitor for these rules, shared by every user with the same rules; it
   * holds the shared watcher (for its playing events) while anyone uses it. Call `release`
   * once when done. Throws like getClient(), or `invalid-config` for rules not allowed.
   */
  acquireViewerMonitor(options: ViewerMonitorOptions = {}): {
    monitor: ViewerMonitor;
    release: () => void;
  } {
    // The rules as resolved (defaults filled in), and the timings: same rules, one monitor.
    const key = JSON.stringify({ ...options, ...resolveViewerRules(options) });
    let entry = this.monitors.get(key);
    if (!entry) {
      const watcher = this.acquireWatcher();
      try {
        const monitor = new ViewerMonitor(() => this.getClient(), watcher, {
          pollIntervalMs: this.watchOptions.pollIntervalMs,
          ...options,
        });
        entry = { monitor, users: 0 };
      } catch (error) {
        this.releaseWatcher();
        throw error;
      }
      this.monitors.set(key, entry);
    }
    const held = entry;
    held.users += 1;
    let released = false;
    return {
      monitor: held.monitor,
      release: () => {
        if (released) return;
        released = true;
        held.users -= 1;
        if (held.users > 0 || this.monitors.get(key) !== held) return;
        this.monitors.delete(key);
        held.monitor.close();
        this.releaseWatcher();
      },
    };
  }

  /**
   * Looks the server up again and moves to the address that answers now (a new public IP, a
   * new plex.direct name). True when it moved. plex.tv is asked at most once a minute,
   * whatever fails how often.
   */
  async relocate(): Promise<boolean> {
    const locate = this.setup.locate;
    if (!locate || !this.options || this.baseUrl === undefined || this.closed) return false;
    if (Date.now() - this.lastLookup < RELOCATE_EVERY_MS) return false;
    this.lastLookup = Date.now();
    let found;
    try {
      found = await locate(this.baseUrl, this.options.tls);
    } catch {
      return false;
    }
    if (!found || found.url === this.baseUrl || !this.options || !this.client || this.closed) {
      return false;
    }
    const moved: ButlerClientOptions = {
      ...this.options,
      url: found.url,
      ...(found.tls ? { tls: found.tls } : {}),
    };
    const previous = this.client;
    this.client = new ButlerClient(moved);
    this.options = moved;
    this.baseUrl = found.url;
    // Requests under way at the old address finish there; the client goes after that.
    this.retired.add(previous);
    setTimeout(() => {
      this.retired.delete(previous);
      previous.close();
    }, RETIRE_AFTER_MS).unref();
    this.watcher?.retarget(moved);
    this.setup.moved?.(found.url);
    return true;
  }

  close(): void {
    this.closed = true;
    for (const { monitor } of this.monitors.values()) monitor.close();
    this.monitors.clear();
    this.watcher?.close();
    this.watcher = undefined;
    this.client?.close();
    for (const previous of this.retired) previous.close();
    this.retired.clear();
  }

  private unusable(): ButlerError {
    return this.configError ?? new ButlerError('invalid-config', message('errors.configUnusable'));
  }
}
