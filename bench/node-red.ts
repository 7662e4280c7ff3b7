/**
 * Our nodes in a real Node-RED runtime (node-red-node-test-helper's: the runtime's own flows,
 * nodes, message routing, hooks and done/complete handling), set up for measuring rather than
 * testing:
 * - the helper's sinon spies on Node.prototype (send, status, log…) are removed once a flow is
 *   loaded: they record every call, which a production runtime does not do and which would be
 *   counted as our cost and our memory;
 * - a user directory of its own, as a production runtime always has;
 * - RED._ is the runtime's real i18n lookup with our message catalogs, as in a production
 *   runtime, not the helper's `v => v`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { REPOSITORY } from './paths';

const runtimePath = require.resolve('node-red');
helper.init(runtimePath);
// A production runtime always has a user directory (where a report node keeps its journal).
const userDir = mkdtempSync(path.join(tmpdir(), 'plex-butler-bench-'));
process.once('exit', () => rmSync(userDir, { recursive: true, force: true }));
helper.settings({ userDir });
const fromNodeRed = createRequire(runtimePath);

interface I18n {
  init(settings: { lang?: string }): void;
  registerMessageCatalog(namespace: string, dir: string, file: string): Promise<void>;
  _(key: string, substitutions?: Record<string, unknown>): string;
}
const i18n = (fromNodeRed('@node-red/util') as { i18n: I18n }).i18n;

type NodeModule = (RED: NodeAPI) => void;
/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes as CommonJS functions */
const modules: Record<string, NodeModule> = {
  'plex-butler-server': require('../nodes/plex-butler-server'),
  'plex-butler-tasks': require('../nodes/plex-butler-tasks'),
  'plex-butler-start': require('../nodes/plex-butler-start'),
  'plex-butler-stop': require('../nodes/plex-butler-stop'),
};
const catchNode: NodeModule = require(
  path.join(
    path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [runtimePath] })),
    'core/common/25-catch',
  ),
);
/* eslint-enable @typescript-eslint/no-require-imports */

const NAMESPACE = '@plex-butler/node-red-plex-butler';
const LOCALES = path.join(REPOSITORY, 'nodes', 'locales');

/** Each node set gets its own RED with `_` bound to its catalog, as the registry does. */
function withCatalog(type: string, register: NodeModule): NodeModule {
  return (RED: NodeAPI) => {
    const scoped = Object.create(RED) as NodeAPI & { _: I18n['_'] };
    const namespace = `${NAMESPACE}/${type}`;
    const translate: I18n['_'] = (key, substitutions) =>
      i18n._(key.includes(':') ? key : `${namespace}:${key}`, substitutions);
    scoped._ = translate;
    register(scoped);
  };
}

/**
 * The runtime's share of the node path: a node that does nothing but call the same config
 * node's client and send the result on, with none of our node code (status, translations,
 * abort handling, payload shaping). The gap between it and plex-butler-start is our nodes.
 */
export const MINIMAL_START = 'bench-minimal-start';
function minimalStart(RED: NodeAPI): void {
  function MinimalStartNode(this: Node, config: { server: string; task: string }): void {
    RED.nodes.createNode(this, config as never);
    const server = RED.nodes.getNode(config.server) as unknown as {
      connection: { getClient(): { startTask(task: string): Promise<unknown> } };
    };
    this.on(
      'input',
      (msg: NodeMessage, send: (msg: NodeMessage) => void, done: (error?: Error) => void) => {
        server.connection
          .getClient()
          .startTask(config.task)
          .then(
            (result) => {
              msg.payload = result;
              send(msg);
              done();
            },
            (error: Error) => done(error),
          );
      },
    );
  }
  RED.nodes.registerType(MINIMAL_START, MinimalStartNode as never);
}

const loaders = [
  ...Object.entries(modules).map(([type, register]) => withCatalog(type, register)),
  minimalStart,
  catchNode,
];

let catalogsReady: Promise<void> | undefined;
function loadCatalogs(): Promise<void> {
  catalogsReady ??= (async () => {
    i18n.init({ lang: 'en-US' });
    for (const type of Object.keys(modules)) {
      await i18n.registerMessageCatalog(`${NAMESPACE}/${type}`, LOCALES, `${type}.json`);
    }
  })();
  return catalogsReady;
}

interface HelperInternals {
  _events: NodeJS.EventEmitter;
  _sandbox: { restore(): void };
  _RED: { version(): string };
  _NodePrototype: Record<string, unknown>;
}
const internals = helper as unknown as HelperInternals;
/** What the helper wraps in spies on every load (its PROXY_METHODS), as they were before. */
const SPIED_METHODS = ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send'];
const originalMethods = new Map(
  SPIED_METHODS.map((name) => [name, internals._NodePrototype[name]] as const),
);

/** The runtime's event bus (flows:started, node-status…): its listeners must not pile up. */
export function runtimeEvents(): NodeJS.EventEmitter {
  return internals._events;
}

export function nodeRedVersion(): string {
  return internals._RED.version();
}

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

/** A start or stop node for the benchmark task, wired to helper `out`, on server `server`. */
export function taskActionNode(
  id: string,
  type: 'plex-butler-start' | 'plex-butler-stop',
  task: string,
): FlowNode {
  return { id, type, server: 'server', task, taskType: 'str', wires: [['out']] };
}

export interface ServerSettings {
  url: string;
  token: string;
  timeout?: number;
  retries?: number;
}

/** A tab with the server config, the given nodes, and a Catch node wired to helper `caught`. */
export function benchFlow(server: ServerSettings, nodes: FlowNode[]): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    {
      id: 'server',
      type: 'plex-butler-server',
      name: 'bench Plex',
      url: server.url,
      clientId: 'bench-client-id',
      verifyTls: true,
      ca: '',
      timeout: server.timeout ?? 10_000,
      retries: server.retries ?? 2,
    },
    ...nodes.map((node) => ({ z: 'tab', ...node })),
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

export async function deploy(server: ServerSettings, nodes: FlowNode[]): Promise<void> {
  await loadCatalogs();
  const flow = benchFlow(server, nodes);
  await helper.load(loaders, flow as never, {
    server: { token: server.token },
  });
  // The helper's spies record every call; a production runtime has none. Its Proxy around
  // each spy is not undone by restoring the sandbox, so the originals are put back by hand.
  internals._sandbox.restore();
  for (const [name, method] of originalMethods) internals._NodePrototype[name] = method;
  // Nodes with wires copied the (spied) Node.prototype.send onto themselves when created.
  for (const { id } of flow) {
    const node = helper.getNode(id) as unknown as Record<string, unknown> | null;
    const send = node?.send as { callCount?: unknown } | undefined;
    if (node && Object.hasOwn(node, 'send') && send && 'callCount' in send) {
      node.send = originalMethods.get('send');
    }
  }
}

export async function undeploy(): Promise<void> {
  await helper.unload();
}

export function getNode(id: string): Node {
  const node = helper.getNode(id) as Node | null;
  if (!node) throw new Error(`node ${id} is not deployed`);
  return node;
}

type Settle = { resolve: (msg: NodeMessage) => void; reject: (error: Error) => void };

/**
 * Sends messages into node `input` and resolves each when it reaches helper `output`, or
 * rejects it when the Catch node reports its error. Messages are matched by _msgid.
 */
export class Injector {
  private readonly pending = new Map<string, Settle>();
  private counter = 0;
  private readonly target: Node;
  private readonly prefix = `bench-${Math.random().toString(36).slice(2)}-`;

  constructor(inputId: string, outputIds: string[]) {
    this.target = getNode(inputId);
    for (const id of outputIds) {
      getNode(id).on('input', (msg: NodeMessage) => this.settle(msg, undefined));
    }
    getNode('caught').on('input', (msg: NodeMessage & { error?: { message?: string } }) =>
      this.settle(msg, new Error(msg.error?.message ?? 'caught')),
    );
  }

  private settle(msg: NodeMessage, error: Error | undefined): void {
    const id = msg._msgid;
    if (id === undefined) return;
    const entry = this.pending.get(id);
    if (!entry) return;
    this.pending.delete(id);
    if (error) entry.reject(error);
    else entry.resolve(msg);
  }

  send(fields: Record<string, unknown> = {}): Promise<NodeMessage> {
    const _msgid = this.prefix + this.counter++;
    return new Promise((resolve, reject) => {
      this.pending.set(_msgid, { resolve, reject });
      this.target.receive({ _msgid, payload: 'go', ...fields } as NodeMessage);
    });
  }

  get inflight(): number {
    return this.pending.size;
  }
}
