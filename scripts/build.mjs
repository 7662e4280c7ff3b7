// Compiles lib/ and nodes/ into dist/, then puts each node's editor .html, the locales and the
// icons next to the compiled .js, which is where Node-RED looks for them. The editor scripts the
// .html files load stay in resources/: Node-RED serves that folder from the package root.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
// Start and stop share one editor template; each gets its own file with its literal type.
const taskActionTemplate = readFileSync(join(root, 'nodes/task-action.html.template'), 'utf8');
const START_ONLY = /[ \t]*<!--START-ONLY-->\n([\s\S]*?)[ \t]*<!--\/START-ONLY-->\n/g;
for (const [type, align, keepStartOnly] of [
  ['plex-butler-start', 'left', true],
  ['plex-butler-stop', 'right', false],
]) {
  const startOnly = keepStartOnly ? '$1' : '';
  const html = taskActionTemplate
    .replace(/<!--[\s\S]*?-->\n/, '')
    .replace(START_ONLY, startOnly)
    .replaceAll('__NODE_TYPE__', type)
    .replaceAll('__ALIGN__', align);
  writeFileSync(join(nodesOut, `${type}.html`), html);
}
if (existsSync(join(root, 'nodes/locales'))) {
  cpSync(join(root, 'nodes/locales'), join(nodesOut, 'locales'), { recursive: true });
}
// The library's messages (errors, status words) are the nodes' too: every node set's catalog
// gets them under "plex-butler", for RED._ in the runtime and in the editor alike.
for (const lang of readdirSync(join(root, 'lib/locales'))) {
  const messages = JSON.parse(
    readFileSync(join(root, 'lib/locales', lang, 'messages.json'), 'utf8'),
  );
  const dir = join(nodesOut, 'locales', lang);
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.json'))) {
    const catalog = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    writeFileSync(
      join(dir, file),
      `${JSON.stringify({ ...catalog, 'plex-butler': messages }, null, 2)}\n`,
    );
  }
}
mkdirSync(join(nodesOut, 'icons'), { recursive: true });
cpSync(join(root, 'icons'), join(nodesOut, 'icons'), { recursive: true });
console.log('build: dist/ ready');
