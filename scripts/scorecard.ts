/**
 * `npm run scorecard`: the Flow Library scorecard's checks (node-red-dev validate), offline.
 * The real one stops on its catalogue look-up here, so these are the same points, read from
 * package.json, the built dist/nodes/*.html and examples/*.json.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, requireFromNodeRed } from './node-red-process';

export interface PackageJson {
  name?: string;
  license?: string | { type?: string };
  repository?: string | { url?: string };
  bugs?: string | { url?: string };
  keywords?: string[];
  engines?: Record<string, string>;
  'node-red'?: { version?: string; nodes?: Record<string, string> };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

export interface CheckResult {
  id: string;
  ok: boolean;
  detail: string;
}

interface Semver {
  validRange(range: string): string | null;
  satisfies(version: string, range: string): boolean;
}

/** The Node-RED and Node.js versions a current package must admit (5.x needs Node >= 22.9). */
const NODE_RED_VERSIONS = ['4.0.0', '5.0.0'];
const NODE_VERSIONS = ['20.0.0', '22.9.0'];
const MAX_DEPENDENCIES = 6;
const LICENSE_FILES = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'LICENCE', 'LICENCE.md'];

function check(id: string, ok: boolean, detail: string): CheckResult {
  return { id, ok, detail };
}

function urlOf(field: string | { url?: string } | undefined): string {
  if (typeof field === 'string') return field;
  return field?.url ?? '';
}

function checkRange(id: string, label: string, range: unknown, versions: string[]): CheckResult {
  if (typeof range !== 'string' || range.trim() === '') return check(id, false, `${label} missing`);
  const semver = requireFromNodeRed<Semver>('semver');
  if (semver.validRange(range) === null) return check(id, false, `${label} "${range}" is no range`);
  const refused = versions.filter((version) => !semver.satisfies(version, range));
  return refused.length === 0
    ? check(id, true, `${label} "${range}" admits ${versions.join(' and ')}`)
    : check(id, false, `${label} "${range}" refuses ${refused.join(', ')}`);
}

/** The `<script type="text/javascript">` blocks: the only ones the Flow Library reads. */
function editorScripts(html: string): string[] {
  const scripts: string[] = [];
  for (const match of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (/\btype\s*=\s*(["'])text\/javascript\1/i.test(match[1])) scripts.push(match[2]);
  }
  return scripts;
}

/** Node types per node set, from the built HTML, or the problems that hide them. */
function registeredTypes(
  pkg: PackageJson,
  rootDir: string,
): { types: Map<string, string[]>; problems: string[] } {
  const types = new Map<string, string[]>();
  const problems: string[] = [];
  const sets = pkg['node-red']?.nodes ?? {};
  if (Object.keys(sets).length === 0) problems.push('node-red.nodes lists no node files');
  for (const [set, file] of Object.entries(sets)) {
    const js = join(rootDir, file);
    const html = js.replace(/\.js$/, '.html');
    if (!existsSync(js)) problems.push(`${file} missing (run npm run build)`);
    if (!existsSync(html)) {
      problems.push(`${file.replace(/\.js$/, '.html')} missing`);
      continue;
    }
    const names: string[] = [];
    for (const script of editorScripts(readFileSync(html, 'utf8'))) {
      // A module-style script does not run in the editor, and the Flow Library skips it.
      if (/^\s*(import|export)\s/m.test(script)) problems.push(`${set}: import/export in script`);
      for (const call of script.matchAll(
        /RED\.nodes\.registerType\(\s*(['"])([^'"]+)\1\s*,\s*\{/g,
      )) {
        names.push(call[2]);
      }
    }
    if (names.length === 0) problems.push(`${set}: no RED.nodes.registerType('<name>', {…})`);
    else if (!names.includes(set)) problems.push(`${set}: its HTML registers ${names.join(', ')}`);
    types.set(set, names);
  }
  return { types, problems };
}

function exampleTypes(rootDir: string): { types: Set<string>; problems: string[] } {
  const types = new Set<string>();
  const problems: string[] = [];
  const dir = join(rootDir, 'examples');
  if (!existsSync(dir)) return { types, problems: ['no examples/ folder'] };
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    try {
      const flow: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      if (!Array.isArray(flow)) throw new Error('not an array of nodes');
      for (const node of flow as Array<{ type?: unknown }>) {
        if (typeof node.type === 'string') types.add(node.type);
      }
    } catch (error) {
      problems.push(`${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { types, problems };
}

export function runScorecard(pkg: PackageJson, rootDir: string): CheckResult[] {
  const results: CheckResult[] = [];

  const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? '');
  const licenseFile = LICENSE_FILES.find((name) => existsSync(join(rootDir, name)));
  results.push(
    check(
      'P01',
      license !== '' && licenseFile !== undefined,
      `license "${license || 'missing'}", file ${licenseFile ?? 'missing'}`,
    ),
  );

  const repository = urlOf(pkg.repository);
  const bugs = urlOf(pkg.bugs);
  results.push(
    check(
      'P03',
      repository !== '' || bugs !== '',
      repository || bugs || 'no repository or bugs URL',
    ),
  );

  const name = pkg.name ?? '';
  results.push(
    check('P04', /^@[a-z0-9][\w.~-]*\/[a-z0-9][\w.~-]*$/.test(name), name || 'name missing'),
  );

  const keywords = pkg.keywords ?? [];
  results.push(
    check(
      'P05',
      keywords.includes('node-red'),
      keywords.includes('node-red') ? 'keyword node-red' : 'keyword node-red missing',
    ),
  );

  results.push(checkRange('P06', 'node-red.version', pkg['node-red']?.version, NODE_RED_VERSIONS));
  results.push(checkRange('P07', 'engines.node', pkg.engines?.node, NODE_VERSIONS));

  const { types, problems: typeProblems } = registeredTypes(pkg, rootDir);
  const all = [...types.values()].flat();
  const duplicates = [...new Set(all.filter((type, index) => all.indexOf(type) !== index))];
  const n01Problems = [
    ...typeProblems,
    ...(duplicates.length > 0 ? [`registered twice: ${duplicates.join(', ')}`] : []),
  ];
  results.push(
    check(
      'N01',
      n01Problems.length === 0,
      n01Problems.length === 0 ? `${all.length} types: ${all.join(', ')}` : n01Problems.join('; '),
    ),
  );

  const examples = exampleTypes(rootDir);
  const unused = [...new Set(all)].filter((type) => !examples.types.has(type));
  const n02Problems = [
    ...examples.problems,
    ...(unused.length > 0 ? [`no example uses ${unused.join(', ')}`] : []),
    ...(all.length === 0 ? ['no node types found'] : []),
  ];
  results.push(
    check(
      'N02',
      n02Problems.length === 0,
      n02Problems.length === 0 ? 'every node type is in an example' : n02Problems.join('; '),
    ),
  );

  const dependencies = Object.keys(pkg.dependencies ?? {});
  results.push(
    check(
      'D01',
      dependencies.length <= MAX_DEPENDENCIES,
      `${dependencies.length} dependencies (at most ${MAX_DEPENDENCIES})`,
    ),
  );

  const bundled = ['dependencies', 'peerDependencies'] as const;
  const withNodeRed = bundled.filter((field) => 'node-red' in (pkg[field] ?? {}));
  results.push(
    check(
      'D02',
      withNodeRed.length === 0,
      withNodeRed.length === 0
        ? 'node-red is not a dependency'
        : `node-red in ${withNodeRed.join(', ')}`,
    ),
  );

  return results;
}

export function formatScorecard(results: CheckResult[]): string {
  const rows = [
    ['check', 'result', 'detail'],
    ...results.map((r) => [r.id, r.ok ? 'pass' : 'FAIL', r.detail]),
  ];
  const widths = [0, 1].map((column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) => `${row[0].padEnd(widths[0])}  ${row[1].padEnd(widths[1])}  ${row[2]}`)
    .join('\n');
}

if (require.main === module) {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
  const results = runScorecard(pkg, REPO_ROOT);
  console.log(formatScorecard(results));
  const failed = results.filter((result) => !result.ok).length;
  console.log(
    failed === 0 ? '\nscorecard: all checks pass' : `\nscorecard: ${failed} check(s) failed`,
  );
  process.exitCode = failed === 0 ? 0 : 1;
}
