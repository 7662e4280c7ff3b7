/**
 * GDM, Plex's "G'Day Mate" discovery: a `M-SEARCH * HTTP/1.0` by UDP to 239.0.0.250:32414,
 * answered by every Plex Media Server on the LAN that has it on (setting GdmEnabled) with a few
 * header lines: Name, Port, Resource-Identifier, Version.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';

export const GDM_ADDRESS = '239.0.0.250:32414';

export interface DiscoverOptions {
  /** host:port to send to; default the GDM multicast group. Tests send to loopback. */
  address?: string;
  /** How long replies are collected; default 1000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface DiscoveredServer {
  name: string;
  machineIdentifier: string;
  version: string;
  /** Where the reply came from. */
  host: string;
  port: number;
  url: string;
}

/** Header lines of a GDM reply, or undefined when it is not one of a media server. */
export function parseGdmReply(text: string): Record<string, string> | undefined {
  const lines = text.split(/\r?\n/);
  if (!/^HTTP\/1\.[01] 200 OK$/i.test(lines[0]?.trim() ?? '')) return undefined;
  const headers: Record<string, string> = Object.create(null);
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const type = headers['content-type'];
  if (type !== undefined && type !== 'plex/media-server') return undefined;
  return headers;
}

function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !isIP(host) || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`the discovery address must be ip:port, got ${JSON.stringify(address)}`);
  }
  return { host, port };
}

/** Sends one search and collects the replies, one entry per server (by its identifier). */
export function discoverServers(options: DiscoverOptions = {}): Promise<DiscoveredServer[]> {
  const timeoutMs = options.timeoutMs ?? 1000;
  return new Promise((resolve, reject) => {
    const { host, port } = splitAddress(options.address ?? GDM_ADDRESS);
    const socket = dgram.createSocket({ type: isIP(host) === 6 ? 'udp6' : 'udp4' });
    const found = new Map<string, DiscoveredServer>();
    let timer: NodeJS.Timeout | undefined;
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (error) reject(error);
      else resolve([...found.values()]);
    };
    const onAbort = (): void => finish();
    socket.on('error', (error) => finish(error));
    socket.on('message', (data, remote) => {
      const headers = parseGdmReply(data.toString('utf8'));
      const identifier = headers?.['resource-identifier'];
      const serverPort = Number(headers?.port);
      if (!headers || !identifier || found.has(identifier)) return;
      const address = remote.family === 'IPv6' ? `[${remote.address}]` : remote.address;
      const usedPort = Number.isInteger(serverPort) && serverPort > 0 ? serverPort : 32400;
      found.set(identifier, {
        name: headers.name || identifier,
        machineIdentifier: identifier,
        version: headers.version ?? '',
        host: remote.address,
        port: usedPort,
        url: `http://${address}:${usedPort}`,
      });
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.bind(0, () => {
      try {
        // One hop: a search never leaves the LAN.
        if (host.startsWith('239.')) socket.setMulticastTTL(1);
      } catch {
        // Not a multicast socket (a test sending to loopback): nothing to set.
      }
      socket.send(Buffer.from('M-SEARCH * HTTP/1.0\r\n\r\n'), port, host, (error) => {
        if (error) finish(error);
      });
      timer = setTimeout(() => finish(), timeoutMs);
    });
  });
}
