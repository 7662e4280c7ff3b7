/**
 * The dialogs as they fit a 1280×800 screen, in Node-RED's light editor and in a dark one (the
 * editor's colour variables set by a style sheet, as dark themes do): each dialog is opened,
 * photographed and measured, and nothing of ours may stick out of it or cut its text. Also the
 * palette (an icon per node type, one line per label), the server dialog's picker and Test
 * connection, the one task field of start and stop, and an error as the debug sidebar shows it.
 *
 * Needs `npm run build` first. UPDATE_DOCS_SCREENSHOT=1 (scripts/editor-picture.mjs) also writes
 * README's picture, docs/editor.png, from the light editor with every node of ours at work.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  NODE_RED_MODULE,
  REPO_ROOT,
  startNodeRed,
  type NodeRedProcess,
} from '../../scripts/node-red-process';
import { ACCOUNT_TOKEN, startPlexWorld, type PlexWorld } from '../support/plex-world';
import { NODE_TYPES } from '../support/node-types';
import {
  canvasNode,
  closePage,
  dismissNotifications,
  dragFromPalette,
  launchBrowser,
  openEditor,
  openNodeDialog,
  openServerConfig,
  paletteNode,
  screenshot,
  showSidebarTab,
  taskList,
  visibleText,
  VIEWPORT,
  pressInject,
  requireBuild,
} from './editor-page';

const DARK_THEME_CSS = join(__dirname, 'dark-theme.css');
const RESULT = '#node-config-plex-butler-server-test-result';
const SERVERS = '#node-config-plex-butler-server-servers';
const DISCOVER = '#node-config-plex-butler-server-discover';
const TASK_FIELD = '#node-input-task + .red-ui-typedInput-container';
const PALETTE_TYPES = NODE_TYPES.filter((type) => type !== 'plex-butler-server');
const REFUSED =
  'could not list the Butler tasks: token rejected by the server (401): check the token in the server config';

/**
 * What of the topmost dialog does not fit: an element reaching out of the dialog's form, or a
 * text cut by its own box (a select showing less than its chosen option, an ellipsis).
 */
async function misfits(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const trays = document.querySelectorAll('#red-ui-editor-stack > .red-ui-tray');
    const tray = trays.item(trays.length - 1);
    const form = tray?.querySelector('.red-ui-tray-body form');
    if (!tray || !form) return ['no dialog is open'];
    const box = form.getBoundingClientRect();
    const measure = document.createElement('canvas').getContext('2d');
    const found: string[] = [];
    // No named functions in here: the test's compiler would wrap them in a helper the page lacks.
    for (const element of Array.from(form.querySelectorAll<HTMLElement>('*'))) {
      if (!(element instanceof HTMLElement) || element.offsetParent === null) continue;
      const name = element.id
        ? `#${element.id}`
        : `${element.tagName.toLowerCase()}.${String(element.className).trim().replace(/\s+/g, '.')}`;
      const style = getComputedStyle(element);
      const rect = element.getBoundingClientRect();
      if (style.visibility === 'hidden' || rect.width === 0 || rect.height === 0) continue;
      if (rect.right > box.right + 1 || rect.left < box.left - 1) {
        found.push(
          `${name} reaches out of the dialog (${Math.round(rect.left)}–${Math.round(rect.right)}, dialog ${Math.round(box.left)}–${Math.round(box.right)})`,
        );
      }
      if (element instanceof HTMLSelectElement && measure) {
        const chosen = element.selectedOptions.item(0)?.textContent ?? '';
        measure.font = `${style.fontSize} ${style.fontFamily}`;
        // The arrow and the padding take about 30 px of a select.
        if (measure.measureText(chosen).width > element.clientWidth - 30) {
          found.push(`${name} cuts "${chosen}"`);
        }
        continue;
      }
      const ownText = Array.from(element.childNodes).some(
        (node) => node.nodeType === Node.TEXT_NODE && (node.textContent ?? '').trim() !== '',
      );
      const clips = style.overflowX !== 'visible' || style.textOverflow === 'ellipsis';
      if (
        ownText &&
        clips &&
        !(element instanceof HTMLInputElement) &&
        !(element instanceof HTMLTextAreaElement) &&
        element.scrollWidth > element.clientWidth + 1
      ) {
        found.push(`${name} cuts "${(element.textContent ?? '').trim().slice(0, 60)}"`);
      }
    }
    return found;
  });
}

/** Whether `selector` is wholly in the part of the topmost dialog that is on screen. */
async function inSight(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((target) => {
    const element = document.querySelector(target);
    const trays = document.querySelectorAll('#red-ui-editor-stack > .red-ui-tray');
    // The part that scrolls: the body inside it is as tall as its content.
    const body = trays.item(trays.length - 1)?.querySelector('.red-ui-tray-body-wrapper');
    if (!element || !body) return false;
    const shown = element.getBoundingClientRect();
    const view = body.getBoundingClientRect();
    return shown.top >= view.top - 1 && shown.bottom <= view.bottom + 1;
  }, selector);
}

/** The labels of a dialog's rows that are shown, in order. */
async function rowLabels(page: Page): Promise<string[]> {
  const labels = await page
    .locator('.red-ui-tray-body form .form-row:visible > label:first-child')
    .allInnerTexts();
  return labels.map((label) => label.trim()).filter((label) => label !== '');
}

/** The first node of each type of ours in the examples: every property a saved node has. */
function exampleNodes(): Map<string, Record<string, unknown>> {
  const found = new Map<string, Record<string, unknown>>();
  for (const file of readdirSync(join(REPO_ROOT, 'examples')).sort()) {
    const flow = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8')) as Array<
      Record<string, unknown> & { type: string }
    >;
    for (const node of flow) if (!found.has(node.type)) found.set(node.type, node);
  }
  return found;
}

/** A flow with every node of ours, deployed through the Admin API (with its credentials). */
function everyNodeFlow(world: PlexWorld): Array<Record<string, unknown>> {
  const tab = 'tab-every-node';
  const examples = exampleNodes();
  const saved = (type: string, fields: Record<string, unknown>): Record<string, unknown> => ({
    ...examples.get(type),
    z: tab,
    server: 'server-home',
    name: '',
    ...fields,
    type,
  });
  const inject = (id: string, y: number, wires: string[]): Record<string, unknown> => ({
    id,
    type: 'inject',
    z: tab,
    name: '',
    props: [{ p: 'payload' }],
    repeat: '',
    once: false,
    payload: '',
    payloadType: 'date',
    x: 110,
    y,
    wires: [wires],
  });
  const debug = (id: string, y: number): Record<string, unknown> => ({
    id,
    type: 'debug',
    z: tab,
    name: '',
    active: true,
    complete: 'payload',
    targetType: 'msg',
    tosidebar: true,
    x: 560,
    y,
    wires: [],
  });
  return [
    { id: tab, type: 'tab', label: 'Plex Butler' },
    {
      ...examples.get('plex-butler-server'),
      id: 'server-home',
      name: 'Living room',
      url: world.home.url,
      credentials: { token: ACCOUNT_TOKEN },
    },
    {
      ...examples.get('plex-butler-server'),
      id: 'server-refusing',
      name: 'Wrong token',
      url: world.home.url,
      credentials: { token: 'not-the-token' },
    },
    inject('inject-tasks', 60, ['tasks']),
    saved('plex-butler-tasks', {
      id: 'tasks',
      property: 'payload',
      x: 330,
      y: 60,
      wires: [['debug-tasks']],
    }),
    debug('debug-tasks', 60),
    inject('inject-start', 130, ['start']),
    saved('plex-butler-start', {
      id: 'start',
      task: 'OptimizeDatabase',
      wait: false,
      outputs: 1,
      taskType: 'str',
      x: 330,
      y: 130,
      wires: [['debug-start']],
    }),
    debug('debug-start', 130),
    inject('inject-stop', 200, ['stop']),
    saved('plex-butler-stop', {
      id: 'stop',
      task: '',
      taskType: 'all',
      x: 330,
      y: 200,
      wires: [[]],
    }),
    saved('plex-butler-watch', { id: 'watch', x: 330, y: 270, wires: [['debug-watch']] }),
    debug('debug-watch', 270),
    inject('inject-schedule', 340, ['schedule']),
    saved('plex-butler-schedule', {
      id: 'schedule',
      property: 'payload',
      x: 330,
      y: 340,
      wires: [['debug-schedule']],
    }),
    debug('debug-schedule', 340),
    inject('inject-refused', 410, ['refused']),
    saved('plex-butler-tasks', {
      id: 'refused',
      server: 'server-refusing',
      name: 'tasks, wrong token',
      property: 'payload',
      x: 350,
      y: 410,
      wires: [[]],
    }),
  ];
}

async function deployFlow(url: string, flow: Array<Record<string, unknown>>): Promise<void> {
  const answer = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(flow),
  });
  assert.equal(answer.status, 204, await answer.text());
}

/** Folds every palette category but ours, so that the palette shows our nodes in sight. */
async function paletteOfOurs(page: Page): Promise<void> {
  const headers = page.locator('.red-ui-palette-header:visible');
  for (let index = 0; index < (await headers.count()); index++) {
    const header = headers.nth(index);
    const id = (await header.getAttribute('id')) ?? '';
    const open = (await header.locator('i.expanded').count()) > 0;
    if ((id === 'red-ui-palette-header-plex') !== open) await header.click();
  }
  await paletteNode(page, 'plex-butler-schedule').waitFor();
  // The categories slide shut: wait until they have (a hidden one has no height either).
  await page.waitForFunction(() =>
    Array.from(
      document.querySelectorAll<HTMLElement>('#red-ui-palette .red-ui-palette-content'),
    ).every(
      (content) => content.id === 'red-ui-palette-base-category-plex' || content.offsetHeight === 0,
    ),
  );
}

// The Node-RED 5 run (npm run test:compat) measures the light editor alone, to keep CI in its
// time: what the dark run checks, our use of the editor's colour variables, is the same there.
const THEMES = NODE_RED_MODULE === 'node-red' ? (['light', 'dark'] as const) : (['light'] as const);

for (const theme of THEMES) {
  describe(`dialogs at 1280×800 in the ${theme} editor (Node-RED + Chromium + plex.tv stand-in)`, function () {
    this.timeout(90_000);
    let world: PlexWorld | undefined;
    let nodeRed: NodeRedProcess | undefined;
    let browser: Browser | undefined;
    let page: Page | undefined;
    let userDir: string | undefined;

    function started(): { world: PlexWorld; nodeRed: NodeRedProcess; browser: Browser } {
      if (!world || !nodeRed || !browser) throw new Error('the before hook did not finish');
      return { world, nodeRed, browser };
    }

    before(async function () {
      requireBuild();
      world = await startPlexWorld();
      userDir = mkdtempSync(join(tmpdir(), `plex-butler-dialogs-${theme}-`));
      const plexTv = world.plexTv;
      [nodeRed, browser] = await Promise.all([
        startNodeRed({
          userDir,
          install: 'link',
          plexButler: {
            plexTvUrl: plexTv.url,
            appUrl: plexTv.appUrl,
            discoveryAddress: plexTv.gdmAddress,
          },
          ...(theme === 'dark' ? { editorCss: DARK_THEME_CSS } : {}),
        }),
        launchBrowser(),
      ]);
      await deployFlow(nodeRed.url, everyNodeFlow(world));
    });
    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && page) {
        await screenshot(page, `failure-${theme}-${this.currentTest.title.slice(0, 40)}`).catch(
          () => undefined,
        );
      }
      await closePage(page);
      page = undefined;
    });
    after(async function () {
      await Promise.allSettled([browser?.close(), nodeRed?.stop(), world?.stop()]);
      if (userDir) rmSync(userDir, { recursive: true, force: true });
    });

    it('is the theme it says: a dark palette only with the dark style sheet', async function () {
      page = await openEditor(started().browser, started().nodeRed.url);
      assert.deepEqual(page.viewportSize(), VIEWPORT);
      const background = await page
        .locator('#red-ui-palette')
        .evaluate((element) => getComputedStyle(element).backgroundColor);
      const [red, green, blue] = (background.match(/\d+/g) ?? []).map(Number);
      const light = (red + green + blue) / 3 > 128;
      assert.equal(light, theme === 'light', `palette background ${background}`);
    });

    for (const locale of ['en-US', 'de-DE']) {
      it(`gives each node type its own icon, and each palette label one line (${locale})`, async function () {
        page = await openEditor(started().browser, started().nodeRed.url, { locale });
        const icons = new Map<string, string>();
        for (const type of PALETTE_TYPES) {
          const node = paletteNode(page, type);
          const lines = await node.locator('.red-ui-palette-label br').count();
          assert.equal(lines, 0, `"${await visibleText(node)}" (${type}) is on one line`);
          const image = await node
            .locator('.red-ui-palette-icon')
            .evaluate((element) => getComputedStyle(element).backgroundImage);
          const url = /url\("(.*)"\)/.exec(image)?.[1];
          assert.ok(url, `${type} has an icon`);
          const answer = await fetch(url);
          assert.equal(answer.status, 200, `${url} is served`);
          assert.match(answer.headers.get('content-type') ?? '', /svg/);
          icons.set(type, (await answer.text()).trim());
        }
        // The server is a config node: its icon (the Butler) is read from its definition.
        const serverIcon = await page.evaluate(
          () =>
            (
              window as unknown as {
                RED: { nodes: { getType(type: string): { icon?: string } | undefined } };
              }
            ).RED.nodes.getType('plex-butler-server')?.icon ?? '',
        );
        const butler = await fetch(
          `${started().nodeRed.url}/icons/@plex-butler/node-red-plex-butler/${serverIcon}`,
        );
        assert.equal(butler.status, 200, `the server's icon ${serverIcon}`);
        icons.set('plex-butler-server', (await butler.text()).trim());
        assert.equal(new Set(icons.values()).size, NODE_TYPES.length, 'no two types share one');
        await paletteOfOurs(page);
        await screenshot(page, `dialogs-${theme}-palette-${locale}`);
      });
    }

    it('shows an error in the debug sidebar as its sentence, not a folded object', async function () {
      page = await openEditor(started().browser, started().nodeRed.url);
      await showSidebarTab(page, 'debug');
      await pressInject(page, 'inject-refused');
      const shown = page.locator('.red-ui-debug-msg.red-ui-debug-msg-level-20', {
        hasText: 'token rejected',
      });
      await shown.waitFor();
      // A string, as core nodes report errors: the sidebar shows its first 80 characters in
      // quotes, and all of it unfolded. A folded error object would show its type and keys.
      const payload = shown.locator('.red-ui-debug-msg-payload');
      assert.equal(
        await visibleText(payload.locator('.red-ui-debug-msg-object-header').first()),
        `"${REFUSED.slice(0, 80)}..."`,
      );
      assert.doesNotMatch(await visibleText(payload), /ButlerError|error\b.*:|Object/);
      await payload.locator('.red-ui-debug-msg-object-handle').click();
      assert.equal(await visibleText(payload.locator('pre.red-ui-debug-msg-type-string')), REFUSED);
      await screenshot(page, `dialogs-${theme}-debug-error`);
    });

    it('says why the server list is grey, keeps the pick through Discover, and keeps a long Test connection answer in its column and in sight', async function () {
      const { world, nodeRed, browser } = started();
      page = await openEditor(browser, nodeRed.url);
      const tasks = await dragFromPalette(page, 'plex-butler-tasks', 760, 500);
      await openNodeDialog(page, tasks);
      await openServerConfig(page, 'add');

      const servers = page.locator(SERVERS);
      assert.equal(await servers.isDisabled(), true, 'nothing to choose yet');
      assert.equal(
        await visibleText(servers.locator('option:checked')),
        'sign in or discover first',
      );
      assert.equal(await servers.getAttribute('title'), 'sign in or discover first');
      assert.deepEqual(await misfits(page), [], 'the new server dialog fits');

      const living = `Living room (${world.home.url})`;
      await page.locator(DISCOVER).click();
      await page.locator(`${SERVERS} option`, { hasText: living }).waitFor({ state: 'attached' });
      await servers.selectOption({ label: living });
      // The runtime answers where the server is; the dialog fills the URL in then.
      await page.waitForFunction(
        (url) =>
          (document.querySelector('#node-config-input-url') as HTMLInputElement | null)?.value ===
          url,
        world.home.url,
      );
      assert.equal(await page.locator('#node-config-input-url').inputValue(), world.home.url);
      // Discover once more: the list is read again, the server chosen stays chosen.
      await page.locator(DISCOVER).click();
      await page.locator(`${DISCOVER}:disabled`).waitFor({ state: 'detached' });
      await page
        .locator('#node-config-plex-butler-server-signin-status', { hasText: /found/ })
        .waitFor();
      assert.equal(await visibleText(servers.locator('option:checked')), living);
      assert.equal(await page.locator('#node-config-input-url').inputValue(), world.home.url);

      // An https address shows the certificate rows too: the dialog is taller than the screen.
      await page.locator('#node-config-input-url').fill(world.homeSecure.url);
      await page.locator('#node-config-input-tlsMode').selectOption('off');
      await page.locator('#node-config-input-token').fill('not-the-token');
      // As a user meets it: the button just in sight at the dialog's bottom, the answer below.
      const test = page.locator('#node-config-plex-butler-server-test');
      await test.evaluate((button) => button.scrollIntoView({ block: 'end' }));
      await test.click();
      await page.locator(`${RESULT}.plex-butler-test-error`).waitFor();
      const answer = await visibleText(page.locator(RESULT));
      assert.match(answer, /token rejected by the server \(401\): check the token/);
      const [result, url] = await Promise.all([
        page.locator(RESULT).boundingBox(),
        page.locator('#node-config-input-url').boundingBox(),
      ]);
      assert.ok(result && url);
      assert.ok(result.height > 30, `the answer takes more than a line (${result.height} px)`);
      assert.ok(result.x >= url.x - 1, 'it begins where the fields begin');
      assert.ok(result.x + result.width <= url.x + url.width + 1, 'and ends where they end');
      assert.ok(await inSight(page, RESULT), 'and is in sight');
      assert.deepEqual(await misfits(page), [], 'the server dialog fits');
      await screenshot(page, `dialogs-${theme}-server-test-failed`);
      await page.locator('#node-config-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').click();
    });

    it('has one field for the task in start and stop: the server’s tasks as completions and behind its list button', async function () {
      page = await openEditor(started().browser, started().nodeRed.url);
      await openNodeDialog(page, 'start');
      // A saved node loads as it was saved.
      const field = page.locator(`${TASK_FIELD} input.red-ui-typedInput-input`);
      assert.equal(await field.inputValue(), 'OptimizeDatabase');
      await page.locator('#node-input-task-note', { hasText: 'tasks from the server' }).waitFor();
      const labels = await rowLabels(page);
      assert.equal(
        labels.filter((label) => /task/i.test(label) && !/wait/i.test(label)).length,
        1,
        `one row for the task: ${labels.join(' | ')}`,
      );

      await field.fill('');
      await field.pressSequentially('optimi');
      const completion = page.locator('.red-ui-autoComplete-container li', {
        hasText: 'Optimize Database (OptimizeDatabase)',
      });
      await completion.click();
      assert.equal(await field.inputValue(), 'OptimizeDatabase');

      await field.fill('NoSuchTask');
      await field.press('Tab');
      await page
        .locator('#node-input-task-mark', { hasText: "NoSuchTask is not in the server's list" })
        .waitFor();

      assert.equal((await taskList(page)).length, 22, "the whole of the server's list");
      await page.locator('.plex-butler-task-menu li', { hasText: 'Remove Old Bundles' }).click();
      assert.equal(await field.inputValue(), 'CleanOldBundles');
      await page.locator('#node-input-task-mark').waitFor({ state: 'hidden' });
      await page.locator('#node-input-wait').check();
      assert.deepEqual(await misfits(page), [], 'the start dialog fits');
      await screenshot(page, `dialogs-${theme}-start`);
      await page.locator('#node-dialog-cancel').click();

      await openNodeDialog(page, 'stop');
      const stopLabels = await rowLabels(page);
      assert.equal(
        stopLabels.filter((label) => /task/i.test(label)).length,
        1,
        stopLabels.join(' | '),
      );
      // "all tasks" needs no name: the list's rows go away with the field's value.
      assert.equal(await page.locator('#node-input-task-note').isVisible(), false);
      assert.deepEqual(await misfits(page), [], 'the stop dialog fits');
      await screenshot(page, `dialogs-${theme}-stop`);
      await page.locator('#node-dialog-cancel').click();
    });

    it('fits every other dialog of ours, and shows every node of ours at work', async function () {
      page = await openEditor(started().browser, started().nodeRed.url);
      for (const id of ['tasks', 'watch', 'schedule']) {
        await openNodeDialog(page, id);
        assert.deepEqual(await misfits(page), [], `the ${id} dialog fits`);
        await screenshot(page, `dialogs-${theme}-${id}`);
        await page.locator('#node-dialog-cancel').click();
        await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
      }
      await openNodeDialog(page, 'tasks');
      await openServerConfig(page, 'edit');
      assert.deepEqual(await misfits(page), [], 'the saved server dialog fits');
      await page.locator('#node-config-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });

      await showSidebarTab(page, 'debug');
      for (const id of ['inject-tasks', 'inject-start', 'inject-schedule'])
        await pressInject(page, id);
      for (const [id, word] of [
        ['start', 'started'],
        ['watch', 'connected'],
        ['schedule', 'read'],
      ]) {
        await canvasNode(page, id)
          .locator('.red-ui-flow-node-status-label', { hasText: word })
          .waitFor();
      }
      await dismissNotifications(page);
      await paletteOfOurs(page);
      const shot = await screenshot(page, `dialogs-${theme}-every-node`);
      if (theme === 'light' && process.env.UPDATE_DOCS_SCREENSHOT === '1') {
        copyFileSync(shot, join(REPO_ROOT, 'docs', 'editor.png'));
      }
    });
  });
}
