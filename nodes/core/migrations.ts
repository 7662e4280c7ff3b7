/**
 * Saved node configs carry a `version`; older ones are brought up to date when a flow loads,
 * so that flows made with an earlier release keep working. Release 0.1.0 wrote no version:
 * that is version 1.
 */

/** The version this release writes (the editor's defaults) and reads. */
export const CONFIG_VERSION = 2;

/**
 * The client identifier that release 0.1.0's examples shipped: everyone who imported one
 * presented the same X-Plex-Client-Identifier. It counts as unset, so that each installation
 * gets one of its own.
 */
export const SHARED_EXAMPLE_CLIENT_ID = '3f6c2a8e-9b1d-4e7f-a2c5-0d8b6e4f1a93';

type Config = Record<string, unknown> & { version?: unknown };
type Step = (config: Config) => Config;

/** STEPS[type][n] turns version n + 1 into version n + 2. */
const STEPS: Record<string, Step[]> = {
  'plex-butler-server': [
    (config) => ({
      ...config,
      clientId: config.clientId === SHARED_EXAMPLE_CLIENT_ID ? '' : config.clientId,
      // The "Verify TLS certificate" box became a choice of three (a mode already chosen, as
      // in an open dialog's values, stays).
      tlsMode:
        config.tlsMode ||
        (config.verifyTls === false || config.verifyTls === 'false' ? 'off' : 'verify'),
    }),
  ],
};

/** The version of a saved config: a whole number from 1, or 1 when it has none. */
export function versionOf(config: Config): number {
  const version = Number(config.version);
  return Number.isInteger(version) && version >= 1 ? version : 1;
}

/**
 * The config as this release reads it, with `version` set to CONFIG_VERSION. A config from a
 * newer release is returned as it is: what it means is not known here.
 */
export function migrateConfig<T extends object>(type: string, config: T): T & { version?: number } {
  const saved = config as Config;
  let version = versionOf(saved);
  if (version > CONFIG_VERSION) return config;
  let current = saved;
  const steps = STEPS[type] ?? [];
  for (; version < CONFIG_VERSION; version++) {
    const step = steps[version - 1];
    if (step) current = step(current);
  }
  return { ...current, version: CONFIG_VERSION } as unknown as T;
}
