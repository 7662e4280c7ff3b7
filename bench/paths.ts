/**
 * Where things are, whether the benchmark runs from its TypeScript sources under tsx or, as
 * `npm run bench` does, compiled by tsc into node_modules/.cache/plex-butler-bench (tsx's
 * esbuild wraps every closure in a __name() call, a defineProperty per closure made: on a
 * per-request path that is measurable, and production code, compiled by tsc, has none).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const PACKAGE_NAME = '@plex-butler/node-red-plex-butler';

function findRepository(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === PACKAGE_NAME) return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no ${PACKAGE_NAME} above ${from}`);
  }
}

export const REPOSITORY = findRepository(__dirname);
export const BENCH_DIR = path.join(REPOSITORY, 'bench');
/** True when running from .ts sources under tsx, false when compiled by tsc. */
export const FROM_SOURCES = __filename.endsWith('.ts');
/** The file of a benchmark script next to this one, in whichever form is running. */
export function scriptFile(name: string): string {
  return path.join(__dirname, `${name}${FROM_SOURCES ? '.ts' : '.js'}`);
}
/** Node options a child process of the benchmark needs to run scriptFile()s. */
export const CHILD_EXEC_ARGV = FROM_SOURCES ? ['--import', 'tsx'] : [];
