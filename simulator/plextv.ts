/**
 * A plex.tv stand-in on loopback, for tests and `npm start`: PIN sign-in with an approval page
 * (the part of app.plex.tv a person sees), the account, its servers with their addresses, and
 * GDM discovery answers on a UDP port. Shapes and statuses as plex.tv's API describes them
 * (the community spec's /user and /resources, Plex's "Authenticating with Plex").
 */
import { randomBytes, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { RecordedExchange } from './exchange';

export interface StandInAccount {
  id: number;
  username: string;
  title: string;
  email: string;
  /** The token a sign-in gives, and the one /user and /resources accept. */
  token: string;
}

export interface StandInConnection {
  protocol: 'http' | 'https';
  address: string;
  port: number;
  uri: string;
  local: boolean;
  relay: boolean;
}

export interface StandInServer {
  name: string;
  machineIdentifier: string;
  owned: boolean;
  online: boolean;
  /** What plex.tv gives for this server: the account token when owned, another when shared. */
  accessToken: string;
  productVersion?: string;
  httpsRequired?: boolean;
  connections: StandInConnection[];
  /** Answer GDM searches for this server, giving this port (a LAN server's own). */
  gdmPort?: number;
}

export interface PlexTvSimulatorOptions {
  host?: string;
  account?: StandInAccount;
  servers?: StandInServer[];
  /** How long a PIN lives; plex.tv gives 900 s for a strong PIN. */
  pinLifetimeMs?: number;
  /** Approve every PIN by itself after this long (for an unattended run); default never. */
  approveAfterMs?: number;
  /** Answer GDM searches on a UDP port of 127.0.0.1 (see gdmAddress). Default true. */
  gdm?: boolean;
}

interface Pin {
  id: number;
  code: string;
  clientIdentifier: string;
  product: string;
  createdAt: number;
  expiresAt: number;
  approved: boolean;
  timer?: NodeJS.Timeout;
}

export const DEFAULT_ACCOUNT: StandInAccount = {
  id: 7301,
  username: 'butler-fan',
  title: 'butler-fan',
  email: 'butler-fan@example.com',
  token: 'plextv-account-token',
};

const NOT_FOUND = { errors: [{ code: 1020, message: 'Code not found or expired', status: 404 }] };
const UNAUTHORIZED = {
  errors: [{ code: 1001, message: 'User could not be authenticated', status: 401 }],
};
const NO_CLIENT = {
  errors: [{ code: 1000, message: 'X-Plex-Client-Identifier is missing', status: 400 }],
};

function header(req: http.IncomingMessage, name: string): string {
  const value = req.headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** A PIN code as plex.tv makes a strong one: 25 lower-case letters and digits. */
function strongCode(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(25)].map((byte) => alphabet[byte % alphabet.length]).join('');
}

export class PlexTvSimulator extends EventEmitter<{ exchange: [RecordedExchange] }> {
  readonly account: StandInAccount;
  readonly stats = { pinsCreated: 0, pinChecks: 0, gdmSearches: 0 };
  private servers: StandInServer[];
  private readonly pins = new Map<number, Pin>();
  private readonly options: PlexTvSimulatorOptions;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private udp: dgram.Socket | undefined;
  private baseUrl = '';
  private udpAddress = '';
  private nextPinId = 564_964_751;

  constructor(options: PlexTvSimulatorOptions = {}) {
    super();
    this.options = options;
    this.account = options.account ?? DEFAULT_ACCOUNT;
    this.servers = options.servers ?? [];
  }

  /** The stand-in's plex.tv, e.g. http://127.0.0.1:40123 (its API is under /api/v2). */
  get url(): string {
    return this.baseUrl;
  }

  /** The approval page, standing for https://app.plex.tv/auth. */
  get appUrl(): string {
    return `${this.baseUrl}/auth`;
  }

  /** Where GDM searches are answered: 127.0.0.1:<port>. */
  get gdmAddress(): string {
    return this.udpAddress;
  }

  /** The account's servers as listed now. */
  get serverList(): readonly StandInServer[] {
    return this.servers;
  }

  setServers(servers: StandInServer[]): void {
    this.servers = servers;
  }

  /** What a person's click on "Approve" does: the PIN with this code gets the account token. */
  approve(code: string): boolean {
    const pin = [...this.pins.values()].find((candidate) => candidate.code === code);
    if (!pin || pin.expiresAt <= Date.now()) return false;
    pin.approved = true;
    return true;
  }

  /** "Deny": plex.tv drops the PIN, so checking it answers 404. */
  deny(code: string): boolean {
    const pin = [...this.pins.values()].find((candidate) => candidate.code === code);
    if (!pin) return false;
    clearTimeout(pin.timer);
    this.pins.delete(pin.id);
    return true;
  }

  /** Codes of the PINs that wait for approval. */
  pendingCodes(): string[] {
    return [...this.pins.values()].filter((pin) => !pin.approved).map((pin) => pin.code);
  }

  async start(): Promise<string> {
    if (this.server) return this.baseUrl;
    const host = this.options.host ?? '127.0.0.1';
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    this.server = server;
    this.baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
    if (this.options.gdm !== false) await this.startGdm(host);
    return this.baseUrl;
  }

  async stop(): Promise<void> {
    for (const pin of this.pins.values()) clearTimeout(pin.timer);
    this.pins.clear();
    const server = this.server;
    this.server = undefined;
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  // ---- GDM ------------------------------------------------------------------------------

  private async startGdm(host: string): Promise<void> {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (data, remote) => {
      if (!/^M-SEARCH \* HTTP\/1\.[01]\r?\n/.test(data.toString('utf8'))) return;
      this.stats.gdmSearches += 1;
      for (const server of this.servers) {
        if (server.gdmPort === undefined) continue;
        const reply = [
          'HTTP/1.0 200 OK',
          'Content-Type: plex/media-server',
          `Name: ${server.name}`,
          `Port: ${server.gdmPort}`,
          `Resource-Identifier: ${server.machineIdentifier}`,
          `Updated-At: ${Math.floor(Date.now() / 1000)}`,
          `Version: ${server.productVersion ?? '1.41.3.9314-a0bfb8370'}`,
          '',
          '',
        ].join('\r\n');
        // Real servers answer more than once now and then: clients must de-duplicate.
        for (let copy = 0; copy < 2; copy++) udp.send(reply, remote.port, remote.address);
      }
    });
    await new Promise<void>((resolve) => udp.bind(0, host, () => resolve()));
    this.udp = udp;
    this.udpAddress = `${host}:${udp.address().port}`;
  }

  // ---- HTTP -------------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const answer = this.route(req, url, Buffer.concat(chunks).toString('utf8'));
      const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'Content-Type': answer.contentType ?? 'application/json; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      this.emit('exchange', {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        path: url.pathname,
        headers: req.headers,
        status: answer.status,
        responseHeaders: {
          'content-type': answer.contentType ?? 'application/json; charset=utf-8',
        },
        responseBody: body,
        faultInjected: false,
        time: Date.now(),
      });
    });
  }

  private route(
    req: http.IncomingMessage,
    url: URL,
    body: string,
  ): { status: number; body: unknown; contentType?: string } {
    const method = req.method ?? 'GET';
    const path = url.pathname;
    if (method === 'GET' && path === '/auth') {
      return { status: 200, body: this.authPage(), contentType: 'text/html; charset=utf-8' };
    }
    if (method === 'POST' && (path === '/auth/approve' || path === '/auth/deny')) {
      const code = new URLSearchParams(body).get('code') ?? '';
      const done = path === '/auth/approve' ? this.approve(code) : this.deny(code);
      return { status: done ? 204 : 404, body: '', contentType: 'text/plain' };
    }
    if (path === '/api/v2/pins' && method === 'POST') return this.createPin(req, url);
    const pinPath = /^\/api\/v2\/pins\/(\d+)$/.exec(path);
    if (pinPath && method === 'GET') return this.checkPin(req, Number(pinPath[1]));
    if (path === '/api/v2/user' && method === 'GET') {
      if (header(req, 'x-plex-token') !== this.account.token)
        return { status: 401, body: UNAUTHORIZED };
      return { status: 200, body: this.user() };
    }
    if (path === '/api/v2/resources' && method === 'GET') {
      if (header(req, 'x-plex-token') !== this.account.token)
        return { status: 401, body: UNAUTHORIZED };
      return { status: 200, body: this.resources(url.searchParams) };
    }
    return { status: 404, body: { errors: [{ code: 1002, message: 'Not found', status: 404 }] } };
  }

  private createPin(req: http.IncomingMessage, url: URL): { status: number; body: unknown } {
    const clientIdentifier = header(req, 'x-plex-client-identifier');
    if (clientIdentifier === '') return { status: 400, body: NO_CLIENT };
    const strong = url.searchParams.get('strong') === 'true';
    const now = Date.now();
    const lifetime = this.options.pinLifetimeMs ?? (strong ? 900_000 : 300_000);
    const pin: Pin = {
      id: this.nextPinId++,
      code: strong ? strongCode() : strongCode().slice(0, 4).toUpperCase(),
      clientIdentifier,
      product: header(req, 'x-plex-product'),
      createdAt: now,
      expiresAt: now + lifetime,
      approved: false,
    };
    if (this.options.approveAfterMs !== undefined) {
      pin.timer = setTimeout(() => this.approve(pin.code), this.options.approveAfterMs);
    }
    this.pins.set(pin.id, pin);
    this.stats.pinsCreated += 1;
    return { status: 201, body: this.pinBody(pin) };
  }

  private checkPin(req: http.IncomingMessage, id: number): { status: number; body: unknown } {
    this.stats.pinChecks += 1;
    const pin = this.pins.get(id);
    // A PIN is only found by the client that made it, and only while it lives.
    if (
      !pin ||
      pin.expiresAt <= Date.now() ||
      header(req, 'x-plex-client-identifier') !== pin.clientIdentifier
    ) {
      return { status: 404, body: NOT_FOUND };
    }
    return { status: 200, body: this.pinBody(pin) };
  }

  private pinBody(pin: Pin): Record<string, unknown> {
    return {
      id: pin.id,
      code: pin.code,
      product: pin.product,
      trusted: false,
      qr: `https://plex.tv/api/v2/pins/qr/${pin.code}`,
      clientIdentifier: pin.clientIdentifier,
      expiresIn: Math.max(0, Math.round((pin.expiresAt - Date.now()) / 1000)),
      createdAt: new Date(pin.createdAt).toISOString(),
      expiresAt: new Date(pin.expiresAt).toISOString(),
      authToken: pin.approved ? this.account.token : null,
      newRegistration: null,
    };
  }

  private user(): Record<string, unknown> {
    const account = this.account;
    return {
      id: account.id,
      uuid: randomUUID().replace(/-/g, '').slice(0, 16),
      username: account.username,
      title: account.title,
      email: account.email,
      friendlyName: account.title,
      hasPassword: true,
      twoFactorEnabled: false,
      joinedAt: 1556281940,
      authToken: account.token,
    };
  }

  private resources(query: URLSearchParams): Array<Record<string, unknown>> {
    const https = query.get('includeHttps') === '1';
    const relay = query.get('includeRelay') === '1';
    return this.servers.map((server) => ({
      name: server.name,
      product: 'Plex Media Server',
      productVersion: server.productVersion ?? '1.41.3.9314-a0bfb8370',
      platform: 'Linux',
      platformVersion: '6.1',
      device: 'PC',
      clientIdentifier: server.machineIdentifier,
      createdAt: '2024-05-01T08:00:00Z',
      lastSeenAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      provides: 'server',
      ownerId: server.owned ? null : 1234,
      sourceTitle: server.owned ? null : 'a friend',
      publicAddress: '203.0.113.7',
      accessToken: server.accessToken,
      owned: server.owned,
      home: false,
      synced: false,
      relay: server.connections.some((connection) => connection.relay),
      presence: server.online,
      httpsRequired: server.httpsRequired ?? false,
      publicAddressMatches: true,
      dnsRebindingProtection: false,
      natLoopbackSupported: false,
      connections: server.connections
        .filter(
          (connection) => (https || connection.protocol === 'http') && (relay || !connection.relay),
        )
        .map((connection) => ({ ...connection, IPv6: false })),
    }));
  }

  /** A page standing for app.plex.tv's: it reads the code from the URL fragment, as that does. */
  private authPage(): string {
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in with Plex (stand-in)</title>
<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}button{font-size:1.1em;margin-right:1em}</style></head>
<body>
<h1>Plex (stand-in)</h1>
<p id="question">Let <b id="product"></b> use the Plex account <b>${this.account.username}</b>?</p>
<p>Code <code id="code"></code></p>
<button id="approve">Approve</button><button id="deny">Deny</button>
<p id="result" role="status"></p>
<script>
var params = new URLSearchParams(location.hash.replace(/^#\\??/, ''));
var code = params.get('code') || '';
document.getElementById('code').textContent = code;
document.getElementById('product').textContent = params.get('context[device][product]') || 'an app';
function answer(path, words) {
  fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'code=' + encodeURIComponent(code) })
    .then(function (r) { document.getElementById('result').textContent = r.ok ? words : 'This code is not valid any more.'; });
}
document.getElementById('approve').onclick = function () { answer('/auth/approve', 'Signed in. You can close this tab.'); };
document.getElementById('deny').onclick = function () { answer('/auth/deny', 'Sign-in refused.'); };
</script>
</body></html>
`;
  }
}
