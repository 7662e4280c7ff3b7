/**
 * Runs a real Node-RED as a child process with this package installed into its user directory,
 * the way a user gets it: shared by `npm start` and the end-to-end tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..');
export const PACKAGE_NAME = '@plex-butler/node-red-plex-butler';
/** Used when the caller gives none: good enough for a throw-away dev or test user directory. */
export const DEFAULT_CREDENTIAL_SECRET = 'plex-butler-dev-credential-secret';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;

export interface StartNodeRedOptions {
  userDir: string;
  /** 0 or missing: a free port is picked. */
  port?: number;
  /** 'link': a symlink to this repository (fast); tarball: `npm install <tarball>` (real). */
  install: 'link' | { tarball: string };
  /** One user with every permission, or several, each with '*' (default) or 'read'. */
  adminAuth?: AdminUser | AdminUser[];
  credentialSecret?: string;
  /** The runtime's language (settings.lang), e.g. 'de'; default: from the environment. */
  lang?: string;
  /** settings.js `plexButler`: plex.tv's and app.plex.tv's addresses, the GDM address. */
  plexButler?: { plexTvUrl?: string; appUrl?: string; discoveryAddress?: string };
  /** A style sheet the editor loads after its own (editorTheme.page.css), e.g. a dark theme. */
  editorCss?: string;
  /** Node-RED's output is appended here as it arrives. */
  logFile?: string;
  /** Also copy Node-RED's output to this process's stdout/stderr (for `npm start`). */
  echo?: boolean;
}

export interface AdminUser {
  username: string;
  password: string;
  permissions?: '*' | 'read';
}

export interface NodeRedExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeRedProcess {
  /** Base URL of the editor, admin API and http-in nodes, e.g. http://127.0.0.1:1880 */
  url: string;
  userDir: string;
  /** The process id of Node-RED. */
  pid: number;
  /** Settles when Node-RED has exited, for whatever reason (stop() or not). */
  exited: Promise<NodeRedExit>;
  /** SIGINT, then SIGKILL if Node-RED has not exited within 5 s. */
  stop(): Promise<void>;
  /** Everything Node-RED wrote to stdout and stderr so far. */
  output(): string;
  /**
   * Resolves once the output from character `from` on matches `pattern`: a deploy is answered
   * before its flows have started, so "Started flows" in the log is the moment to wait for.
   */
  waitForOutput(pattern: RegExp, from?: number, timeoutMs?: number): Promise<void>;
}

interface Bcrypt {
  hashSync(password: string, rounds: number): string;
}

/** `node-red` (4.x), or `node-red-5` when `npm run test:compat` runs the suites on Node 22. */
export const NODE_RED_MODULE = process.env.NODE_RED_MODULE ?? 'node-red';

/** node-red's own dependencies (bcryptjs, semver), so that we need not declare them ourselves. */
export function requireFromNodeRed<T>(id: string): T {
  return createRequire(require.resolve(NODE_RED_MODULE))(id) as T;
}

/** Node-RED could not listen on its port: something else listens there. */
export class PortInUseError extends Error {
  constructor(readonly port: number) {
    super(`port ${port} on ${HOST} is in use`);
    this.name = 'PortInUseError';
  }
}

/** Whether something listens on `port` of 127.0.0.1 (or on every interface) already. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolveInUse, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EADDRINUSE' ? resolveInUse(true) : reject(error),
    );
    server.listen(port, HOST, () => server.close(() => resolveInUse(false)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolvePort(port) : reject(new Error('no free port'))));
    });
  });
}

/** The parent npm's npm_* variables (prefix, cache, command) must not steer a nested npm. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
}

function settingsSource(options: StartNodeRedOptions, port: number): string {
  const settings: Record<string, unknown> = {
    uiHost: HOST,
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: options.credentialSecret ?? DEFAULT_CREDENTIAL_SECRET,
    // No calls to the outside world and no first-run tour in a dev or test instance.
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
    editorTheme: {
      palette: { catalogues: [] },
      tours: false,
      ...(options.editorCss ? { page: { css: [options.editorCss] } } : {}),
    },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    ...(options.lang ? { lang: options.lang } : {}),
    ...(options.plexButler ? { plexButler: options.plexButler } : {}),
  };
  if (options.adminAuth) {
    const bcrypt = requireFromNodeRed<Bcrypt>('bcryptjs');
    const users = Array.isArray(options.adminAuth) ? options.adminAuth : [options.adminAuth];
    settings.adminAuth = {
      type: 'credentials',
      users: users.map((user) => ({
        username: user.username,
        password: bcrypt.hashSync(user.password, 8),
        permissions: user.permissions ?? '*',
      })),
    };
  }
  return `// Written by scripts/node-red-process.ts; rewritten at every start.\nmodule.exports = ${JSON.stringify(settings, null, 2)};\n`;
}

/** Runs a command to its end; resolves with its stdout, rejects with all it printed. */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolveRun(stdout);
      else
        reject(
          new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${stdout}${stderr}`),
        );
    });
  });
}

/**
 * `npm pack` as publishing does it, of a clean copy of this repository: the files git tracks or
 * would track (uncommitted changes included; ignored ones such as dist/ left out), with this
 * repository's node_modules linked in for the build that `prepack` runs. A stale or missing
 * dist/ here cannot hide a packaging problem. The copy goes to `destination`/tree.
 */
export async function packCleanTree(
  destination: string,
): Promise<{ tarball: string; files: string[] }> {
  const out = resolve(destination);
  const tree = join(out, 'tree');
  const listed = await run(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    REPO_ROOT,
  );
  for (const file of listed.split('\0').filter((name) => name !== '')) {
    const source = join(REPO_ROOT, file);
    // Deleted in the working tree but still in the index: not part of the tree being packed.
    if (!existsSync(source)) continue;
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    cpSync(source, join(tree, file));
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(tree, 'node_modules'), 'dir');
  const stdout = await run('npm', ['pack', '--json', '--pack-destination', out], tree);
  // The build's own lines come first on stdout; npm's JSON report starts on a line of its own.
  const [packed] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  return { tarball: join(out, packed.filename), files: packed.files.map((file) => file.path) };
}

async function installPackage(
  userDir: string,
  install: StartNodeRedOptions['install'],
): Promise<void> {
  if (install === 'link') {
    const target = join(userDir, 'node_modules', PACKAGE_NAME);
    mkdirSync(dirname(target), { recursive: true });
    rmSync(target, { recursive: true, force: true });
    symlinkSync(REPO_ROOT, target, 'dir');
    return;
  }
  const manifest = join(userDir, 'package.json');
  if (!existsSync(manifest)) {
    const project = {
      name: 'node-red-project',
      description: 'A Node-RED project',
      version: '0.0.1',
      private: true,
    };
    writeFileSync(manifest, `${JSON.stringify(project, null, 2)}\n`);
  }
  // The flags the palette manager uses, so the package is installed as a user would get it.
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--save',
      '--save-prefix=~',
      '--omit=dev',
      '--engine-strict',
      resolve(install.tarball),
    ],
    userDir,
  );
}

/** Keeps a symbolic link at `path` pointing at `target` (made once, fixed when it points elsewhere). */
function ensureLink(path: string, target: string): void {
  try {
    if (readlinkSync(path) === target) return;
    rmSync(path, { recursive: true, force: true });
  } catch {
    // No link there yet.
  }
  mkdirSync(dirname(path), { recursive: true });
  try {
    symlinkSync(target, path, 'dir');
  } catch (error) {
    // Another start made the same link a moment ago.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * How to start Node-RED: node's arguments, red.js last. Node-RED adds "-git" to its version
 * when it finds a .git four folders above its runtime's code, taking itself for a git checkout
 * of Node-RED; installed in this clone's node_modules it finds the clone's. Started through
 * links in a folder of their own, with node keeping the linked paths, it looks there instead and
 * shows its plain version. Its other dependencies resolve as before: the links sit inside the
 * node_modules that holds them.
 *
 * The preload stops Node-RED when the process that started it ends (see stop-with-parent.js).
 */
function nodeRedArguments(): string[] {
  const packageDir = dirname(require.resolve(`${NODE_RED_MODULE}/package.json`));
  const runtimeDir = dirname(
    createRequire(join(packageDir, 'package.json')).resolve('@node-red/runtime/package.json'),
  );
  const preload = ['--require', join(__dirname, 'stop-with-parent.js')];
  if (!existsSync(join(runtimeDir, '..', '..', '..', '.git'))) {
    return [...preload, join(packageDir, 'red.js')];
  }
  const modules = dirname(dirname(runtimeDir));
  const links = join(modules, '.cache', 'plex-butler-node-red', 'node_modules');
  ensureLink(join(links, 'node-red'), packageDir);
  ensureLink(join(links, '@node-red'), dirname(runtimeDir));
  return [
    '--preserve-symlinks',
    '--preserve-symlinks-main',
    ...preload,
    join(links, 'node-red', 'red.js'),
  ];
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolveExit(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolveExit(true);
    };
    child.once('exit', onExit);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

export async function startNodeRed(options: StartNodeRedOptions): Promise<NodeRedProcess> {
  const userDir = resolve(options.userDir);
  mkdirSync(userDir, { recursive: true });
  await installPackage(userDir, options.install);
  const port = options.port && options.port > 0 ? options.port : await freePort();
  // Else another Node-RED there could answer for this one until this one gives up.
  if (await portInUse(port)) throw new PortInUseError(port);
  const settingsFile = join(userDir, 'settings.js');
  writeFileSync(settingsFile, settingsSource(options, port));

  const child = spawn(
    process.execPath,
    [...nodeRedArguments(), '-u', userDir, '-s', settingsFile, '-p', String(port)],
    // stdin: a pipe nobody writes to, which ends when this process does (stop-with-parent.js).
    { cwd: userDir, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exitStatus = new Promise<NodeRedExit>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  let output = '';
  const collect = (stream: NodeJS.WriteStream) => (text: string) => {
    output += text;
    if (options.logFile) appendFileSync(options.logFile, text);
    if (options.echo) stream.write(text);
  };
  // Decoded by the stream, so a character split across two chunks is not garbled.
  child.stdout.setEncoding('utf8').on('data', collect(process.stdout));
  child.stderr.setEncoding('utf8').on('data', collect(process.stderr));
  // A test run or script that dies must not leave a Node-RED behind holding the port.
  const killOnExit = (): void => {
    if (!exited(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const stop = async (): Promise<void> => {
    process.off('exit', killOnExit);
    if (exited(child)) return;
    child.kill('SIGINT');
    if (await waitForExit(child, STOP_GRACE_MS)) return;
    child.kill('SIGKILL');
    await waitForExit(child, STOP_GRACE_MS);
  };

  const waitForOutput = async (pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<void> => {
    const until = Date.now() + timeoutMs;
    while (!pattern.test(output.slice(from))) {
      if (exited(child))
        throw new Error(`Node-RED exited while waiting for ${pattern}:\n${output}`);
      if (Date.now() > until)
        throw new Error(`Node-RED did not log ${pattern}:\n${output.slice(from)}`);
      await sleep(50);
    }
  };

  /** Node-RED's log, unless it was copied to the console already (echo). */
  const log = (text: string): string => (options.echo ? '' : `:\n${text}`);
  const url = `http://${HOST}:${port}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // The HTTP server listens once the runtime has loaded the nodes; any answer (401 with
  // adminAuth) means it is up. Then wait for the flows to be started (or found incomplete).
  let listening = false;
  while (Date.now() < deadline) {
    if (exited(child)) {
      // Its log says so in its own language: ask the port instead.
      if (await portInUse(port)) throw new PortInUseError(port);
      throw new Error(`Node-RED exited during start (code ${child.exitCode})${log(output)}`);
    }
    if (!listening) {
      try {
        await fetch(`${url}/settings`, { signal: AbortSignal.timeout(1000) });
        listening = true;
      } catch {
        // Not listening yet.
      }
    }
    // Node-RED logs in its own language: English by default, German with lang: de.
    if (
      listening &&
      /Started flows|Waiting for missing types|Flows sind gestartet|Warten auf Registrierung fehlender Typen/.test(
        output,
      )
    ) {
      return {
        url,
        userDir,
        pid: child.pid ?? 0,
        exited: exitStatus,
        stop,
        output: () => output,
        waitForOutput,
      };
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`Node-RED did not start within ${READY_TIMEOUT_MS} ms${log(output)}`);
}

function authHeader(token?: string): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * A bearer token for the admin API of a Node-RED with adminAuth, as node-red-admin gets one. A
 * read-only user must ask for scope 'read' (asking '*' is refused).
 */
export async function adminToken(
  url: string,
  username: string,
  password: string,
  scope: '*' | 'read' = '*',
): Promise<string> {
  const response = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-admin',
      grant_type: 'password',
      scope,
      username,
      password,
    }),
  });
  if (!response.ok) throw new Error(`POST /auth/token answered ${response.status}`);
  const body = (await response.json()) as { access_token?: unknown };
  if (typeof body.access_token !== 'string') throw new Error('POST /auth/token gave no token');
  return body.access_token;
}

/** A full deploy through the admin API, as the editor's Deploy button does. */
export async function deployFlow(
  url: string,
  flow: unknown[],
  options: { token?: string } = {},
): Promise<void> {
  const response = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'Node-RED-Deployment-Type': 'full',
      ...authHeader(options.token),
    },
    body: JSON.stringify(flow),
  });
  if (!response.ok) {
    // The answer is Node-RED's own error, never the posted flow, so it holds no credentials.
    throw new Error(`POST /flows answered ${response.status}: ${await response.text()}`);
  }
}
