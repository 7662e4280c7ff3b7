import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI } from 'node-red';
import { NODE_TYPES } from './node-types';

/** `node-red` (4.x), or `node-red-5` for `npm run test:compat` on Node 22. */
export const NODE_RED_MODULE = process.env.NODE_RED_MODULE ?? 'node-red';
const runtimePath = require.resolve(NODE_RED_MODULE);
helper.init(runtimePath);
/**
 * A user directory of the test run's own, for what nodes keep there (the installation seed of
 * derived client identifiers): never the real ~/.node-red.
 */
export const TEST_USER_DIR = mkdtempSync(path.join(tmpdir(), 'plex-butler-helper-'));
process.once('exit', () => rmSync(TEST_USER_DIR, { recursive: true, force: true }));
helper.settings({ userDir: TEST_USER_DIR });
type NodeModule = (RED: NodeAPI) => void;

/** Core nodes of the same Node-RED as the runtime under test. */
const coreNodesDir = path.join(
  path.dirname(
    require.resolve('@node-red/nodes/package.json', { paths: [path.dirname(runtimePath)] }),
  ),
  'core',
);

/** Core node modules of that Node-RED, by path under core/ (e.g. `common/20-inject`). */
export function coreNodes(...names: string[]): NodeModule[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Node-RED loads nodes as CommonJS functions
  return names.map((name) => require(path.join(coreNodesDir, name)) as NodeModule);
}

interface I18n {
  /** The i18next instance underneath. */
  i: { loadLanguages(languages: string[], done: () => void): void };
  init(settings: Record<string, unknown>): void;
  registerMessageCatalog(namespace: string, dir: string, file: string): Promise<void>;
  _(key: string, options?: Record<string, unknown>): string;
}

/**
 * The helper gives nodes a RED._ that returns the key. Ours get Node-RED's own i18n with the
 * package's message catalogs instead, so that tests read the words a user reads.
 */
const i18n = (createRequire(runtimePath)('@node-red/util') as { i18n: I18n }).i18n;
/** Where the nodes find the library's messages: RED._('plex-butler.errors.timeout'). */
const LIBRARY_CATALOG = 'plex-butler';
const catalogsLoaded = (async () => {
  i18n.init({ lang: 'en-US' });
  // The library's messages, which the build puts into every node set's catalog.
  await i18n.registerMessageCatalog(
    LIBRARY_CATALOG,
    path.join(__dirname, '../../lib/locales'),
    'messages.json',
  );
  for (const set of NODE_TYPES) {
    await i18n.registerMessageCatalog(
      set,
      path.join(__dirname, '../../nodes/locales'),
      `${set}.json`,
    );
  }
  // Loaded up front: a look-up in a language not loaded yet would quietly give English.
  await new Promise<void>((resolve) => i18n.i.loadLanguages(['en-US', 'de'], resolve));
})();
let language = 'en-US';

/** The language the nodes speak in the flows loaded from now on (default en-US). */
export function setLanguage(lang: string): void {
  language = lang;
}

/** Our keys start with the node type, which is also the catalog's namespace. */
function translate(key: string, substitutions?: Record<string, unknown>): string {
  const options = { ...substitutions, lng: language };
  if (key.startsWith(`${LIBRARY_CATALOG}.`)) {
    return i18n._(`${LIBRARY_CATALOG}:${key.slice(LIBRARY_CATALOG.length + 1)}`, options);
  }
  return i18n._(`${key.split('.')[0]}:${key}`, options);
}

function withCatalog(register: NodeModule): NodeModule {
  return (RED) => {
    (RED as unknown as { _: typeof translate })._ = translate;
    register(RED);
  };
}

/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes as CommonJS functions */
export const serverNode = withCatalog(require('../../nodes/plex-butler-server'));
export const tasksNode = withCatalog(require('../../nodes/plex-butler-tasks'));
export const startNode = withCatalog(require('../../nodes/plex-butler-start'));
export const stopNode = withCatalog(require('../../nodes/plex-butler-stop'));
export const watchNode = withCatalog(require('../../nodes/plex-butler-watch'));
export const scheduleNode = withCatalog(require('../../nodes/plex-butler-schedule'));
export const idleNode = withCatalog(require('../../nodes/plex-butler-idle'));
export const reportNode = withCatalog(require('../../nodes/plex-butler-report'));
// The helper does not load core nodes by itself; Catch nodes check how errors reach flows.
// Node-RED's tls-config: a server config may take its CA and client certificate from one.
const [catchNode, completeNode, tlsNode] = coreNodes(
  'common/25-catch',
  'common/24-complete',
  'network/05-tls',
);
export const allNodes = [
  serverNode,
  tasksNode,
  startNode,
  stopNode,
  watchNode,
  scheduleNode,
  idleNode,
  reportNode,
  catchNode,
  completeNode,
  tlsNode,
];
/* eslint-enable @typescript-eslint/no-require-imports */

export { helper };

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface StatusCall {
  fill?: string;
  shape?: string;
  text?: string;
}

/** A node as the helper wraps it: its methods are sinon spies. */
export interface SpiedNode extends Node {
  status: Node['status'] & { lastCall?: { args: [StatusCall] }; args: [StatusCall][] };
}

export function spied(id: string): SpiedNode {
  const node = helper.getNode(id) as SpiedNode | null;
  if (!node) throw new Error(`node ${id} is not deployed`);
  return node;
}

export function lastStatus(id: string): StatusCall | undefined {
  return spied(id).status.lastCall?.args[0];
}

/** The message the helper node `id` receives next. */
export function nextMessage<T = Record<string, unknown>>(id: string, timeoutMs = 5000): Promise<T> {
  const node = helper.getNode(id);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no message reached ${id} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    node.once('input', (msg: T) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Messages reaching helper node `id` until `count` have come. */
export function collectMessages<T = Record<string, unknown>>(
  id: string,
  count: number,
  timeoutMs = 5000,
): Promise<T[]> {
  const node = helper.getNode(id) as unknown as NodeJS.EventEmitter;
  const messages: T[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${messages.length} of ${count} messages reached ${id}`)),
      timeoutMs,
    );
    const onInput = (msg: T): void => {
      messages.push(msg);
      if (messages.length === count) {
        clearTimeout(timer);
        node.removeListener('input', onInput);
        resolve(messages);
      }
    };
    node.on('input', onInput);
  });
}

/** Loads our nodes (plus Catch and Complete) with a flow; credentials by node id. */
export async function loadFlow(
  flow: FlowNode[],
  credentials: Record<string, unknown> = {},
): Promise<void> {
  await catalogsLoaded;
  await helper.load(allNodes, flow as unknown as Parameters<typeof helper.load>[1], credentials);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Counts what node `id` does from now on: messages sent, errors and warnings raised, status
 * changes. Wraps the node object itself, which outlives helper.unload(), so it tells whether a
 * closed node still reports (counting inputs of helper nodes that unload() removed cannot).
 */
export function recordActions(id: string): { count(): number; calls(): string[] } {
  const node = helper.getNode(id) as unknown as Record<string, (...args: unknown[]) => unknown>;
  if (!node) throw new Error(`node ${id} is not deployed`);
  const calls: string[] = [];
  for (const method of ['send', 'error', 'warn', 'status']) {
    const original = node[method];
    node[method] = function (this: unknown, ...args: unknown[]): unknown {
      calls.push(`${method} ${JSON.stringify(args[0] ?? null)?.slice(0, 120)}`);
      return original.apply(this, args);
    };
  }
  return { count: () => calls.length, calls: () => [...calls] };
}
