/**
 * The Butler panel in the sidebar as a user meets it: a real Node-RED with adminAuth, a real
 * Chromium, two Plex simulators. A user who may change flows starts a task and watches its
 * progress to the end; a read-only user sees the same list, and their clicks send nothing; the
 * panel follows a server that goes away and comes back.
 *
 * Needs `npm run build` first. UPDATE_DOCS_SCREENSHOT=1 also refreshes docs/panel.png.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  REPO_ROOT,
  adminToken,
  deployFlow,
  startNodeRed,
  type NodeRedProcess,
} from '../../scripts/node-red-process';
import { DEFAULT_TASKS, type PlexSimulator } from '../../simulator';
import { plexRequest } from '../support/plex-request';
import { ADMIN, READER, serverConfig } from '../support/admin-users';
import { startSimulator } from '../support/simulator';
import { waitUntil } from '../support/wait';
import {
  SCREENSHOT_DIR,
  closePage,
  launchBrowser,
  openEditor,
  showSidebarTab,
  visibleText,
  requireBuild,
} from './editor-page';

const TOKEN = 'panel-browser-Tok3n';
/**
 * The attic server has only a few tasks, so that its list is told apart from the other's; one
 * title is markup, which the panel must show as text.
 */
const MARKUP_TITLE = '<img src=x onerror="window.plexButlerInjected=1"><b>Clean</b>';
const ATTIC_TASKS = DEFAULT_TASKS.filter((task) =>
  ['OptimizeDatabase', 'CleanOldBundles', 'RefreshLibraries'].includes(task.name),
).map((task) => (task.name === 'CleanOldBundles' ? { ...task, title: MARKUP_TITLE } : task));
const PANEL = '.plex-butler-panel';
/** The page as the comms test sees it: Node-RED's comms sockets, oldest first. */
interface CommsWindow {
  plexButlerComms: WebSocket[];
}

/** Opens the Butler tab in the sidebar, as a user does: by its tab. */
async function openPanel(page: Page): Promise<void> {
  await showSidebarTab(page, 'plex-butler-panel');
  await page.locator(PANEL).waitFor();
}

function taskRow(page: Page, name: string) {
  return page.locator(`${PANEL} .plex-butler-panel-task[data-task="${name}"]`);
}

describe('Butler panel in a real browser (Node-RED with adminAuth + Chromium + two servers)', function () {
  this.timeout(90_000);
  let living: PlexSimulator | undefined;
  let attic: PlexSimulator | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let userDir: string | undefined;
  /** The panel's requests to Node-RED, by path. */
  let panelRequests: string[] = [];

  function started(): {
    living: PlexSimulator;
    attic: PlexSimulator;
    nodeRed: NodeRedProcess;
    browser: Browser;
  } {
    if (!living || !attic || !nodeRed || !browser) throw new Error('the before hook failed');
    return { living, attic, nodeRed, browser };
  }

  before(async function () {
    requireBuild();
    userDir = mkdtempSync(join(tmpdir(), 'plex-butler-panel-ui-'));
    living = await startSimulator({
      token: TOKEN,
      taskDurationMs: 4000,
      progressIntervalMs: 400,
    });
    attic = await startSimulator({ token: TOKEN, tasks: ATTIC_TASKS, taskDurationMs: 60_000 });
    [nodeRed, browser] = await Promise.all([
      startNodeRed({ userDir, install: 'link', adminAuth: [ADMIN, READER] }),
      launchBrowser(),
    ]);
    const token = await adminToken(nodeRed.url, ADMIN.username, ADMIN.password);
    const from = nodeRed.output().length;
    await deployFlow(
      nodeRed.url,
      [
        serverConfig('panel-living', 'Living Room Plex', living.url, TOKEN),
        serverConfig('panel-attic', 'Attic Plex', attic.url, TOKEN),
      ],
      { token },
    );
    await nodeRed.waitForOutput(/Started flows/, from);
  });
  afterEach(async function () {
    living?.clearFaults();
    attic?.clearFaults();
    await closePage(page);
    page = undefined;
  });
  after(async function () {
    await Promise.allSettled([browser?.close(), nodeRed?.stop(), living?.stop(), attic?.stop()]);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  async function open(
    user: { username: string; password: string },
    initScript?: () => void,
  ): Promise<Page> {
    const opened = await openEditor(started().browser, started().nodeRed.url, {
      login: user,
      initScript,
    });
    panelRequests = [];
    opened.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (path.startsWith('/plex-butler/panel/')) panelRequests.push(path);
    });
    page = opened;
    return opened;
  }

  it('the tab lists the servers and the tasks; Start sends one request and the progress moves to finished', async function () {
    const { living } = started();
    const shown = await open(ADMIN);
    await openPanel(shown);
    const picker = shown.locator(`${PANEL} .plex-butler-panel-picker option`);
    await picker.nth(1).waitFor({ state: 'attached' });
    const { attic } = started();
    // The host and port only: never the URL (a URL could carry credentials).
    assert.deepEqual(await picker.allTextContents(), [
      `Attic Plex (${new URL(attic.url).host})`,
      `Living Room Plex (${new URL(living.url).host})`,
    ]);
    await shown.locator(`${PANEL} .plex-butler-panel-picker`).selectOption('panel-living');
    await taskRow(shown, 'BackupDatabase').waitFor();
    // Every task of the server, once its view is in (the panel may still say "reading…").
    await shown
      .waitForFunction(
        ({ selector, count }) => document.querySelectorAll(selector).length === count,
        { selector: `${PANEL} .plex-butler-panel-task`, count: DEFAULT_TASKS.length },
      )
      .catch(async (error: unknown) => {
        throw new Error(
          `not ${DEFAULT_TASKS.length} tasks: ${await visibleText(shown.locator(PANEL))}`,
          {
            cause: error,
          },
        );
      });
    assert.match(
      await visibleText(taskRow(shown, 'BackupDatabase')),
      /BackupDatabase · enabled · every \d+ d/,
    );
    assert.equal(
      await visibleText(shown.locator(`${PANEL} .plex-butler-panel-state-word`)),
      'connected',
    );
    assert.equal(
      await visibleText(shown.locator(`${PANEL} .plex-butler-panel-window`)),
      '02:00–05:00',
    );

    const before = living.exchanges.length;
    await taskRow(shown, 'BackupDatabase').locator('.plex-butler-panel-start').click();
    await shown.locator(`${PANEL} .plex-butler-panel-result[data-status="started"]`).waitFor();
    assert.equal(
      await visibleText(shown.locator(`${PANEL} .plex-butler-panel-result`)),
      'BackupDatabase: started',
    );
    const writes = living.exchanges
      .slice(before)
      .filter((exchange) => exchange.method !== 'GET')
      .map((exchange) => `${exchange.method} ${exchange.path}`);
    assert.deepEqual(writes, ['POST /butler/BackupDatabase']);
    assert.equal(panelRequests.filter((path) => path.endsWith('/start')).length, 1);

    // Running, with a progress bar that moves, then finished.
    const running = shown.locator(
      `${PANEL} .plex-butler-panel-activity:not(.plex-butler-panel-ended) [role="progressbar"]`,
    );
    await running.first().waitFor();
    await shown.waitForFunction(
      (selector) =>
        Number(document.querySelector(selector)?.getAttribute('aria-valuenow') ?? 0) > 0,
      `${PANEL} .plex-butler-panel-activity:not(.plex-butler-panel-ended) [role="progressbar"]`,
    );
    // The sidebar at its own width with a task running: the picture in the docs.
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const shot = join(SCREENSHOT_DIR, 'panel.png');
    await shown.locator('#red-ui-sidebar').screenshot({ path: shot });
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
      copyFileSync(shot, join(REPO_ROOT, 'docs', 'panel.png'));
    }
    const ended = shown.locator(`${PANEL} .plex-butler-panel-ended`);
    await ended.first().waitFor({ timeout: 20_000 });
    assert.match(await visibleText(ended.first()), /finished at .+ after \d+/);
    assert.equal(await running.count(), 0);
    assert.equal(
      await ended.first().locator('[role="progressbar"]').getAttribute('aria-valuenow'),
      '100',
    );
  });

  it('two servers: the picker switches the list, and Start reaches the chosen server only; Stop all asks first', async function () {
    const { living, attic } = started();
    const shown = await open(ADMIN);
    await openPanel(shown);
    await shown.locator(`${PANEL} .plex-butler-panel-picker`).selectOption('panel-attic');
    await taskRow(shown, 'OptimizeDatabase').waitFor();
    assert.equal(await shown.locator(`${PANEL} .plex-butler-panel-task`).count(), 3);
    // A server's words are text on the page, never markup.
    assert.equal(
      await taskRow(shown, 'CleanOldBundles')
        .locator('.plex-butler-panel-task-title')
        .textContent(),
      MARKUP_TITLE,
    );
    assert.equal(await shown.locator(`${PANEL} img`).count(), 0);
    assert.equal(await shown.evaluate(() => 'plexButlerInjected' in window), false);

    const livingBefore = living.exchanges.length;
    const atticBefore = attic.exchanges.length;
    await taskRow(shown, 'OptimizeDatabase').locator('.plex-butler-panel-start').click();
    await shown.locator(`${PANEL} .plex-butler-panel-result[data-status="started"]`).waitFor();
    const writes = (sim: PlexSimulator, since: number): string[] =>
      sim.exchanges
        .slice(since)
        .filter((exchange) => exchange.method !== 'GET')
        .map((exchange) => `${exchange.method} ${exchange.path}`);
    assert.deepEqual(writes(attic, atticBefore), ['POST /butler/OptimizeDatabase']);
    assert.deepEqual(writes(living, livingBefore), []);

    // Stop all, by keyboard: it asks first, Cancel sends nothing and gives the focus back.
    const stopAll = shown.locator(`${PANEL} .plex-butler-panel-stop-all`);
    await stopAll.focus();
    await shown.keyboard.press('Enter');
    await shown.locator(`${PANEL} .plex-butler-panel-confirm-no:focus`).waitFor();
    await shown.keyboard.press('Enter');
    assert.equal(await shown.locator(`${PANEL} .plex-butler-panel-confirm`).count(), 0);
    await shown.locator(`${PANEL} .plex-butler-panel-stop-all:focus`).waitFor();
    assert.deepEqual(writes(attic, atticBefore), ['POST /butler/OptimizeDatabase']);
    await shown.keyboard.press('Enter');
    await shown.keyboard.press('Shift+Tab');
    await shown.locator(`${PANEL} .plex-butler-panel-confirm-yes:focus`).waitFor();
    await shown.keyboard.press('Enter');
    await shown.locator(`${PANEL} .plex-butler-panel-result[data-status="stopped"]`).waitFor();
    assert.deepEqual(writes(attic, atticBefore), [
      'POST /butler/OptimizeDatabase',
      'DELETE /butler',
    ]);
    assert.deepEqual(writes(living, livingBefore), []);
  });

  it('a read-only user sees the tasks, and the buttons send nothing', async function () {
    const { living } = started();
    const shown = await open(READER);
    await openPanel(shown);
    await shown.locator(`${PANEL} .plex-butler-panel-picker`).selectOption('panel-living');
    await taskRow(shown, 'BackupDatabase').waitFor();
    assert.match(await visibleText(shown.locator(PANEL)), /needs permission to change flows/);
    const start = taskRow(shown, 'BackupDatabase').locator('.plex-butler-panel-start');
    assert.equal(await start.isDisabled(), true);
    const before = living.exchanges.length;
    // Clicks sent to the buttons themselves, disabled or not, wherever an update redrew them.
    await start.dispatchEvent('click');
    await shown.locator(`${PANEL} .plex-butler-panel-start-all`).dispatchEvent('click');
    await shown.waitForTimeout(300);
    assert.deepEqual(
      panelRequests.filter((path) => !/\/(watch|unwatch)$/.test(path)),
      [],
    );
    assert.equal(
      living.exchanges.slice(before).filter((exchange) => exchange.method !== 'GET').length,
      0,
    );
  });

  it("keeps following once the editor's connection to Node-RED drops and comes back", async function () {
    const { living } = started();
    // Node-RED's comms sockets of the page, kept where the test can reach them.
    const shown = await open(ADMIN, () => {
      const Native = window.WebSocket;
      const comms: WebSocket[] = [];
      Object.assign(window, { plexButlerComms: comms });
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          if (String(url).endsWith('/comms')) comms.push(this);
        }
      };
    });
    await openPanel(shown);
    await shown.locator(`${PANEL} .plex-butler-panel-picker`).selectOption('panel-living');
    await shown.locator(`${PANEL} .plex-butler-panel-state-word[data-state="connected"]`).waitFor();
    // The drop: Node-RED sees the editor go, and lets the panel's lease go with it.
    assert.equal(
      await shown.evaluate(() => {
        const comms = (window as unknown as CommsWindow).plexButlerComms;
        comms[0].close();
        return comms.length;
      }),
      1,
    );
    await shown.waitForFunction(() => {
      const comms = (window as unknown as CommsWindow).plexButlerComms;
      return comms.length === 2 && comms[1].readyState === WebSocket.OPEN;
    });
    // Work started elsewhere shows well before the lease's 30 s renewal would bring it.
    await plexRequest(living, 'POST', '/butler/DeepMediaAnalysis');
    await shown
      .locator(`${PANEL} .plex-butler-panel-activity`, {
        hasText: 'Perform Extensive Media Analysis',
      })
      .waitFor({ timeout: 10_000 });
  });

  it('speaks German in a German editor', async function () {
    const { nodeRed, browser, living } = started();
    // A read that fails, for the library's words (through the panel's catalog) in German too.
    living.injectFault({ kind: 'status', status: 500, match: { method: 'GET', path: '/:/prefs' } });
    const shown = await openEditor(browser, nodeRed.url, { locale: 'de', login: ADMIN });
    page = shown;
    await openPanel(shown);
    await shown.locator(`${PANEL} .plex-butler-panel-picker`).selectOption('panel-living');
    await taskRow(shown, 'BackupDatabase').waitFor();
    await shown.locator(`${PANEL} .plex-butler-panel-state-word[data-state="connected"]`).waitFor();
    assert.equal(
      await visibleText(shown.locator(`${PANEL} .plex-butler-panel-state-word`)),
      'verbunden',
    );
    assert.equal(
      await visibleText(
        shown.locator(`${PANEL} .plex-butler-panel-tasks .plex-butler-panel-heading`),
      ),
      'Aufgaben',
    );
    assert.equal(
      await visibleText(taskRow(shown, 'BackupDatabase').locator('.plex-butler-panel-start')),
      'Starten',
    );
    assert.match(await visibleText(taskRow(shown, 'BackupDatabase')), /aktiv · alle \d+ T/);
    const failed = shown.locator(`${PANEL} .plex-butler-panel-bad`, { hasText: '500' });
    await failed.waitFor();
    assert.match(
      await visibleText(failed),
      /^konnte nicht .+: Plex antwortete 500: ein interner Serverfehler/,
    );
  });

  it('the server going away and coming back: the state says so, and the list returns', async function () {
    const { attic } = started();
    const shown = await open(ADMIN);
    await openPanel(shown);
    await shown.locator(`${PANEL} .plex-butler-panel-picker`).selectOption('panel-attic');
    await taskRow(shown, 'OptimizeDatabase').waitFor();
    const state = shown.locator(`${PANEL} .plex-butler-panel-state-word`);
    await shown.locator(`${PANEL} .plex-butler-panel-state-word[data-state="connected"]`).waitFor();

    await attic.stop();
    await shown
      .locator(`${PANEL} .plex-butler-panel-state-word[data-state="reconnecting"]`)
      .waitFor();
    assert.equal(await visibleText(state), 'reconnecting…');
    assert.match(
      await visibleText(shown.locator(`${PANEL} .plex-butler-panel-state-error`)),
      /closed by the server|nothing answers at/,
    );

    await attic.start();
    await shown
      .locator(`${PANEL} .plex-butler-panel-state-word[data-state="connected"]`)
      .waitFor({ timeout: 30_000 });
    assert.equal(await shown.locator(`${PANEL} .plex-butler-panel-state-error`).count(), 0);
    assert.equal(await shown.locator(`${PANEL} .plex-butler-panel-task`).count(), 3);

    // Another tab chosen: the panel lets go, and the server's socket closes.
    await waitUntil(() => attic.stats.openNotificationSockets === 1, 10_000, 'one socket');
    await showSidebarTab(shown, 'info');
    await waitUntil(() => attic.stats.openNotificationSockets === 0, 10_000, 'the socket closed');
  });
});
