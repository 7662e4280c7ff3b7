import path from 'node:path';
import helper from 'node-red-node-test-helper';
import type { Node } from 'node-red';

/** `node-red` (4.x), or `node-red-5` for `npm run test:compat` on Node 22. */
export const NODE_RED_MODULE = process.env.NODE_RED_MODULE ?? 'node-red';
const runtimePath = require.resolve(NODE_RED_MODULE);
helper.init(runtimePath);
/** Core nodes of the same Node-RED as the runtime under test. */
const coreNodes = path.join(
  path.dirname(
    require.resolve('@node-red/nodes/package.json', { paths: [path.dirname(runtimePath)] }),
  ),
  'core/common',
);

/* eslint-disable @typescript-eslint/no-require-imports -- Node-RED loads nodes as CommonJS functions */
export const serverNode = require('../../nodes/plex-butler-server');
export const tasksNode = require('../../nodes/plex-butler-tasks');
export const startNode = require('../../nodes/plex-butler-start');
export const stopNode = require('../../nodes/plex-butler-stop');
export const watchNode = require('../../nodes/plex-butler-watch');
// The helper does not load core nodes by itself; Catch nodes check how errors reach flows.
const catchNode = require(path.join(coreNodes, '25-catch'));
const completeNode = require(path.join(coreNodes, '24-complete'));
export const allNodes = [
  serverNode,
  tasksNode,
  startNode,
  stopNode,
  watchNode,
  catchNode,
  completeNode,
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
export function loadFlow(
  flow: FlowNode[],
  credentials: Record<string, unknown> = {},
): Promise<void> {
  return helper.load(allNodes, flow as unknown as Parameters<typeof helper.load>[1], credentials);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
