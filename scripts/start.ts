/**
 * `npm start`: a local Node-RED on 127.0.0.1 with this package linked in, against a real Plex
 * (PLEX_URL + PLEX_TOKEN) or the bundled simulator and a plex.tv stand-in.
 *
 * npm runs this one process (`exec`, no shell waiting in between), so a signal to npm reaches
 * it. It builds, starts the simulators and Node-RED, and ends them all when it ends: on SIGINT,
 * SIGTERM or SIGHUP, when npm goes away, or when Node-RED stops by itself. Node-RED stops by
 * itself when this process dies (scripts/stop-with-parent.js).
 *
 * A user directory without flows gets the two nightly maintenance examples; later starts keep
 * the flows (and the credentials: a sign-in, a server picked) as the user left them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_ACCOUNT, PlexSimulator, PlexTvSimulator } from '../simulator';
import {
  PACKAGE_NAME,
  PortInUseError,
  REPO_ROOT,
  deployFlow,
  portInUse,
  startNodeRed,
  type NodeRedProcess,
} from './node-red-process';

const EXAMPLES = ['04 - nightly maintenance', '05 - optimise, back up, notify'];
const DEFAULT_USER_DIR = join(REPO_ROOT, '.node-red-dev');
const FLOWS_FILE = 'flows.json';
const CREDENTIALS_FILE = 'flows_cred.json';
const SIMULATOR_TOKEN = 'simulator-token';
const SIMULATOR_PORT = 32400;
/** The same at every start, so that a server picked from the stand-in's list is found again. */
const SIMULATOR_MACHINE_ID = '5e7a1c0b9d2f4a61b07a1e5d1e9a7f0c3d2e4b6a';
/** Written into dist/ after a build; a build by anything else removes dist/ and so this too. */
const BUILD_STAMP = join(REPO_ROOT, 'dist', '.built-by-npm-start');
/** What the build reads: a change in any of these (a file or a folder's entries) rebuilds. */
const BUILD_INPUTS = [
  'lib',
  'nodes',
  'icons',
  'scripts/build.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'package-lock.json',
];
const USAGE = 'npm start [-- --reset] [-- --userDir <folder>]';

interface FlowNode {
  id: string;
  type: string;
  url?: string;
  credentials?: Record<string, string>;
  [key: string]: unknown;
}

interface StartOptions {
  reset: boolean;
  userDir: string;
}

interface Plex {
  url: string;
  token: string;
}

/** A mistake in how npm start was called: one line, no stack. */
class UsageError extends Error {}

function startOptions(args: string[]): StartOptions {
  let values: { reset?: boolean; userDir?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { reset: { type: 'boolean' }, userDir: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (usage: ${USAGE})`);
  }
  // npm runs scripts in the package folder; a relative folder is meant from where npm was run.
  const base = process.env.INIT_CWD ?? process.cwd();
  return {
    reset: values.reset === true,
    userDir: values.userDir ? resolve(base, values.userDir) : DEFAULT_USER_DIR,
  };
}

function portFromEnv(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${name} must be a port number from 1 to 65535, got "${text}"`);
  }
  return port;
}

/** A URL without user info or query, where a token could hide. */
function shown(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/$/, '')}`;
}

/** A folder as the user would type it: relative to the clone when inside it. */
function folderName(folder: string): string {
  const inside = relative(REPO_ROOT, folder);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? `${inside}/` : folder;
}

/**
 * The real server named by PLEX_URL and PLEX_TOKEN, when both are set. One without the other
 * is ignored, and the user is told which and why.
 */
function plexFromEnv(): Plex | undefined {
  const url = process.env.PLEX_URL?.trim() ?? '';
  const token = process.env.PLEX_TOKEN?.trim() ?? '';
  if (url && token) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      // Reported below, without echoing the value: it might hold the token.
    }
    if (!parsed || !/^https?:$/.test(parsed.protocol)) {
      throw new UsageError(
        "PLEX_URL must be the server's http:// or https:// address, e.g. http://192.168.1.10:32400",
      );
    }
    return { url, token };
  }
  if (url) {
    console.log(
      'PLEX_URL is set but PLEX_TOKEN is not: PLEX_URL is ignored (a server needs its token too), so the bundled simulator is used.',
    );
  }
  if (token) {
    console.log(
      "PLEX_TOKEN is set but PLEX_URL is not: PLEX_TOKEN is ignored (it needs the server's address too), so the bundled simulator is used.",
    );
  }
  return undefined;
}

/** The newest change under `path`: files and folders (a folder changes when an entry goes). */
function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    newest = Math.max(newest, newestChange(join(path, entry)));
  }
  return newest;
}

function buildIsCurrent(): boolean {
  if (!existsSync(BUILD_STAMP)) return false;
  const built = statSync(BUILD_STAMP).mtimeMs;
  return BUILD_INPUTS.every((input) => newestChange(join(REPO_ROOT, input)) <= built);
}

/** Whether the user directory has no flows yet: a new one, or one whose flows file is empty. */
function hasNoFlows(userDir: string): boolean {
  const file = join(userDir, FLOWS_FILE);
  if (!existsSync(file)) return true;
  try {
    const flows = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(flows) && flows.length === 0;
  } catch {
    // Not JSON: the user's, to fix; Node-RED says what is wrong with it.
    return false;
  }
}

/** --reset: the flows and their credentials move to a folder beside them; nothing is deleted. */
function setFlowsAside(userDir: string): string | undefined {
  const files = [FLOWS_FILE, CREDENTIALS_FILE].filter((file) => existsSync(join(userDir, file)));
  if (files.length === 0) return undefined;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const folder = join(userDir, `flows-before-reset-${stamp}`);
  mkdirSync(folder, { recursive: true });
  for (const file of files) renameSync(join(userDir, file), join(folder, file));
  return folder;
}

/**
 * The examples with our server, and the token as a credential, which Node-RED encrypts. They
 * share one server config node (same id): it is kept once.
 */
function exampleFlow(plex: Plex): FlowNode[] {
  const byId = new Map<string, FlowNode>();
  for (const name of EXAMPLES) {
    const nodes = JSON.parse(
      readFileSync(join(REPO_ROOT, 'examples', `${name}.json`), 'utf8'),
    ) as FlowNode[];
    for (const node of nodes) byId.set(node.id, node);
  }
  const flow = [...byId.values()];
  for (const node of flow) {
    if (node.type === 'plex-butler-server') {
      node.url = plex.url;
      node.credentials = { token: plex.token };
    }
  }
  return flow;
}

/** The tabs as the editor shows them: their labels, quoted. */
function tabLabels(flow: FlowNode[]): string[] {
  return flow.filter((node) => node.type === 'tab').map((node) => `"${String(node.label)}"`);
}

/** A plex.tv whose account has the simulator as its server (http on the LAN, like at home). */
async function startPlexTv(simulator: PlexSimulator): Promise<PlexTvSimulator> {
  const url = new URL(simulator.url);
  const plexTv = new PlexTvSimulator({
    account: { ...DEFAULT_ACCOUNT, token: SIMULATOR_TOKEN },
    servers: [
      {
        name: 'Plex simulator',
        machineIdentifier: simulator.machineIdentifier,
        owned: true,
        online: true,
        accessToken: SIMULATOR_TOKEN,
        gdmPort: Number(url.port),
        connections: [
          {
            protocol: 'http',
            address: url.hostname,
            port: Number(url.port),
            uri: simulator.url,
            local: true,
            relay: false,
          },
        ],
      },
    ],
  });
  await plexTv.start();
  return plexTv;
}

class Launcher {
  private stopping = false;
  private build: ChildProcess | undefined;
  private nodeRed: NodeRedProcess | undefined;
  private simulator: PlexSimulator | undefined;
  private plexTv: PlexTvSimulator | undefined;

  constructor(private readonly options: StartOptions) {}

  get stopped(): boolean {
    return this.stopping;
  }

  /** Stops everything started so far, once, then exits with `code`. */
  shutdown(reason: string, code: number): void {
    if (this.stopping) return;
    this.stopping = true;
    (code === 0 ? console.log : console.error)(reason);
    this.build?.kill('SIGTERM');
    void Promise.allSettled([this.nodeRed?.stop(), this.simulator?.stop(), this.plexTv?.stop()])
      // Quietly for a stop that was asked for: npm then adds no error lines of its own.
      .then(() => process.exit(code));
  }

  async run(): Promise<void> {
    const port = portFromEnv('PORT', 1880);
    if (await portInUse(port)) throw new PortInUseError(port);
    await this.buildIfChanged();
    if (this.stopping) return;

    const real = plexFromEnv();
    const userDir = this.options.userDir;
    if (this.options.reset) {
      const folder = setFlowsAside(userDir);
      if (folder) console.log(`--reset: your flows were moved to ${folderName(folder)}`);
    }
    const noFlows = hasNoFlows(userDir);
    const plex = real ?? (await this.startSimulators());
    if (this.stopping) return;
    if (real) console.log(`Using the Plex server at ${shown(real.url)} (token from PLEX_TOKEN)`);
    if (real && !noFlows) {
      console.log(
        `PLEX_URL and PLEX_TOKEN are not applied: ${folderName(userDir)} has flows, which are kept as they are ` +
          '(change the server in its config node, or start over with npm start -- --reset).',
      );
    }

    const nodeRed = await startNodeRed({
      userDir,
      port,
      install: 'link',
      echo: true,
      ...(this.plexTv
        ? {
            plexButler: {
              plexTvUrl: this.plexTv.url,
              appUrl: this.plexTv.appUrl,
              discoveryAddress: this.plexTv.gdmAddress,
            },
          }
        : {}),
    });
    this.nodeRed = nodeRed;
    if (this.stopping) {
      await nodeRed.stop();
      return;
    }
    void nodeRed.exited.then(({ code, signal }) => {
      this.shutdown(
        `\nNode-RED stopped by itself (${code !== null ? `exit code ${code}` : signal}): stopping the simulator too.`,
        1,
      );
    });

    const example = noFlows ? exampleFlow(plex) : [];
    if (noFlows) await deployFlow(nodeRed.url, example);
    console.log(
      [
        '',
        `Node-RED editor: ${nodeRed.url}/`,
        noFlows
          ? `Deployed the tabs ${tabLabels(example).join(' and ')} against ${shown(plex.url)} (user directory ${folderName(userDir)}).`
          : `Your flows in ${folderName(userDir)} are as you left them. The examples are under Menu → Import → Examples → ${PACKAGE_NAME}; npm start -- --reset starts over with them (your flows are moved aside, not deleted).`,
        ...(this.plexTv
          ? [
              'Try Sign in with Plex: open a server config, click the button, approve on the page it opens (the stand-in\'s), pick "Plex simulator".',
            ]
          : []),
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
  }

  /** Builds dist/ unless nothing it is built from changed since the last build by npm start. */
  private async buildIfChanged(): Promise<void> {
    if (buildIsCurrent()) {
      console.log('build: dist/ is up to date');
      return;
    }
    const startedAt = new Date();
    const build = spawn(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], {
      cwd: REPO_ROOT,
      stdio: 'inherit',
    });
    this.build = build;
    const code = await new Promise<number | null>((resolveBuild, reject) => {
      build.once('error', reject);
      build.once('exit', resolveBuild);
    });
    this.build = undefined;
    if (this.stopping) return;
    if (code !== 0) throw new Error('the build failed (its errors are above)');
    writeFileSync(BUILD_STAMP, '');
    // A source saved while the build ran is newer than this, so the next start builds again.
    utimesSync(BUILD_STAMP, startedAt, startedAt);
  }

  private async startSimulators(): Promise<Plex> {
    const wanted = portFromEnv('PLEX_SIMULATOR_PORT', SIMULATOR_PORT);
    const options = {
      token: SIMULATOR_TOKEN,
      machineIdentifier: SIMULATOR_MACHINE_ID,
      taskDurationMs: 15_000,
      progressIntervalMs: 1000,
    };
    let simulator = new PlexSimulator({ ...options, port: wanted });
    try {
      await simulator.start();
    } catch {
      // Taken (a real Plex on this machine, or another run): any free port will do.
      simulator = new PlexSimulator({ ...options, port: 0 });
      await simulator.start();
      console.log(
        `Port ${wanted} is in use: the simulator listens on ${simulator.url} instead (PLEX_SIMULATOR_PORT chooses the port).`,
      );
    }
    this.simulator = simulator;
    this.plexTv = await startPlexTv(simulator);
    console.log(
      `No PLEX_URL/PLEX_TOKEN set: using the bundled Plex simulator at ${simulator.url} ` +
        `(token "${SIMULATOR_TOKEN}"), and a plex.tv stand-in at ${this.plexTv.url} for Sign in with Plex`,
    );
    return { url: simulator.url, token: SIMULATOR_TOKEN };
  }
}

function explain(error: unknown): string {
  if (error instanceof PortInUseError) {
    return (
      `port ${error.port} is in use (another Node-RED?): choose another with PORT, ` +
      `e.g. PORT=${error.port === 65535 ? 1881 : error.port + 1} npm start`
    );
  }
  return error instanceof Error ? error.message : String(error);
}

async function main(): Promise<void> {
  let launcher: Launcher | undefined;
  try {
    launcher = new Launcher(startOptions(process.argv.slice(2)));
    const started = launcher;
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => started.shutdown(`\n${signal}: stopping Node-RED…`, 0));
    }
    // npm gone (killed, or ended by a SIGHUP it does not pass on): this process is alone now.
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) started.shutdown('npm has ended: stopping Node-RED…', 0);
    }, 500).unref();
    await started.run();
  } catch (error) {
    const line = `npm start: ${explain(error)}`;
    if (!launcher) {
      console.error(line);
      process.exit(1);
    }
    // A stop asked for during start-up: shutdown() is already under way.
    if (!launcher.stopped) launcher.shutdown(line, 1);
  }
}

void main();
