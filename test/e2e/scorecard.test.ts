/**
 * The offline scorecard passes for the real package, and each check fails when its point is
 * broken (otherwise a check that can never fail would prove nothing).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/node-red-process';
import { formatScorecard, runScorecard, type PackageJson } from '../../scripts/scorecard';

const realPackage = (): PackageJson =>
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;

function failing(pkg: PackageJson, rootDir = REPO_ROOT): string[] {
  return runScorecard(pkg, rootDir)
    .filter((result) => !result.ok)
    .map((result) => result.id);
}

/** A one-node package in a temp folder, with its editor HTML and examples given by the test. */
function fakePackage(
  root: string,
  html: Record<string, string>,
  examples: Array<Array<{ type: string }>>,
): PackageJson {
  mkdirSync(join(root, 'dist/nodes'), { recursive: true });
  mkdirSync(join(root, 'examples'), { recursive: true });
  cpSync(join(REPO_ROOT, 'LICENSE'), join(root, 'LICENSE'));
  const nodes: Record<string, string> = {};
  for (const [set, text] of Object.entries(html)) {
    nodes[set] = `dist/nodes/${set}.js`;
    writeFileSync(join(root, `dist/nodes/${set}.js`), 'module.exports = () => {};\n');
    writeFileSync(join(root, `dist/nodes/${set}.html`), text);
  }
  examples.forEach((flow, index) =>
    writeFileSync(join(root, `examples/${index}.json`), JSON.stringify(flow)),
  );
  return { ...realPackage(), 'node-red': { version: '>=4.0.0', nodes } };
}

const editorHtml = (type: string, scriptType = 'text/javascript'): string =>
  `<script type="text/html" data-template-name="${type}"><div></div></script>\n` +
  `<script type="${scriptType}">\n  RED.nodes.registerType('${type}', { category: 'x' });\n</script>\n`;

describe('scorecard (offline Flow Library checks)', function () {
  let tmp: string;

  beforeEach(function () {
    tmp = mkdtempSync(join(tmpdir(), 'plex-butler-scorecard-'));
  });

  afterEach(function () {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('passes every check for this package (after npm run build)', function () {
    const results = runScorecard(realPackage(), REPO_ROOT);
    assert.deepEqual(
      results.map((result) => result.id),
      ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'N01', 'N02', 'D01', 'D02'],
    );
    assert.deepEqual(failing(realPackage()), [], formatScorecard(results));
    const n01 = results.find((result) => result.id === 'N01');
    assert.match(n01?.detail ?? '', /8 types/);
  });

  it('P01 fails without a licence field or without a LICENSE file', function () {
    assert.deepEqual(failing({ ...realPackage(), license: undefined }), ['P01']);
    const pkg = fakePackage(tmp, { a: editorHtml('a') }, [[{ type: 'a' }]]);
    assert.deepEqual(failing(pkg, tmp), []);
    rmSync(join(tmp, 'LICENSE'));
    assert.deepEqual(failing(pkg, tmp), ['P01']);
  });

  it('P03 fails with neither a repository nor a bugs URL', function () {
    assert.deepEqual(failing({ ...realPackage(), repository: undefined, bugs: undefined }), [
      'P03',
    ]);
    assert.deepEqual(failing({ ...realPackage(), repository: undefined }), []);
  });

  it('P04 fails for an unscoped name', function () {
    assert.deepEqual(failing({ ...realPackage(), name: 'node-red-plex-butler' }), ['P04']);
  });

  it('P05 fails without the node-red keyword', function () {
    assert.deepEqual(failing({ ...realPackage(), keywords: ['plex'] }), ['P05']);
  });

  it('P06 fails when node-red.version is missing or refuses 5.x', function () {
    const withVersion = (version?: string): PackageJson => ({
      ...realPackage(),
      'node-red': { ...realPackage()['node-red'], version },
    });
    assert.deepEqual(failing(withVersion('^4.0.0')), ['P06']);
    assert.deepEqual(failing(withVersion('>=5.0.0')), ['P06']);
    assert.deepEqual(failing(withVersion(undefined)), ['P06']);
    assert.deepEqual(failing(withVersion('not a range')), ['P06']);
    assert.deepEqual(failing(withVersion('>=3.1.0')), []);
  });

  it('P07 fails when engines.node is missing or refuses Node 20 or 22.9', function () {
    assert.deepEqual(failing({ ...realPackage(), engines: { node: '^20' } }), ['P07']);
    assert.deepEqual(failing({ ...realPackage(), engines: { node: '>=22' } }), ['P07']);
    assert.deepEqual(failing({ ...realPackage(), engines: undefined }), ['P07']);
  });

  it('N01 fails when a type is registered twice or the HTML hides it', function () {
    const twice = fakePackage(tmp, { a: editorHtml('a'), b: editorHtml('a') }, [[{ type: 'a' }]]);
    assert.deepEqual(failing(twice, tmp), ['N01']);
    const moduleScript = fakePackage(tmp, { a: editorHtml('a', 'module') }, [[{ type: 'a' }]]);
    assert.deepEqual(failing(moduleScript, tmp), ['N01', 'N02']);
    rmSync(join(tmp, 'dist/nodes/a.html'));
    assert.deepEqual(failing(moduleScript, tmp), ['N01', 'N02']);
  });

  it('N02 fails when a node type is in no example', function () {
    const pkg = fakePackage(tmp, { a: editorHtml('a'), b: editorHtml('b') }, [[{ type: 'a' }]]);
    const n02 = runScorecard(pkg, tmp).find((result) => result.id === 'N02');
    assert.equal(n02?.ok, false);
    assert.match(n02?.detail ?? '', /no example uses b/);
  });

  it('D01 fails with more than 6 dependencies', function () {
    const dependencies = Object.fromEntries(
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => [name, '1.0.0']),
    );
    assert.deepEqual(failing({ ...realPackage(), dependencies }), ['D01']);
  });

  it('D02 fails when node-red is a dependency or peer dependency', function () {
    const pkg = realPackage();
    assert.deepEqual(
      failing({ ...pkg, dependencies: { ...pkg.dependencies, 'node-red': '4.1.15' } }),
      ['D02'],
    );
    assert.deepEqual(failing({ ...pkg, peerDependencies: { 'node-red': '>=4' } }), ['D02']);
  });

  it('formats a table with one row per check', function () {
    const table = formatScorecard(runScorecard(realPackage(), REPO_ROOT)).split('\n');
    assert.equal(table.length, 11);
    assert.match(table[0], /^check\s+result\s+detail$/);
    assert.match(table[1], /^P01\s+pass\s+/);
  });
});
