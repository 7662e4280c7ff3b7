/**
 * GET /identity without the token: what a server says it is, and the certificate it showed.
 * Used to tell a server's own plex.direct certificate before the token is sent to it, and to
 * find which of a server's addresses reaches it.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ButlerError } from './errors';
import { statusFailure, transportFailure } from './failures';
import { isPlexDirectCertificateOf } from './plexdirect';
import { message } from './messages';
import { parseIdentity } from './parse';
import { resolveSettings, type ButlerClientOptions } from './settings';
import { HttpTransport, RequestFailure } from './transport';
import type { ServerIdentity } from './types';

export type ProbeOptions = Omit<ButlerClientOptions, 'token'> & { signal?: AbortSignal };

export interface ProbedIdentity {
  identity: ServerIdentity;
  /** The certificate an HTTPS server showed (its chain verified unless verification is off). */
  certificate?: PeerCertificate;
}

/**
 * Reads /identity, never sending the token. With `tls.plexDirect` and no known identifier,
 * any name is accepted for this one answer and the certificate is returned, for the caller to
 * check against the identifier the answer names.
 */
export async function probeIdentity(options: ProbeOptions): Promise<ProbedIdentity> {
  // The token is left out of the headers below; resolveSettings wants one to check.
  const settings = resolveSettings({ ...options, token: 'not-sent' });
  const headers: Record<string, string> = { ...settings.headers };
  delete headers['X-Plex-Token'];
  let certificate: PeerCertificate | undefined;
  const strict = settings.tlsOptions.checkServerIdentity ?? checkServerIdentity;
  const relaxed = settings.plexDirect !== undefined && !settings.plexDirect.machineIdentifier;
  const transport = new HttpTransport({
    ...settings,
    headers,
    maxSockets: 1,
    tlsOptions: {
      ...settings.tlsOptions,
      checkServerIdentity: (host, cert) => {
        certificate = cert;
        return relaxed ? undefined : strict(host, cert);
      },
    },
  });
  const signal = options.signal;
  try {
    if (signal?.aborted) throw abortError();
    const response = await transport.send('GET', '/identity', settings.timeoutMs, (cancel) => {
      signal?.addEventListener('abort', () => cancel(abortError()), { once: true });
    });
    if (response.status !== 200) {
      throw statusFailure(response.status, message('doing.readIdentity'), response.retryAfter);
    }
    return {
      identity: parseIdentity(response.body, response.contentType),
      ...(certificate ? { certificate } : {}),
    };
  } catch (error) {
    if (error instanceof ButlerError) throw error;
    const failure = error instanceof RequestFailure ? error : undefined;
    throw transportFailure(failure ? failure.reason : error, {
      baseUrl: settings.baseUrl,
      connected: failure?.connected,
      timeoutMs: settings.timeoutMs,
    });
  } finally {
    transport.destroyAll(abortError());
  }
}

/**
 * The identifier of the server at `options.url`, after making sure its certificate is that
 * server's own plex.direct certificate: nothing with a token goes out before this passes.
 */
export async function pinPlexDirectIdentity(options: ProbeOptions): Promise<string> {
  const { identity, certificate } = await probeIdentity({
    ...options,
    tls: { ...options.tls, plexDirect: true, machineIdentifier: undefined },
  });
  const expected = options.tls?.machineIdentifier?.trim();
  const machineIdentifier = identity.machineIdentifier;
  if (
    !certificate ||
    (expected && expected !== machineIdentifier) ||
    !isPlexDirectCertificateOf(certificate, machineIdentifier)
  ) {
    throw new ButlerError(
      'tls-error',
      message('errors.tls', {
        code: 'ERR_PLEX_DIRECT_CERT',
        advice: message('errors.tlsNotPlexDirect'),
      }),
    );
  }
  return machineIdentifier;
}

function abortError(): ButlerError {
  return new ButlerError('aborted', message('errors.cancelled'));
}
