/**
 * Page helpers for the browser tests: a real Chromium (Debian's, never a downloaded one) driving
 * the real Node-RED editor the way a user does, with clicks, drags and typing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../scripts/node-red-process';

export const CHROMIUM_PATH = '/usr/bin/chromium';
/** No sandbox (containers), no GPU, and nothing that talks to the outside world. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];
export const VIEWPORT = { width: 1280, height: 800 };
export const SCREENSHOT_DIR = join(__dirname, '..', '..', 'test-results', 'screenshots');

/** Generous: the editor, Node-RED and Chromium share two cores with whatever else runs. */
const DEFAULT_WAIT_MS = 20_000;

/** The browser suites run the built package (Node-RED loads dist/): fail at once without it. */
export function requireBuild(): void {
  if (!existsSync(join(REPO_ROOT, 'dist', 'nodes', 'plex-butler-panel.html'))) {
    throw new Error('dist/ is missing: run `npm run build` before the browser tests');
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/**
 * Opens the editor in a fresh browser context (own storage, so the language and the editor's
 * remembered state never leak between tests) and waits until it is ready for a user.
 */
/** Script errors each open page's editor threw. */
const pageErrors = new WeakMap<Page, Error[]>();

export async function openEditor(
  browser: Browser,
  url: string,
  options: {
    locale?: string;
    login?: { username: string; password: string };
    /** Runs in the page before the editor's own scripts. */
    initScript?: () => void;
  } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: VIEWPORT,
    locale: options.locale ?? 'en-US',
  });
  const page = await context.newPage();
  if (options.initScript) await page.addInitScript(options.initScript);
  // A script error in the editor is a failure of ours even where the page still looks right.
  page.on('pageerror', (error) => pageErrors.set(page, [...(pageErrors.get(page) ?? []), error]));
  page.setDefaultTimeout(DEFAULT_WAIT_MS);
  await page.goto(`${url}/`);
  if (options.login) {
    // With adminAuth the editor asks first, in its own login dialog.
    await page.locator('#node-dialog-login-username').fill(options.login.username);
    await page.locator('#node-dialog-login-password').fill(options.login.password);
    await page.locator('#node-dialog-login-submit').click();
  }
  // The palette is filled once every node type has been registered...
  await page.locator('#red-ui-palette .red-ui-palette-node').first().waitFor();
  // ...and the flows are in once the workspace has its tab and the loading bar is gone.
  await page.locator('#red-ui-workspace-tabs .red-ui-tab').first().waitFor();
  await page.locator('#red-ui-loading-progress').waitFor({ state: 'hidden' });
  return page;
}

/** Closes the page; throws when the editor's scripts threw while it was open. */
export async function closePage(page: Page | undefined): Promise<void> {
  if (!page) return;
  await page.context().close();
  const errors = pageErrors.get(page) ?? [];
  if (errors.length > 0) {
    throw new Error(`the editor threw: ${errors.map((error) => error.message).join('; ')}`);
  }
}

/**
 * Shows sidebar tab `id` as a user does, by its tab. Node-RED 4 has tabs atop the sidebar,
 * folded into a menu beside them when narrow; 5.x has a button per tab in a bar under the
 * workspace, folded behind its overflow button when narrow. A tab showing already is left as
 * it is: in 5.x a second click on its button would hide it.
 */
export async function showSidebarTab(page: Page, id: string): Promise<void> {
  const button = page.locator(`.red-ui-sidebar-tab-bar button[data-tab-id="${id}"]`);
  const tab = page.locator(`#red-ui-tab-${id}`);
  await button.or(tab).first().waitFor({ state: 'attached' });
  if ((await button.count()) > 0) {
    if (await button.evaluate((element) => element.classList.contains('selected'))) return;
    if (await button.isVisible()) {
      await button.click();
    } else {
      const name = (await button.getAttribute('aria-label')) ?? id;
      await page.locator('.red-ui-sidebar-tab-bar-overflow-button').click();
      await page.locator('#red-ui-sidebar-tab-bar-menu a', { hasText: name }).click();
    }
  } else if (await tab.isVisible()) {
    await tab.locator('a').first().click();
  } else {
    await page.locator('#red-ui-sidebar .red-ui-tab-link-button-menu').click();
    await page.locator(`#red-ui-tabs-menu-option-${id}`).click();
  }
}

export function paletteNode(page: Page, type: string): Locator {
  return page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
}

/** Presses the button of inject node `id` on the canvas, once it can be pressed (deployed). */
export async function pressInject(page: Page, id: string): Promise<void> {
  await clickOnCanvas(
    canvasNode(page, id).locator('.red-ui-flow-node-button:not(.red-ui-flow-node-button-disabled)'),
  );
}

/**
 * The text as the user reads it, in one line: the palette breaks long labels with non-breaking
 * spaces, and SVG text on the canvas has no innerText.
 */
export async function visibleText(locator: Locator): Promise<string> {
  const text = await locator.evaluate((element) =>
    element instanceof HTMLElement ? element.innerText : (element.textContent ?? ''),
  );
  return text.replace(/\s+/g, ' ').trim();
}

export function canvasNode(page: Page, id: string): Locator {
  return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"]`);
}

async function canvasNodeIds(page: Page): Promise<string[]> {
  return page
    .locator('#red-ui-workspace-chart g.red-ui-flow-node-group')
    .evaluateAll((groups) => groups.map((group) => group.id));
}

async function centre(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`${locator.toString()} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/**
 * Drags a node type from the palette onto the workspace at (x, y) inside the canvas, as a user
 * does, and returns the id of the node that appeared there (read from the canvas, not from
 * the editor's internals).
 */
export async function dragFromPalette(
  page: Page,
  type: string,
  x: number,
  y: number,
): Promise<string> {
  const before = new Set(await canvasNodeIds(page));
  const source = paletteNode(page, type);
  await source.scrollIntoViewIfNeeded();
  const start = await centre(source);
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  if (!chart) throw new Error('the workspace is not visible');
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  // jQuery UI starts a drag only after the pointer has moved a little; then glide over.
  await page.mouse.move(start.x + 40, start.y + 5, { steps: 5 });
  await page.mouse.move(chart.x + x, chart.y + y, { steps: 10 });
  await page.mouse.up();
  const added = await page.waitForFunction(
    (known) =>
      Array.from(document.querySelectorAll('#red-ui-workspace-chart g.red-ui-flow-node-group'))
        .map((group) => group.id)
        .find((id) => !known.includes(id)) ?? false,
    [...before],
  );
  const id: unknown = await added.jsonValue();
  if (typeof id !== 'string') throw new Error(`dropping ${type} added no node to the workspace`);
  return id;
}

/** Draws a wire from the output port of one node to the input port of another. */
export async function wire(page: Page, fromId: string, toId: string): Promise<void> {
  const links = page.locator('#red-ui-workspace-chart g.red-ui-flow-link');
  const count = await links.count();
  const from = await centre(
    canvasNode(page, fromId).locator('.red-ui-flow-port-output .red-ui-flow-port'),
  );
  const to = await centre(
    canvasNode(page, toId).locator('.red-ui-flow-port-input .red-ui-flow-port'),
  );
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 10 });
  await page.mouse.up();
  // An SVG group has no box of its own, so "visible" never applies: wait for it to exist.
  await links.nth(count).waitFor({ state: 'attached' });
}

/**
 * Waits until the topmost edit tray has slid in and the editor has moved the focus into it.
 * The editor does that a moment after the dialog appears; typing before it would lose the
 * keys that follow the move, so a user (and this test) waits for the dialog to settle.
 */
export async function waitForTray(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const trays = document.querySelectorAll('#red-ui-editor-stack > .red-ui-tray');
    const top = trays.item(trays.length - 1);
    return (
      top !== null && getComputedStyle(top).right === '0px' && top.contains(document.activeElement)
    );
  });
}

/**
 * Clicks the middle of an element on the canvas with the mouse, once nothing covers it (the
 * editor shades the workspace while it deploys). Playwright's own click scrolls SVG elements
 * "into view" even when they are in view, which moves the whole flow.
 */
export async function clickOnCanvas(locator: Locator): Promise<void> {
  await locator.waitFor();
  const point = await centre(locator);
  const element = await locator.elementHandle();
  await locator.page().waitForFunction(
    ({ target, x, y }) => {
      const hit = document.elementFromPoint(x, y);
      return target !== null && hit !== null && target.contains(hit);
    },
    { target: element, x: point.x, y: point.y },
  );
  await locator.page().mouse.click(point.x, point.y);
}

/** Presses Deploy and waits until the editor says it is done and lifts its shade. */
export async function deploy(page: Page): Promise<void> {
  await page.locator('#red-ui-header-button-deploy').click();
  await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor();
  await page.locator('#red-ui-editor-shade').waitFor({ state: 'hidden' });
}

/**
 * From a node's open dialog, the server config's: the + (add) or pencil (edit) button beside
 * the Server select, then the dialog once it has settled.
 */
export async function openServerConfig(page: Page, button: 'add' | 'edit'): Promise<void> {
  await page.locator(`#node-input-btn-server-${button}`).click();
  await page.locator('#node-config-input-url').waitFor();
  await waitForTray(page);
}

/** Opens a node's edit dialog with a double-click on it. */
export async function openNodeDialog(page: Page, id: string): Promise<void> {
  await canvasNode(page, id).locator('rect.red-ui-flow-node').dblclick();
  await page.locator('#node-dialog-ok').waitFor();
  await waitForTray(page);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Closes the editor's pop-up notifications with a click, as a user does to see what is below. */
export async function dismissNotifications(page: Page): Promise<void> {
  const selector = '.red-ui-notification';
  for (let round = 0; round < 10; round++) {
    const count = await page.locator(selector).count();
    if (count === 0) return;
    // A notification only listens for clicks a moment after it appears: click again if the
    // first one came too early.
    await page
      .locator(selector)
      .first()
      .click({ timeout: 2_000 })
      .catch(() => undefined);
    await page
      .waitForFunction(
        (args) => document.querySelectorAll(args.selector).length < args.count,
        {
          selector,
          count,
        },
        { timeout: 1_500 },
      )
      .catch(() => undefined);
  }
}

/**
 * The task field of an open start or stop dialog: its list button opens the server's tasks
 * (or the built-in list), as a user sees them.
 */
export async function taskList(page: Page): Promise<string[]> {
  await page
    .locator('#node-input-task + .red-ui-typedInput-container .red-ui-typedInput-option-expand')
    .click();
  const menu = page.locator('.plex-butler-task-menu');
  await menu.waitFor();
  return (await menu.locator('li').allInnerTexts()).map((text) => text.trim());
}

/** Picks a task from the task field's list button by the words it shows. */
export async function chooseTask(page: Page, label: string): Promise<void> {
  await taskList(page);
  await page.locator('.plex-butler-task-menu li', { hasText: label }).first().click();
  await page.locator('.plex-butler-task-menu').waitFor({ state: 'hidden' });
}
