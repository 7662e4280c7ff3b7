/**
 * The notification WebSocket (/:/websockets/notifications): the handshake, the open sockets,
 * and the activity events sent on them in the shape real servers use (shared/plex-api README).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SimActivityEvent } from './butler';
import { NOT_FOUND_HTML, PROXY_NOT_FOUND_HTML, UNAUTHORIZED_HTML } from './pages';
import { findRoute, type Route } from './router';

/**
 * 'websocket': the notification socket works. 'refused': its handshake is answered 404, as by a
 * reverse proxy that does not pass WebSockets on.
 */
export type NotificationMode = 'websocket' | 'refused';

/** Real servers use `websockets`; the specs write `websocket`: both are served. */
export const NOTIFICATIONS_ROUTE: Route = {
  template: '/:/websockets/notifications',
  aliases: ['/:/websocket/notifications'],
  // Only the WebSocket handshake is answered there; plain HTTP gets 404 (401 without a token).
  methods: {},
};

/** A handshake as the simulator has read it. */
export interface Handshake {
  /** The path inside the server; undefined when a pathPrefix is set and missing. */
  innerPath: string | undefined;
  query: URLSearchParams;
  authorized: boolean;
  /** Puts the handshake's answer in the exchange log. */
  record(status: number, contentType: string | undefined, body: string, fault: boolean): void;
  /** Called once the socket is open. */
  accepted(): void;
}

/**
 * The `filters` rule of the notification endpoints (spec): absent means everything but logs,
 * empty means everything, `a,b` only those, `-a` everything but a.
 */
function wantsEventType(filters: string | null, type: string): boolean {
  if (filters === null) return type !== 'log';
  const items = filters
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) return true;
  if (items.includes(`-${type}`)) return false;
  const wanted = items.filter((item) => !item.startsWith('-'));
  return wanted.length === 0 || wanted.includes(type);
}

export class NotificationHub {
  /** 'refused' answers new handshakes 404; open sockets stay open. */
  mode: NotificationMode;
  private readonly webSockets = new WebSocketServer({ noServer: true });
  /** Open notification sockets, each with whether it asked for activity events. */
  private readonly clients = new Map<WebSocket, boolean>();

  constructor(mode: NotificationMode) {
    this.mode = mode;
  }

  get openSockets(): number {
    return this.clients.size;
  }

  upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer, handshake: Handshake): void {
    socket.on('error', () => undefined);
    const refuse = (status: number, title: string, body: string, fault = false): void => {
      handshake.record(status, 'text/html', body, fault);
      socket.end(
        `HTTP/1.1 ${status} ${title}\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    const { innerPath } = handshake;
    if (innerPath === undefined || !findRoute([NOTIFICATIONS_ROUTE], innerPath)) {
      refuse(404, 'Not Found', innerPath === undefined ? PROXY_NOT_FOUND_HTML : NOT_FOUND_HTML);
      return;
    }
    if (this.mode === 'refused') {
      // A proxy that does not pass WebSockets on: a fault of the path, not the server's answer.
      refuse(404, 'Not Found', PROXY_NOT_FOUND_HTML, true);
      return;
    }
    if (!handshake.authorized) {
      refuse(401, 'Unauthorized', UNAUTHORIZED_HTML);
      return;
    }
    this.webSockets.handleUpgrade(req, socket, head, (client) => {
      handshake.record(101, undefined, '', false);
      handshake.accepted();
      this.clients.set(client, wantsEventType(handshake.query.get('filters'), 'activity'));
      client.on('error', () => undefined);
      client.on('close', () => this.clients.delete(client));
    });
  }

  /** To every socket that asked for activity events. */
  sendActivity({ event, activity }: SimActivityEvent): void {
    if (this.clients.size === 0) return;
    const text = JSON.stringify({
      NotificationContainer: {
        type: 'activity',
        size: 1,
        ActivityNotification: [{ event, uuid: activity.uuid, Activity: activity }],
      },
    });
    for (const [client, wantsActivity] of this.clients) {
      if (wantsActivity) client.send(text);
    }
  }

  /** A raw notification (any type) to every open socket. */
  broadcast(container: Record<string, unknown>): void {
    const text = JSON.stringify({ NotificationContainer: container });
    for (const client of this.clients.keys()) client.send(text);
  }

  /** Cut, not closed: no close frame, as when the network drops or the server goes away. */
  cutAll(): void {
    for (const client of this.clients.keys()) client.terminate();
  }

  /** The server stops: every socket is cut and forgotten at once. */
  closeAll(): void {
    this.cutAll();
    this.clients.clear();
  }
}
