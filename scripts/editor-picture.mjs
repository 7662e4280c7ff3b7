// README's picture, docs/editor.png: builds dist/, then runs the browser test that puts every
// node of ours to work in the light editor at 1280×800 and lets it save its screenshot there.
// Run it after a change to what the nodes look like: `node scripts/editor-picture.mjs`.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mocha = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
execFileSync(
  process.execPath,
  [
    mocha,
    '--no-config',
    '--require',
    'tsx/cjs',
    '--require',
    'test/setup.ts',
    '--extension',
    'ts',
    '--timeout',
    '10000',
    '--exit',
    '--grep',
    'light editor',
    'test/browser/dialogs.test.ts',
  ],
  { stdio: 'inherit', cwd: root, env: { ...process.env, UPDATE_DOCS_SCREENSHOT: '1' } },
);
console.log('docs/editor.png written');
