import type { Request, Response } from 'express';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import {
  ActivityWatcher,
  ButlerClient,
  ButlerError,
  LIMITS,
  STATIC_TASK_NAMES,
  checkNumber,
  formatMessage,
  message,
  normaliseBaseUrl,
  type MessageRef,
  type ButlerClientOptions,
  PlexTvClient,
  discoverServers,
  listedConnection,
  listsAddress,
  locateServer,
  plexDirectHashOf,
  plexDirectHashOfServer,
  probeIdentity,
  type PlexServerResource,
  type PlexTvOptions,
  type TlsOptions,
  usableConnections,
} from '../lib';
import { derivedClientId } from './client-id';
import {
  SignIns,
  isDraftId,
  tokenBoundElsewhere,
  type ChosenServer,
  type PlexButlerSettings,
  type StoredCredentials,
} from './sign-in';
import {
  MOVED_SERVER_CODES,
  SERVER_TYPE,
  asButlerError,
  wordsOf,
  type ButlerServerNode,
} from './common';

/** How often a server picked from the account may be looked up again on plex.tv. */
const RELOCATE_EVERY_MS = 60_000;
import { migrateConfig } from './migrations';

/** verify: the usual check; plex-direct: a LAN address with the server's own plex.direct
 * certificate; off: no check at all. */
type TlsMode = 'verify' | 'plex-direct' | 'off';
const TLS_MODES: readonly string[] = ['verify', 'plex-direct', 'off'];

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

/** What the editor sends to the admin endpoints: the dialog's current, maybe unsaved, values. */
interface EditorSettings {
  id?: unknown;
  server?: unknown;
  url?: unknown;
  token?: unknown;
  clientId?: unknown;
  tlsMode?: unknown;
  tls?: unknown;
  machineId?: unknown;
  plexDirectHash?: unknown;
  ca?: unknown;
  timeout?: unknown;
  retries?: unknown;
  /** One opening of the dialog: its sign-in and the server chosen in it (see sign-in.ts). */
  draft?: unknown;
  /** A sign-in of the dialog, for its state. */
  session?: unknown;
}

/** The editor's placeholder for a saved password that was not changed. */
const SAVED_PASSWORD = '__PWRD__';
const ENV_REFERENCE = /^\$\{(\w+)\}$/;

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function resolveEnv(value: string): string {
  const match = ENV_REFERENCE.exec(value.trim());
  return match ? (process.env[match[1]] ?? '') : value;
}

/** The settings a client is made from: a deployed config, or the editor dialog's values. */
interface ClientSettings {
  url: string;
  token: string;
  clientId: string;
  tlsMode: unknown;
  tls: string;
  plexDirectHash: string;
  ca: string;
  timeout: unknown;
  retries: unknown;
}

/** https to a host that is not a plex.direct name, where the server's certificate is a mismatch. */
function isBareHttps(url: string): boolean {
  return url.startsWith('https:') && plexDirectHashOf(url) === undefined;
}

/** The dialog's URL field, normalised, when it holds an https address of the user's own. */
function typedHttpsUrl(text: string): string | undefined {
  try {
    const url = normaliseBaseUrl(text);
    return isBareHttps(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The config node id an editor request names: `id` (test connection) or `server` (task list). */
function configIdOf(body: EditorSettings): string {
  return textOf(body.id) || textOf(body.server);
}

/** An empty or unchanged password field means: use the token saved with the deployed config. */
function wantsSavedToken(body: EditorSettings): boolean {
  const token = textOf(body.token);
  return token === '' || token === SAVED_PASSWORD;
}

interface TlsConfigNode {
  addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}

export = function registerServer(RED: NodeAPI): void {
  const userDir = (RED.settings as { userDir?: string }).userDir;
  /** settings.js `plexButler`: plex.tv's addresses (a stand-in's in tests), the GDM address. */
  const plexButlerSettings = (): PlexButlerSettings =>
    (RED.settings as { plexButler?: PlexButlerSettings }).plexButler ?? {};
  const plexTvOptions = (clientIdentifier: string): PlexTvOptions => ({
    clientIdentifier,
    deviceName: 'Node-RED',
    plexTvUrl: plexButlerSettings().plexTvUrl,
    appUrl: plexButlerSettings().appUrl,
  });
  const signIns = new SignIns(RED, plexButlerSettings, plexTvOptions);
  /**
   * A server chosen in a dialog closed with Done, until the config is deployed: its saved
   * token may go to that address, as long as the saved token is still that server's.
   */
  const kept = new Map<string, ChosenServer>();

  /** Our TLS mode, our CA and a tls-config node's CA and client certificate, together. */
  function tlsOptionsFor(settings: ClientSettings): TlsOptions {
    const mode: TlsMode = TLS_MODES.includes(String(settings.tlsMode))
      ? (settings.tlsMode as TlsMode)
      : 'verify';
    const node = settings.tls
      ? (RED.nodes.getNode(settings.tls) as unknown as TlsConfigNode | null)
      : null;
    const extra = node && typeof node.addTLSOptions === 'function' ? node.addTLSOptions({}) : {};
    const ca = [settings.ca, extra.ca].filter(
      (pem): pem is string | Buffer =>
        (typeof pem === 'string' || Buffer.isBuffer(pem)) && String(pem).trim() !== '',
    );
    return {
      // The plex-direct mode is a check of its own: a tls-config node cannot turn it off.
      verify: mode === 'plex-direct' || (mode !== 'off' && extra.rejectUnauthorized !== false),
      ...(mode === 'plex-direct'
        ? { plexDirect: true, plexDirectHash: settings.plexDirectHash }
        : {}),
      ...(ca.length > 0 ? { ca } : {}),
      ...(extra.cert ? { cert: extra.cert as string } : {}),
      ...(extra.key ? { key: extra.key as string } : {}),
      ...(typeof extra.passphrase === 'string' ? { passphrase: extra.passphrase } : {}),
      ...(typeof extra.servername === 'string' && extra.servername
        ? { servername: extra.servername }
        : {}),
    };
  }

  function clientOptionsFor(settings: ClientSettings): ButlerClientOptions {
    return {
      url: settings.url,
      token: settings.token,
      clientIdentifier: settings.clientId,
      tls: tlsOptionsFor(settings),
      // Checked by the library: empty means the default, anything else must be in range.
      timeoutMs: settings.timeout as number | undefined,
      retry: { retries: settings.retries as number | undefined },
      deviceName: 'Node-RED',
    };
  }

  function clientFor(settings: ClientSettings): ButlerClient {
    return new ButlerClient(clientOptionsFor(settings));
  }

  function PlexButlerServerNode(this: ButlerServerNode, saved: ServerConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(SERVER_TYPE, saved);
    // Its own and stable: a config without one (an imported example) gets one derived for it.
    const clientId = config.clientId || derivedClientId(userDir, config.id);
    const credentials = (this.credentials ?? {}) as StoredCredentials;
    // Deployed: what the dialog chose is this node's now.
    kept.delete(config.id);
    const deployedToken = credentials.token;
    let configuredUrl: string | undefined;
    let boundUrl: string | undefined;
    let client: ButlerClient | undefined;
    let clientOptions: ButlerClientOptions | undefined;
    let configError: ButlerError | undefined;
    let watcher: ActivityWatcher | undefined;
    let watcherUsers = 0;
    try {
      this.baseUrl = normaliseBaseUrl(config.url);
      configuredUrl = this.baseUrl;
      boundUrl = tokenBoundElsewhere(credentials, this.baseUrl);
      if (boundUrl !== undefined) {
        throw new ButlerError('invalid-config', message('errors.tokenForOther', { url: boundUrl }));
      }
      clientOptions = clientOptionsFor({
        url: config.url,
        token: credentials.token ?? '',
        clientId,
        tlsMode: config.tlsMode,
        tls: config.tls ?? '',
        plexDirectHash: config.plexDirectHash ?? '',
        ca: config.ca ?? '',
        timeout: config.timeout,
        retries: config.retries,
      });
      const pollSeconds = checkNumber(config.pollInterval, LIMITS.pollIntervalSeconds);
      this.watchOptions = { pollIntervalMs: pollSeconds * 1000 };
      client = new ButlerClient(clientOptions);
    } catch (error) {
      configError = asButlerError(error);
      this.error(
        wordsOf(
          RED,
          message('errors.serverConfig', {
            name: config.name || config.id,
            detail: configError.messageRef,
          }),
        ),
      );
    }
    this.serverName = config.name || (this.baseUrl ? new URL(this.baseUrl).host : '');
    this.clientId = clientId;
    this.watchOptions ??= { pollIntervalMs: LIMITS.pollIntervalSeconds.default * 1000 };
    this.getClient = (): ButlerClient => {
      if (!client) {
        throw configError ?? new ButlerError('invalid-config', message('errors.configUnusable'));
      }
      return client;
    };
    // One notification socket per server, opened for the first user, closed after the last.
    this.acquireWatcher = (): ActivityWatcher => {
      if (!clientOptions || !client) {
        throw configError ?? new ButlerError('invalid-config', message('errors.configUnusable'));
      }
      if (!watcher) {
        watcher = new ActivityWatcher(clientOptions, this.watchOptions);
        watcher.on('status', (status) => {
          if (status.state === 'reconnecting' && MOVED_SERVER_CODES.has(status.error?.code ?? '')) {
            void this.relocate?.();
          }
        });
        watcher.start();
      }
      watcherUsers += 1;
      return watcher;
    };
    this.releaseWatcher = (): void => {
      watcherUsers = Math.max(0, watcherUsers - 1);
      if (watcherUsers === 0) {
        watcher?.close();
        watcher = undefined;
      }
    };
    this.acceptsSavedToken = (url: string, token: string): boolean =>
      deployedToken !== undefined &&
      // Bound to the deployed address (which a relocation may have moved on from), not another.
      boundUrl === undefined &&
      resolveEnv(token) === resolveEnv(deployedToken) &&
      (url === configuredUrl || url === this.baseUrl);
    const retired = new Set<ButlerClient>();
    let lastLookup = 0;
    this.relocate = async (): Promise<boolean> => {
      const accountToken = credentials.accountToken;
      const machineIdentifier = config.machineId;
      if (!machineIdentifier || !accountToken || !clientOptions || !client) return false;
      // plex.tv is asked at most once a minute, whatever fails how often.
      if (Date.now() - lastLookup < RELOCATE_EVERY_MS) return false;
      lastLookup = Date.now();
      const plexTv = new PlexTvClient(plexTvOptions(clientId));
      try {
        const listed = (await plexTv.servers(accountToken)).find(
          (candidate) => candidate.machineIdentifier === machineIdentifier,
        );
        if (!listed || !clientOptions || !client) return false;
        // Never from https to http: the token would then travel in the clear.
        const secure = (this.baseUrl ?? '').startsWith('https:');
        const server: PlexServerResource = secure
          ? {
              ...listed,
              connections: listed.connections.filter(({ protocol }) => protocol === 'https'),
            }
          : listed;
        // A renewed certificate comes with new plex.direct names: the hash plex.tv lists now.
        const tls: TlsOptions | undefined = clientOptions.tls?.plexDirect
          ? {
              ...clientOptions.tls,
              plexDirectHash: plexDirectHashOfServer(listed) ?? clientOptions.tls.plexDirectHash,
            }
          : clientOptions.tls;
        const found = await locateServer(server, {
          clientIdentifier: clientId,
          ...(tls ? { tls } : {}),
        });
        const url = normaliseBaseUrl(found.url);
        if (url === this.baseUrl || !clientOptions || !client) return false;
        const moved: ButlerClientOptions = { ...clientOptions, url, ...(tls ? { tls } : {}) };
        const previous = client;
        client = new ButlerClient(moved);
        clientOptions = moved;
        this.baseUrl = url;
        // Requests under way at the old address finish there; the client goes after that.
        retired.add(previous);
        setTimeout(() => {
          retired.delete(previous);
          previous.close();
        }, 30_000).unref();
        watcher?.retarget(moved);
        this.log(wordsOf(RED, message('message.serverMoved', { name: this.serverName, url })));
        return true;
      } catch {
        return false;
      } finally {
        plexTv.close();
      }
    };
    this.on('close', (done: () => void) => {
      watcher?.close();
      watcher = undefined;
      client?.close();
      for (const previous of retired) previous.close();
      retired.clear();
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
      // The start and stop dialogs offer these names while no server is chosen.
      settings: {
        plexButlerServerTaskNames: { value: [...STATIC_TASK_NAMES], exportable: true },
      },
    },
  );

  /** The config node's own client identifier: plex.tv lists it as the device that signed in. */
  function clientIdFor(body: EditorSettings, id: string): string {
    const deployed = RED.nodes.getNode(id) as ButlerServerNode | null;
    return textOf(body.clientId) || deployed?.clientId || derivedClientId(userDir, id);
  }

  /**
   * Settings for an editor request: the dialog's values, with the saved token only when the URL
   * is the deployed one, so that this endpoint cannot be used to send a saved token elsewhere.
   */
  function editorSettings(body: EditorSettings): ClientSettings {
    const id = configIdOf(body);
    const deployed = id ? (RED.nodes.getNode(id) as ButlerServerNode | null) : null;
    const url = resolveEnv(textOf(body.url));
    let token: string;
    if (wantsSavedToken(body)) {
      token = savedTokenFor(id, normaliseBaseUrl(url), textOf(body.draft), deployed);
    } else {
      token = resolveEnv(textOf(body.token));
    }
    return {
      url,
      token,
      clientId: clientIdFor(body, id || 'editor'),
      tlsMode: body.tlsMode,
      tls: textOf(body.tls),
      plexDirectHash: textOf(body.plexDirectHash),
      ca: textOf(body.ca),
      timeout: body.timeout,
      // The editor waits for the answer: one attempt, no backoff.
      retries: 0,
    };
  }

  /**
   * The token for an unchanged token field, and only for the address it belongs to: the
   * server chosen in this dialog, the one chosen in a dialog closed with Done (while the saved
   * token is still its), or the deployed address (while the saved token is still the deployed
   * one). Never an address typed into the dialog, never a token meant for another server.
   */
  function savedTokenFor(
    id: string,
    url: string,
    draftId: string,
    deployed: ButlerServerNode | null,
  ): string {
    const chosen = isDraftId(draftId) ? signIns.chosen(draftId, id) : undefined;
    if (chosen && chosen.url === url) return chosen.token;
    const saved = id ? ((RED.nodes.getCredentials(id) ?? {}) as StoredCredentials) : {};
    if (!saved.token || (!deployed && !kept.has(id) && !chosen)) {
      throw new ButlerError('invalid-config', message('errors.noTokenEntered'));
    }
    const keptServer = kept.get(id);
    const allowed =
      (keptServer !== undefined && keptServer.url === url && keptServer.token === saved.token) ||
      deployed?.acceptsSavedToken?.(url, saved.token) === true;
    if (!allowed) throw new ButlerError('invalid-config', message('errors.urlDiffers'));
    return resolveEnv(saved.token);
  }

  async function withEditorClient<T>(
    body: EditorSettings,
    use: (client: ButlerClient) => Promise<T>,
  ): Promise<T> {
    const client = clientFor(editorSettings(body));
    try {
      return await use(client);
    } finally {
      client.close();
    }
  }

  /**
   * A message for the editor: the reference, which the dialog words in the editor's language
   * from the same catalog, and the English words for anything that cannot.
   */
  function editorMessage(ref: MessageRef): { message: string; messageRef: MessageRef } {
    return { message: formatMessage(ref), messageRef: ref };
  }

  function requestBody(req: Request): EditorSettings {
    return typeof req.body === 'object' && req.body !== null ? (req.body as EditorSettings) : {};
  }

  RED.httpAdmin.post(
    '/plex-butler/test-connection',
    RED.auth.needsPermission(`${SERVER_TYPE}.write`),
    (req: Request, res: Response) => {
      withEditorClient(requestBody(req), (client) => client.testConnection())
        .then(({ identity, tasks }) => {
          res.json({
            ok: true,
            version: identity.version,
            taskCount: tasks.length,
            ...editorMessage(
              message('message.connected', { version: identity.version, count: tasks.length }),
            ),
          });
        })
        .catch((error: unknown) => {
          const failure = asButlerError(error);
          res.json({ ok: false, code: failure.code, ...editorMessage(failure.messageRef) });
        });
    },
  );

  /**
   * The client identifier a config uses when its saved one is empty (or the one release 0.1.0's
   * examples shared): derived from this installation and the node's id, the same as the runtime
   * uses once deployed. The dialog fills it in, so that saving never registers a new device.
   */
  RED.httpAdmin.post(
    '/plex-butler/client-id',
    RED.auth.needsPermission(`${SERVER_TYPE}.read`),
    (req: Request, res: Response) => {
      const body = requestBody(req) as EditorSettings & { version?: unknown };
      const id = textOf(body.id);
      if (id === '') {
        res.status(400).json({ clientId: null });
        return;
      }
      const config = migrateConfig(SERVER_TYPE, {
        clientId: textOf(body.clientId),
        version: body.version,
      });
      res.json({ clientId: config.clientId || derivedClientId(userDir, id) });
    },
  );

  /**
   * Whether the caller may change server configs, by Node-RED's own permission check: always
   * true without adminAuth. A refusal is logged by Node-RED as an audit event.
   */
  function mayWrite(req: Request): Promise<boolean> {
    return new Promise((resolve) => {
      const refused = (): void => resolve(false);
      // A stand-in for the answer, so that a refusal reaches us instead of the caller.
      const probe = {
        status: () => probe,
        end: refused,
        setHeader: () => probe,
        json: refused,
        send: refused,
      };
      const check = RED.auth.needsPermission(`${SERVER_TYPE}.write`) as unknown as (
        req: Request,
        res: unknown,
        next: () => void,
      ) => void;
      check(req, probe, () => resolve(true));
    });
  }

  /**
   * The raw URL of a deployed config node, as saved (`${PLEX_URL}` stays unexpanded): a
   * reader's URL is compared with it as text, and never expanded from the environment.
   */
  function savedUrlOf(id: string): string | undefined {
    let saved: string | undefined;
    RED.nodes.eachNode((node: { id?: string; type?: string; url?: unknown }) => {
      if (node.id === id && node.type === SERVER_TYPE && typeof node.url === 'string') {
        saved = node.url;
      }
    });
    return saved;
  }

  /** The request asks for nothing but the deployed server's list with its saved token. */
  function onlyDeployed(body: EditorSettings, deployed: ButlerServerNode | null): boolean {
    if (!deployed || deployed.type !== SERVER_TYPE || !wantsSavedToken(body)) return false;
    const url = textOf(body.url).trim();
    if (url === '') return true;
    const saved = savedUrlOf(deployed.id);
    if (saved !== undefined && url === saved.trim()) return true;
    if (url.includes('${')) return false;
    try {
      return normaliseBaseUrl(url) === deployed.baseUrl;
    } catch {
      return false;
    }
  }

  function staticList(): Array<{
    name: string;
    title: string;
    description: string;
    enabled: boolean;
  }> {
    return STATIC_TASK_NAMES.map((name) => ({ name, title: name, description: '', enabled: true }));
  }

  /**
   * The editor's task list. Read permission reads the list of a deployed server with its saved
   * token; a typed URL or token needs write permission, since it makes the runtime send a
   * request (and a token, maybe from the environment) to an address of the caller's choosing.
   */
  RED.httpAdmin.post(
    '/plex-butler/tasks',
    RED.auth.needsPermission(`${SERVER_TYPE}.read`),
    async (req: Request, res: Response) => {
      const body = requestBody(req);
      const id = configIdOf(body);
      const deployed = id ? (RED.nodes.getNode(id) as ButlerServerNode | null) : null;
      const readsDeployed = onlyDeployed(body, deployed);
      if (!readsDeployed && !(await mayWrite(req))) {
        res.status(403).json({
          source: 'static',
          tasks: staticList(),
          error: { code: 'forbidden', ...editorMessage(message('errors.readOnly')) },
        });
        return;
      }
      try {
        const tasks = readsDeployed
          ? await (deployed as ButlerServerNode).getClient().listTasks()
          : await withEditorClient(body, (client) => client.listTasks());
        res.json({
          source: 'live',
          tasks: tasks.map(({ name, title, description, enabled }) => ({
            name,
            title,
            description,
            enabled,
          })),
        });
      } catch (error) {
        const failure = asButlerError(error);
        res.json({
          source: 'static',
          tasks: staticList(),
          error: { code: failure.code, ...editorMessage(failure.messageRef) },
        });
      }
    },
  );

  // ---- Sign in with Plex, the account's servers, discovery ---------------------------------
  // All of them make the runtime talk to plex.tv or the network, or change a config's token:
  // write permission, like Test connection.
  const mayChange = RED.auth.needsPermission(`${SERVER_TYPE}.write`);

  function failed(res: Response, error: unknown, status = 200): void {
    const failure = asButlerError(error);
    res
      .status(status)
      .json({ ok: false, error: { code: failure.code, ...editorMessage(failure.messageRef) } });
  }

  /** The plex.tv token for a config: of the dialog's sign-in, else the one saved with it. */
  function accountTokenFor(body: EditorSettings, id: string): string {
    const fromDialog = signIns.accountToken(textOf(body.draft), id);
    const saved = (RED.nodes.getCredentials(id) ?? {}) as StoredCredentials;
    const token = fromDialog ?? saved.accountToken;
    if (!token) throw new ButlerError('invalid-config', message('errors.noAccount'));
    return token;
  }

  /** The config node id and the dialog's draft id the request names, or a 400 answer. */
  function dialogOrRefuse(body: EditorSettings, res: Response): [string, string] | undefined {
    const id = textOf(body.id);
    const draft = body.draft;
    if (id === '' || !isDraftId(draft)) {
      failed(res, new ButlerError('invalid-config', message('errors.configUnusable')), 400);
      return undefined;
    }
    return [id, draft];
  }

  RED.httpAdmin.post('/plex-butler/sign-in', mayChange, async (req: Request, res: Response) => {
    const body = requestBody(req);
    const dialog = dialogOrRefuse(body, res);
    if (dialog === undefined) return;
    const [id, draft] = dialog;
    try {
      const started = await signIns.start(id, draft, clientIdFor(body, id));
      res.json({ ok: true, ...started });
    } catch (error) {
      failed(res, error);
    }
  });

  function signInAnswer(res: Response, view: ReturnType<SignIns['status']>): void {
    if (!view) {
      res.status(404).json({ ok: false, state: 'unknown' });
      return;
    }
    res.json({
      ok: true,
      state: view.state,
      expiresAt: view.expiresAt,
      ...(view.username ? { username: view.username } : {}),
      ...(view.message ? editorMessage(view.message) : {}),
    });
  }

  RED.httpAdmin.post('/plex-butler/sign-in/status', mayChange, (req: Request, res: Response) => {
    const body = requestBody(req);
    signInAnswer(res, signIns.status(textOf(body.session), textOf(body.id)));
  });

  RED.httpAdmin.post('/plex-butler/sign-in/cancel', mayChange, (req: Request, res: Response) => {
    const body = requestBody(req);
    signInAnswer(res, signIns.cancel(textOf(body.session), textOf(body.id)));
  });

  RED.httpAdmin.post('/plex-butler/servers', mayChange, async (req: Request, res: Response) => {
    const body = requestBody(req);
    const dialog = dialogOrRefuse(body, res);
    if (dialog === undefined) return;
    const [id] = dialog;
    const plexTv = new PlexTvClient(plexTvOptions(clientIdFor(body, id)));
    try {
      const servers = await plexTv.servers(accountTokenFor(body, id));
      res.json({
        ok: true,
        // Names and states only: no token and no address goes to the editor from here.
        servers: servers.map(({ machineIdentifier, name, owned, online }) => ({
          machineIdentifier,
          name,
          owned,
          online,
        })),
      });
    } catch (error) {
      failed(res, error);
    } finally {
      plexTv.close();
    }
  });

  /**
   * Where a server of the account answers: the address the dialog found on the LAN (when the
   * server there says it is that server), else an https address typed in the dialog (when
   * plex.tv lists it and the server answers there with its own certificate), else the best of
   * the addresses plex.tv lists.
   */
  async function whereIs(
    server: PlexServerResource,
    urls: { lan: string; typed: string },
    clientIdentifier: string,
    tls: TlsOptions,
  ): Promise<{ url: string; local: boolean; relay: boolean }> {
    const hash = plexDirectHashOfServer(server);
    // A bare address over https shows the server's plex.direct certificate: checked as its own.
    const tlsAt = (url: string): TlsOptions =>
      isBareHttps(url) && hash
        ? { ...tls, verify: true, plexDirect: true, plexDirectHash: hash }
        : tls;
    const answersAs = (url: string): Promise<boolean> =>
      probeIdentity({ url, clientIdentifier, tls: tlsAt(url), timeoutMs: 5000 }).then(
        ({ identity }) => identity.machineIdentifier === server.machineIdentifier,
        () => false,
      );
    if (urls.lan === '') {
      const typed = typedHttpsUrl(urls.typed);
      const listed = typed && hash ? listedConnection(usableConnections(server), typed) : undefined;
      // Both at once: a typed address that does not answer costs no extra time. The outcome
      // is held as a value, so that a failure while the typed address is asked is not an
      // unhandled rejection.
      const located = locateServer(server, { clientIdentifier, tls }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      if (typed && listed && (await answersAs(typed))) {
        return { url: typed, local: listed.local, relay: listed.relay };
      }
      const outcome = await located;
      if ('error' in outcome) throw outcome.error;
      const found = outcome.value;
      return {
        url: normaliseBaseUrl(found.url),
        local: found.connection.local,
        relay: found.connection.relay,
      };
    }
    let url = normaliseBaseUrl(urls.lan);
    // A server's identifier is no secret on the LAN (GDM announces it): the address must also
    // be one plex.tv lists for the server, or any host claiming the identifier would get the token.
    if (!listsAddress(server, url)) {
      throw new ButlerError(
        'invalid-config',
        message('errors.lanNotListed', { url, name: server.name }),
      );
    }
    // GDM gives http; a server that requires secure connections answers https on the same port.
    if (server.httpsRequired && url.startsWith('http:')) url = `https:${url.slice(5)}`;
    const { identity } = await probeIdentity({
      url,
      clientIdentifier,
      tls: tlsAt(url),
      timeoutMs: 5000,
    });
    if (identity.machineIdentifier !== server.machineIdentifier) {
      throw new ButlerError(
        'not-found',
        message('errors.unknownServer', { id: server.machineIdentifier }),
      );
    }
    return { url, local: true, relay: false };
  }

  RED.httpAdmin.post(
    '/plex-butler/servers/choose',
    mayChange,
    async (req: Request, res: Response) => {
      const body = requestBody(req) as EditorSettings & {
        machineIdentifier?: unknown;
        typedUrl?: unknown;
      };
      const dialog = dialogOrRefuse(body, res);
      if (dialog === undefined) return;
      const [id, draft] = dialog;
      const clientIdentifier = clientIdFor(body, id);
      const plexTv = new PlexTvClient(plexTvOptions(clientIdentifier));
      try {
        const accountToken = accountTokenFor(body, id);
        const wanted = textOf(body.machineIdentifier);
        const server = (await plexTv.servers(accountToken)).find(
          (candidate) => candidate.machineIdentifier === wanted,
        );
        if (!server) {
          throw new ButlerError('not-found', message('errors.unknownServer', { id: wanted }));
        }
        // The owner's server takes the account's token; a shared one only its own, never the
        // account's, which would give its owner the whole account.
        const serverToken = server.owned ? accountToken : server.accessToken;
        if (!serverToken) {
          throw new ButlerError(
            'invalid-config',
            message('errors.noServerToken', { name: server.name }),
          );
        }
        const plexDirectHash = plexDirectHashOfServer(server) ?? '';
        const found = await whereIs(
          server,
          { lan: textOf(body.url), typed: textOf(body.typedUrl) },
          clientIdentifier,
          tlsOptionsFor({
            url: '',
            token: '',
            clientId: clientIdentifier,
            tlsMode: 'verify',
            tls: textOf(body.tls),
            plexDirectHash: '',
            ca: textOf(body.ca),
            timeout: undefined,
            retries: 0,
          }),
        );
        signIns.choose(draft, id, accountToken, {
          url: found.url,
          token: serverToken,
          machineIdentifier: server.machineIdentifier,
        });
        res.json({
          ok: true,
          url: found.url,
          name: server.name,
          machineIdentifier: server.machineIdentifier,
          plexDirectHash,
          // A bare LAN address over https shows the plex.direct certificate: accept it as this
          // server's own. Any other address is checked as usual.
          tlsMode: isBareHttps(found.url) && plexDirectHash ? 'plex-direct' : 'verify',
          owned: server.owned,
          local: found.local,
          relay: found.relay,
        });
      } catch (error) {
        failed(res, error);
      } finally {
        plexTv.close();
      }
    },
  );

  /** The dialog was closed with Done: what it signed in to and chose becomes the config's. */
  RED.httpAdmin.post('/plex-butler/servers/keep', mayChange, (req: Request, res: Response) => {
    const body = requestBody(req) as EditorSettings & { withServerToken?: unknown };
    const dialog = dialogOrRefuse(body, res);
    if (dialog === undefined) return;
    const [id, draft] = dialog;
    let dialogUrl: string | undefined;
    try {
      dialogUrl = normaliseBaseUrl(resolveEnv(textOf(body.url)));
    } catch {
      // Not a URL: it cannot be the chosen server's, so its token is not kept.
    }
    const server = signIns.keep(draft, id, body.withServerToken === true, dialogUrl);
    if (server) kept.set(id, server);
    res.json({ ok: true, kept: server !== undefined });
  });

  /** The dialog was cancelled: nothing of it is kept. */
  RED.httpAdmin.post('/plex-butler/servers/forget', mayChange, (req: Request, res: Response) => {
    const body = requestBody(req);
    const dialog = dialogOrRefuse(body, res);
    if (dialog === undefined) return;
    signIns.forget(dialog[1], dialog[0]);
    res.json({ ok: true });
  });

  RED.httpAdmin.post('/plex-butler/discover', mayChange, async (_req: Request, res: Response) => {
    try {
      const address = plexButlerSettings().discoveryAddress;
      const servers = await discoverServers(address ? { address } : {});
      res.json({ ok: true, servers });
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      failed(
        res,
        new ButlerError(
          'bad-response',
          message('errors.discovery', { code: typeof code === 'string' ? code : 'error' }),
        ),
      );
    }
  });
};
