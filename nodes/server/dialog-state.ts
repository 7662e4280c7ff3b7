/**
 * What the runtime holds for server dialogs between a user's clicks: the sign-ins in progress
 * and the servers chosen in open dialogs (see sign-in.ts), and the servers chosen in a dialog
 * closed with Done but not deployed yet. One holder, closed when the runtime stops.
 */
import type { NodeAPI } from 'node-red';
import type { PlexTvOptions } from '../../lib';
import { SignIns, type PlexButlerRuntimeSettings } from './sign-in';
import type { ChosenServer } from './token-policy';

export class DialogState {
  readonly signIns: SignIns;
  /** By config node id: the server a dialog closed with Done chose, until it is deployed. */
  private readonly kept = new Map<string, ChosenServer>();

  constructor(
    RED: NodeAPI,
    settings: () => PlexButlerRuntimeSettings,
    plexTvOptions: (clientIdentifier: string) => PlexTvOptions,
  ) {
    this.signIns = new SignIns(RED, settings, plexTvOptions);
  }

  keptServer(configId: string): ChosenServer | undefined {
    return this.kept.get(configId);
  }

  keep(configId: string, server: ChosenServer): void {
    this.kept.set(configId, server);
  }

  /** Deployed: what the dialog chose is the config node's own now. */
  deployed(configId: string): void {
    this.kept.delete(configId);
  }

  /** Ends every sign-in (no more polling of plex.tv) and forgets every dialog. */
  close(): void {
    this.signIns.close();
    this.kept.clear();
  }
}
