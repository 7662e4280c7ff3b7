/**
 * Runs a Plex simulator until SIGINT/SIGTERM:
 *   tsx simulator/cli.ts --port 32400 --token xyz --task-duration 5000 [--tls]
 * The base URL goes to stdout (one line, for scripts); the request log goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PlexSimulator } from './index';
import type { RecordedExchange, SimulatorOptions } from './index';

const USAGE = `Usage: tsx simulator/cli.ts [options]
  --port <n>            port to listen on (default 32400, 0 for any free port)
  --host <address>      address to listen on (default 127.0.0.1)
  --token <token>       X-Plex-Token to accept (default simulator-token)
  --task-duration <ms>  how long a started task runs (default 3000)
  --latency <ms>        delay before every answer (default 0)
  --progress-interval <ms>  how often a running task reports progress (default 1000)
  --timeline-interval <ms>  how often a playing session repeats its notification (default 10000)
  --no-websocket        refuse the notification WebSocket (404), like a proxy without it
  --prefix <path>       serve under a path, like a reverse proxy (e.g. /plex)
  --tls                 serve HTTPS with a self-signed certificate made now with openssl
  --tls-key <file>      serve HTTPS with this key (with --tls-cert)
  --tls-cert <file>     serve HTTPS with this certificate (with --tls-key)
  --quiet               do not log requests
  --help                show this help

Someone watching, on the simulator's own path (same token, X-Plex-Token header), e.g.:
  curl -X POST -H 'X-Plex-Token: simulator-token' \\
    'http://127.0.0.1:32400/__simulator/playbacks?user=alice&player=TV&transcode=true&location=wan'
  POST /__simulator/playbacks/{sessionKey}/pause | resume | buffer | stop
  POST /__simulator/recordings?title=&channel=    then /__simulator/recordings/{key}/stop
  POST /__simulator/background?title=&speed=      then /__simulator/background/{id}/stop
  GET  /__simulator/sessions                      what plays, records and converts now`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function wholeNumber(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) fail(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

/** A certificate for localhost and 127.0.0.1, in a temporary directory removed on exit. */
function makeSelfSignedCertificate(): { key: string; cert: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'plex-simulator-tls-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '7'],
      ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
      ...['-keyout', keyFile, '-out', certFile],
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), dir };
}

/** The token must not end up in a log, even when a client put it in the query string. */
function redact(url: string): string {
  return url.replace(/(x-plex-token=)[^&#]*/gi, '$1<redacted>');
}

function describeExchange(exchange: RecordedExchange): string {
  const status = exchange.status === 0 ? 'no answer' : String(exchange.status);
  const fault = exchange.faultInjected ? ' (fault injected)' : '';
  return `${new Date(exchange.time).toISOString()} ${exchange.method} ${redact(exchange.url)} -> ${status}${fault}`;
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { values } = parsed;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if ((values['tls-key'] === undefined) !== (values['tls-cert'] === undefined)) {
    fail('--tls-key and --tls-cert go together');
  }

  const options: SimulatorOptions = {
    port: wholeNumber(values.port, 'port', 32400),
    host: values.host ?? '127.0.0.1',
    token: values.token,
    taskDurationMs: wholeNumber(values['task-duration'], 'task-duration', 3000),
    latencyMs: wholeNumber(values.latency, 'latency', 0),
    pathPrefix: values.prefix,
    progressIntervalMs: wholeNumber(values['progress-interval'], 'progress-interval', 1000),
    timelineIntervalMs: wholeNumber(values['timeline-interval'], 'timeline-interval', 10_000),
    notifications: values['no-websocket'] ? 'refused' : 'websocket',
  };
  let certificateDir: string | undefined;
  if (values['tls-key'] !== undefined && values['tls-cert'] !== undefined) {
    options.tls = { key: readFileSync(values['tls-key']), cert: readFileSync(values['tls-cert']) };
  } else if (values.tls) {
    const generated = makeSelfSignedCertificate();
    certificateDir = generated.dir;
    options.tls = { key: generated.key, cert: generated.cert };
  }

  const sim = new PlexSimulator(options);
  if (!values.quiet) sim.on('exchange', (exchange) => console.error(describeExchange(exchange)));
  const url = await sim.start();
  console.log(url);
  if (certificateDir) {
    console.error(
      `self-signed certificate (trust it as a CA): ${join(certificateDir, 'cert.pem')}`,
    );
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: stopping`);
    sim
      .stop()
      .catch((error: unknown) => {
        console.error('stopping failed:', error);
        process.exitCode = 1;
      })
      .finally(() => {
        if (certificateDir) rmSync(certificateDir, { recursive: true, force: true });
      });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function parseOptions() {
  return parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      token: { type: 'string' },
      'task-duration': { type: 'string' },
      latency: { type: 'string' },
      'progress-interval': { type: 'string' },
      'timeline-interval': { type: 'string' },
      'no-websocket': { type: 'boolean' },
      prefix: { type: 'string' },
      tls: { type: 'boolean' },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
