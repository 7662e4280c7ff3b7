/**
 * Where Plex's two OpenAPI specs are, if anywhere. The project keeps no copy of them: CI has them
 * in ../shared/plex-api beside the checkout (or fetched, named by PLEX_OPENAPI_DIR), a user's clone
 * has neither. The mocha config (.mocharc.js) and the contract checker both ask this module, so
 * they never disagree about whether the check runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SPEC_FILES = {
  community: 'plex-api-spec.yaml',
  official: 'plex-media-server-openapi.json',
} as const;

export type SpecName = keyof typeof SPEC_FILES;

/** A folder holding both spec files; takes the place of ../shared/plex-api. */
export const SPEC_DIR_VARIABLE = 'PLEX_OPENAPI_DIR';
/** Set to 1 where the check must run (CI): then a missing spec folder fails the run. */
export const SPECS_REQUIRED_VARIABLE = 'PLEX_OPENAPI_REQUIRED';

const REPO_ROOT = path.resolve(__dirname, '../..');
const SIBLING_DIR = path.resolve(REPO_ROOT, '../shared/plex-api');

export type SpecLocation =
  | { found: true; dir: string }
  | {
      found: false;
      /** Why the check cannot run, for the one line the run prints. */
      reason: string;
      /** True when the run must fail rather than leave the check out. */
      required: boolean;
    };

function missingFiles(dir: string): string[] {
  return Object.values(SPEC_FILES).filter((file) => !fs.existsSync(path.join(dir, file)));
}

export function locateSpecs(env: NodeJS.ProcessEnv = process.env): SpecLocation {
  const named = env[SPEC_DIR_VARIABLE];
  const required = env[SPECS_REQUIRED_VARIABLE] === '1';
  if (named) {
    const dir = path.resolve(named);
    const missing = missingFiles(dir);
    if (missing.length === 0) return { found: true, dir };
    // A folder named on purpose that lacks the specs is a mistake, never a reason to skip.
    return {
      found: false,
      reason: `${SPEC_DIR_VARIABLE}=${named} has no ${missing.join(' and no ')}`,
      required: true,
    };
  }
  if (missingFiles(SIBLING_DIR).length === 0) return { found: true, dir: SIBLING_DIR };
  return {
    found: false,
    reason:
      `no spec files in ${path.relative(REPO_ROOT, SIBLING_DIR)} and ${SPEC_DIR_VARIABLE} is not set ` +
      `(set it to a folder with ${SPEC_FILES.community} and ${SPEC_FILES.official})`,
    required,
  };
}
