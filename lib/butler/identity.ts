/**
 * GET /identity without the token: what a server says it is, and the certificate it showed.
 * Used to find which of a server's addresses reaches it.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ButlerError } from '../failures/errors';
import { statusFailure, transportFailure } from '../failures/classify';
import { message } from '../messages';
import { parseIdentity } from './parse';
import { resolveClientOptions, type ButlerClientOptions } from './client-options';
import { HttpTransport, RequestFailure } from './transport';
import type { ServerIdentity } from './types';

export type ProbeOptions = Omit<ButlerClientOptions, 'token'> & { signal?: AbortSignal };

export interface ProbedIdentity {
  identity: ServerIdentity;
  /** The certificate an HTTPS server showed (its chain verified unless verification is off). */
  certificate?: PeerCertificate;
}

/** Reads /identity, never sending the token, with the TLS checks of the options. */
export async function probeIdentity(options: ProbeOptions): Promise<ProbedIdentity> {
  // The token is left out of the headers below; resolveClientOptions wants one to check.
  const settings = resolveClientOptions({ ...options, token: 'not-sent' });
  const headers: Record<string, string> = { ...settings.headers };
  delete headers['X-Plex-Token'];
  let certificate: PeerCertificate | undefined;
  const strict = settings.tlsOptions.checkServerIdentity ?? checkServerIdentity;
  const transport = new HttpTransport({
    ...settings,
    headers,
    maxSockets: 1,
    tlsOptions: {
      ...settings.tlsOptions,
      checkServerIdentity: (host, cert) => {
        certificate = cert;
        return strict(host, cert);
      },
    },
  });
  const signal = options.signal;
  let removeAbortListener = (): void => undefined;
  try {
    if (signal?.aborted) throw abortError();
    const response = await transport.send('GET', '/identity', settings.timeoutMs, (cancel) => {
      const onAbort = (): void => cancel(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      removeAbortListener = () => signal?.removeEventListener('abort', onAbort);
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
    removeAbortListener();
    transport.destroyAll(abortError());
  }
}

function abortError(): ButlerError {
  return new ButlerError('aborted', message('errors.cancelled'));
}
