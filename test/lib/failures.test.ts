/**
 * One failure vocabulary: the client and the notification socket meet the same broken server
 * and report it with the same code, the same retryability and the same advice.
 */
import { strict as assert } from 'node:assert';
import {
  ActivityWatcher,
  ButlerClient,
  ButlerError,
  type ButlerClientOptions,
  type ButlerErrorCode,
} from '../../lib';
import { transportFailure } from '../../lib/failures/classify';
import type { PlexSimulator } from '../../simulator';
import { closedPort } from '../support/ports';
import { startSimulator } from '../support/simulator';
import { startSleepingHost } from '../support/sleeping-host';
import { selfSignedCertificate } from '../support/tls';
import { waitUntil } from '../support/wait';

const TOKEN = 'tok-Failures-0071';

/** What the client and the watcher each report for one server. */
async function bothSee(options: ButlerClientOptions): Promise<[ButlerError, ButlerError]> {
  const client = new ButlerClient({ ...options, retry: { retries: 0 } });
  const watcher = new ActivityWatcher(options, { reconnectInitialMs: 5000 });
  try {
    watcher.start();
    const fromClient = await client.listTasks().then(
      () => assert.fail('the client should have failed'),
      (error: unknown) => error,
    );
    await waitUntil(() => watcher.status.error !== undefined, 5000, 'the watcher failed');
    assert.ok(fromClient instanceof ButlerError);
    const fromWatcher = watcher.status.error;
    assert.ok(fromWatcher instanceof ButlerError);
    return [fromClient, fromWatcher];
  } finally {
    client.close();
    watcher.close();
  }
}

describe('one failure vocabulary for the client and the notification socket', function () {
  this.timeout(15_000);
  let secure: PlexSimulator;
  const certificate = selfSignedCertificate();

  before(async () => {
    secure = await startSimulator({ token: TOKEN, tls: certificate });
  });
  after(async () => {
    await secure.stop();
  });

  const base = { token: TOKEN, clientIdentifier: 'failures-test', timeoutMs: 400 };

  const cases: Array<{
    name: string;
    options: () => Promise<ButlerClientOptions>;
    code: ButlerErrorCode;
    retryable: boolean;
    advice: RegExp;
  }> = [
    {
      name: 'nothing listens',
      options: async () => ({ ...base, url: `http://127.0.0.1:${await closedPort()}` }),
      code: 'connection-refused',
      retryable: true,
      advice: /check that Plex is running/,
    },
    {
      name: 'a host that sleeps',
      options: async () => ({ ...base, url: sleeping.url }),
      code: 'host-unreachable',
      retryable: true,
      advice: /asleep, switched off or on another network/,
    },
    {
      name: 'an untrusted certificate',
      options: async () => ({ ...base, url: secure.url.replace('127.0.0.1', 'localhost') }),
      code: 'tls-error',
      retryable: false,
      advice: /paste its CA certificate/,
    },
    {
      name: 'a trusted certificate for another name (a plex.direct certificate by LAN IP)',
      options: async () => ({ ...base, url: secure.url, tls: { ca: certificate.cert } }),
      code: 'tls-error',
      retryable: false,
      advice: /plex\.direct/,
    },
    {
      name: 'a host name that does not resolve',
      options: async () => ({ ...base, url: 'http://plex-butler-test.invalid:32400' }),
      code: 'host-not-found',
      retryable: false,
      advice: /cannot be resolved/,
    },
  ];

  let sleeping: Awaited<ReturnType<typeof startSleepingHost>>;
  before(async () => {
    sleeping = await startSleepingHost();
  });
  after(async () => {
    await sleeping.stop();
  });

  for (const testCase of cases) {
    it(`${testCase.name}: ${testCase.code} from both`, async () => {
      const [fromClient, fromWatcher] = await bothSee(await testCase.options());
      for (const [who, error] of [
        ['client', fromClient],
        ['watcher', fromWatcher],
      ] as const) {
        assert.equal(error.code, testCase.code, `${who}: ${error.message}`);
        assert.equal(error.retryable, testCase.retryable, `${who} retryable`);
        assert.match(error.message, testCase.advice, `${who}: ${error.message}`);
      }
    });
  }

  it('maps every socket error code the same way for both channels', () => {
    const url = 'http://192.168.1.10:32400';
    for (const code of [
      'ECONNREFUSED',
      'EHOSTUNREACH',
      'EHOSTDOWN',
      'ENETUNREACH',
      'ETIMEDOUT',
      'ENOTFOUND',
      'EAI_AGAIN',
      'ECONNRESET',
      'EPIPE',
      'CERT_HAS_EXPIRED',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'HPE_INVALID_CONSTANT',
      'ESOMETHINGELSE',
    ]) {
      const error = Object.assign(new Error('connect failed http://secret@host'), { code });
      const request = transportFailure(error, { baseUrl: url, timeoutMs: 1000 });
      const socket = transportFailure(error, {
        baseUrl: url,
        channel: 'notification socket',
        timeoutMs: 1000,
      });
      assert.equal(socket.code, request.code, code);
      assert.equal(socket.retryable, request.retryable, code);
      assert.doesNotMatch(request.message, /secret/);
    }
    const unreachable = transportFailure(Object.assign(new Error(), { code: 'EHOSTUNREACH' }), {
      baseUrl: url,
      timeoutMs: 1000,
    });
    assert.equal(unreachable.code, 'host-unreachable');
    assert.equal(unreachable.retryable, true);
  });
});
