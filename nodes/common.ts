import { setMaxListeners } from 'node:events';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import {
  ButlerClient,
  ButlerError,
  formatMessage,
  message,
  type ActivityWatcher,
  type MessageRef,
  type WatchOptions,
} from '../lib';

export const SERVER_TYPE = 'plex-butler-server';

/** What task nodes need from their config node. */
export interface ButlerServerNode extends Node {
  /** Shown in msg.payload.server: the config node's name, else the URL's host. */
  serverName: string;
  /** The normalised URL, set when the config is usable. */
  baseUrl?: string;
  clientId?: string;
  /** Throws the ButlerError that made the config unusable (bad URL, no token…). */
  getClient(): ButlerClient;
  /**
   * The server's one activity watcher, started on first use; every call needs a
   * releaseWatcher() when the user closes. Throws like getClient().
   */
  acquireWatcher(): ActivityWatcher;
  releaseWatcher(): void;
  /** From the config: how often GET /activities is read when the socket is refused. */
  watchOptions: WatchOptions;
  /**
   * Looks the server up again on plex.tv by its identifier and moves to the address that
   * answers now (a new public IP, a new plex.direct name). True when it moved.
   */
  relocate?(): Promise<boolean>;
  /**
   * Whether the saved token may go to this URL for the editor: it must be the token this node
   * was deployed with, and the URL the one it was deployed with or has moved to.
   */
  acceptsSavedToken?(url: string, token: string): boolean;
}

/** Failures after which a server picked from the account may simply have moved. */
export const MOVED_SERVER_CODES: ReadonlySet<string> = new Set([
  'connection-refused',
  'host-not-found',
  'host-unreachable',
  'tls-error',
]);

export type SendFunction = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFunction = (err?: Error) => void;

/** Where the library's catalog sits in every node set's catalog (the build puts it there). */
const CATALOG = 'plex-butler';

/** A catalog look-up of the library's messages, in the runtime's language. */
export function translator(
  RED: NodeAPI,
): (key: string, params: Record<string, string | number>) => string {
  return (key, params) => RED._(`${CATALOG}.${key}`, params);
}

/** The words of a message reference in the runtime's language. */
export function wordsOf(RED: NodeAPI, ref: MessageRef): string {
  return formatMessage(ref, translator(RED));
}

/** The error with its message in the runtime's language: for Catch nodes, logs and warnings. */
export function localized(RED: NodeAPI, error: ButlerError): ButlerError {
  return error.localized(translator(RED));
}

/** Anything thrown becomes a ButlerError, so every failure carries a stable code. */
export function asButlerError(error: unknown): ButlerError {
  if (error instanceof ButlerError) return error;
  return new ButlerError(
    'bad-response',
    message('errors.unexpected', {
      detail: error instanceof Error ? error.message : String(error),
    }),
  );
}

let clockMinute = -1;
let clockText = '';

/** "HH:MM", local time: the same text all minute long, so it is made once a minute. */
export function clock(): string {
  const now = Date.now();
  const minute = Math.floor(now / 60_000);
  if (minute !== clockMinute) {
    const date = new Date(now);
    clockMinute = minute;
    clockText = `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;
  }
  return clockText;
}

/** A few words for the status line (about 20 characters), from the catalog's status.*. */
export function shortReason(RED: NodeAPI, error: ButlerError): string {
  return RED._(`${CATALOG}.status.${error.code}`);
}

export function errorStatus(RED: NodeAPI, error: ButlerError): NodeStatus {
  return { fill: 'red', shape: 'ring', text: shortReason(RED, error) };
}

interface TaskNodeConfig {
  server?: string;
}

/**
 * The lifecycle every task node shares: find the config node, show "requesting…", run the
 * work with an AbortSignal that close() trips, then a status and exactly one done() per message.
 */
export class ButlerNodeRunner {
  /** One signal for every message of the node, aborted on close: one per message cost ~5% CPU. */
  private readonly lifetime = new AbortController();
  private readonly fixedTexts = new Map<string, string>();
  private closing = false;
  readonly server: ButlerServerNode | undefined;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    config: TaskNodeConfig,
    private readonly type: string,
  ) {
    const server = config.server ? RED.nodes.getNode(config.server) : null;
    this.server = server ? (server as ButlerServerNode) : undefined;
    if (!this.server) {
      node.status({ fill: 'grey', shape: 'ring', text: this.t('status.noServer') });
    }
    // A burst of messages waits on this one signal at once: not a leak.
    setMaxListeners(0, this.lifetime.signal);
    node.on('close', (_removed: boolean, done: () => void) => {
      this.closing = true;
      this.lifetime.abort(new ButlerError('aborted', message('errors.nodeClosed')));
      done();
    });
  }

  t(key: string, substitutions?: Record<string, string | number>): string {
    if (substitutions) return this.RED._(`${this.type}.${key}`, substitutions);
    // A catalogue look-up costs about a tenth of a message's CPU (bench profile): fixed texts once.
    let text = this.fixedTexts.get(key);
    if (text === undefined) {
      text = this.RED._(`${this.type}.${key}`);
      this.fixedTexts.set(key, text);
    }
    return text;
  }

  /** Runs one message's work. `work` sends; its return value becomes the status. */
  async handle(
    done: DoneFunction,
    work: (client: ButlerClient, signal: AbortSignal) => Promise<NodeStatus>,
  ): Promise<void> {
    if (!this.server) {
      const error = localized(
        this.RED,
        new ButlerError('invalid-config', message('errors.noServer')),
      );
      this.node.status({ fill: 'grey', shape: 'ring', text: this.t('status.noServer') });
      done(error);
      return;
    }
    try {
      const server = this.server;
      this.node.status({ fill: 'blue', shape: 'dot', text: this.t('status.requesting') });
      let status: NodeStatus;
      try {
        status = await work(server.getClient(), this.lifetime.signal);
      } catch (thrown) {
        // Nothing reached the server: if it moved, once more at its new address.
        const moved =
          !this.closing &&
          thrown instanceof ButlerError &&
          MOVED_SERVER_CODES.has(thrown.code) &&
          server.relocate !== undefined &&
          (await server.relocate());
        if (!moved) throw thrown;
        status = await work(server.getClient(), this.lifetime.signal);
      }
      if (this.closing) return done();
      this.node.status(status);
      done();
    } catch (thrown) {
      // After close nothing more is reported: the runtime has moved on.
      if (this.closing) return done();
      const error = asButlerError(thrown);
      this.node.status(errorStatus(this.RED, error));
      done(localized(this.RED, error));
    }
  }
}
