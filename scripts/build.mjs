// Compiles lib/ and nodes/ into dist/, then puts each node's editor .html, the locales and the
// icons next to the compiled .js, which is where Node-RED looks for them.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

const nodesOut = join(dist, 'nodes');
for (const file of readdirSync(join(root, 'nodes'))) {
  if (file.endsWith('.html')) cpSync(join(root, 'nodes', file), join(nodesOut, file));
}
if (existsSync(join(root, 'nodes/locales'))) {
  cpSync(join(root, 'nodes/locales'), join(nodesOut, 'locales'), { recursive: true });
}
mkdirSync(join(nodesOut, 'icons'), { recursive: true });
cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });
console.log('build: dist/ ready');
