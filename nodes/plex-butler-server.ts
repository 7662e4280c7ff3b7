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
} from '../lib';
import { derivedClientId } from './client-id';
import { SERVER_TYPE, asButlerError, wordsOf, type ButlerServerNode } from './common';
import { migrateConfig } from './migrations';

interface ServerConfig extends NodeDef {
  url: string;
  clientId: string;
  verifyTls: boolean | string;
  ca: string;
  timeout: number | string;
  retries: number | string;
  /** Seconds between GET /activities reads when the notification socket is refused. */
  pollInterval?: number | string;
}

interface ServerCredentials {
  token?: string;
}

/** What the editor sends to the admin endpoints: the dialog's current, maybe unsaved, values. */
interface EditorSettings {
  id?: unknown;
  server?: unknown;
  url?: unknown;
  token?: unknown;
  clientId?: unknown;
  verifyTls?: unknown;
  ca?: unknown;
  timeout?: unknown;
  retries?: unknown;
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
  verifyTls: unknown;
  ca: string;
  timeout: unknown;
  retries: unknown;
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

function clientOptionsFor(settings: ClientSettings): ButlerClientOptions {
  return {
    url: settings.url,
    token: settings.token,
    clientIdentifier: settings.clientId,
    tls: {
      verify: settings.verifyTls !== false && settings.verifyTls !== 'false',
      ...(settings.ca.trim() !== '' ? { ca: settings.ca } : {}),
    },
    // Checked by the library: empty means the default, anything else must be in range.
    timeoutMs: settings.timeout as number | undefined,
    retry: { retries: settings.retries as number | undefined },
    deviceName: 'Node-RED',
  };
}

function clientFor(settings: ClientSettings): ButlerClient {
  return new ButlerClient(clientOptionsFor(settings));
}

export = function registerServer(RED: NodeAPI): void {
  const userDir = (RED.settings as { userDir?: string }).userDir;

  function PlexButlerServerNode(this: ButlerServerNode, saved: ServerConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(SERVER_TYPE, saved);
    // Its own and stable: a config without one (an imported example) gets one derived for it.
    const clientId = config.clientId || derivedClientId(userDir, config.id);
    const credentials = (this.credentials ?? {}) as ServerCredentials;
    let client: ButlerClient | undefined;
    let clientOptions: ButlerClientOptions | undefined;
    let configError: ButlerError | undefined;
    let watcher: ActivityWatcher | undefined;
    let watcherUsers = 0;
    try {
      this.baseUrl = normaliseBaseUrl(config.url);
      clientOptions = clientOptionsFor({
        url: config.url,
        token: credentials.token ?? '',
        clientId,
        verifyTls: config.verifyTls,
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
    this.on('close', (done: () => void) => {
      watcher?.close();
      watcher = undefined;
      client?.close();
      done();
    });
  }

  RED.nodes.registerType(
    SERVER_TYPE,
    PlexButlerServerNode as unknown as (this: Node, def: NodeDef) => void,
    {
      credentials: { token: { type: 'password' } },
    },
  );

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
      const saved = id ? ((RED.nodes.getCredentials(id) ?? {}) as ServerCredentials) : {};
      const deployedUrl = deployed?.baseUrl;
      if (!saved.token || deployedUrl === undefined) {
        throw new ButlerError('invalid-config', message('errors.noTokenEntered'));
      }
      if (normaliseBaseUrl(url) !== deployedUrl) {
        throw new ButlerError('invalid-config', message('errors.urlDiffers'));
      }
      token = resolveEnv(saved.token);
    } else {
      token = resolveEnv(textOf(body.token));
    }
    return {
      url,
      token,
      clientId:
        textOf(body.clientId) || deployed?.clientId || derivedClientId(userDir, id || 'editor'),
      verifyTls: body.verifyTls,
      ca: textOf(body.ca),
      timeout: body.timeout,
      // The editor waits for the answer: one attempt, no backoff.
      retries: 0,
    };
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
};
