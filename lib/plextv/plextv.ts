/**
 * plex.tv, for what a Plex app does before it talks to a server: sign in with a PIN, read the
 * account, list the account's servers and their addresses.
 */
import { ButlerError } from '../failures/errors';
import { statusFailure, transportFailure } from '../failures/classify';
import { message, type MessageRef } from '../messages';
import {
  resolveClientOptions,
  type ButlerClientOptions,
  type ResolvedClientOptions,
} from '../butler/client-options';
import { HttpTransport, RequestFailure, type TransportResponse } from '../butler/transport';

export const PLEX_TV_URL = 'https://plex.tv';
export const PLEX_APP_AUTH_URL = 'https://app.plex.tv/auth';

export interface PlexTvOptions extends Pick<
  ButlerClientOptions,
  'clientIdentifier' | 'product' | 'version' | 'platform' | 'device' | 'deviceName' | 'timeoutMs'
> {
  /** Default https://plex.tv; a stand-in's address in tests and `npm start`. */
  plexTvUrl?: string;
  /** The page where a person approves a PIN; default https://app.plex.tv/auth. */
  appUrl?: string;
}

export interface PlexPin {
  id: number;
  code: string;
  /** When the PIN stops being valid (ms since the epoch). */
  expiresAt: number;
  /** Set once the person has approved the sign-in. */
  authToken?: string;
}

export interface PlexAccount {
  id: number;
  username: string;
  title: string;
}

export interface PlexConnection {
  protocol: string;
  address: string;
  port: number;
  uri: string;
  local: boolean;
  relay: boolean;
  ipv6: boolean;
}

export interface PlexServerResource {
  name: string;
  /** The server's machine identifier (plex.tv calls it clientIdentifier). */
  machineIdentifier: string;
  owned: boolean;
  online: boolean;
  /** For a shared server, the token that works on it; never sent to the editor. */
  accessToken?: string;
  httpsRequired: boolean;
  connections: PlexConnection[];
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

function flag(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 'true';
}

/** Talks to plex.tv with one stable client identifier (the config node's). */
export class PlexTvClient {
  readonly appUrl: string;
  private readonly settings: ResolvedClientOptions;
  private readonly product: string;
  private readonly anonymous: HttpTransport;
  private readonly open = new Set<HttpTransport>();

  constructor(options: PlexTvOptions) {
    // The token header is set per request below: plex.tv needs none for a PIN.
    this.settings = resolveClientOptions({
      ...options,
      url: options.plexTvUrl || PLEX_TV_URL,
      token: 'none',
      retry: { retries: 0 },
    });
    this.appUrl = options.appUrl || PLEX_APP_AUTH_URL;
    this.product = this.settings.headers['X-Plex-Product'];
    this.anonymous = this.transport(undefined);
  }

  /** POST /api/v2/pins?strong=true: a PIN for the person to approve. */
  async createPin(): Promise<PlexPin> {
    const response = await this.send(
      this.anonymous,
      'POST',
      '/api/v2/pins?strong=true',
      [201, 200],
      message('doing.signIn'),
    );
    return this.pin(response);
  }

  /** GET /api/v2/pins/{id}: `authToken` is set once approved; 404 when plex.tv dropped it. */
  async checkPin(id: number): Promise<PlexPin> {
    const response = await this.send(
      this.anonymous,
      'GET',
      `/api/v2/pins/${encodeURIComponent(String(id))}`,
      [200],
      message('doing.signIn'),
    );
    return this.pin(response);
  }

  /** Where the person approves the PIN, in a browser tab. */
  authUrl(pin: PlexPin): string {
    const params = new URLSearchParams({
      clientID: this.settings.headers['X-Plex-Client-Identifier'],
      code: pin.code,
      'context[device][product]': this.product,
    });
    return `${this.appUrl}#?${params.toString()}`;
  }

  /** GET /api/v2/user: who the token belongs to. */
  async account(token: string): Promise<PlexAccount> {
    const transport = this.transport(token);
    try {
      const body = this.json(
        await this.send(transport, 'GET', '/api/v2/user', [200], message('doing.readAccount')),
      );
      if (!isRecord(body) || text(body.username) === '') throw this.badAnswer();
      return { id: Number(body.id) || 0, username: text(body.username), title: text(body.title) };
    } finally {
      this.release(transport);
    }
  }

  /** GET /api/v2/resources: the account's servers (what `provides` a server), with addresses. */
  async servers(token: string): Promise<PlexServerResource[]> {
    const transport = this.transport(token);
    try {
      const body = this.json(
        await this.send(
          transport,
          'GET',
          '/api/v2/resources?includeHttps=1&includeRelay=1',
          [200],
          message('doing.listServers'),
        ),
      );
      if (!Array.isArray(body)) throw this.badAnswer();
      const servers: PlexServerResource[] = [];
      for (const entry of body) {
        if (!isRecord(entry)) continue;
        const provides = text(entry.provides)
          .split(',')
          .map((part) => part.trim());
        const machineIdentifier = text(entry.clientIdentifier);
        if (!provides.includes('server') || machineIdentifier === '') continue;
        const accessToken = text(entry.accessToken);
        servers.push({
          name: text(entry.name) || machineIdentifier,
          machineIdentifier,
          owned: flag(entry.owned),
          // A JSON boolean in both specs: false is a server switched off or cut off. Only a
          // clear yes counts as online; an answer without it does not say the server is there.
          online: flag(entry.presence),
          ...(accessToken ? { accessToken } : {}),
          httpsRequired: flag(entry.httpsRequired),
          connections: (Array.isArray(entry.connections) ? entry.connections : [])
            .filter(isRecord)
            .map((connection) => ({
              protocol: text(connection.protocol),
              address: text(connection.address),
              port: Number(connection.port) || 0,
              uri: text(connection.uri),
              local: flag(connection.local),
              relay: flag(connection.relay),
              ipv6: flag(connection.IPv6),
            }))
            .filter((connection) => /^https?:\/\//.test(connection.uri)),
        });
      }
      return servers;
    } finally {
      this.release(transport);
    }
  }

  close(): void {
    for (const transport of this.open)
      transport.destroyAll(new ButlerError('aborted', message('errors.clientClosed')));
    this.open.clear();
  }

  private transport(token: string | undefined): HttpTransport {
    const headers: Record<string, string> = { ...this.settings.headers };
    if (token === undefined) delete headers['X-Plex-Token'];
    else headers['X-Plex-Token'] = token;
    const transport = new HttpTransport({ ...this.settings, headers, maxSockets: 2 });
    this.open.add(transport);
    return transport;
  }

  private release(transport: HttpTransport): void {
    this.open.delete(transport);
    transport.destroyAll(new ButlerError('aborted', message('errors.clientClosed')));
  }

  private async send(
    transport: HttpTransport,
    method: string,
    path: string,
    expected: number[],
    doing: MessageRef,
  ): Promise<TransportResponse> {
    let response: TransportResponse;
    try {
      response = await transport.send(method, path, this.settings.timeoutMs, () => undefined);
    } catch (error) {
      const failure = error instanceof RequestFailure ? error : undefined;
      throw transportFailure(failure ? failure.reason : error, {
        baseUrl: this.settings.baseUrl,
        connected: failure?.connected,
        timeoutMs: this.settings.timeoutMs,
      });
    }
    if (expected.includes(response.status)) return response;
    if (response.status === 401) {
      throw new ButlerError('unauthorized', message('errors.plexTvUnauthorized'), { status: 401 });
    }
    throw statusFailure(response.status, doing, response.retryAfter);
  }

  private json(response: TransportResponse): unknown {
    try {
      return JSON.parse(response.body) as unknown;
    } catch {
      throw this.badAnswer();
    }
  }

  private pin(response: TransportResponse): PlexPin {
    const body = this.json(response);
    if (!isRecord(body) || text(body.code) === '' || !Number.isFinite(Number(body.id))) {
      throw this.badAnswer();
    }
    const expiresAt = Date.parse(text(body.expiresAt));
    const expiresIn = Number(body.expiresIn);
    const token = text(body.authToken);
    return {
      id: Number(body.id),
      code: text(body.code),
      expiresAt: Number.isFinite(expiresAt)
        ? expiresAt
        : Date.now() + (Number.isFinite(expiresIn) ? expiresIn : 900) * 1000,
      ...(token ? { authToken: token } : {}),
    };
  }

  private badAnswer(): ButlerError {
    return new ButlerError('bad-response', message('errors.notPlexTv'));
  }
}
