/**
 * The client options of a server: from a deployed config node, or from the fields of an open
 * dialog, together with a Node-RED tls-config node's CA and client certificate.
 */
import type { ButlerClientOptions, TlsOptions } from '../../lib';

/** verify: the usual check; plex-direct: a LAN address with the server's own plex.direct
 * certificate; off: no check at all. */
export type TlsMode = 'verify' | 'plex-direct' | 'off';
export const TLS_MODES: readonly TlsMode[] = ['verify', 'plex-direct', 'off'];

/** The fields a client is made from, as a config node or a dialog holds them. */
export interface ConnectionFields {
  url: string;
  token: string;
  clientId: string;
  tlsMode: unknown;
  /** A tls-config node's id, or ''. */
  tls: string;
  plexDirectHash: string;
  ca: string;
  timeout: unknown;
  retries: unknown;
}

/** What we use of Node-RED's tls-config node. */
export interface TlsConfigNode {
  addTLSOptions(options: Record<string, unknown>): Record<string, unknown>;
}

/** Finds a deployed tls-config node by id (RED.nodes.getNode). */
export type TlsConfigLookup = (id: string) => unknown;

/** Our TLS mode, our CA and a tls-config node's CA and client certificate, together. */
export function tlsOptionsOf(fields: ConnectionFields, lookup: TlsConfigLookup): TlsOptions {
  const mode: TlsMode = TLS_MODES.includes(fields.tlsMode as TlsMode)
    ? (fields.tlsMode as TlsMode)
    : 'verify';
  const node = fields.tls ? (lookup(fields.tls) as TlsConfigNode | null) : null;
  const extra = node && typeof node.addTLSOptions === 'function' ? node.addTLSOptions({}) : {};
  const ca = [fields.ca, extra.ca].filter(
    (pem): pem is string | Buffer =>
      (typeof pem === 'string' || Buffer.isBuffer(pem)) && String(pem).trim() !== '',
  );
  return {
    // The plex-direct mode is a check of its own: a tls-config node cannot turn it off.
    verify: mode === 'plex-direct' || (mode !== 'off' && extra.rejectUnauthorized !== false),
    ...(mode === 'plex-direct' ? { plexDirect: true, plexDirectHash: fields.plexDirectHash } : {}),
    ...(ca.length > 0 ? { ca } : {}),
    ...(extra.cert ? { cert: extra.cert as string } : {}),
    ...(extra.key ? { key: extra.key as string } : {}),
    ...(typeof extra.passphrase === 'string' ? { passphrase: extra.passphrase } : {}),
    ...(typeof extra.servername === 'string' && extra.servername
      ? { servername: extra.servername }
      : {}),
  };
}

export function clientOptionsOf(
  fields: ConnectionFields,
  lookup: TlsConfigLookup,
): ButlerClientOptions {
  return {
    url: fields.url,
    token: fields.token,
    clientIdentifier: fields.clientId,
    tls: tlsOptionsOf(fields, lookup),
    // Checked by the library: empty means the default, anything else must be in range.
    timeoutMs: fields.timeout as number | undefined,
    retry: { retries: fields.retries as number | undefined },
    deviceName: 'Node-RED',
  };
}
