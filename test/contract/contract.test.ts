/**
 * The contract checker is only worth something if it can fail: these hand-made exchanges show
 * that it accepts what the specs allow and rejects what they do not.
 */
import * as assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { RecordedExchange } from '../../simulator';
import { describeProblems, validateExchange } from './openapi-contract';
import type { PlexSimulator } from '../../simulator';
import { allExchanges, pathPrefixOf, recordExchanges } from '../support/exchange-log';
import { startSimulator } from '../support/simulator';

const TOKEN = 'secret-token-value';
const CLIENT_HEADERS = {
  accept: 'application/json',
  'x-plex-token': TOKEN,
  'x-plex-client-identifier': '3f1c9a9e-8f0b-4c1e-9d55-0f6e1b2c3d4e',
  'x-plex-product': 'node-red-plex-butler',
  'x-plex-version': '0.1.0',
};

const BUTLER_BODY = {
  ButlerTasks: {
    ButlerTask: [
      {
        name: 'BackupDatabase',
        interval: 3,
        scheduleRandomized: false,
        enabled: true,
        title: 'Backup Database',
        description: "Create a backup copy of the server's database",
      },
      { name: 'AutomaticUpdates', interval: 1, scheduleRandomized: false, enabled: false },
    ],
  },
};

const JSON_TYPE = { 'content-type': 'application/json' };
const HTML_TYPE = { 'content-type': 'text/html' };
const NOT_FOUND_HTML =
  '<html><head><title>Not Found</title></head><body><h1>404 Not Found</h1></body></html>';

/** A valid GET /butler exchange unless told otherwise; `path` follows `url` when not given. */
function exchange(overrides: Partial<RecordedExchange> = {}): RecordedExchange {
  const url = overrides.url ?? '/butler';
  return {
    method: 'GET',
    url,
    path: decodeURIComponent(url.split('?')[0]),
    headers: { ...CLIENT_HEADERS },
    status: 200,
    responseHeaders: { ...JSON_TYPE },
    responseBody: JSON.stringify(BUTLER_BODY),
    faultInjected: false,
    time: 0,
    ...overrides,
  };
}

function withoutHeader(name: string): RecordedExchange['headers'] {
  return Object.fromEntries(Object.entries(CLIENT_HEADERS).filter(([key]) => key !== name));
}

function post(task: string, overrides: Partial<RecordedExchange> = {}): RecordedExchange {
  return exchange({
    method: 'POST',
    url: `/butler/${task}`,
    responseHeaders: {},
    responseBody: '',
    ...overrides,
  });
}

function assertValid(ex: RecordedExchange): void {
  assert.deepEqual(validateExchange(ex), []);
}

/** Fails unless a problem from each named spec mentions `fragment`. */
function assertProblem(
  ex: RecordedExchange,
  fragment: string | RegExp,
  specs: string[] = ['community', 'official'],
): string[] {
  const problems = validateExchange(ex);
  for (const spec of specs) {
    const hit = problems.some(
      (p) =>
        p.startsWith(`${spec} spec: `) &&
        (typeof fragment === 'string' ? p.includes(fragment) : fragment.test(p)),
    );
    assert.ok(
      hit,
      `expected a ${spec} spec problem with ${String(fragment)}, got ${JSON.stringify(problems)}`,
    );
  }
  return problems;
}

describe('OpenAPI contract checker', function () {
  // The first call loads and parses both specs.
  this.timeout(30_000);

  before(function () {
    validateExchange(exchange());
  });

  describe('GET /butler', function () {
    it('accepts a valid JSON task list', function () {
      assertValid(exchange());
    });

    it('rejects ButlerTask that is not an array', function () {
      const body = { ButlerTasks: { ButlerTask: BUTLER_BODY.ButlerTasks.ButlerTask[0] } };
      assertProblem(
        exchange({ responseBody: JSON.stringify(body) }),
        '/ButlerTasks/ButlerTask must be array',
      );
    });

    it('rejects a task whose enabled is a string', function () {
      const body = {
        ButlerTasks: { ButlerTask: [{ ...BUTLER_BODY.ButlerTasks.ButlerTask[0], enabled: 'yes' }] },
      };
      assertProblem(
        exchange({ responseBody: JSON.stringify(body) }),
        '/ButlerTasks/ButlerTask/0/enabled must be boolean',
      );
    });

    it('rejects a body that is not JSON, and an empty one', function () {
      assertProblem(exchange({ responseBody: '{"ButlerTasks":' }), 'not valid JSON');
      assertProblem(exchange({ responseBody: '' }), 'empty body');
    });

    it('rejects a request without a token', function () {
      assertProblem(
        exchange({ headers: withoutHeader('x-plex-token') }),
        'missing credentials: header X-Plex-Token',
      );
    });

    it('rejects a token in the query string, whatever its case', function () {
      for (const url of ['/butler?X-Plex-Token=abc', '/butler?x-plex-token=abc']) {
        const problems = validateExchange(exchange({ url }));
        assert.ok(
          problems.some((p) => p.includes('query string')),
          JSON.stringify(problems),
        );
      }
    });

    it('accepts a 401 HTML page although the spec does not list it', function () {
      assertValid(
        exchange({
          status: 401,
          responseHeaders: { ...HTML_TYPE },
          responseBody:
            '<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>',
        }),
      );
    });

    it('rejects a status the spec does not list', function () {
      assertProblem(exchange({ status: 500, responseBody: '' }), 'status 500 is not listed');
    });

    it('accepts an XML answer to a request that did not ask for JSON', function () {
      const xml =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ButlerTasks>\n' +
        '  <ButlerTask name="BackupDatabase" interval="3" scheduleRandomized="0" enabled="1"/>\n' +
        '</ButlerTasks>\n';
      const headers = withoutHeader('accept');
      assertValid(
        exchange({
          headers,
          responseHeaders: { 'content-type': 'application/xml' },
          responseBody: xml,
        }),
      );
      assertValid(
        exchange({
          headers,
          responseHeaders: { 'Content-Type': 'text/xml; charset=utf-8' },
          responseBody: '<ButlerTasks size="0"/>',
        }),
      );
    });

    it('rejects XML when JSON was asked for, or with the wrong root', function () {
      const xmlType = { 'content-type': 'application/xml' };
      assertProblem(
        exchange({ responseHeaders: xmlType, responseBody: '<ButlerTasks></ButlerTasks>' }),
        'asked for application/json',
      );
      const headers = withoutHeader('accept');
      assertProblem(
        exchange({
          headers,
          responseHeaders: xmlType,
          responseBody: '<MediaContainer></MediaContainer>',
        }),
        'expected <ButlerTasks>',
      );
      assertProblem(
        exchange({ headers, responseHeaders: xmlType, responseBody: '{"ButlerTasks":{}}' }),
        'does not start with',
      );
    });

    it('rejects an HTML page where JSON is specified', function () {
      assertProblem(
        exchange({ responseHeaders: { ...HTML_TYPE }, responseBody: NOT_FOUND_HTML }),
        'content-type text/html',
      );
    });

    it('skips response checks for injected faults and dropped requests', function () {
      assertValid(exchange({ status: 500, responseBody: 'boom', faultInjected: true }));
      assertValid(exchange({ status: 0, responseHeaders: {}, responseBody: '' }));
      // Request checks still apply to them.
      assertProblem(
        exchange({ status: 0, headers: withoutHeader('x-plex-token'), responseBody: '' }),
        'missing credentials',
      );
    });
  });

  describe('paths and methods', function () {
    it('rejects an unknown path', function () {
      assertProblem(exchange({ url: '/butler/BackupDatabase/now' }), 'unknown path');
      assertProblem(exchange({ url: '/no-such-endpoint' }), 'unknown path');
    });

    it('rejects a method the path does not define', function () {
      assertProblem(exchange({ method: 'PUT', responseBody: '' }), 'method PUT is not defined');
    });

    it('finds the operation under a simulator path prefix', function () {
      // Told the prefix (the simulator records it in both url and path)...
      const prefixed = { url: '/plex/butler/BackupDatabase', path: '/plex/butler/BackupDatabase' };
      assertProblem(post('BackupDatabase', prefixed), 'unknown path /plex/butler/BackupDatabase');
      assert.deepEqual(
        validateExchange(post('BackupDatabase', prefixed), { pathPrefix: '/plex' }),
        [],
      );
      // ...or with the prefix already stripped from path.
      assertValid(
        post('BackupDatabase', {
          url: '/plex/butler/BackupDatabase',
          path: '/butler/BackupDatabase',
        }),
      );
    });

    it('rejects dot segments in the raw URL', function () {
      assertProblem(exchange({ url: '/butler/../identity', path: '/identity' }), 'unknown path');
    });
  });

  describe('POST and DELETE /butler/{task}', function () {
    it('accepts a start with an empty 200', function () {
      assertValid(post('BackupDatabase'));
    });

    it('rejects a start without X-Plex-Client-Identifier (community spec)', function () {
      assertProblem(
        post('BackupDatabase', { headers: withoutHeader('x-plex-client-identifier') }),
        'missing required header X-Plex-Client-Identifier',
        ['community'],
      );
    });

    it('does not require the `accepts` header parameter', function () {
      const problems = validateExchange(post('BackupDatabase'));
      assert.ok(!problems.some((p) => /accepts/i.test(p)), JSON.stringify(problems));
    });

    it('rejects task names that could leave the path', function () {
      assertProblem(post('..%2Flibrary'), 'path parameter');
      assertProblem(post('Bad-Name'), /path parameter (butlerTask|task) "Bad-Name"/);
      assertProblem(
        post('..%2Flibrary%2Fsections%2F1%2Frefresh'),
        '"../library/sections/1/refresh"',
      );
    });

    it('accepts a task name that is in no spec but has the shape of one', function () {
      assertValid(post('ProcessAssets'));
    });

    it('accepts 202 (already running) on start but not on stop', function () {
      assertValid(post('BackupDatabase', { status: 202 }));
      assertProblem(
        post('BackupDatabase', { method: 'DELETE', status: 202 }),
        'status 202 is not listed',
      );
    });

    it('accepts the official 404 page on stop', function () {
      assertValid(
        post('BackupDatabase', {
          method: 'DELETE',
          status: 404,
          responseHeaders: { ...HTML_TYPE },
          responseBody: NOT_FOUND_HTML,
        }),
      );
    });

    it('rejects a JSON body where the spec gives text/html', function () {
      assertProblem(
        post('BackupDatabase', { responseHeaders: { ...JSON_TYPE }, responseBody: '{"ok":true}' }),
        'content-type application/json',
      );
    });
  });

  describe('other operations', function () {
    it('accepts GET /identity without a token', function () {
      const body = {
        MediaContainer: { size: 0, claimed: true, machineIdentifier: 'abc', version: '1.41.0' },
      };
      assertValid(
        exchange({
          url: '/identity',
          headers: withoutHeader('x-plex-token'),
          responseBody: JSON.stringify(body),
        }),
      );
    });

    it('checks GET /activities against its schema and its inherited token security', function () {
      const activity = {
        uuid: '39cc0658',
        type: 'library.refresh.items',
        cancellable: false,
        userID: 1,
        title: 'Refreshing',
        subtitle: 'Movies',
        progress: 0,
      };
      const ok = { MediaContainer: { size: 1, Activity: [activity] } };
      assertValid(exchange({ url: '/activities', responseBody: JSON.stringify(ok) }));
      const bad = { MediaContainer: { size: 1, Activity: [{ ...activity, progress: 150 }] } };
      assertProblem(
        exchange({ url: '/activities', responseBody: JSON.stringify(bad) }),
        'progress must be <= 100',
      );
      assertProblem(
        exchange({
          url: '/activities',
          headers: withoutHeader('x-plex-token'),
          responseBody: JSON.stringify(ok),
        }),
        'missing credentials',
      );
    });

    it('accepts the WebSocket handshake on the path real servers use', function () {
      assertValid(
        exchange({
          url: '/:/websockets/notifications?filters=activity',
          path: '/:/websockets/notifications',
          headers: { ...CLIENT_HEADERS, upgrade: 'websocket', connection: 'Upgrade' },
          status: 101,
          responseHeaders: {},
          responseBody: '',
        }),
      );
    });

    it('accepts an SSE stream on /:/eventsource/notifications', function () {
      assertValid(
        exchange({
          url: '/:/eventsource/notifications?filters=activity',
          responseHeaders: { 'content-type': 'text/event-stream' },
          responseBody: 'event: activity\ndata: {}\n\n',
        }),
      );
    });
  });

  describe('describeProblems', function () {
    it('names the exchange and its problems but never the token', function () {
      const ex = exchange({
        url: `/butler?X-Plex-Token=${TOKEN}`,
        responseBody: '{"ButlerTasks":[]}',
      });
      const text = describeProblems([
        { exchange: ex, problems: validateExchange(ex) },
        { exchange: exchange(), problems: [] },
      ]);
      assert.ok(!text.includes(TOKEN), text);
      assert.match(text, /GET \/butler\?X-Plex-Token=<redacted> -> 200/);
      assert.match(text, /x-plex-token: <redacted>/);
      assert.match(text, /query string/);
      assert.match(text, /in 1 exchange\(s\)/);
    });
  });

  describe('exchange log', function () {
    it('records what a simulator emits, once per simulator, with its path prefix', function () {
      // The log is global and other tests' exchanges may be in it: never clear it here.
      const before = allExchanges().length;
      const sim = Object.assign(new EventEmitter(), { url: 'http://127.0.0.1:1/plex' });
      recordExchanges(sim);
      recordExchanges(sim);
      const ex = post('BackupDatabase', { url: '/plex/butler/BackupDatabase' });
      sim.emit('exchange', ex);
      assert.equal(allExchanges().length, before + 1);
      assert.equal(pathPrefixOf(ex), '/plex');
      assert.equal(pathPrefixOf(exchange()), '');
    });
  });

  describe('the simulator', function () {
    const json = { ...CLIENT_HEADERS };

    async function call(
      sim: PlexSimulator,
      method: string,
      path: string,
      headers: Record<string, string>,
    ) {
      const response = await fetch(`${sim.url}${path}`, {
        method,
        headers: { ...headers, 'x-plex-token': sim.token },
      });
      await response.text();
      const recorded = sim.exchanges[sim.exchanges.length - 1];
      return validateExchange(recorded, { pathPrefix: pathPrefixOf(recorded) });
    }

    it('answers within both specs, in JSON and XML, with and without a path prefix', async function () {
      for (const pathPrefix of [undefined, '/plex']) {
        const sim = await startSimulator({ pathPrefix, taskDurationMs: 60_000 });
        try {
          const xml = Object.fromEntries(Object.entries(json).filter(([key]) => key !== 'accept'));
          for (const headers of [json, xml]) {
            assert.deepEqual(await call(sim, 'GET', '/butler', headers), []);
            assert.deepEqual(await call(sim, 'GET', '/identity', headers), []);
            assert.deepEqual(await call(sim, 'GET', '/activities', headers), []);
          }
          assert.deepEqual(await call(sim, 'POST', '/butler/BackupDatabase', json), []);
          assert.equal(sim.exchanges[sim.exchanges.length - 1].status, 200);
          assert.deepEqual(await call(sim, 'POST', '/butler/BackupDatabase', json), []);
          assert.equal(sim.exchanges[sim.exchanges.length - 1].status, 202);
          assert.deepEqual(await call(sim, 'GET', '/activities', json), []);
          assert.deepEqual(await call(sim, 'DELETE', '/butler/BackupDatabase', json), []);
          assert.deepEqual(await call(sim, 'DELETE', '/butler/BackupDatabase', json), []);
          assert.equal(sim.exchanges[sim.exchanges.length - 1].status, 404);
          assert.deepEqual(await call(sim, 'POST', '/butler', json), []);
          assert.deepEqual(await call(sim, 'DELETE', '/butler', json), []);
        } finally {
          await sim.stop();
        }
      }
    });
  });
});
