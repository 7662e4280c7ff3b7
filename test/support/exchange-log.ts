/**
 * Every HTTP exchange of every simulator started by the suite, so that one root hook can check
 * them all against the OpenAPI specs at the end of the run.
 */
import type { RecordedExchange } from '../../simulator';

/** What the log needs of a simulator; a PlexSimulator fits, and so does a plain EventEmitter. */
export interface ExchangeSource {
  on(event: 'exchange', listener: (exchange: RecordedExchange) => void): unknown;
  /** Base URL; its path is the simulator's pathPrefix, if any. */
  readonly url?: string;
}

const exchanges: RecordedExchange[] = [];
/** The recorded `url` and `path` still carry a simulator's pathPrefix; the check must drop it. */
const prefixes = new WeakMap<RecordedExchange, string>();
// A simulator subscribed twice would have every exchange checked (and reported) twice.
const subscribed = new WeakSet<ExchangeSource>();

function pathOfUrl(url: string | undefined): string {
  if (!url) return '';
  try {
    return new URL(url).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

/** Exchanges with a plex.tv stand-in: checked against plex.tv's operations of the specs. */
const plexTv = new WeakSet<RecordedExchange>();

export function recordExchanges(sim: ExchangeSource, service?: 'plex.tv'): void {
  if (subscribed.has(sim)) return;
  subscribed.add(sim);
  sim.on('exchange', (exchange) => {
    exchanges.push(exchange);
    if (service === 'plex.tv') plexTv.add(exchange);
    // Read at each exchange: the base URL is only known once the simulator has started.
    const prefix = pathOfUrl(sim.url);
    if (prefix) prefixes.set(exchange, prefix);
  });
}

/** A copy, so callers cannot change what the final check sees. */
export function allExchanges(): RecordedExchange[] {
  return [...exchanges];
}

/** The pathPrefix of the simulator that recorded this exchange ('' for none). */
export function pathPrefixOf(exchange: RecordedExchange): string {
  return prefixes.get(exchange) ?? '';
}

/** 'plex.tv' for an exchange with a plex.tv stand-in, else undefined (Plex Media Server). */
export function serviceOf(exchange: RecordedExchange): 'plex.tv' | undefined {
  return plexTv.has(exchange) ? 'plex.tv' : undefined;
}

export function clearExchanges(): void {
  exchanges.length = 0;
}
