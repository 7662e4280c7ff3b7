/**
 * Who follows which server from the Butler panel, and how its views reach them.
 *
 * A panel follows a server by a lease (POST /plex-butler/panel/watch, renewed while the panel is
 * shown; it ends on unwatch, on expiry, or when the panel's editor disconnects). While a server
 * has a lease, one ServerFollow holds its shared watcher and viewer monitor; with none, nothing
 * of the panel runs and the server hears nothing from it.
 *
 * Views go over Node-RED's comms, but only to the editor connection of a panel that holds a lease:
 * a comms message Node-RED broadcasts reaches every connected editor, also a user without
 * `plex-butler-server.read`. So each panel makes up a random key, says it over its comms
 * connection (`plex-butler/panel/hello`: the runtime learns that connection's session and user)
 * and names it in its lease requests (checked by Node-RED's own needsPermission); a view goes to
 * the session of the key, and only when the comms user and the lease's user are the same.
 */
import type { NodeAPI } from 'node-red';
import { ButlerError, message } from '../../lib';
import { SERVER_TYPE, serverNodeOf, type ButlerServerNode } from '../core/contract';
import { ServerFollow, panelServerOf, type PanelServer, type PanelView } from './panel-follow';

/** Everything the panel hears starts with this (the editor subscribes to `${PANEL_TOPIC}/#`). */
export const PANEL_TOPIC = 'plex-butler/panel';
/** Editor → runtime, over comms: `{ panel }`, the panel's key. */
export const HELLO_TOPIC = `${PANEL_TOPIC}/hello`;
/** Runtime → one panel: a server's view, on `${VIEW_TOPIC}/<server id>`. */
export const VIEW_TOPIC = `${PANEL_TOPIC}/view`;
/** Runtime → one panel: `{ servers }` after a deploy. */
export const SERVERS_TOPIC = `${PANEL_TOPIC}/servers`;

/** A lease lives this long unless renewed; the editor renews every RENEW_MS (told in the answer). */
export const LEASE_MS = 75_000;
export const RENEW_MS = 30_000;
/** A panel's key: made up by the panel, random, letters and digits. */
const PANEL_KEY = /^[A-Za-z0-9]{16,64}$/;
/** Bounds on what callers can make the runtime remember. */
const MAX_LEASES = 64;
const MAX_KEYS_PER_SESSION = 4;
const MAX_KEYS = 512;
/** How long a watch answer waits for a newly followed server's first reads. */
const FIRST_READ_WAIT_MS = 3000;

/** Who a request or a comms connection belongs to: '' without adminAuth. */
export type Who = string;

export function whoOf(user: unknown): Who {
  if (typeof user !== 'object' || user === null) return '';
  const { anonymous, username } = user as { anonymous?: unknown; username?: unknown };
  if (anonymous === true) return 'anonymous';
  return typeof username === 'string' ? `user:${username}` : '';
}

export interface WatchAnswer {
  servers: PanelServer[];
  /** The server followed now: the one asked for, else the first deployed; null for none. */
  server: string | null;
  view: PanelView | null;
  /** Whether the panel's comms connection is known, so that updates reach it. */
  live: boolean;
  /** When to renew the lease. */
  renewMs: number;
}

interface Binding {
  session: string;
  who: Who;
}

interface Lease {
  serverId: string;
  who: Who;
  expiry: NodeJS.Timeout;
}

interface CommsMessage {
  session?: unknown;
  user?: unknown;
  data?: unknown;
}

export interface FeedOptions {
  userDir: string | undefined;
  leaseMs?: number;
  refreshMs?: number;
}

function keyOf(value: unknown): string {
  if (typeof value !== 'string' || !PANEL_KEY.test(value)) {
    throw new ButlerError('invalid-config', message('errors.panelKey'));
  }
  return value;
}

export class PanelFeed {
  /** Panel key → the comms connection it came from. */
  private readonly bindings = new Map<string, Binding>();
  /** Panel key → the server it follows. */
  private readonly leases = new Map<string, Lease>();
  private readonly follows = new Map<string, ServerFollow>();
  private closed = false;

  constructor(
    private readonly RED: NodeAPI,
    private readonly options: FeedOptions,
  ) {
    RED.events.on(`comms:message:${HELLO_TOPIC}`, this.onHello);
    RED.events.on('comms:connection-removed', this.onConnectionRemoved);
    RED.events.on('flows:started', this.onFlowsStarted);
  }

  /** The deployed servers, by name. */
  servers(): PanelServer[] {
    const servers: PanelServer[] = [];
    this.RED.nodes.eachNode((node: { id?: string; type?: string }) => {
      if (node.type !== SERVER_TYPE) return;
      const deployed = serverNodeOf(this.RED, node.id);
      if (deployed) servers.push(panelServerOf(deployed));
    });
    return servers.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
  }

  /** The deployed server with this id, when it is one. */
  server(id: unknown): ButlerServerNode | undefined {
    return typeof id === 'string' ? serverNodeOf(this.RED, id) : undefined;
  }

  /** Starts or renews a panel's lease on a server (or the first one); throws a ButlerError. */
  async watch(panel: unknown, server: unknown, who: Who): Promise<WatchAnswer> {
    const key = keyOf(panel);
    // The package was removed: nothing starts following again.
    if (this.closed)
      return { servers: [], server: null, view: null, live: false, renewMs: RENEW_MS };
    const held = this.leases.get(key);
    if (held && held.who !== who)
      throw new ButlerError('invalid-config', message('errors.panelKey'));
    const servers = this.servers();
    const chosen = servers.find((entry) => entry.id === server)?.id ?? servers[0]?.id ?? null;
    const live = this.bindings.get(key)?.who === who;
    const renewMs = RENEW_MS;
    if (chosen === null) {
      this.endLease(key);
      return { servers, server: null, view: null, live, renewMs };
    }
    if (held && held.serverId !== chosen) this.endLease(key);
    if (!this.leases.has(key) && this.leases.size >= MAX_LEASES) {
      throw new ButlerError('rate-limited', message('errors.tooManyPanels'));
    }
    const lease = this.leases.get(key);
    if (lease) clearTimeout(lease.expiry);
    this.leases.set(key, { serverId: chosen, who, expiry: this.expiryOf(key) });
    const { follow, fresh } = this.followOf(chosen);
    if (!follow) return { servers, server: null, view: null, live, renewMs };
    if (fresh) {
      // The panel opens with the list, not with "reading…", unless the server is slow to answer.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        follow.refresh(),
        new Promise((resolve) => (timer = setTimeout(resolve, FIRST_READ_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    if (this.closed || this.leases.get(key)?.serverId !== chosen) {
      return { servers, server: null, view: null, live, renewMs };
    }
    return { servers, server: chosen, view: follow.view(), live, renewMs };
  }

  /** Ends a panel's lease (the panel was hidden). */
  unwatch(panel: unknown, who: Who): void {
    const key = keyOf(panel);
    if (this.leases.get(key)?.who === who) this.endLease(key);
  }

  /** The follow of a server, when a panel follows it: to read again after an action. */
  followed(serverId: string): ServerFollow | undefined {
    return this.follows.get(serverId);
  }

  /** Whether a server is followed (for tests and the plugin's removal). */
  get followedCount(): number {
    return this.follows.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.RED.events.off(`comms:message:${HELLO_TOPIC}`, this.onHello);
    this.RED.events.off('comms:connection-removed', this.onConnectionRemoved);
    this.RED.events.off('flows:started', this.onFlowsStarted);
    for (const lease of this.leases.values()) clearTimeout(lease.expiry);
    this.leases.clear();
    this.bindings.clear();
    for (const follow of this.follows.values()) follow.stop();
    this.follows.clear();
  }

  private expiryOf(key: string): NodeJS.Timeout {
    const timer = setTimeout(() => this.endLease(key), this.options.leaseMs ?? LEASE_MS);
    timer.unref();
    return timer;
  }

  private endLease(key: string): void {
    const lease = this.leases.get(key);
    if (!lease) return;
    clearTimeout(lease.expiry);
    this.leases.delete(key);
    this.releaseIfUnused(lease.serverId);
  }

  private releaseIfUnused(serverId: string): void {
    for (const lease of this.leases.values()) if (lease.serverId === serverId) return;
    this.follows.get(serverId)?.stop();
    this.follows.delete(serverId);
  }

  /** The server's follow, started when there is none for its current connection. */
  private followOf(serverId: string): { follow: ServerFollow | undefined; fresh: boolean } {
    const server = serverNodeOf(this.RED, serverId);
    const existing = this.follows.get(serverId);
    if (existing && server && existing.connection === server.connection) {
      return { follow: existing, fresh: false };
    }
    existing?.stop();
    this.follows.delete(serverId);
    if (!server) return { follow: undefined, fresh: false };
    const follow = new ServerFollow(server, {
      userDir: this.options.userDir,
      refreshMs: this.options.refreshMs,
      publish: (view) => this.deliver(serverId, `${VIEW_TOPIC}/${serverId}`, view),
    });
    this.follows.set(serverId, follow);
    follow.start();
    return { follow, fresh: true };
  }

  /** To each panel with a lease on the server, over its own comms connection only. */
  private deliver(serverId: string | undefined, topic: string, data: unknown): void {
    for (const [key, lease] of this.leases) {
      if (serverId !== undefined && lease.serverId !== serverId) continue;
      const binding = this.bindings.get(key);
      if (binding && binding.who === lease.who) this.send(binding.session, topic, data);
    }
  }

  private send(session: string, topic: string, data: unknown): void {
    // Without a session Node-RED would send it to every editor: never.
    if (session === '') return;
    this.RED.events.emit('comms', { topic, data, retain: false, session });
  }

  private readonly onHello = (event: CommsMessage): void => {
    if (this.closed || typeof event?.session !== 'string' || event.session === '') return;
    const data = event.data as { panel?: unknown } | undefined;
    let key: string;
    try {
      key = keyOf(data?.panel);
    } catch {
      return;
    }
    const who = whoOf(event.user);
    const known = this.bindings.get(key);
    // Another user's key: it stays theirs.
    if (known && known.who !== who) return;
    const session = event.session;
    const ofSession = [...this.bindings].filter(
      ([other, binding]) => binding.session === session && other !== key,
    );
    for (const [other] of ofSession.slice(
      0,
      Math.max(0, ofSession.length - MAX_KEYS_PER_SESSION + 1),
    )) {
      this.bindings.delete(other);
    }
    if (!known && this.bindings.size >= MAX_KEYS) {
      const oldest = this.bindings.keys().next().value;
      if (oldest !== undefined) this.bindings.delete(oldest);
    }
    this.bindings.delete(key);
    this.bindings.set(key, { session, who });
    // A lease made before the hello arrived: its view now, not at the next change.
    const lease = this.leases.get(key);
    const follow = lease && lease.who === who ? this.follows.get(lease.serverId) : undefined;
    if (lease && follow) this.send(session, `${VIEW_TOPIC}/${lease.serverId}`, follow.view());
  };

  /** The editor went away (closed, reloaded, lost): its panels follow nothing any more. */
  private readonly onConnectionRemoved = (event: { session?: unknown }): void => {
    for (const [key, binding] of [...this.bindings]) {
      if (binding.session !== event?.session) continue;
      this.bindings.delete(key);
      if (this.leases.get(key)?.who === binding.who) this.endLease(key);
    }
  };

  /** After a deploy: follows move to the new connections, panels learn the new server list. */
  private readonly onFlowsStarted = (): void => {
    if (this.closed) return;
    for (const [serverId, follow] of [...this.follows]) {
      const server = serverNodeOf(this.RED, serverId);
      if (server && server.connection === follow.connection) continue;
      follow.stop();
      this.follows.delete(serverId);
      const leased = [...this.leases.values()].some((lease) => lease.serverId === serverId);
      if (server && leased) {
        const { follow: next } = this.followOf(serverId);
        void next?.refresh();
      }
    }
    this.deliver(undefined, SERVERS_TOPIC, { servers: this.servers() });
  };
}
