/**
 * Which token may go to which address: every rule, in one place, as pure functions. The editor
 * holds no copy of any of them: it sends what the user typed, or the saved-password sentinel,
 * and does what the runtime's answer says. test/nodes/token-policy.test.ts lists each rule once.
 *
 * Words: the *saved* token is the one in the config node's credentials; a *chosen* server is
 * one picked from the account in an open dialog; a *kept* server is one chosen in a dialog
 * closed with Done, until the config is deployed; the *deployed* token is the one the running
 * config node started with.
 */
import { createHash } from 'node:crypto';
import { listsAddress, normaliseBaseUrl, type PlexServerResource } from '../../lib';

/** Node-RED's placeholder for a saved password field that was not changed. */
export const SAVED_PASSWORD = '__PWRD__';
const ENV_REFERENCE = /^\$\{(\w+)\}$/;

/** A server config's credentials, as Node-RED keeps them on the runtime side. */
export interface StoredCredentials {
  token?: string;
  /** The plex.tv token of a sign-in: lists the account's servers, finds a moved one again. */
  accountToken?: string;
  /** Which address a token chosen from the account was kept for: see tokenBinding. */
  tokenFor?: string;
}

/** A server chosen from the account in a dialog: its address and the token that goes there. */
export interface ChosenServer {
  url: string;
  token: string;
  machineIdentifier: string;
}

/** What the running config node started with, for the editor's requests. */
export interface DeployedToken {
  token?: string;
  /** The address it was deployed with (normalised). */
  configuredUrl?: string;
  /** Set when the saved token was chosen for another address than the configured one. */
  boundElsewhere?: string;
}

/** Rule: `${NAME}` stands for an environment variable of the runtime (a whole value only). */
export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env): string {
  const match = ENV_REFERENCE.exec(value.trim());
  return match ? (env[match[1]] ?? '') : value;
}

/** Rule: an empty or unchanged password field means the saved token, never a typed one. */
export function meansSavedToken(field: string): boolean {
  return field === '' || field === SAVED_PASSWORD;
}

function digestOf(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/**
 * Rule: a token chosen from the account belongs to one address. Kept beside it in the
 * credentials (with a digest of the token, so that a token typed later is not bound by it),
 * this holds even when Done was followed by discarding the editor's changes: the credentials
 * are saved with the next deploy of anything, the URL may then still be the old one.
 */
export function tokenBinding(url: string, token: string): string {
  return `${digestOf(token)} ${url}`;
}

/** The address the saved token was chosen for, when that is not `url` (see tokenBinding). */
export function tokenBoundElsewhere(saved: StoredCredentials, url: string): string | undefined {
  const [digest, boundUrl] = (saved.tokenFor ?? '').split(' ');
  if (!digest || !boundUrl || !saved.token || digest !== digestOf(saved.token)) return undefined;
  return boundUrl === url ? undefined : boundUrl;
}

/**
 * Rule: the deployed config node lets its saved token go to the address it was deployed with,
 * or the one it has moved to (`currentUrl`), while the saved token is still the deployed one
 * and is not bound to another address.
 */
export function deployedAccepts(
  deployed: DeployedToken,
  currentUrl: string | undefined,
  url: string,
  token: string,
): boolean {
  return (
    deployed.token !== undefined &&
    deployed.boundElsewhere === undefined &&
    expandEnv(token) === expandEnv(deployed.token) &&
    (url === deployed.configuredUrl || url === currentUrl)
  );
}

/** What an editor request for the saved token is checked against. */
export interface SavedTokenRequest {
  /** The address the request would send it to (normalised). */
  url: string;
  saved: StoredCredentials;
  /** The server chosen in this dialog, if any. */
  chosen?: ChosenServer;
  /** The server chosen in a dialog closed with Done, not deployed yet. */
  kept?: ChosenServer;
  /** Whether the deployed node accepts the saved token at `url` (see deployedAccepts). */
  deployedAccepts?: (url: string, token: string) => boolean;
  /** Whether a config node with this id is deployed. */
  deployed: boolean;
}

export type SavedTokenAnswer =
  { token: string } | { refused: 'no-token' } | { refused: 'address-differs' };

/**
 * Rule: the saved token goes only to the address it belongs to: the server chosen in this
 * dialog, the one kept by Done (while the saved token is still its), or the deployed address
 * (see deployedAccepts). Never an address typed into the dialog, never a token meant for
 * another server.
 */
export function savedTokenFor(request: SavedTokenRequest): SavedTokenAnswer {
  const { url, saved, chosen, kept } = request;
  if (chosen && chosen.url === url) return { token: chosen.token };
  if (!saved.token || (!request.deployed && !kept && !chosen)) return { refused: 'no-token' };
  const allowed =
    (kept !== undefined && kept.url === url && kept.token === saved.token) ||
    request.deployedAccepts?.(url, saved.token) === true;
  return allowed ? { token: expandEnv(saved.token) } : { refused: 'address-differs' };
}

/**
 * Rule: the owner's server takes the account's token; a shared server only its own access
 * token, never the account's, which would give its owner the whole account.
 */
export function serverTokenFor(
  server: Pick<PlexServerResource, 'owned' | 'accessToken'>,
  accountToken: string,
): string | undefined {
  return server.owned ? accountToken : server.accessToken || undefined;
}

/**
 * Rule: a server address found on the LAN gets the account's token only when plex.tv lists it
 * for that server: a server's identifier is no secret on the LAN (GDM announces it), so any
 * host could claim it.
 */
export function lanAddressMayGetToken(server: PlexServerResource, url: string): boolean {
  return listsAddress(server, url);
}

/**
 * Rule: a server found on the LAN that is not one of the signed-in account's gets no saved
 * token: the dialog's token field is emptied, and the user types the server's own.
 */
export type TokenField = 'chosen' | 'cleared';
export function tokenFieldAfterPick(ofAccount: boolean): TokenField {
  return ofAccount ? 'chosen' : 'cleared';
}

/**
 * Rule: on Done, the chosen server's token is kept only when the token field was left as the
 * runtime filled it (the sentinel) and the dialog's address is still the chosen server's: a
 * token never goes to an address typed or picked after the choice.
 */
export function serverToKeep(
  chosen: ChosenServer | undefined,
  tokenFieldLeftSaved: boolean,
  dialogUrl: string | undefined,
): ChosenServer | undefined {
  return tokenFieldLeftSaved && chosen !== undefined && chosen.url === dialogUrl
    ? chosen
    : undefined;
}

/**
 * Rule: a user who may only read flows may have the runtime use a deployed server's saved token
 * at its deployed address, and nothing else: no typed token, no other address, and nothing they
 * send is expanded from the environment (`savedUrl` is the URL as saved, `${…}` unexpanded).
 */
export function readerMayUse(
  request: { url: string; token: string },
  deployed: { savedUrl?: string; baseUrl?: string } | undefined,
): boolean {
  if (!deployed || !meansSavedToken(request.token)) return false;
  const url = request.url.trim();
  if (url === '') return true;
  if (deployed.savedUrl !== undefined && url === deployed.savedUrl.trim()) return true;
  if (url.includes('${')) return false;
  try {
    return normaliseBaseUrl(url) === deployed.baseUrl;
  } catch {
    return false;
  }
}

/**
 * Rule: a server that moved is looked for only where its token may follow: never from https to
 * http, where the token would travel in the clear.
 */
export function relocationConnections(
  server: PlexServerResource,
  currentUrl: string,
): PlexServerResource['connections'] {
  return currentUrl.startsWith('https:')
    ? server.connections.filter(({ protocol }) => protocol === 'https')
    : server.connections;
}
