/**
 * Admin routes about one server's connection, for the server dialog and the start and stop
 * dialogs: Test connection, the config's migration (its client identifier and certificate mode)
 * and the task list.
 */
import type { Request, Response } from 'express';
import {
  ButlerClient,
  ButlerError,
  STATIC_TASK_NAMES,
  message,
  normaliseBaseUrl,
  type ButlerTask,
} from '../../lib';
import { SERVER_TYPE, serverNodeOf } from '../core/contract';
import { migrateConfig } from '../core/migrations';
import { asButlerError } from '../core/words';
import { clientOptionsOf, type ConnectionFields } from './client-options';
import {
  answer,
  dialogValuesOf,
  editorMessage,
  refuse,
  textOf,
  type DialogValues,
  type EditorMessage,
} from './editor-contract';
import { storedCredentials, type RouteContext } from './route-context';
import { isDraftId } from './sign-in';
import {
  deployedAccepts,
  expandEnv,
  meansSavedToken,
  readerMayUse,
  savedTokenFor,
} from './token-policy';

export interface ConnectionTested extends EditorMessage {
  version: string;
  taskCount: number;
}

/** A task as the start and stop dialogs list it. */
export type ListedTask = Pick<ButlerTask, 'name' | 'title' | 'description' | 'enabled'>;

export interface TaskList {
  /** live: the server's own list; static: the offline list (with the reason in `error`). */
  source: 'live' | 'static';
  tasks: ListedTask[];
}

function staticList(): ListedTask[] {
  return STATIC_TASK_NAMES.map((name) => ({ name, title: name, description: '', enabled: true }));
}

/** The config node id a request names: `id` (server dialog) or `server` (task dialogs). */
function configIdOf(values: DialogValues): string {
  return textOf(values.id) || textOf(values.server);
}

export function registerConnectionRoutes(context: RouteContext): void {
  const { RED, dialogs } = context;

  /**
   * The fields of a client for a dialog's request: its values, with the saved token only where
   * the token policy lets it go. The editor waits for the answer: one attempt, no backoff.
   */
  function connectionFieldsOf(values: DialogValues): ConnectionFields {
    const id = configIdOf(values);
    // A config saved by release 0.1.0 (from a task dialog) is read as this release reads it.
    const config = migrateConfig(SERVER_TYPE, {
      clientId: textOf(values.clientId),
      tlsMode: values.tlsMode,
      verifyTls: values.verifyTls,
      version: values.version ?? undefined,
    });
    const url = expandEnv(textOf(values.url));
    const field = textOf(values.token);
    let token: string;
    if (meansSavedToken(field)) {
      const draft = textOf(values.draft);
      const deployed = serverNodeOf(RED, id);
      const decision = savedTokenFor({
        url: normaliseBaseUrl(url),
        saved: storedCredentials(RED, id),
        chosen: isDraftId(draft) ? dialogs.signIns.chosen(draft, id) : undefined,
        kept: dialogs.keptServer(id),
        deployed: deployed !== undefined,
        deployedAccepts: deployed
          ? (at, saved) =>
              deployedAccepts(deployed.deployedToken, deployed.connection.baseUrl, at, saved)
          : undefined,
      });
      if ('refused' in decision) {
        throw new ButlerError(
          'invalid-config',
          message(decision.refused === 'no-token' ? 'errors.noTokenEntered' : 'errors.urlDiffers'),
        );
      }
      token = decision.token;
    } else {
      token = expandEnv(field);
    }
    return {
      url,
      token,
      clientId: context.clientIdFor({ ...values, clientId: config.clientId }, id || 'editor'),
      tlsMode: config.tlsMode,
      tls: textOf(values.tls),
      plexDirectHash: textOf(values.plexDirectHash),
      ca: textOf(values.ca),
      timeout: values.timeout,
      retries: 0,
    };
  }

  async function withDialogClient<T>(
    values: DialogValues,
    use: (client: ButlerClient) => Promise<T>,
  ): Promise<T> {
    const client = new ButlerClient(clientOptionsOf(connectionFieldsOf(values), context.tlsLookup));
    try {
      return await use(client);
    } finally {
      client.close();
    }
  }

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

  RED.httpAdmin.post(
    '/plex-butler/test-connection',
    RED.auth.needsPermission(`${SERVER_TYPE}.write`),
    (req: Request, res: Response) => {
      withDialogClient(dialogValuesOf(req), (client) => client.testConnection()).then(
        ({ identity, tasks }) => {
          answer<ConnectionTested>(res, {
            version: identity.version,
            taskCount: tasks.length,
            ...editorMessage(
              message('message.connected', { version: identity.version, count: tasks.length }),
            ),
          });
        },
        (error: unknown) => refuse(res, error),
      );
    },
  );

  /**
   * A config as this release reads it: the client identifier it uses when its saved one is
   * empty (or the one release 0.1.0's examples shared), derived from this installation and the
   * node's id, the same as the runtime uses once deployed; and the certificate mode of a
   * config saved with release 0.1.0's "verify" box. The dialog fills both in, so that saving
   * never registers a new device.
   */
  RED.httpAdmin.post(
    '/plex-butler/migrate',
    RED.auth.needsPermission(`${SERVER_TYPE}.read`),
    (req: Request, res: Response) => {
      const values = dialogValuesOf(req);
      const id = textOf(values.id);
      if (id === '') {
        refuse(res, new ButlerError('invalid-config', message('errors.configUnusable')), 400);
        return;
      }
      const config = migrateConfig(SERVER_TYPE, {
        clientId: textOf(values.clientId),
        tlsMode: values.tlsMode,
        verifyTls: values.verifyTls,
        version: values.version,
      });
      answer(res, {
        clientId: config.clientId || context.clientIdFor({}, id),
        tlsMode: config.tlsMode,
      });
    },
  );

  /**
   * The start and stop dialogs' task list. Read permission reads the list of a deployed server
   * with its saved token; a typed URL or token needs write permission, since it makes the
   * runtime send a request (and a token, maybe from the environment) to an address of the
   * caller's choosing.
   */
  RED.httpAdmin.post(
    '/plex-butler/tasks',
    RED.auth.needsPermission(`${SERVER_TYPE}.read`),
    async (req: Request, res: Response) => {
      const values = dialogValuesOf(req);
      const id = configIdOf(values);
      const deployed = serverNodeOf(RED, id);
      const readsDeployed = readerMayUse(
        { url: textOf(values.url), token: textOf(values.token) },
        deployed && { savedUrl: savedUrlOf(deployed.id), baseUrl: deployed.connection.baseUrl },
      );
      const offline: TaskList = { source: 'static', tasks: staticList() };
      if (!readsDeployed && !(await mayWrite(req))) {
        refuse(res, new ButlerError('forbidden', message('errors.readOnly')), 403, offline);
        return;
      }
      try {
        const tasks =
          readsDeployed && deployed
            ? await deployed.connection.getClient().listTasks()
            : await withDialogClient(values, (client) => client.listTasks());
        answer<TaskList>(res, {
          source: 'live',
          tasks: tasks.map(({ name, title, description, enabled }) => ({
            name,
            title,
            description,
            enabled,
          })),
        });
      } catch (error) {
        refuse(res, asButlerError(error), 200, offline);
      }
    },
  );
}
