/**
 * A server config without a client identifier (an imported example, a flow deployed through
 * the admin API) still needs one that is its own and stays the same across restarts: Plex lists
 * every new identifier as a new device. It is derived from a random seed kept in the Node-RED
 * user directory and the config node's id, so two installations never share one.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

const SEED_FILE = '.plex-butler-installation';

const UUID = /^[0-9a-f-]{36}$/;
/** Read once per file: it never changes once written. */
const seeds = new Map<string, string>();

function readSeed(file: string): string | undefined {
  try {
    const saved = readFileSync(file, 'utf8').trim();
    return UUID.test(saved) ? saved : undefined;
  } catch {
    return undefined;
  }
}

function installationSeed(userDir: string | undefined): string {
  const file = join(userDir ?? join(homedir(), '.node-red'), SEED_FILE);
  let seed = seeds.get(file) ?? readSeed(file);
  if (seed === undefined) {
    const made = randomUUID();
    try {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${made}\n`, { mode: 0o600, flag: 'wx' });
      seed = made;
    } catch {
      // Written by another process first, or a read-only directory: then this one, for the
      // life of the process.
      seed = readSeed(file) ?? made;
    }
  }
  seeds.set(file, seed);
  return seed;
}

/** A UUID-shaped identifier, the same for the same installation and config node. */
export function derivedClientId(userDir: string | undefined, nodeId: string): string {
  const hex = createHash('sha256')
    .update(`${installationSeed(userDir)}:${nodeId}`)
    .digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
