// npm's `prepare`: after `npm install` or `npm ci` in this folder, and when npm installs the
// package from a git URL (with its devDependencies), so that dist/ exists. `npm pack` and
// `npm publish` run it too, right after `prepack` has built: no second build then.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const command = process.env.npm_command;
if (command === 'pack' || command === 'publish') {
  console.log(`prepare: dist/ was built by prepack for npm ${command}`);
} else {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  execFileSync(process.execPath, [join(root, 'scripts/build.mjs')], { stdio: 'inherit' });
}
