/**
 * What the admin routes need from the runtime, passed to them explicitly: Node-RED, the dialog
 * state, and how a config node's client identifier, TLS settings and plex.tv options are found.
 */
import type { NodeAPI } from 'node-red';
import type { PlexTvOptions } from '../../lib';
import type { TlsConfigLookup } from './client-options';
import type { DialogState } from './dialog-state';
import type { DialogValues } from './editor-contract';
import type { PlexButlerRuntimeSettings } from './sign-in';
import type { StoredCredentials } from './token-policy';

export interface RouteContext {
  RED: NodeAPI;
  dialogs: DialogState;
  /** The config node's own client identifier: the dialog's, the deployed node's, or derived. */
  clientIdFor(values: DialogValues, id: string): string;
  tlsLookup: TlsConfigLookup;
  runtimeSettings(): PlexButlerRuntimeSettings;
  plexTvOptions(clientIdentifier: string): PlexTvOptions;
}

/** The credentials Node-RED keeps for a config node (saved with the next deploy). */
export function storedCredentials(RED: NodeAPI, id: string): StoredCredentials {
  return id ? ((RED.nodes.getCredentials(id) ?? {}) as StoredCredentials) : {};
}
