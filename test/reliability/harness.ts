import type { PlexSimulator } from '../../simulator';
import { helper, loadFlow, type FlowNode, type SpiedNode } from '../support/node-red-helper';

export interface CaughtError {
  message: string;
  code?: string;
  stack?: string;
  source: { id: string };
}

export interface Outcome {
  kind: 'output' | 'error';
  msg: Record<string, unknown>;
}

export const SERVER_ID = 'server';
export const NODE_ID = 'node';

/** Server config node + node under test + Catch, the shape every reliability test uses. */
export function reliabilityFlow(
  sim: PlexSimulator,
  node: Record<string, unknown>,
  server: Record<string, unknown> = {},
): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'reliability' },
    {
      id: SERVER_ID,
      type: 'plex-butler-server',
      name: 'Plex',
      url: sim.url,
      clientId: '5b7e2d1c-0000-4000-8000-00000000abcd',
      verifyTls: true,
      ca: '',
      timeout: 400,
      retries: 2,
      ...server,
    },
    {
      id: NODE_ID,
      z: 'tab',
      server: SERVER_ID,
      wires: [['out']],
      ...node,
      type: String(node.type),
    },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

export async function loadReliabilityFlow(
  sim: PlexSimulator,
  node: Record<string, unknown>,
  token: string,
  server: Record<string, unknown> = {},
): Promise<void> {
  await loadFlow(reliabilityFlow(sim, node, server), { [SERVER_ID]: { token } });
}

/** Sends one message and resolves with how it ended: an output, or an error at the Catch node. */
export function sendAndSettle(msg: Record<string, unknown>, timeoutMs = 10_000): Promise<Outcome> {
  const out = helper.getNode('out') as unknown as NodeJS.EventEmitter;
  const caught = helper.getNode('caught') as unknown as NodeJS.EventEmitter;
  return new Promise((resolve, reject) => {
    const finish = (outcome: Outcome): void => {
      clearTimeout(timer);
      out.removeListener('input', onOutput);
      caught.removeListener('input', onError);
      resolve(outcome);
    };
    const onOutput = (received: Record<string, unknown>): void =>
      finish({ kind: 'output', msg: received });
    const onError = (received: Record<string, unknown>): void =>
      finish({ kind: 'error', msg: received });
    const timer = setTimeout(
      () => reject(new Error(`message not settled in ${timeoutMs} ms`)),
      timeoutMs,
    );
    out.on('input', onOutput);
    caught.on('input', onError);
    helper.getNode(NODE_ID).receive(msg);
  });
}

export function errorOf(outcome: Outcome): CaughtError {
  if (outcome.kind !== 'error')
    throw new Error(`expected an error, got output ${JSON.stringify(outcome.msg.payload)}`);
  return outcome.msg.error as CaughtError;
}

export function statusTexts(id = NODE_ID): string[] {
  const node = helper.getNode(id) as SpiedNode | null;
  if (!node) return [];
  return node.status.args.map(([status]) => String(status?.text ?? ''));
}

export function lastStatusText(id = NODE_ID): string {
  return statusTexts(id).at(-1) ?? '';
}

/** Fails the suite on any unhandled rejection or uncaught exception while it runs. */
export function watchForCrashes(): { stop(): unknown[] } {
  const seen: unknown[] = [];
  const record = (error: unknown): void => {
    seen.push(error);
  };
  process.on('unhandledRejection', record);
  process.on('uncaughtException', record);
  return {
    stop(): unknown[] {
      process.removeListener('unhandledRejection', record);
      process.removeListener('uncaughtException', record);
      return seen;
    },
  };
}

export { plexRequest } from '../support/plex-request';
