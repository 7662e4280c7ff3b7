/**
 * The lifecycle every node that acts on a message shares: find the server, show
 * "requesting…", run the work with an AbortSignal that close() trips, then a status and exactly
 * one done() per message.
 */
import { setMaxListeners } from 'node:events';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { ButlerClient, ButlerError, message } from '../../lib';
import { MOVED_SERVER_CODES } from '../server/connection';
import { serverNodeOf, type ButlerServerNode, type DoneFunction } from './contract';
import { asButlerError, errorStatus, localized } from './words';

interface TaskNodeConfig {
  server?: string;
}

/** The part of a running node that Node.prototype.error itself uses to reach Catch nodes. */
interface NodeInFlow {
  _flow?: { handleError(node: Node, error: unknown, msg: NodeMessage): boolean };
}

/**
 * Failures in words, as Node-RED's own nodes report them. node.error(err, msg), which done(err)
 * calls too, gives Catch nodes `err.toString()` as msg.error.message ("ButlerError: …" for an
 * Error) and `err.code`; when no Catch node takes it, the log and the debug sidebar get `err`
 * itself, and the sidebar folds an Error into an object. Core nodes pass a sentence: so Catch
 * nodes get ours with its code, and the sidebar the sentence alone.
 */
function reportInWords(node: Node): void {
  const report = node.error.bind(node);
  node.error = (logMessage: unknown, msg?: NodeMessage): void => {
    if (!(logMessage instanceof ButlerError) || typeof msg !== 'object' || msg === null) {
      report(logMessage, msg);
      return;
    }
    const words = logMessage.message;
    // What Catch nodes read of it (Node-RED copies no other field into msg.error).
    const caught = { message: words, code: logMessage.code, toString: () => words };
    const handled = (node as NodeInFlow)._flow?.handleError(node, caught, msg) ?? false;
    if (!handled) report(words);
  };
}

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
    reportInWords(node);
    this.server = serverNodeOf(RED, config.server);
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
        status = await work(server.connection.getClient(), this.lifetime.signal);
      } catch (thrown) {
        // Nothing reached the server: if it moved, once more at its new address.
        const moved =
          !this.closing &&
          thrown instanceof ButlerError &&
          MOVED_SERVER_CODES.has(thrown.code) &&
          (await server.connection.relocate());
        if (!moved) throw thrown;
        status = await work(server.connection.getClient(), this.lifetime.signal);
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
