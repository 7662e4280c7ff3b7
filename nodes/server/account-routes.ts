/**
 * Admin routes about the user's Plex account, for the server dialog: Sign in with Plex, the
 * account's servers, choosing one, and discovery on the LAN. All of them make the runtime talk
 * to plex.tv or the network, or change a config's token: write permission, like Test
 * connection. Tokens never go to the editor: it learns names and states.
 */
import type { Request, Response } from 'express';
import {
  ButlerError,
  PlexTvClient,
  discoverServers,
  isBareHttps,
  message,
  normaliseBaseUrl,
  pickServerAddress,
  plexDirectHashOfServer,
} from '../../lib';
import { SERVER_TYPE } from '../core/contract';
import { tlsOptionsOf } from './client-options';
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
import { isDraftId, type SignInView } from './sign-in';
import {
  expandEnv,
  lanAddressMayGetToken,
  serverTokenFor,
  tokenFieldAfterPick,
  type TokenField,
} from './token-policy';

/** A sign-in as the dialog shows it. */
export interface SignInShown extends Partial<EditorMessage> {
  state: SignInView['state'];
  expiresAt: number;
  username?: string;
}

/** A server as the dialog's picker lists it: names and states only, no token, no address. */
export interface ServerListed {
  machineIdentifier: string;
  name: string;
  owned: boolean;
  online: boolean;
}

/** The server picked in the dialog, and what its fields become. */
export interface ServerChosen {
  url: string;
  machineIdentifier: string;
  name?: string;
  plexDirectHash: string;
  /** Absent: the dialog's mode stays. */
  tlsMode?: 'verify' | 'plex-direct';
  owned?: boolean;
  local?: boolean;
  relay?: boolean;
  /** What the token field becomes: the runtime holds the chosen server's, or it is emptied. */
  token: TokenField;
}

export function registerAccountRoutes(context: RouteContext): void {
  const { RED, dialogs } = context;
  const mayChange = RED.auth.needsPermission(`${SERVER_TYPE}.write`);
  const signIns = dialogs.signIns;

  /** The plex.tv token for a config: of the dialog's sign-in, else the one saved with it. */
  function accountTokenOf(values: DialogValues, id: string): string | undefined {
    return (
      signIns.accountToken(textOf(values.draft), id) ?? storedCredentials(RED, id).accountToken
    );
  }

  /** The config node id and the dialog's draft id the request names, or a 400 answer. */
  function dialogOrRefuse(values: DialogValues, res: Response): [string, string] | undefined {
    const id = textOf(values.id);
    const draft = values.draft;
    if (id === '' || !isDraftId(draft)) {
      refuse(res, new ButlerError('invalid-config', message('errors.configUnusable')), 400);
      return undefined;
    }
    return [id, draft];
  }

  function plexTvFor(values: DialogValues, id: string): PlexTvClient {
    return new PlexTvClient(context.plexTvOptions(context.clientIdFor(values, id)));
  }

  RED.httpAdmin.post('/plex-butler/sign-in', mayChange, async (req: Request, res: Response) => {
    const values = dialogValuesOf(req);
    const dialog = dialogOrRefuse(values, res);
    if (dialog === undefined) return;
    const [id, draft] = dialog;
    try {
      answer(res, await signIns.start(id, draft, context.clientIdFor(values, id)));
    } catch (error) {
      refuse(res, error);
    }
  });

  function signInAnswer(res: Response, view: SignInView | undefined): void {
    if (!view) {
      refuse(res, new ButlerError('not-found', message('errors.signInUnknown')), 404);
      return;
    }
    answer<SignInShown>(res, {
      state: view.state,
      expiresAt: view.expiresAt,
      ...(view.username ? { username: view.username } : {}),
      ...(view.message ? editorMessage(view.message) : {}),
    });
  }

  RED.httpAdmin.post('/plex-butler/sign-in/status', mayChange, (req: Request, res: Response) => {
    const values = dialogValuesOf(req);
    signInAnswer(res, signIns.status(textOf(values.session), textOf(values.id)));
  });

  RED.httpAdmin.post('/plex-butler/sign-in/cancel', mayChange, (req: Request, res: Response) => {
    const values = dialogValuesOf(req);
    signInAnswer(res, signIns.cancel(textOf(values.session), textOf(values.id)));
  });

  RED.httpAdmin.post('/plex-butler/servers', mayChange, async (req: Request, res: Response) => {
    const values = dialogValuesOf(req);
    const dialog = dialogOrRefuse(values, res);
    if (dialog === undefined) return;
    const [id] = dialog;
    const plexTv = plexTvFor(values, id);
    try {
      const accountToken = accountTokenOf(values, id);
      if (!accountToken) throw new ButlerError('invalid-config', message('errors.noAccount'));
      const servers = await plexTv.servers(accountToken);
      answer<{ servers: ServerListed[] }>(res, {
        servers: servers.map(({ machineIdentifier, name, owned, online }) => ({
          machineIdentifier,
          name,
          owned,
          online,
        })),
      });
    } catch (error) {
      refuse(res, error);
    } finally {
      plexTv.close();
    }
  });

  /**
   * A server picked in the dialog: one of the account's (at the best address plex.tv lists, at
   * an https address typed in the dialog, or at the address found on the LAN), or one found on
   * the LAN that the account does not have, which gets no saved token.
   */
  RED.httpAdmin.post(
    '/plex-butler/servers/choose',
    mayChange,
    async (req: Request, res: Response) => {
      const values = dialogValuesOf(req) as DialogValues & {
        machineIdentifier?: unknown;
        typedUrl?: unknown;
      };
      const dialog = dialogOrRefuse(values, res);
      if (dialog === undefined) return;
      const [id, draft] = dialog;
      const wanted = textOf(values.machineIdentifier);
      const lanUrl = textOf(values.url);
      const clientIdentifier = context.clientIdFor(values, id);
      const plexTv = new PlexTvClient(context.plexTvOptions(clientIdentifier));
      try {
        const accountToken = accountTokenOf(values, id);
        if (!accountToken && lanUrl === '') {
          throw new ButlerError('invalid-config', message('errors.noAccount'));
        }
        const server = accountToken
          ? await plexTv.servers(accountToken).then(
              (servers) => servers.find((candidate) => candidate.machineIdentifier === wanted),
              (error: unknown) => {
                // A server found on the LAN can still be used, without the account's token.
                if (lanUrl === '') throw error;
                return undefined;
              },
            )
          : undefined;
        if (!server || !accountToken) {
          if (lanUrl === '') {
            throw new ButlerError('not-found', message('errors.unknownServer', { id: wanted }));
          }
          answer<ServerChosen>(res, {
            url: normaliseBaseUrl(lanUrl),
            machineIdentifier: wanted,
            plexDirectHash: '',
            token: tokenFieldAfterPick(false),
          });
          return;
        }
        const serverToken = serverTokenFor(server, accountToken);
        if (!serverToken) {
          throw new ButlerError(
            'invalid-config',
            message('errors.noServerToken', { name: server.name }),
          );
        }
        if (lanUrl !== '' && !lanAddressMayGetToken(server, normaliseBaseUrl(lanUrl))) {
          throw new ButlerError(
            'invalid-config',
            message('errors.lanNotListed', { url: normaliseBaseUrl(lanUrl), name: server.name }),
          );
        }
        const plexDirectHash = plexDirectHashOfServer(server) ?? '';
        const found = await pickServerAddress(
          server,
          { lan: lanUrl, typed: textOf(values.typedUrl) },
          clientIdentifier,
          tlsOptionsOf(
            {
              url: '',
              token: '',
              clientId: clientIdentifier,
              tlsMode: 'verify',
              tls: textOf(values.tls),
              plexDirectHash: '',
              ca: textOf(values.ca),
              timeout: undefined,
              retries: 0,
            },
            context.tlsLookup,
          ),
        );
        signIns.choose(draft, id, accountToken, {
          url: found.url,
          token: serverToken,
          machineIdentifier: server.machineIdentifier,
        });
        answer<ServerChosen>(res, {
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
          token: tokenFieldAfterPick(true),
        });
      } catch (error) {
        refuse(res, error);
      } finally {
        plexTv.close();
      }
    },
  );

  /** The dialog was closed with Done: what it signed in to and chose becomes the config's. */
  RED.httpAdmin.post('/plex-butler/servers/keep', mayChange, (req: Request, res: Response) => {
    const values = dialogValuesOf(req) as DialogValues & { withServerToken?: unknown };
    const dialog = dialogOrRefuse(values, res);
    if (dialog === undefined) return;
    const [id, draft] = dialog;
    let dialogUrl: string | undefined;
    try {
      dialogUrl = normaliseBaseUrl(expandEnv(textOf(values.url)));
    } catch {
      // Not a URL: it cannot be the chosen server's, so its token is not kept.
    }
    const server = signIns.keep(draft, id, values.withServerToken === true, dialogUrl);
    if (server) dialogs.keep(id, server);
    answer(res, { kept: server !== undefined });
  });

  /** The dialog was cancelled: nothing of it is kept. */
  RED.httpAdmin.post('/plex-butler/servers/forget', mayChange, (req: Request, res: Response) => {
    const dialog = dialogOrRefuse(dialogValuesOf(req), res);
    if (dialog === undefined) return;
    signIns.forget(dialog[1], dialog[0]);
    answer(res, {});
  });

  RED.httpAdmin.post('/plex-butler/discover', mayChange, async (_req: Request, res: Response) => {
    try {
      const address = context.runtimeSettings().discoveryAddress;
      answer(res, { servers: await discoverServers(address ? { address } : {}) });
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      refuse(
        res,
        new ButlerError(
          'bad-response',
          message('errors.discovery', { code: typeof code === 'string' ? code : 'error' }),
        ),
      );
    }
  });
}
