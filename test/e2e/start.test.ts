/**
 * `npm start` as a person (or an IDE, a supervisor, `timeout`) runs it: a signal to the npm
 * process alone ends everything it started; a part that dies ends the rest; a port in use and a
 * half-given PLEX_URL/PLEX_TOKEN are said in one line; Node-RED shows its plain version; and a
 * restart keeps what the user did (a sign-in, a server picked, their own changes). Each run has
 * its own user directory and free ports, and checks the process tree under npm afterwards.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createDecipheriv, createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import {
  DEFAULT_CREDENTIAL_SECRET,
  REPO_ROOT,
  deployFlow,
  freePort,
  portInUse,
} from '../../scripts/node-red-process';

/** The examples' shared server config node. */
const SERVER_ID = '5e7a1c0b9d2f4a61';
const READY = 'Press Ctrl-C to stop.';
/** The first start may build dist/ first. */
const START_TIMEOUT_MS = 120_000;
/** "Within a few seconds" of the signal. */
const STOP_TIMEOUT_MS = 8_000;

interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Run {
  npm: ChildProcess;
  /** Every process seen below npm, to end them should the test fail. */
  seen: Set<number>;
  port: number;
  simulatorPort: number;
  exit: Promise<Exit>;
  output(): string;
}

/** The parent npm's npm_* variables (script name, config) must not steer the npm started here. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !name.toLowerCase().startsWith('npm_') && !name.startsWith('PLEX_'),
      ),
    ),
    // The node running this test runs npm and the launcher too (Node 22 in the compat run).
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
    ...extra,
  };
}

async function npmStart(
  userDir: string,
  options: { args?: string[]; env?: Record<string, string>; port?: number } = {},
): Promise<Run> {
  const port = options.port ?? (await freePort());
  const simulatorPort = await freePort();
  const npm = spawn('npm', ['start', '--', '--userDir', userDir, ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: cleanEnv({
      PORT: String(port),
      PLEX_SIMULATOR_PORT: String(simulatorPort),
      ...options.env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  npm.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exit = new Promise<Exit>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { npm, seen: new Set(), port, simulatorPort, exit, output: () => output };
}

async function until(check: () => boolean | Promise<boolean>, ms: number, what: string) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function ready(run: Run): Promise<void> {
  let ended = false;
  void run.exit.then(() => (ended = true));
  await until(() => ended || run.output().includes(READY), START_TIMEOUT_MS, 'npm start ready');
  assert.ok(!ended, `npm start ended during start:\n${run.output()}`);
}

// ---- the process tree (Linux /proc) -----------------------------------------------------------

function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid …: comm may hold spaces and parentheses.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Every process below `root`. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    const info = Number.isInteger(pid) ? stat(pid) : undefined;
    if (!info) continue;
    children.set(info.ppid, [...(children.get(info.ppid) ?? []), pid]);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Running: a zombie (ended, not yet collected by whoever inherited it) holds nothing. */
function running(pid: number): boolean {
  const info = stat(pid);
  return info !== undefined && info.state !== 'Z';
}

/** Launcher and Node-RED below npm, as they run once started. */
function tree(run: Run): { launcher: number; nodeRed: number; all: number[] } {
  const all = descendants(run.npm.pid as number);
  for (const pid of all) run.seen.add(pid);
  const launcher = all.find((pid) => commandLine(pid).includes('scripts/start.ts'));
  // Node-RED names itself "node-red" once it runs (process.title).
  const nodeRed = all.find((pid) => /^node-red\b|red\.js/.test(commandLine(pid)));
  assert.ok(launcher && nodeRed, `launcher and Node-RED under npm: ${JSON.stringify(all)}`);
  return { launcher, nodeRed, all };
}

function standInPort(run: Run): number {
  const found = /plex\.tv stand-in at http:\/\/127\.0\.0\.1:(\d+)/.exec(run.output());
  assert.ok(found, `the stand-in's address in:\n${run.output()}`);
  return Number(found[1]);
}

/** Waits until npm and every process it had below it are gone and the ports are free. */
async function allGone(run: Run, pids: number[], ports: number[]): Promise<Exit> {
  const exit = await Promise.race([
    run.exit,
    new Promise<undefined>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS)),
  ]);
  assert.ok(exit, `npm did not end within ${STOP_TIMEOUT_MS} ms:\n${run.output()}`);
  await until(
    () => pids.every((pid) => !running(pid)),
    STOP_TIMEOUT_MS,
    `the end of ${pids.map((pid) => `${pid} ${commandLine(pid)}`).join(', ')}`,
  );
  for (const port of ports) assert.equal(await portInUse(port), false, `port ${port} is free`);
  return exit;
}

// ---- the admin API, as the editor uses it ------------------------------------------------------

/**
 * Every call to one of the package's admin routes: the payload of a successful answer (with the
 * fields beside `ok`, or inside `data`), or a thrown error with the answer.
 */
async function adminRoute(
  nodeRedUrl: string,
  route: string,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${nodeRedUrl}/plex-butler/${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok || answer.ok !== true) {
    throw new Error(`${route} answered ${response.status}: ${JSON.stringify(answer)}`);
  }
  return (answer.data ?? answer) as Record<string, unknown>;
}

async function flows(nodeRedUrl: string): Promise<FlowNode[]> {
  const response = await fetch(`${nodeRedUrl}/flows`, { headers: { Accept: 'application/json' } });
  assert.equal(response.status, 200);
  return (await response.json()) as FlowNode[];
}

/** flows_cred.json as Node-RED encrypts it (aes-256-ctr, the key a SHA-256 of the secret). */
function savedCredentials(userDir: string): Record<string, Record<string, string>> {
  const file = JSON.parse(readFileSync(join(userDir, 'flows_cred.json'), 'utf8')) as {
    $: string;
  };
  const key = createHash('sha256').update(DEFAULT_CREDENTIAL_SECRET).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(file.$.slice(0, 32), 'hex'));
  const text = decipher.update(file.$.slice(32), 'base64', 'utf8') + decipher.final('utf8');
  return JSON.parse(text) as Record<string, Record<string, string>>;
}

describe('npm start', function () {
  this.timeout(START_TIMEOUT_MS + 60_000);
  let userDir: string;
  let runs: Run[];

  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'plex-butler-start-'));
    runs = [];
  });
  afterEach(() => {
    // A failed test must not leave its processes behind for the next one.
    for (const run of runs) {
      const npm = run.npm.pid as number;
      for (const pid of new Set([npm, ...descendants(npm), ...run.seen])) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    rmSync(userDir, { recursive: true, force: true });
  });

  async function started(
    options: Parameters<typeof npmStart>[1] = {},
  ): Promise<Run & { url: string }> {
    const run = await npmStart(userDir, options);
    runs.push(run);
    await ready(run);
    return { ...run, url: `http://127.0.0.1:${run.port}` };
  }

  /** Signals npm alone; everything under it must be gone, the ports free. */
  async function signalled(run: Run, signal: NodeJS.Signals): Promise<Exit> {
    const { all } = tree(run);
    const ports = [run.port, run.simulatorPort, standInPort(run)];
    run.npm.kill(signal);
    return allGone(run, all, ports);
  }

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} to the npm process alone ends the launcher, Node-RED and the simulators`, async () => {
      const run = await started();
      assert.match(run.output(), /Deployed the tabs/);
      await signalled(run, signal);
    });
  }

  it('Node-RED dying ends the launcher and the simulators, with an error exit', async () => {
    const run = await started();
    const { nodeRed, all } = tree(run);
    const ports = [run.port, run.simulatorPort, standInPort(run)];
    process.kill(nodeRed, 'SIGKILL');
    const exit = await allGone(run, all, ports);
    assert.notEqual(exit.code, 0);
    assert.match(
      run.output(),
      /Node-RED stopped by itself \(SIGKILL\): stopping the simulator too/,
    );
  });

  it('the launcher dying ends Node-RED too', async () => {
    const run = await started();
    const { launcher, all } = tree(run);
    const ports = [run.port, run.simulatorPort, standInPort(run)];
    process.kill(launcher, 'SIGKILL');
    await allGone(run, all, ports);
  });

  it('shows Node-RED\'s plain version, not "-git" for the clone it runs in', async () => {
    const run = await started();
    const version = /Node-RED version: (\S+)/.exec(run.output());
    assert.ok(version, run.output());
    assert.match(version[1], /^v\d+\.\d+\.\d+$/);
    await signalled(run, 'SIGINT');
  });

  it('a port in use: one line naming it and PORT, and no Node-RED log', async () => {
    const sockets = new Set<Socket>();
    const taken = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const run = await npmStart(userDir, { port });
      runs.push(run);
      const exit = await run.exit;
      assert.notEqual(exit.code, 0);
      const lines = run.output().split('\n');
      const said = lines.filter((line) => line.includes(String(port)));
      assert.equal(said.length, 1, run.output());
      assert.match(said[0], new RegExp(`^npm start: port ${port} is in use.*\\bPORT\\b`));
      assert.doesNotMatch(run.output(), /Welcome to Node-RED|Node-RED version/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('PLEX_URL without PLEX_TOKEN, and the reverse: says which is ignored and why', async () => {
    const urlOnly = await started({ env: { PLEX_URL: 'http://192.0.2.10:32400' } });
    assert.match(
      urlOnly.output(),
      /PLEX_URL is set but PLEX_TOKEN is not: PLEX_URL is ignored \(a server needs its token too\)/,
    );
    assert.match(urlOnly.output(), /using the bundled Plex simulator/);
    await signalled(urlOnly, 'SIGINT');
    const tokenOnly = await started({ env: { PLEX_TOKEN: 'start-test-Tok3n-41a7' } });
    assert.match(
      tokenOnly.output(),
      /PLEX_TOKEN is set but PLEX_URL is not: PLEX_TOKEN is ignored \(it needs the server's address too\)/,
    );
    assert.doesNotMatch(tokenOnly.output(), /start-test-Tok3n-41a7/);
    await signalled(tokenOnly, 'SIGINT');
  });

  it("keeps the user's work across restarts: the sign-in, the server picked, their changes", async () => {
    const first = await started();
    // Sign in with Plex in the server's dialog, against the stand-in that npm start runs.
    const draft = randomUUID();
    const signIn = await adminRoute(first.url, 'sign-in', { id: SERVER_ID, draft, clientId: '' });
    const code = new URLSearchParams(new URL(String(signIn.authUrl)).hash.replace(/^#\?/, '')).get(
      'code',
    );
    // The approval page's own request, as the person's click sends it.
    const approved = await fetch(`http://127.0.0.1:${standInPort(first)}/auth/approve`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `code=${encodeURIComponent(code ?? '')}`,
    });
    assert.equal(approved.status, 204);
    let status: Record<string, unknown> = {};
    await until(
      async () => {
        status = await adminRoute(first.url, 'sign-in/status', {
          id: SERVER_ID,
          session: signIn.session,
        });
        return status.state !== 'waiting';
      },
      10_000,
      'the sign-in',
    );
    assert.equal(status.state, 'signed-in');
    const listed = (await adminRoute(first.url, 'servers', { id: SERVER_ID, draft }))
      .servers as Array<Record<string, unknown>>;
    assert.deepEqual(
      listed.map((server) => [server.name, server.online]),
      [['Plex simulator', true]],
    );
    const chosen = await adminRoute(first.url, 'servers/choose', {
      id: SERVER_ID,
      draft,
      machineIdentifier: listed[0].machineIdentifier,
      url: '',
      typedUrl: '',
    });
    const kept = await adminRoute(first.url, 'servers/keep', {
      id: SERVER_ID,
      draft,
      url: chosen.url,
      withServerToken: true,
    });
    assert.equal(kept.kept, true);
    // Done and Deploy: the dialog's fields, the user's own name for the server, a tab of theirs.
    const edited = (await flows(first.url)).map((node) =>
      node.id === SERVER_ID
        ? {
            ...node,
            name: 'My Plex',
            url: chosen.url,
            machineId: chosen.machineIdentifier,
            plexDirectHash: chosen.plexDirectHash,
            tlsMode: chosen.tlsMode,
          }
        : node,
    );
    await deployFlow(first.url, [{ id: 'my-tab', type: 'tab', label: 'My tab' }, ...edited]);
    const before = await flows(first.url);
    const credentialsBefore = savedCredentials(userDir)[SERVER_ID];
    assert.equal(typeof credentialsBefore.accountToken, 'string');
    assert.equal(typeof credentialsBefore.tokenFor, 'string');
    await signalled(first, 'SIGINT');

    const second = await started();
    assert.doesNotMatch(second.output(), /Deployed the tabs/);
    assert.match(second.output(), /are as you left them/);
    assert.match(second.output(), /Import → Examples/);
    assert.match(second.output(), /npm start -- --reset/);
    assert.deepEqual(await flows(second.url), before, 'the flows, in their order');
    const server = before.find((node) => node.id === SERVER_ID);
    assert.equal(server?.name, 'My Plex');
    assert.equal(server?.machineId, chosen.machineIdentifier);
    assert.deepEqual(savedCredentials(userDir)[SERVER_ID], credentialsBefore);
    // Still signed in, and the server picked is the one the account lists.
    const again = (await adminRoute(second.url, 'servers', { id: SERVER_ID, draft: randomUUID() }))
      .servers as Array<Record<string, unknown>>;
    assert.deepEqual(
      again.map((listedAgain) => listedAgain.machineIdentifier),
      [chosen.machineIdentifier],
    );
    await signalled(second, 'SIGINT');

    // PLEX_URL and PLEX_TOKEN later: not applied to the flows the user has.
    const real = { PLEX_URL: 'http://127.0.0.1:9', PLEX_TOKEN: 'start-test-Tok3n-77c2' };
    const third = await started({ env: real });
    assert.match(third.output(), /PLEX_URL and PLEX_TOKEN are not applied/);
    assert.deepEqual(await flows(third.url), before);
    assert.deepEqual(savedCredentials(userDir)[SERVER_ID], credentialsBefore);
    third.npm.kill('SIGINT');
    await third.exit;

    // --reset: the examples again (here against PLEX_URL), the user's flows moved aside.
    const fourth = await started({ env: real, args: ['--reset'] });
    assert.match(fourth.output(), /Deployed the tabs/);
    const reset = await flows(fourth.url);
    assert.equal(
      reset.find((node) => node.id === 'my-tab'),
      undefined,
    );
    assert.equal(reset.find((node) => node.id === SERVER_ID)?.url, real.PLEX_URL);
    assert.equal(savedCredentials(userDir)[SERVER_ID].token, real.PLEX_TOKEN);
    const aside = readdirSync(userDir).filter((name) => name.startsWith('flows-before-reset-'));
    assert.equal(aside.length, 1);
    assert.match(fourth.output(), new RegExp(`your flows were moved to .*${aside[0]}`));
    assert.deepEqual(
      JSON.parse(readFileSync(join(userDir, aside[0], 'flows.json'), 'utf8')),
      before,
    );
    assert.ok(existsSync(join(userDir, aside[0], 'flows_cred.json')));
    fourth.npm.kill('SIGINT');
    await fourth.exit;
  });
});
