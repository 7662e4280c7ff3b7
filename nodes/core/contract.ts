/**
 * What every node of the package sees of a server config node, and the shapes of Node-RED's
 * message callbacks.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import type { ServerConnection } from '../server/connection';
import type { DeployedToken } from '../server/token-policy';

export const SERVER_TYPE = 'plex-butler-server';

/** A deployed server config node, as the other nodes use it. */
export interface ButlerServerNode extends Node {
  /** Shown in msg.payload.server: the config node's name, else the URL's host. */
  serverName: string;
  /** Its X-Plex-Client-Identifier. */
  clientId: string;
  /** The server's client and shared watcher. */
  connection: ServerConnection;
  /** What it was deployed with, for the editor's requests (see token-policy.ts). */
  deployedToken: DeployedToken;
}

/** The server config node with this id, when one is deployed. */
export function serverNodeOf(RED: NodeAPI, id: string | undefined): ButlerServerNode | undefined {
  const node = id ? (RED.nodes.getNode(id) as ButlerServerNode | null) : null;
  return node && node.type === SERVER_TYPE ? node : undefined;
}

export type SendFunction = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFunction = (err?: Error) => void;
