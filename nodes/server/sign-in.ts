/**
 * "Sign in with Plex" for a server config node, on the runtime side: a PIN from plex.tv, the
 * approval in the person's browser, the wait for its token, and the server chosen from the
 * account. All of it belongs to one opening of the config dialog (a draft): it is written to
 * the config node's credentials only when the dialog is closed with Done, and forgotten when it
 * is cancelled. The tokens never leave the runtime: the editor learns names and states.
 */
import { randomUUID } from 'node:crypto';
import type { NodeAPI } from 'node-red';
import { ButlerError, PlexTvClient, message, type MessageRef, type PlexTvOptions } from '../../lib';
import { asButlerError } from '../core/words';
import {
  serverToKeep,
  tokenBinding,
  type ChosenServer,
  type StoredCredentials,
} from './token-policy';

/** Node-RED's runtime settings (settings.js `plexButler`): the addresses, real ones by default. */
export interface PlexButlerRuntimeSettings {
  plexTvUrl?: string;
  appUrl?: string;
  /** host:port for GDM searches; default the multicast group 239.0.0.250:32414. */
  discoveryAddress?: string;
  /** How often a PIN is checked while the person signs in; default 1000 (plex.tv's advice). */
  pinPollMs?: number;
}

export type SignInState = 'waiting' | 'signed-in' | 'expired' | 'refused' | 'cancelled' | 'failed';

interface Session {
  id: string;
  configId: string;
  /** The dialog opening the sign-in belongs to. */
  draftId: string;
  state: SignInState;
  expiresAt: number;
  pinId: number;
  client: PlexTvClient;
  timer?: NodeJS.Timeout;
  username?: string;
  reason?: MessageRef;
  endedAt?: number;
}

/** What the editor may know of a sign-in. */
export interface SignInView {
  state: SignInState;
  expiresAt: number;
  username?: string;
  message?: MessageRef;
}

/** Sign-ins waiting at once, at most: each one polls plex.tv. */
const MAX_SESSIONS = 20;
/** How long an ended sign-in can still be asked about. */
const KEEP_ENDED_MS = 10 * 60_000;
/** Open dialogs at once, at most, and how long one is kept without being used. */
const MAX_DRAFTS = 100;
const DRAFT_IDLE_MS = 60 * 60_000;
/** What the editor makes a draft's id from: a UUID. */
const DRAFT_ID = /^[0-9A-Za-z-]{8,64}$/;

/** What one opening of a server config dialog holds on the runtime side, until Done or Cancel. */
interface Draft {
  configId: string;
  touchedAt: number;
  accountToken?: string;
  server?: ChosenServer;
}

/** Whether a draft id from the editor has the shape the editor makes. */
export function isDraftId(value: unknown): value is string {
  return typeof value === 'string' && DRAFT_ID.test(value);
}

export class SignIns {
  private readonly sessions = new Map<string, Session>();
  private readonly drafts = new Map<string, Draft>();

  constructor(
    private readonly RED: NodeAPI,
    private readonly settings: () => PlexButlerRuntimeSettings,
    private readonly plexTvOptions: (clientIdentifier: string) => PlexTvOptions,
  ) {}

  /** Creates the PIN; the editor opens the returned address for the person to approve it. */
  async start(
    configId: string,
    draftId: string,
    clientIdentifier: string,
  ): Promise<{ session: string; authUrl: string; expiresAt: number }> {
    this.prune();
    this.draft(draftId, configId);
    const waiting = [...this.sessions.values()].filter((session) => session.state === 'waiting');
    if (waiting.length >= MAX_SESSIONS) {
      throw new ButlerError('rate-limited', message('errors.tooManySignIns'));
    }
    // One sign-in per config node at a time: a new one replaces the last.
    for (const session of waiting) {
      if (session.configId === configId)
        this.end(session, 'cancelled', message('errors.signInCancelled'));
    }
    const client = new PlexTvClient(this.plexTvOptions(clientIdentifier));
    let pin;
    try {
      pin = await client.createPin();
    } catch (error) {
      client.close();
      throw error;
    }
    const session: Session = {
      id: randomUUID(),
      configId,
      draftId,
      state: 'waiting',
      expiresAt: pin.expiresAt,
      pinId: pin.id,
      client,
    };
    this.sessions.set(session.id, session);
    this.poll(session);
    return { session: session.id, authUrl: client.authUrl(pin), expiresAt: pin.expiresAt };
  }

  status(sessionId: string, configId: string): SignInView | undefined {
    const session = this.find(sessionId, configId);
    if (!session) return undefined;
    return {
      state: session.state,
      expiresAt: session.expiresAt,
      ...(session.username ? { username: session.username } : {}),
      ...(session.reason ? { message: session.reason } : {}),
    };
  }

  /** The person gave up (Cancel in the dialog). */
  cancel(sessionId: string, configId: string): SignInView | undefined {
    const session = this.find(sessionId, configId);
    if (session?.state === 'waiting') {
      this.end(session, 'cancelled', message('errors.signInCancelled'));
    }
    return this.status(sessionId, configId);
  }

  /** The account token a sign-in in this dialog brought, for the server list. */
  accountToken(draftId: string, configId: string): string | undefined {
    return this.existingDraft(draftId, configId)?.accountToken;
  }

  /** The server chosen in this dialog, if any. */
  chosen(draftId: string, configId: string): ChosenServer | undefined {
    return this.existingDraft(draftId, configId)?.server;
  }

  /** A server chosen in this dialog, with the account token it was found with. */
  choose(draftId: string, configId: string, accountToken: string, server: ChosenServer): void {
    const draft = this.draft(draftId, configId);
    draft.accountToken = accountToken;
    draft.server = server;
  }

  /**
   * The dialog was closed with Done: into the config node's credentials, on the runtime side.
   * Node-RED keeps them encrypted and saves them with the next deploy; the editor's token field
   * says "saved" and sends nothing. The server token only when the person left the field so
   * and the dialog's URL is still the chosen server's: a token never goes to an address typed
   * or picked after the choice.
   */
  keep(
    draftId: string,
    configId: string,
    withServerToken: boolean,
    dialogUrl: string | undefined,
  ): ChosenServer | undefined {
    const draft = this.existingDraft(draftId, configId);
    this.forget(draftId, configId);
    if (!draft || (draft.accountToken === undefined && draft.server === undefined)) {
      return undefined;
    }
    const current = (this.RED.nodes.getCredentials(configId) ?? {}) as StoredCredentials;
    const server = serverToKeep(draft.server, withServerToken, dialogUrl);
    void this.RED.nodes.addCredentials(configId, {
      ...current,
      ...(draft.accountToken !== undefined ? { accountToken: draft.accountToken } : {}),
      ...(server ? { token: server.token, tokenFor: tokenBinding(server.url, server.token) } : {}),
    });
    return server;
  }

  /** The dialog was cancelled: its sign-in and its choice are dropped, nothing was written. */
  forget(draftId: string, configId: string): void {
    const draft = this.existingDraft(draftId, configId);
    if (!draft) return;
    this.drafts.delete(draftId);
    for (const session of this.sessions.values()) {
      if (session.draftId === draftId && session.state === 'waiting') {
        this.end(session, 'cancelled', message('errors.signInCancelled'));
      }
    }
  }

  close(): void {
    for (const session of this.sessions.values()) {
      clearTimeout(session.timer);
      session.client.close();
    }
    this.sessions.clear();
    this.drafts.clear();
  }

  private existingDraft(draftId: string, configId: string): Draft | undefined {
    const draft = this.drafts.get(draftId);
    if (!draft || draft.configId !== configId) return undefined;
    draft.touchedAt = Date.now();
    return draft;
  }

  private draft(draftId: string, configId: string): Draft {
    const known = this.drafts.get(draftId);
    if (known && known.configId !== configId) {
      throw new ButlerError('invalid-config', message('errors.configUnusable'));
    }
    if (known) {
      known.touchedAt = Date.now();
      return known;
    }
    this.prune();
    if (this.drafts.size >= MAX_DRAFTS) {
      throw new ButlerError('rate-limited', message('errors.tooManySignIns'));
    }
    const draft: Draft = { configId, touchedAt: Date.now() };
    this.drafts.set(draftId, draft);
    return draft;
  }

  private find(sessionId: string, configId: string): Session | undefined {
    const session = this.sessions.get(sessionId);
    return session && session.configId === configId ? session : undefined;
  }

  private poll(session: Session): void {
    const interval = Math.max(200, Number(this.settings().pinPollMs) || 1000);
    session.timer = setTimeout(() => void this.check(session), interval);
    // A sign-in nobody finishes must not keep Node-RED from stopping.
    session.timer.unref();
  }

  private async check(session: Session): Promise<void> {
    if (session.state !== 'waiting') return;
    if (Date.now() >= session.expiresAt) {
      this.end(session, 'expired', message('errors.signInExpired'));
      return;
    }
    try {
      const pin = await session.client.checkPin(session.pinId);
      if (session.state !== 'waiting') return;
      if (pin.authToken) {
        const account = await session.client.account(pin.authToken);
        if (session.state !== 'waiting') return;
        // Held for the dialog only: nothing is written before Done.
        const draft = this.drafts.get(session.draftId);
        if (draft) draft.accountToken = pin.authToken;
        session.username = account.username;
        this.end(session, 'signed-in', message('message.signedIn', { username: account.username }));
        return;
      }
    } catch (thrown) {
      const error = asButlerError(thrown);
      if (error.code === 'not-found') {
        this.end(session, 'refused', message('errors.signInRefused'));
        return;
      }
      if (error.code === 'unauthorized' || error.code === 'bad-response') {
        this.end(session, 'failed', error.messageRef);
        return;
      }
      // Anything else (plex.tv unreachable for a moment): try again until the PIN expires.
    }
    if (session.state === 'waiting') this.poll(session);
  }

  private end(session: Session, state: SignInState, reason: MessageRef): void {
    clearTimeout(session.timer);
    session.state = state;
    session.reason = reason;
    session.endedAt = Date.now();
    session.client.close();
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, session] of this.sessions) {
      if (session.endedAt !== undefined && now - session.endedAt > KEEP_ENDED_MS) {
        this.sessions.delete(id);
      }
    }
    for (const [id, draft] of this.drafts) {
      if (now - draft.touchedAt > DRAFT_IDLE_MS) this.drafts.delete(id);
    }
  }
}
