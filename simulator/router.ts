/**
 * Which route a request path belongs to, and the order in which Plex decides an answer: a
 * method a route answers without a token, then the token (401), then the route's method (404
 * when it has none). Each group of endpoints is a list of Route objects the simulator joins.
 */
import type http from 'node:http';
import { firstHeader, notFoundAnswer, unauthorizedAnswer, type PlannedAnswer } from './answers';

export interface RouteRequest {
  method: string;
  /** The decoded path inside the server (pathPrefix stripped). */
  path: string;
  /** The values of the template's `{name}` segments. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** JSON (true) or XML. */
  json: boolean;
}

export type RouteHandler = (request: RouteRequest) => PlannedAnswer;

export interface Route {
  /**
   * The path as the specs write it, a `{name}` segment matching any one segment, e.g.
   * '/butler/{task}'. It is also the key of stats.requestsByRoute.
   */
  template: string;
  /** Other spellings of the same path. */
  aliases?: readonly string[];
  /** The methods answered; any other gets 404 once the token is checked. */
  methods: Readonly<Record<string, RouteHandler>>;
  /** Methods answered without a token (GET /identity). */
  open?: readonly string[];
}

/** The route key of paths that are no route. */
export const NO_ROUTE = '*';

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const wanted = template.split('/');
  const given = path.split('/');
  if (wanted.length !== given.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, segment] of wanted.entries()) {
    const parameter = /^\{(\w+)\}$/.exec(segment);
    if (parameter) {
      if (given[index] === '') return undefined;
      params[parameter[1]] = given[index];
    } else if (segment !== given[index]) {
      return undefined;
    }
  }
  return params;
}

export function findRoute(
  routes: readonly Route[],
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    for (const template of [route.template, ...(route.aliases ?? [])]) {
      const params = matchTemplate(template, path);
      if (params) return { route, params };
    }
  }
  return undefined;
}

/** Split by hand: new URL() would read a path starting with '//' as a host name. */
export function splitRequestUrl(rawUrl: string): { rawPath: string; query: URLSearchParams } {
  const queryStart = rawUrl.indexOf('?');
  return {
    rawPath: queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart),
    query: new URLSearchParams(queryStart < 0 ? '' : rawUrl.slice(queryStart + 1)),
  };
}

/** The template of the route of `path`; NO_ROUTE for none, or for no path inside the server. */
export function routeTemplate(routes: readonly Route[], path: string | undefined): string {
  return path === undefined ? NO_ROUTE : (findRoute(routes, path)?.route.template ?? NO_ROUTE);
}

/** The token a request carries: the X-Plex-Token header, else the query parameter. */
export function requestToken(
  headers: http.IncomingHttpHeaders,
  query: URLSearchParams,
): string | null | undefined {
  return firstHeader(headers['x-plex-token']) ?? query.get('X-Plex-Token');
}

export function answerRoute(
  routes: readonly Route[],
  request: Omit<RouteRequest, 'params'>,
  authorized: boolean,
): PlannedAnswer {
  const found = findRoute(routes, request.path);
  const handler =
    found && Object.hasOwn(found.route.methods, request.method)
      ? found.route.methods[request.method]
      : undefined;
  const routed = { ...request, params: found?.params ?? {} };
  if (handler && found?.route.open?.includes(request.method)) return handler(routed);
  if (!authorized) return unauthorizedAnswer();
  return handler ? handler(routed) : notFoundAnswer();
}
