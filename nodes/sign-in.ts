/**
 * "Sign in with Plex" for a server config node, on the runtime side: a PIN from plex.tv, the
 * approval in the person's browser, the wait for its token, and the token kept in the config
 * node's credentials. The token never leaves the runtime: the editor only learns the account's
 * name and the state of the sign-in.
 */
import { randomUUID } from 'node:crypto';
import type { NodeAPI } from 'node-red';
import { ButlerError, PlexTvClient, message, type MessageRef, type PlexTvOptions } from '../lib';
import { asButlerError } from './common';

/** Node-RED settings (settings.js `plexButler`): the addresses, real ones by default. */
export interface PlexButlerSettings {
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
  state: SignInState;
  expiresAt: number;
  pinId: number;
  client: PlexTvClient;
  timer?: NodeJS.Timeout;
  username?: string;
  /** Runtime only: kept in the config node's credentials, never answered to the editor. */
  accountToken?: string;
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

export interface StoredCredentials {
  token?: string;
  accountToken?: string;
}

export class SignIns {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly RED: NodeAPI,
    private readonly settings: () => PlexButlerSettings,
    private readonly plexTvOptions: (clientIdentifier: string) => PlexTvOptions,
  ) {}

  /** Creates the PIN; the editor opens the returned address for the person to approve it. */
  async start(
    configId: string,
    clientIdentifier: string,
  ): Promise<{ session: string; authUrl: string; expiresAt: number }> {
    this.prune();
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

  /** The person gave up, or closed the plex.tv tab before approving. */
  cancel(sessionId: string, configId: string, closed: boolean): SignInView | undefined {
    const session = this.find(sessionId, configId);
    if (session?.state === 'waiting') {
      this.end(
        session,
        'cancelled',
        message(closed ? 'errors.signInClosed' : 'errors.signInCancelled'),
      );
    }
    return this.status(sessionId, configId);
  }

  /** The account token of a finished sign-in of this config node, for the server list. */
  accountToken(sessionId: string | undefined, configId: string): string | undefined {
    if (!sessionId) return undefined;
    const session = this.find(sessionId, configId);
    return session?.state === 'signed-in' ? session.accountToken : undefined;
  }

  close(): void {
    for (const session of this.sessions.values()) {
      clearTimeout(session.timer);
      session.client.close();
    }
    this.sessions.clear();
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
        this.keep(session.configId, { token: pin.authToken, accountToken: pin.authToken });
        session.accountToken = pin.authToken;
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

  /**
   * Into the config node's credentials, on the runtime side: Node-RED keeps them encrypted and
   * saves them with the next deploy; the editor's token field says "saved" and is not sent.
   */
  keep(configId: string, update: StoredCredentials): void {
    const current = (this.RED.nodes.getCredentials(configId) ?? {}) as StoredCredentials;
    void this.RED.nodes.addCredentials(configId, { ...current, ...update });
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
  }
}
