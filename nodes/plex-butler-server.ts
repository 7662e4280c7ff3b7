/**
 * The plex-butler-server config node: one Plex server, its token and its connection. The node is
 * built from named parts in nodes/server/: the client options, the token policy, the
 * connection every other node asks for the server's client and watcher, the dialog state and
 * the editor's admin routes.
 */
import type { Node, NodeAPI, NodeDef } from 'node-red';
import {
  ButlerError,
  LIMITS,
  PlexTvClient,
  checkNumber,
  findMovedServer,
  message,
  normaliseBaseUrl,
  resolveClientOptions,
  type ButlerClientOptions,
  type PlexTvOptions,
} from '../lib';
import { SERVER_TYPE, type ButlerServerNode } from './core/contract';
import { migrateConfig } from './core/migrations';
import { asButlerError, wordsOf } from './core/words';
import { registerAccountRoutes } from './server/account-routes';
import { derivedClientId } from './server/client-id';
import { clientOptionsOf } from './server/client-options';
import { registerConnectionRoutes } from './server/connection-routes';
import { ServerConnection, type Locator } from './server/connection';
import { DialogState } from './server/dialog-state';
import { registerPanelRoutes } from './server/panel-routes';
import { editorRules, textOf } from './server/editor-contract';
import type { PlexButlerRuntimeSettings } from './server/sign-in';
import {
  relocationConnections,
  tokenBoundElsewhere,
  type StoredCredentials,
} from './server/token-policy';

interface ServerConfig extends NodeDef {
  url: string;
  clientId: string;
  tlsMode?: string;
  /** A Node-RED tls-config node: a CA and a client certificate, added to ours. */
  tls?: string;
  /** The server's machine identifier, when it was picked from the account's servers. */
  machineId?: string;
  /** The `<hash>` of its plex.direct names, for the plex-direct certificate mode. */
  plexDirectHash?: string;
  ca: string;
  timeout: number | string;
  retries: number | string;
  /** Seconds between GET /activities reads when the notification socket is refused. */
  pollInterval?: number | string;
}

/**
 * The dialog state of the runtime that loaded this module last: one per process. Node-RED
 * loads a node module once; the test helper loads it again for each flow, which replaces it.
 */
let dialogs: DialogState | undefined;
/** The runtimes whose stop closes the dialog state, so that each is listened to once. */
const listenedTo = new WeakSet<object>();

export = function registerServer(RED: NodeAPI): void {
  const userDir = (RED.settings as { userDir?: string }).userDir;
  /** settings.js `plexButler`: plex.tv's addresses (a stand-in's in tests), the GDM address. */
  const runtimeSettings = (): PlexButlerRuntimeSettings =>
    (RED.settings as { plexButler?: PlexButlerRuntimeSettings }).plexButler ?? {};
  const plexTvOptions = (clientIdentifier: string): PlexTvOptions => ({
    clientIdentifier,
    deviceName: 'Node-RED',
    plexTvUrl: runtimeSettings().plexTvUrl,
    appUrl: runtimeSettings().appUrl,
  });
  const tlsLookup = (id: string): unknown => RED.nodes.getNode(id);

  dialogs?.close();
  const dialogState = new DialogState(RED, runtimeSettings, plexTvOptions);
  dialogs = dialogState;
  if (!listenedTo.has(RED.events)) {
    listenedTo.add(RED.events);
    // The runtime stopping (not a deploy): no sign-in goes on polling plex.tv.
    RED.events.on('runtime-event', (event: { id?: string; payload?: unknown }) => {
      const payload = event.payload as { state?: string; deploy?: boolean } | undefined;
      if (event.id === 'runtime-state' && payload?.state === 'stop' && !payload.deploy) {
        dialogs?.close();
      }
    });
  }

  /** Where a server picked from the account answers now, by plex.tv's list. */
  function locatorFor(machineIdentifier: string, accountToken: string, clientId: string): Locator {
    return async (currentUrl, tls) => {
      const plexTv = new PlexTvClient(plexTvOptions(clientId));
      try {
        const listed = (await plexTv.servers(accountToken)).find(
          (candidate) => candidate.machineIdentifier === machineIdentifier,
        );
        if (!listed) return undefined;
        const connections = relocationConnections(listed, currentUrl);
        return await findMovedServer(listed, connections, currentUrl, clientId, tls);
      } finally {
        plexTv.close();
      }
    };
  }

  function PlexButlerServerNode(this: ButlerServerNode, saved: ServerConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(SERVER_TYPE, saved);
    // Its own and stable: a config without one (an imported example) gets one derived for it.
    const clientId = config.clientId || derivedClientId(userDir, config.id);
    const credentials = (this.credentials ?? {}) as StoredCredentials;
    dialogState.deployed(config.id);
    let baseUrl: string | undefined;
    let options: ButlerClientOptions | ButlerError;
    let pollSeconds = LIMITS.pollIntervalSeconds.default;
    let boundElsewhere: string | undefined;
    try {
      baseUrl = normaliseBaseUrl(config.url);
      boundElsewhere = tokenBoundElsewhere(credentials, baseUrl);
      if (boundElsewhere !== undefined) {
        throw new ButlerError(
          'invalid-config',
          message('errors.tokenForOther', { url: boundElsewhere }),
        );
      }
      options = clientOptionsOf(
        {
          url: config.url,
          token: credentials.token ?? '',
          clientId,
          tlsMode: config.tlsMode,
          tls: config.tls ?? '',
          plexDirectHash: config.plexDirectHash ?? '',
          ca: config.ca ?? '',
          timeout: config.timeout,
          retries: config.retries,
        },
        tlsLookup,
      );
      // Checked now, as the client will: a config that cannot make one says so at deploy.
      resolveClientOptions(options);
      pollSeconds = checkNumber(config.pollInterval, LIMITS.pollIntervalSeconds);
    } catch (error) {
      options = asButlerError(error);
      this.error(
        wordsOf(
          RED,
          message('errors.serverConfig', {
            name: config.name || config.id,
            detail: options.messageRef,
          }),
        ),
      );
    }
    this.serverName = config.name || (baseUrl ? new URL(baseUrl).host : '');
    this.clientId = clientId;
    this.deployedToken = {
      token: credentials.token,
      configuredUrl: baseUrl,
      boundElsewhere,
    };
    const relocatable = config.machineId && credentials.accountToken;
    this.connection = new ServerConnection({
      options,
      baseUrl,
      watchOptions: { pollIntervalMs: pollSeconds * 1000 },
      ...(relocatable
        ? { locate: locatorFor(textOf(config.machineId), credentials.accountToken ?? '', clientId) }
        : {}),
      moved: (url) =>
        this.log(wordsOf(RED, message('message.serverMoved', { name: this.serverName, url }))),
    });
    this.on('close', (done: () => void) => {
      this.connection.close();
      done();
    });
  }

  RED.nodes.registerType(
    SERVER_TYPE,
    PlexButlerServerNode as unknown as (this: Node, def: NodeDef) => void,
    {
      credentials: {
        token: { type: 'password' },
        accountToken: { type: 'password' },
        tokenFor: { type: 'password' },
      },
      // The editor checks its fields by these (resources/common.js): no copy of them there.
      settings: {
        plexButlerServerRules: { value: editorRules(), exportable: true },
      },
    },
  );

  const clientIdFor = (values: { clientId?: unknown }, id: string): string => {
    const deployed = RED.nodes.getNode(id) as ButlerServerNode | null;
    return textOf(values.clientId) || deployed?.clientId || derivedClientId(userDir, id);
  };
  const context = {
    RED,
    dialogs: dialogState,
    clientIdFor,
    tlsLookup,
    runtimeSettings,
    plexTvOptions,
  };
  registerConnectionRoutes(context);
  registerAccountRoutes(context);
  registerPanelRoutes(context);
};
