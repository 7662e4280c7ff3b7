/**
 * Checks recorded HTTP exchanges (our client's requests and our simulator's answers) against the
 * two OpenAPI descriptions of Plex Media Server: the community spec and Plex's official one.
 * The specs are the ground truth here because no real server can run in the test environment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import type { RecordedExchange } from '../../simulator';
import { locateSpecs, SPEC_FILES, type SpecName } from './spec-location';

export type { SpecName };
/** Which spec a problem comes from; used as the prefix of every problem. */
export const SPEC_NAMES: readonly SpecName[] = ['community', 'official'];

/**
 * Live servers list task names that are in no spec (README: `ProcessAssets`), so a butler task
 * name is valid when it is in the enum or has this shape; anything else could escape the path.
 */
const TASK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9]*$/;

/**
 * The specs write `/:/websocket/notifications`; real servers and python-plexapi use
 * `websockets` (README), so a request there is checked against the spec's operation.
 */
const PATH_ALIASES: Record<string, string> = {
  '/:/websockets/notifications': '/:/websocket/notifications',
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/**
 * OpenAPI ignores header parameters with these names (3.1 §4.8.12.1); `accepts` is the
 * community spec's stand-in for Accept, which we send as `Accept` instead.
 */
const IGNORED_HEADER_PARAMS = new Set(['accept', 'accepts', 'content-type', 'authorization']);

const MAX_SCHEMA_ERRORS = 8;

// --- the few OpenAPI shapes we read; everything else stays `unknown` ---

type JsonObject = Record<string, unknown>;

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: unknown;
}

interface SecurityScheme {
  type?: string;
  name?: string;
  in?: string;
}

type SecurityRequirement = Record<string, unknown>;

interface Operation {
  parameters?: unknown[];
  responses?: JsonObject;
  security?: SecurityRequirement[];
}

interface OpenApiDoc {
  paths: Record<string, JsonObject>;
  security?: SecurityRequirement[];
  components?: { securitySchemes?: Record<string, SecurityScheme> };
}

/** A value found in the spec, with the JSON pointer where it really lives (after `$ref`s). */
interface Located<T> {
  value: T;
  pointer: string;
}

interface Route {
  template: string;
  matchers: Array<string | { regex: RegExp; names: string[] }>;
  literalSegments: number;
}

interface LoadedSpec {
  name: SpecName;
  doc: OpenApiDoc;
  routes: Route[];
}

interface Specs {
  specs: LoadedSpec[];
  ajv: Ajv2020;
  /** Path parameters arrive as strings; this instance coerces them to the schema's type. */
  paramAjv: Ajv2020;
  validators: Map<string, ValidateFunction>;
}

let loaded: Specs | undefined;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function unescapePointerToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function specDirectory(): string {
  const location = locateSpecs();
  if (!location.found) throw new Error(`OpenAPI specs not found: ${location.reason}`);
  return location.dir;
}

function compileRoute(template: string): Route {
  const matchers = template
    .split('/')
    .slice(1)
    .map((segment): Route['matchers'][number] => {
      if (!segment.includes('{') && !segment.includes('*')) return segment;
      const names: string[] = [];
      // `{name}` is a parameter; the official spec's `start.*` uses `*` as a wildcard.
      const source = segment
        .split(/(\{[^}]+\}|\*)/)
        .map((part) => {
          if (part === '*') return '.*';
          const param = /^\{([^}]+)\}$/.exec(part);
          if (param) {
            names.push(param[1]);
            return '(.+?)';
          }
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { regex: new RegExp(`^${source}$`), names };
    });
  return {
    template,
    matchers,
    literalSegments: matchers.filter((m) => typeof m === 'string').length,
  };
}

function loadSpecs(): Specs {
  if (loaded) return loaded;
  const dir = specDirectory();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const paramAjv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true });
  const specs = SPEC_NAMES.map((name): LoadedSpec => {
    const text = fs.readFileSync(path.join(dir, SPEC_FILES[name]), 'utf8');
    const doc = (name === 'community' ? parseYaml(text) : JSON.parse(text)) as OpenApiDoc;
    // The whole document is one schema resource, so `#/components/...` refs resolve inside it.
    ajv.addSchema(doc as object, name);
    paramAjv.addSchema(doc as object, name);
    const routes = Object.keys(doc.paths)
      .map(compileRoute)
      // Concrete paths win over templated ones, as OpenAPI requires.
      .sort((a, b) => b.literalSegments - a.literalSegments);
    return { name, doc, routes };
  });
  for (const instance of [ajv, paramAjv]) {
    addFormats(instance);
    // OpenAPI's own formats: accept any value rather than warn about unknown formats.
    for (const format of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) {
      instance.addFormat(format, true);
    }
  }
  loaded = { specs, ajv, paramAjv, validators: new Map() };
  return loaded;
}

/** Follows local `$ref`s (`#/components/...`) and keeps track of the final location. */
function resolve(doc: OpenApiDoc, start: Located<unknown>): Located<unknown> {
  let current = start;
  for (let hops = 0; hops < 20; hops++) {
    const ref = isObject(current.value) ? current.value.$ref : undefined;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return current;
    let target: unknown = doc;
    for (const token of ref.slice(2).split('/').map(unescapePointerToken)) {
      target =
        isObject(target) || Array.isArray(target) ? (target as JsonObject)[token] : undefined;
    }
    current = { value: target, pointer: ref.slice(1) };
  }
  return current;
}

function validatorFor(specs: Specs, ajv: Ajv2020, key: string, schema: object): ValidateFunction {
  const cached = specs.validators.get(key);
  if (cached) return cached;
  const compiled = ajv.compile(schema);
  specs.validators.set(key, compiled);
  return compiled;
}

function formatSchemaErrors(errors: ErrorObject[] | null | undefined): string {
  const list = (errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'invalid'}`);
  const shown = list.slice(0, MAX_SCHEMA_ERRORS).join('; ');
  return list.length > MAX_SCHEMA_ERRORS
    ? `${shown}; … ${list.length - MAX_SCHEMA_ERRORS} more`
    : shown;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Where the server lives inside the URL space, when a simulator plays a reverse proxy. */
export interface ValidateOptions {
  /** e.g. '/plex': stripped from the request path before looking for the operation. */
  pathPrefix?: string;
  /**
   * 'plex.tv': an exchange with (a stand-in of) plex.tv, checked against the operations a spec
   * serves from plex.tv (`servers: https://plex.tv/api/v2`), with that base path stripped; one
   * no spec describes (the PIN endpoints) is checked by none. Default: Plex Media Server.
   */
  service?: 'plex.tv';
}

/** The base path of an operation served from plex.tv, e.g. '/api/v2'; undefined for a PMS one. */
function plexTvBase(pathItem: JsonObject, operation: unknown): string | undefined {
  for (const owner of [operation, pathItem]) {
    const servers = isObject(owner) && Array.isArray(owner.servers) ? owner.servers : [];
    for (const server of servers) {
      const url = isObject(server) && typeof server.url === 'string' ? server.url : '';
      if (/^https:\/\/plex\.tv(\/|$)/.test(url)) return new URL(url).pathname.replace(/\/+$/, '');
    }
  }
  return undefined;
}

/**
 * The request's path segments inside the server, decoded one by one from the raw URL so that an
 * encoded slash (`..%2Flibrary`) stays inside its segment and is judged as a parameter value.
 */
function requestSegments(exchange: RecordedExchange, options: ValidateOptions): string[] {
  let rawPath = exchange.url.split('?')[0];
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rawPath)) rawPath = new URL(rawPath).pathname;
  let segments = rawPath.split('/').slice(1).map(safeDecode);
  const prefix = (options.pathPrefix ?? '').replace(/\/+$/, '');
  const joined = `/${segments.join('/')}`;
  if (prefix !== '' && prefix !== '/') {
    const prefixSegments = prefix.split('/').slice(prefix.startsWith('/') ? 1 : 0);
    if (prefixSegments.every((segment, i) => segments[i] === segment)) {
      segments = segments.slice(prefixSegments.length);
    }
  } else if (joined !== exchange.path && joined.endsWith(exchange.path)) {
    // A recorder that strips its pathPrefix from `path` but not from `url`.
    const stripped = joined.slice(0, joined.length - exchange.path.length);
    const strippedSegments = stripped.split('/').slice(1);
    if (stripped.startsWith('/') && !strippedSegments.some((x) => ['', '.', '..'].includes(x))) {
      segments = segments.slice(strippedSegments.length);
    }
  }
  const alias = PATH_ALIASES[`/${segments.join('/')}`];
  return alias ? alias.split('/').slice(1) : segments;
}

function matchRoute(route: Route, segments: string[]): Record<string, string> | undefined {
  if (route.matchers.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const matcher = route.matchers[i];
    if (typeof matcher === 'string') {
      if (matcher !== segments[i]) return undefined;
      continue;
    }
    const found = matcher.regex.exec(segments[i]);
    if (!found) return undefined;
    matcher.names.forEach((name, index) => (params[name] = found[index + 1]));
  }
  return params;
}

function headerValue(headers: RecordedExchange['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const text = Array.isArray(value) ? value.join(', ') : value;
  return typeof text === 'string' && text.trim() !== '' ? text : undefined;
}

function responseHeader(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function queryParams(exchange: RecordedExchange): URLSearchParams {
  const index = exchange.url.indexOf('?');
  return new URLSearchParams(index < 0 ? '' : exchange.url.slice(index + 1));
}

function askedForJson(exchange: RecordedExchange): boolean {
  return /application\/json/i.test(headerValue(exchange.headers, 'accept') ?? '');
}

/** Path-item and operation parameters merged (the operation's win), with `$ref`s resolved. */
function operationParameters(
  doc: OpenApiDoc,
  pathItem: Located<JsonObject>,
  operation: Located<Operation>,
): Array<Located<Parameter>> {
  const byKey = new Map<string, Located<Parameter>>();
  for (const owner of [pathItem, operation] as Array<Located<{ parameters?: unknown }>>) {
    const list = Array.isArray(owner.value.parameters) ? owner.value.parameters : [];
    list.forEach((raw, index) => {
      const found = resolve(doc, { value: raw, pointer: `${owner.pointer}/parameters/${index}` });
      const p = found.value;
      if (isObject(p) && typeof p.name === 'string' && typeof p.in === 'string') {
        byKey.set(`${p.in}:${p.name.toLowerCase()}`, {
          value: p as unknown as Parameter,
          pointer: found.pointer,
        });
      }
    });
  }
  return [...byKey.values()];
}

function enumOf(schema: unknown): unknown[] | undefined {
  return isObject(schema) && Array.isArray(schema.enum) ? schema.enum : undefined;
}

function checkPathParameter(
  specs: Specs,
  spec: LoadedSpec,
  route: Route,
  param: Located<Parameter>,
  value: string,
): string | undefined {
  const { name } = param.value;
  const schema = resolve(spec.doc, {
    value: param.value.schema,
    pointer: `${param.pointer}/schema`,
  });
  if (route.template === `/butler/{${name}}`) {
    if (enumOf(schema.value)?.includes(value) || TASK_NAME_PATTERN.test(value)) return undefined;
    return `path parameter ${name} ${JSON.stringify(value)} is neither in the spec's enum nor a task name matching ${TASK_NAME_PATTERN.source}`;
  }
  if (!isObject(schema.value)) return undefined;
  const validate = validatorFor(specs, specs.paramAjv, `param ${spec.name}${schema.pointer}`, {
    type: 'object',
    properties: { value: { $ref: `${spec.name}#${schema.pointer}` } },
  });
  if (validate({ value })) return undefined;
  return `path parameter ${name} ${JSON.stringify(value)} does not match its schema: ${formatSchemaErrors(validate.errors)}`;
}

function securityRequirements(doc: OpenApiDoc, operation: Operation): SecurityRequirement[] {
  return operation.security ?? doc.security ?? [];
}

/** True when every alternative needs some credential: `security: [{}]` means anonymous is fine. */
function needsCredentials(requirements: SecurityRequirement[]): boolean {
  return requirements.length > 0 && requirements.every((r) => Object.keys(r).length > 0);
}

function credentialsProblem(
  doc: OpenApiDoc,
  requirements: SecurityRequirement[],
  exchange: RecordedExchange,
): string | undefined {
  if (!needsCredentials(requirements)) return undefined;
  const schemes = doc.components?.securitySchemes ?? {};
  const wanted: string[] = [];
  const satisfied = requirements.some((requirement) =>
    Object.keys(requirement).every((schemeName) => {
      const scheme = schemes[schemeName] ?? {};
      if (scheme.type === 'apiKey' && scheme.in === 'header' && scheme.name) {
        wanted.push(`header ${scheme.name} (security scheme ${schemeName})`);
        return headerValue(exchange.headers, scheme.name) !== undefined;
      }
      if (scheme.type === 'apiKey' && scheme.in === 'query' && scheme.name) {
        wanted.push(`query parameter ${scheme.name} (security scheme ${schemeName})`);
        return queryParams(exchange).has(scheme.name);
      }
      wanted.push(`Authorization header (security scheme ${schemeName})`);
      return headerValue(exchange.headers, 'authorization') !== undefined;
    }),
  );
  return satisfied ? undefined : `missing credentials: ${[...new Set(wanted)].join(' or ')}`;
}

/** Enough XML sense to catch an HTML page or JSON sent as XML: one root element, closed. */
function xmlProblem(body: string, expectedRoot: string): string | undefined {
  let text = body.trim();
  if (!text.startsWith('<')) return 'XML body does not start with "<"';
  text = text.replace(/^<\?xml[\s\S]*?\?>\s*/, '').replace(/^(<!--[\s\S]*?-->\s*)+/, '');
  const root = /^<([A-Za-z_][\w.:-]*)[\s/>]/.exec(text);
  if (!root) return 'XML body has no root element';
  if (root[1] !== expectedRoot) {
    return `XML root element is <${root[1]}>, expected <${expectedRoot}>`;
  }
  const selfClosing = new RegExp(`^<${expectedRoot}\\b[^<]*/>$`).test(text);
  if (!selfClosing && !text.endsWith(`</${expectedRoot}>`)) {
    return `XML root element <${expectedRoot}> is not closed at the end of the body`;
  }
  return undefined;
}

function checkResponse(
  specs: Specs,
  spec: LoadedSpec,
  route: Route,
  method: string,
  operation: Located<Operation>,
  exchange: RecordedExchange,
): string[] {
  const { status } = exchange;
  const tokenSecured = needsCredentials(securityRequirements(spec.doc, operation.value));
  const responses = isObject(operation.value.responses) ? operation.value.responses : {};
  const statusKey = [String(status), `${Math.floor(status / 100)}XX`, 'default'].find(
    (key) => key in responses,
  );
  const contentType = responseHeader(exchange.responseHeaders, 'content-type') ?? '';
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  const body = exchange.responseBody;
  const bodyEmpty = body.trim() === '';

  if (statusKey === undefined) {
    // Any token-protected operation may refuse a bad token; real servers send an HTML page.
    if (status === 401 && tokenSecured) {
      return bodyEmpty || mediaType === 'text/html'
        ? []
        : [`401 body must be empty or text/html, got ${mediaType || 'no content-type'}`];
    }
    // A WebSocket handshake answers 101 where the spec, describing the stream, says 200.
    const upgrade = headerValue(exchange.headers, 'upgrade')?.toLowerCase();
    if (status === 101 && upgrade === 'websocket' && route.template.includes('/websocket/')) {
      return [];
    }
    return [`status ${status} is not listed for ${method} ${route.template}`];
  }

  const located = resolve(spec.doc, {
    value: responses[statusKey],
    pointer: `${operation.pointer}/responses/${escapePointerToken(statusKey)}`,
  });
  const content =
    isObject(located.value) && isObject(located.value.content) ? located.value.content : {};
  const declared = Object.keys(content).map((type) => type.toLowerCase());
  const jsonMedia = content['application/json'];
  const jsonSchema =
    isObject(jsonMedia) && isObject(jsonMedia.schema) ? jsonMedia.schema : undefined;
  const where = `${status} ${method} ${route.template}`;

  if (bodyEmpty) {
    return jsonSchema && !declared.includes('text/html')
      ? [`empty body for ${where}, the spec gives an application/json body`]
      : [];
  }
  if (declared.length === 0) return [`non-empty body for ${where}, the spec gives no content`];
  if (!mediaType) return [`non-empty body without a content-type for ${where}`];

  if (mediaType === 'application/json') {
    if (!declared.includes('application/json')) {
      if (declared.includes('application/octet-stream')) return [];
      return [`content-type application/json for ${where}, the spec gives ${declared.join(', ')}`];
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return [`body of ${where} is not valid JSON: ${(error as Error).message}`];
    }
    if (!jsonSchema) return [];
    const pointer = `${located.pointer}/content/application~1json/schema`;
    const validate = validatorFor(specs, specs.ajv, `${spec.name}${pointer}`, {
      $ref: `${spec.name}#${pointer}`,
    });
    return validate(parsed)
      ? []
      : [`body of ${where} does not match the schema: ${formatSchemaErrors(validate.errors)}`];
  }

  if (mediaType === 'application/xml' || mediaType === 'text/xml') {
    // Plex answers XML by default, so XML stands in for the JSON representation.
    if (!declared.some((type) => type === 'application/json' || type === 'application/xml')) {
      return [`XML body for ${where}, the spec gives ${declared.join(', ')}`];
    }
    if (askedForJson(exchange)) {
      return [`XML body for ${where} although the request asked for application/json`];
    }
    const problem = xmlProblem(
      body,
      method === 'GET' && route.template === '/butler' ? 'ButlerTasks' : 'MediaContainer',
    );
    return problem ? [`${problem} (${where})`] : [];
  }

  if (declared.includes(mediaType)) return [];
  // octet-stream is how the specs describe event streams (SSE answers text/event-stream).
  if (declared.includes('application/octet-stream')) return [];
  return [`content-type ${mediaType} for ${where}, the spec gives ${declared.join(', ')}`];
}

function checkAgainstSpec(
  specs: Specs,
  spec: LoadedSpec,
  exchange: RecordedExchange,
  options: ValidateOptions,
): string[] {
  const method = exchange.method.toUpperCase();
  let segments = requestSegments(exchange, options);
  if (options.service === 'plex.tv') {
    // Only plex.tv's operations, at their base path: the rest of the spec is the server's.
    const routes = spec.routes.filter((route) => {
      const item = spec.doc.paths[route.template];
      const base = plexTvBase(item, item[method.toLowerCase()]);
      return base !== undefined && `/${segments.join('/')}`.startsWith(`${base}/`);
    });
    if (routes.length === 0) return [];
    const item = spec.doc.paths[routes[0].template];
    const base = plexTvBase(item, item[method.toLowerCase()]) ?? '';
    segments = segments.slice(base.split('/').length - 1);
    const described = routes.some((route) => matchRoute(route, segments) !== undefined);
    if (!described) return [];
  }
  const shownPath = `/${segments.join('/')}`;
  const matches = spec.routes
    .map((route) => ({ route, params: matchRoute(route, segments) }))
    .filter((m): m is { route: Route; params: Record<string, string> } => m.params !== undefined)
    .filter(
      (m) =>
        (options.service === 'plex.tv') ===
        (plexTvBase(
          spec.doc.paths[m.route.template],
          spec.doc.paths[m.route.template][method.toLowerCase()],
        ) !==
          undefined),
    );
  if (matches.length === 0) return [`unknown path ${shownPath}`];
  const match = matches.find((m) =>
    isObject(spec.doc.paths[m.route.template][method.toLowerCase()]),
  );
  if (!match || !HTTP_METHODS.includes(method.toLowerCase())) {
    return [`method ${method} is not defined for ${matches[0].route.template}`];
  }

  const { route, params } = match;
  const itemPointer = `/paths/${escapePointerToken(route.template)}`;
  const pathItem: Located<JsonObject> = {
    value: spec.doc.paths[route.template],
    pointer: itemPointer,
  };
  const operation: Located<Operation> = {
    value: pathItem.value[method.toLowerCase()] as Operation,
    pointer: `${itemPointer}/${method.toLowerCase()}`,
  };
  const problems: string[] = [];
  const query = queryParams(exchange);

  for (const param of operationParameters(spec.doc, pathItem, operation)) {
    const { name, required } = param.value;
    if (param.value.in === 'path') {
      const value = params[name];
      if (value === undefined) continue;
      const problem = checkPathParameter(specs, spec, route, param, value);
      if (problem) problems.push(problem);
    } else if (param.value.in === 'header' && required) {
      if (IGNORED_HEADER_PARAMS.has(name.toLowerCase())) continue;
      if (headerValue(exchange.headers, name) === undefined) {
        problems.push(`missing required header ${name}`);
      }
    } else if (param.value.in === 'query' && required && !query.has(name)) {
      // An object in the query is exploded (OpenAPI's default, style form): its properties
      // are the parameters, as in PUT /:/prefs?ButlerStartHour=0.
      const schema = resolve(spec.doc, { value: param.value.schema, pointer: '' }).value;
      const exploded = isObject(schema) && schema.type === 'object';
      if (!exploded || [...query.keys()].length === 0) {
        problems.push(`missing required query parameter ${name}`);
      }
    }
  }

  const credentials = credentialsProblem(
    spec.doc,
    securityRequirements(spec.doc, operation.value),
    exchange,
  );
  if (credentials) problems.push(credentials);

  if (!exchange.faultInjected && exchange.status !== 0) {
    problems.push(...checkResponse(specs, spec, route, method, operation, exchange));
  }
  return problems;
}

/** Problems of one exchange against both specs, each prefixed with the spec it comes from. */
export function validateExchange(
  exchange: RecordedExchange,
  options: ValidateOptions = {},
): string[] {
  const specs = loadSpecs();
  const problems: string[] = [];
  // Not a per-spec rule: the specs only define a header, and URLs end up in logs.
  if ([...queryParams(exchange).keys()].some((key) => key.toLowerCase() === 'x-plex-token')) {
    problems.push(
      'both specs: X-Plex-Token sent in the query string (tokens must stay in headers)',
    );
  }
  // Servers and proxies resolve `.` and `..` differently: such a URL may reach another endpoint.
  if (/(^|\/)\.\.?(\/|$)/.test(exchange.url.split('?')[0])) {
    problems.push('both specs: dot segment (. or ..) in the request path');
  }
  for (const spec of specs.specs) {
    problems.push(
      ...checkAgainstSpec(specs, spec, exchange, options).map((p) => `${spec.name} spec: ${p}`),
    );
  }
  return problems;
}

const MAX_DESCRIBED = 40;
const MAX_BODY_SHOWN = 300;

function redactUrl(url: string): string {
  return url.replace(/(x-plex-token=)[^&#]*/gi, '$1<redacted>');
}

function describeHeaders(headers: RecordedExchange['headers']): string {
  return Object.entries(headers)
    .map(([name, value]) => {
      const secret = ['x-plex-token', 'authorization'].includes(name.toLowerCase());
      const text = secret ? '<redacted>' : String(value);
      return `${name}: ${text}`;
    })
    .join(', ');
}

/** A readable failure report; token values never appear in it. */
export function describeProblems(
  list: Array<{ exchange: RecordedExchange; problems: string[] }>,
): string {
  const failing = list.filter((entry) => entry.problems.length > 0);
  const total = failing.reduce((sum, entry) => sum + entry.problems.length, 0);
  const lines = [
    `${total} contract problem(s) in ${failing.length} exchange(s) (specs: ${SPEC_NAMES.join(', ')}):`,
  ];
  for (const { exchange, problems } of failing.slice(0, MAX_DESCRIBED)) {
    const body =
      exchange.responseBody.length > MAX_BODY_SHOWN
        ? `${exchange.responseBody.slice(0, MAX_BODY_SHOWN)}…`
        : exchange.responseBody;
    lines.push(
      '',
      `${exchange.method} ${redactUrl(exchange.url)} -> ${exchange.status}${exchange.faultInjected ? ' (fault injected)' : ''}`,
      `  request headers: ${describeHeaders(exchange.headers)}`,
      `  response: ${responseHeader(exchange.responseHeaders, 'content-type') ?? 'no content-type'} ${JSON.stringify(body)}`,
      ...problems.map((problem) => `  - ${problem}`),
    );
  }
  if (failing.length > MAX_DESCRIBED) {
    lines.push('', `… and ${failing.length - MAX_DESCRIBED} more exchange(s) with problems`);
  }
  return lines.join('\n');
}
