/**
 * The notification WebSocket (/:/websockets/notifications): the handshake, the open sockets,
 * and the activity and playing events sent on them in the shapes real servers use
 * (shared/plex-api README), each to the sockets whose `filters` take its type.
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { SimActivityEvent } from './butler';
import type { SimPlayingNotification } from './sessions';
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
 * The `filters` query of the notification endpoints, as both specs word it: absent means every
 * type but `log` (as `-log`); empty means every type; `foo,bar` only those; a list that starts
 * with `-` (`-foo,bar`) every type but those listed.
 */
export function wantsEventType(filters: string | null, type: string): boolean {
  if (filters === null) return type !== 'log';
  const trimmed = filters.trim();
  if (trimmed === '') return true;
  const excluding = trimmed.startsWith('-');
  const listed = trimmed
    .split(',')
    .map((item) => item.trim().replace(/^-/, ''))
    .filter((item) => item !== '');
  return excluding ? !listed.includes(type) : listed.includes(type);
}

export class NotificationHub {
  /** 'refused' answers new handshakes 404; open sockets stay open. */
  mode: NotificationMode;
  private readonly webSockets = new WebSocketServer({ noServer: true });
  /** Open notification sockets, each with its `filters` query (null when it gave none). */
  private readonly clients = new Map<WebSocket, string | null>();

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
      this.clients.set(client, handshake.query.get('filters'));
      client.on('error', () => undefined);
      client.on('close', () => this.clients.delete(client));
    });
  }

  /** To every socket whose filters take activity events. */
  sendActivity({ event, activity }: SimActivityEvent): void {
    this.sendTyped('activity', 'ActivityNotification', [
      { event, uuid: activity.uuid, Activity: activity },
    ]);
  }

  /** A playback's state (PlaySessionStateNotification) to every socket whose filters take it. */
  sendPlaying(entry: SimPlayingNotification): void {
    this.sendTyped('playing', 'PlaySessionStateNotification', [entry]);
  }

  private sendTyped(type: string, list: string, entries: unknown[]): void {
    if (this.clients.size === 0) return;
    let text: string | undefined;
    for (const [client, filters] of this.clients) {
      if (!wantsEventType(filters, type)) continue;
      text ??= JSON.stringify({
        NotificationContainer: { type, size: entries.length, [list]: entries },
      });
      client.send(text);
    }
  }

  /** A raw notification (any type) to every open socket, whatever its filters: a test's tool. */
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
