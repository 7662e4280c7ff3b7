/**
 * `npm start`: a local Node-RED on 127.0.0.1 with this package linked in and the two nightly
 * maintenance examples deployed, against a real Plex (PLEX_URL + PLEX_TOKEN) or the simulator.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT, PlexSimulator, PlexTvSimulator } from '../simulator';
import { REPO_ROOT, deployFlow, startNodeRed, type NodeRedProcess } from './node-red-process';

const EXAMPLES = ['04 - nightly maintenance', '05 - optimise, back up, notify'];
const USER_DIR = join(REPO_ROOT, '.node-red-dev');
const SIMULATOR_TOKEN = 'simulator-token';
const SIMULATOR_PORT = 32400;

interface FlowNode {
  id: string;
  type: string;
  url?: string;
  credentials?: Record<string, string>;
  [key: string]: unknown;
}

interface Plex {
  url: string;
  token: string;
  simulator?: PlexSimulator;
  /** Without a real server: a plex.tv stand-in, so that Sign in with Plex can be tried. */
  plexTv?: PlexTvSimulator;
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

async function startSimulator(): Promise<PlexSimulator> {
  const options = { token: SIMULATOR_TOKEN, taskDurationMs: 15_000, progressIntervalMs: 1000 };
  const preferred = new PlexSimulator({ ...options, port: SIMULATOR_PORT });
  try {
    await preferred.start();
    return preferred;
  } catch {
    // 32400 is taken (a real Plex on this machine, or another run): any free port will do.
    const fallback = new PlexSimulator({ ...options, port: 0 });
    await fallback.start();
    return fallback;
  }
}

/** A URL without user info or query, where a token could hide. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.replace(/\/$/, '')}`;
  } catch {
    return '(PLEX_URL is not a valid URL)';
  }
}

async function plexTarget(): Promise<Plex> {
  const url = process.env.PLEX_URL;
  const token = process.env.PLEX_TOKEN;
  if (url && token) {
    console.log(`Using the Plex server at ${shown(url)} (token from PLEX_TOKEN)`);
    return { url, token };
  }
  const simulator = await startSimulator();
  const plexTv = await startPlexTv(simulator);
  console.log(
    `No PLEX_URL/PLEX_TOKEN set: using the bundled Plex simulator at ${simulator.url} ` +
      `(token "${SIMULATOR_TOKEN}"), and a plex.tv stand-in at ${plexTv.url} for Sign in with Plex`,
  );
  return { url: simulator.url, token: SIMULATOR_TOKEN, simulator, plexTv };
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

/** The example replaces its own nodes (fixed ids); other tabs made in the editor are kept. */
async function mergedFlows(url: string, example: FlowNode[]): Promise<FlowNode[]> {
  const response = await fetch(`${url}/flows`, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET /flows answered ${response.status}`);
  const current = (await response.json()) as FlowNode[];
  const ids = new Set(example.map((node) => node.id));
  return [...current.filter((node) => !ids.has(node.id)), ...example];
}

async function main(): Promise<void> {
  const plex = await plexTarget();
  const example = exampleFlow(plex);
  let nodeRed: NodeRedProcess | undefined;
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping Node-RED…');
    void Promise.allSettled([nodeRed?.stop(), plex.simulator?.stop(), plex.plexTv?.stop()]).then(
      () => process.exit(0),
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  try {
    const port = Number(process.env.PORT ?? 1880);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`PORT must be a port number, got "${process.env.PORT}"`);
    }
    nodeRed = await startNodeRed({
      userDir: USER_DIR,
      port,
      install: 'link',
      echo: true,
      ...(plex.plexTv
        ? {
            plexButler: {
              plexTvUrl: plex.plexTv.url,
              appUrl: plex.plexTv.appUrl,
              discoveryAddress: plex.plexTv.gdmAddress,
            },
          }
        : {}),
    });
    if (stopping) return;
    await deployFlow(nodeRed.url, await mergedFlows(nodeRed.url, example));
  } catch (error) {
    // Ctrl-C during start-up: shutdown() is already stopping everything and exits 0.
    if (stopping) return;
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    await Promise.allSettled([nodeRed?.stop(), plex.simulator?.stop(), plex.plexTv?.stop()]);
    process.exit(1);
  }
  console.log(
    [
      '',
      `Node-RED editor: ${nodeRed.url}/`,
      `Deployed the tabs ${tabLabels(example).join(' and ')} against ${shown(plex.url)} (user directory .node-red-dev/).`,
      ...(plex.plexTv
        ? [
            'Try Sign in with Plex: open a server config, click the button, approve on the page it opens (the stand-in\'s), pick "Plex simulator".',
          ]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

void main();
