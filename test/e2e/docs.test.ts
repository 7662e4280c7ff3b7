/**
 * The documentation says what the package does: every TypeScript example in README.md and
 * docs/ runs against the simulator as a user would run it (the package's name resolves to this
 * tree), every JSON example is JSON, every relative link leads to a file, and each node's summary
 * in its help (the palette tooltip) stands word for word in the docs.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { PlexSimulator } from '../../simulator';
import { NODE_TYPES } from '../support/node-types';
import { startSimulator } from '../support/simulator';

const ROOT = join(__dirname, '../..');
const PACKAGE = '@plex-butler/node-red-plex-butler';
const TOKEN = 'docs-example-token';
const run = promisify(execFile);

const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).map((file) => `docs/${file}`)]
  .filter((page) => page.endsWith('.md'))
  .map((page) => ({ page, text: readFileSync(join(ROOT, page), 'utf8') }));

/** Fenced blocks of one language, with the page and line they start on. */
function blocks(language: string): Array<{ where: string; code: string }> {
  return PAGES.flatMap(({ page, text }) =>
    [...text.matchAll(new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm'))].map(
      (match) => ({
        where: `${page}:${text.slice(0, match.index).split('\n').length}`,
        code: match[1],
      }),
    ),
  );
}

/** Words of an HTML fragment as a reader sees them: no tags, one space between words. */
function words(html: string): string {
  return html
    .replace(/<[^>]+>/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

describe('the documentation', function () {
  this.timeout(60_000);
  let sim: PlexSimulator;
  let scratch: string;

  before(async () => {
    sim = await startSimulator({ token: TOKEN, taskDurationMs: 300, progressIntervalMs: 100 });
    scratch = mkdtempSync(join(tmpdir(), 'plex-butler-docs-'));
  });
  after(async () => {
    await sim.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const examples = blocks('ts');
  it('has TypeScript examples to run', () => {
    assert.ok(examples.length >= 2, `${examples.length} examples`);
  });

  for (const { where, code } of examples) {
    it(`runs the example at ${where} against a Plex server`, async () => {
      // Imports stay at the top; the rest runs in an async function, as in an ES module.
      const before = sim.exchanges.length;
      const body = code.replace(/^import[\s\S]*?from '[^']+';\n/gm, '');
      const imports = (code.match(/^import[\s\S]*?from '[^']+';$/gm) ?? []).map((line) =>
        line.replace(`'${PACKAGE}'`, `'${join(ROOT, 'lib').replaceAll('\\', '/')}'`),
      );
      const file = join(scratch, `example-${where.replace(/\W/g, '-')}.ts`);
      writeFileSync(
        file,
        `${imports.join('\n')}\n(async () => {\n${body}\n})().catch((error: unknown) => {\n` +
          `  console.error(error);\n  process.exit(1);\n});\n`,
      );
      const { stdout } = await run(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        env: { ...process.env, PLEX_URL: sim.url, PLEX_TOKEN: TOKEN },
        timeout: 30_000,
      });
      const sent = sim.exchanges.slice(before);
      assert.ok(
        sent.some(({ method }) => method === 'POST'),
        `${where} started nothing on the server`,
      );
      assert.ok(stdout.length > 0, `${where} printed nothing`);
    });
  }

  it('has JSON examples that are JSON', () => {
    const json = blocks('json');
    assert.ok(json.length >= 3);
    for (const { where, code } of json) {
      assert.doesNotThrow(() => JSON.parse(code), `${where} is not JSON`);
    }
  });

  it('links only to files that exist', () => {
    for (const { page, text } of PAGES) {
      for (const match of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1];
        if (/^[a-z]+:/.test(target)) continue;
        assert.ok(existsSync(resolve(ROOT, dirname(page), target)), `${page} → ${target}`);
      }
    }
  });

  it("says each node's summary as its help does, word for word", () => {
    const docs = PAGES.map(({ text }) => words(text.replace(/[*`]/g, ''))).join(' ');
    for (const type of NODE_TYPES) {
      const help = readFileSync(join(ROOT, 'nodes/locales/en-US', `${type}.html`), 'utf8');
      const summary = words(/<p>([\s\S]*?)<\/p>/.exec(help)?.[1] ?? '');
      assert.ok(summary.length > 20, `${type} has a summary`);
      assert.ok(docs.includes(summary), `${type}: "${summary}" is not in the docs`);
    }
  });
});
