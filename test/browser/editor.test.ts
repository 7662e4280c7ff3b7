/**
 * The editor as a user meets it: a real Node-RED with the package linked in, a real Chromium,
 * and the Plex simulator (every exchange contract-checked by test/setup.ts). The dialogs are
 * driven by clicks and typing only; assertions are about what is on the screen.
 *
 * Needs `npm run build` first (Node-RED loads dist/). Screenshots go to
 * test-results/screenshots/ (README's picture comes from dialogs.test.ts).
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { derivedClientId } from '../../nodes/server/client-id';
import { CONFIG_VERSION } from '../../nodes/core/migrations';
import {
  REPO_ROOT,
  deployFlow,
  startNodeRed,
  type NodeRedProcess,
} from '../../scripts/node-red-process';
import {
  DEFAULT_TASKS,
  SIMULATED_VERSION,
  type PlexSimulator,
  type SimTask,
} from '../../simulator';
import { LIMITS, STATIC_TASK_NAMES, journalPath } from '../../lib';
import { startSimulator } from '../support/simulator';
import { selfSignedCertificate } from '../support/tls';
import {
  canvasNode,
  clickOnCanvas,
  closePage,
  deploy,
  dismissNotifications,
  dragFromPalette,
  launchBrowser,
  openEditor,
  openNodeDialog,
  openServerConfig,
  paletteNode,
  screenshot,
  SCREENSHOT_DIR,
  showSidebarTab,
  chooseTask,
  taskList,
  visibleText,
  wire,
  pressInject,
  requireBuild,
} from './editor-page';
import { NODE_TYPES } from '../support/node-types';

const TOKEN = 'editor-test-token';
/** Listed by live servers but by no spec: only the live list can offer it, never the fallback. */
const LIVE_ONLY_TASK: SimTask = {
  name: 'ProcessAssets',
  enabled: true,
  interval: 1,
  scheduleRandomized: false,
};
const TASK_COUNT = DEFAULT_TASKS.length + 1;

const RESULT = '#node-config-plex-butler-server-test-result';
/** The result line once the test has answered, whichever way. */
const RESULT_DONE = `${RESULT}.plex-butler-test-ok, ${RESULT}.plex-butler-test-error`;

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80);
}

/** True when the CSS colour is clearly red, as error text is in every Node-RED theme. */
function isReddish(color: string): boolean {
  const match = /^rgba?\((\d+), (\d+), (\d+)/.exec(color);
  if (!match) return false;
  const [red, green, blue] = match.slice(1, 4).map(Number);
  return red > green + 60 && red > blue + 60;
}

/** Types into the config dialog what a user copies from Plex, and presses Test connection. */
async function testConnection(page: Page, url: string, token: string): Promise<string> {
  for (const [field, value] of [
    ['#node-config-input-url', url],
    ['#node-config-input-token', token],
  ]) {
    await page.locator(field).fill('');
    await page.locator(field).pressSequentially(value);
  }
  await page.locator('#node-config-plex-butler-server-test').click();
  // The click handler clears the last result at once, so this waits for the new one.
  await page.locator(RESULT_DONE).waitFor();
  return visibleText(page.locator(RESULT));
}

describe('editor in a real browser (Node-RED + Chromium + simulator)', function () {
  this.timeout(60_000);

  let sim: PlexSimulator | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let userDir: string | undefined;

  function started(): { sim: PlexSimulator; nodeRed: NodeRedProcess; browser: Browser } {
    if (!sim || !nodeRed || !browser) throw new Error('the before hook did not finish');
    return { sim, nodeRed, browser };
  }

  before(async function () {
    this.timeout(90_000);
    requireBuild();
    userDir = mkdtempSync(join(tmpdir(), 'plex-butler-editor-'));
    const dir = userDir;
    // In parallel, but each one kept as soon as it is up, so that `after` stops it even when
    // another one fails to start.
    const results = await Promise.allSettled([
      startSimulator({ token: TOKEN }).then((value) => (sim = value)),
      startNodeRed({ userDir: dir, install: 'link' }).then((value) => (nodeRed = value)),
      launchBrowser().then((value) => (browser = value)),
    ]);
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    started().sim.setTasks([...DEFAULT_TASKS, LIVE_ONLY_TASK]);
  });

  afterEach(async function () {
    const test = this.currentTest;
    if (test?.state === 'failed') {
      // What the user saw at the moment of failure, and what Node-RED logged up to then.
      if (page) {
        await screenshot(page, `failure-${slug(test.title)}`).catch(() => undefined);
      }
      if (nodeRed) {
        mkdirSync(SCREENSHOT_DIR, { recursive: true });
        writeFileSync(join(SCREENSHOT_DIR, `failure-${slug(test.title)}.log`), nodeRed.output());
      }
    }
    await closePage(page);
    page = undefined;
  });

  after(async function () {
    this.timeout(30_000);
    // Everything is shut down even when one of them fails to; the first error is reported.
    const results = await Promise.allSettled([browser?.close(), nodeRed?.stop(), sim?.stop()]);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  });

  it('lists get tasks, start task, stop task, watch activity, schedule, when idle and butler report under "plex" in the palette', async function () {
    page = await openEditor(started().browser, started().nodeRed.url);
    assert.equal(await visibleText(page.locator('#red-ui-palette-header-plex')), 'plex');
    const category = page.locator('#red-ui-palette-plex');
    for (const [type, label] of [
      ['plex-butler-tasks', 'get tasks'],
      ['plex-butler-start', 'start task'],
      ['plex-butler-stop', 'stop task'],
      ['plex-butler-watch', 'watch activity'],
      ['plex-butler-schedule', 'schedule'],
      ['plex-butler-idle', 'when idle'],
      ['plex-butler-report', 'butler report'],
    ]) {
      const node = category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await visibleText(node), label, `palette label of ${type}`);
    }
    // The server is a config node: it belongs in the node dialogs, not in the palette.
    assert.equal(await paletteNode(page, 'plex-butler-server').count(), 0);
  });

  /**
   * Deploys a server and a report node on a tab of their own, and waits for the journal the
   * report node keeps. Answers the journal's file and the flows before, to put back after.
   */
  async function deployReportWithJournal(): Promise<{ file: string; before: unknown[] }> {
    const { sim, nodeRed } = started();
    const serverId = 'journal-server';
    const file = journalPath(userDir ?? '', serverId);
    // Put back afterwards: a node left without a server would make later deploys ask first.
    const before = (await (await fetch(`${nodeRed.url}/flows`)).json()) as unknown[];
    await deployFlow(nodeRed.url, [
      { id: 'journal-tab', type: 'tab', label: 'journal' },
      {
        id: serverId,
        type: 'plex-butler-server',
        name: 'Plex at home',
        url: sim.url,
        clientId: '',
        timeout: 10000,
        retries: 2,
        pollInterval: 5,
        version: CONFIG_VERSION,
        credentials: { token: TOKEN },
      },
      {
        id: 'journal-report',
        type: 'plex-butler-report',
        z: 'journal-tab',
        name: 'morning',
        server: serverId,
        period: 'since-last-report',
        version: CONFIG_VERSION,
        x: 200,
        y: 100,
        wires: [],
      },
    ]);
    for (let tries = 0; !existsSync(file) && tries < 50; tries++) await delay(100);
    assert.ok(existsSync(file), 'the deployed report node keeps a journal');
    return { file, before };
  }

  /** The offer to delete a journal no report node keeps: it says so, and deletes only on "yes". */
  async function acceptJournalDeletion(shown: Page, file: string): Promise<void> {
    const offer = shown.locator('.red-ui-notification', { hasText: 'Delete it?' });
    await offer.waitFor();
    assert.match(
      await visibleText(offer),
      /^The journal of Plex at home \(.+\) stays in Node-RED's user directory now that no butler report node keeps it\. Delete it\?/,
    );
    assert.ok(existsSync(file), 'nothing is deleted before the user says so');
    await offer.getByRole('button', { name: 'Delete journal' }).click();
    await shown
      .locator('.red-ui-notification', { hasText: 'The journal of Plex at home is deleted.' })
      .waitFor();
    assert.equal(existsSync(file), false);
  }

  it('shows a report node’s journal in its dialog, and offers to delete it once the last report node is removed and deployed', async function () {
    const { nodeRed } = started();
    const { file, before } = await deployReportWithJournal();
    try {
      page = await openEditor(started().browser, nodeRed.url);
      await openNodeDialog(page, 'journal-report');
      const state = page.locator('#node-plex-butler-report-journal');
      await page.waitForFunction(() =>
        /being kept/.test(
          document.querySelector('#node-plex-butler-report-journal')?.textContent ?? '',
        ),
      );
      assert.match(
        await visibleText(state),
        /^\d+(\.\d)? (bytes|KB) in Node-RED's user directory, being kept\.$/,
      );
      await page.locator('#node-dialog-cancel').click();
      await page.locator('#red-ui-editor-shade').waitFor({ state: 'hidden' });

      // Removed and deployed: the editor offers to delete what no report node keeps any more.
      await clickOnCanvas(canvasNode(page, 'journal-report'));
      await page.keyboard.press('Delete');
      await deploy(page);
      await acceptJournalDeletion(page, file);
    } finally {
      await deployFlow(nodeRed.url, before);
      rmSync(file, { force: true });
    }
  });

  it('offers to delete the journal when the server config is removed and deployed', async function () {
    const { nodeRed } = started();
    const { file, before } = await deployReportWithJournal();
    try {
      page = await openEditor(started().browser, nodeRed.url);
      await openNodeDialog(page, 'journal-report');
      await openServerConfig(page, 'edit');
      await page
        .locator('.red-ui-tray')
        .last()
        .getByRole('button', { name: 'Delete', exact: true })
        .click();
      await page.locator('#node-dialog-ok').click();
      await page.locator('#red-ui-editor-shade').waitFor({ state: 'hidden' });
      // The report node is left without a server: Node-RED asks before deploying it.
      await page.locator('#red-ui-header-button-deploy').click();
      await page.getByRole('button', { name: 'Confirm deploy' }).click();
      await page.locator('.red-ui-notification', { hasText: 'Successfully deployed' }).waitFor();
      await acceptJournalDeletion(page, file);
    } finally {
      await deployFlow(nodeRed.url, before);
      rmSync(file, { force: true });
    }
  });

  it("has every example's nodes of ours hold each property their editor defines", async function () {
    page = await openEditor(started().browser, started().nodeRed.url);
    // An example node without one of them differs from a node the user makes in the editor.
    const defined = await page.evaluate((types) => {
      const red = (
        window as unknown as {
          RED: { nodes: { getType(type: string): { defaults?: object } | undefined } };
        }
      ).RED;
      return types.map((type) => Object.keys(red.nodes.getType(type)?.defaults ?? {}));
    }, NODE_TYPES);
    const propertiesOf = new Map(NODE_TYPES.map((type, index) => [type, defined[index]]));
    assert.ok(
      defined.every((properties) => properties.length > 0),
      'each type has defaults',
    );
    const seen = new Set<string>();
    const lacking: string[] = [];
    for (const file of readdirSync(join(REPO_ROOT, 'examples'))) {
      const flow = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', file), 'utf8')) as Array<
        Record<string, unknown> & { id: string; type: string }
      >;
      for (const node of flow) {
        const properties = propertiesOf.get(node.type);
        if (!properties) continue;
        seen.add(node.type);
        const missing = properties.filter((property) => !(property in node));
        if (missing.length)
          lacking.push(`${file}: ${node.type} ${node.id} lacks ${missing.join(', ')}`);
      }
    }
    assert.deepEqual(lacking, []);
    assert.deepEqual([...seen].sort(), [...NODE_TYPES].sort(), 'each type is in an example');
  });

  it('sets up a server, picks a task from the live list, deploys and starts it', async function () {
    const { sim, nodeRed, browser } = started();
    page = await openEditor(browser, nodeRed.url);

    const inject = await dragFromPalette(page, 'inject', 160, 220);
    const start = await dragFromPalette(page, 'plex-butler-start', 400, 220);
    const debug = await dragFromPalette(page, 'debug', 680, 220);
    await wire(page, inject, start);
    await wire(page, start, debug);

    await openNodeDialog(page, start);
    assert.match(await visibleText(page.locator('.red-ui-tray-breadcrumbs')), /start task/);
    // No server yet: the + button next to the Server select opens the new server's dialog.
    await openServerConfig(page, 'add');
    assert.match(
      await visibleText(page.locator('.red-ui-tray-breadcrumbs')),
      /Add new Plex server config node/,
    );

    const answer = await testConnection(page, sim.url, TOKEN);
    assert.equal(
      answer,
      `Connected to Plex ${SIMULATED_VERSION} (${TASK_COUNT} Butler tasks)`,
      'Test connection result',
    );
    assert.equal(await page.locator(`${RESULT}.plex-butler-test-ok`).count(), 1);
    await screenshot(page, 'editor-1-config-test-connection');

    const add = page.locator('#node-config-dialog-ok');
    assert.equal(await visibleText(add), 'Add');
    await add.click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });

    // Back in the start dialog: the new server is chosen and its live task list fills the select.
    const host = new URL(sim.url).host;
    assert.equal(await visibleText(page.locator('#node-input-server option:checked')), host);
    await page
      .locator('#node-input-task-note', { hasText: `${TASK_COUNT} tasks from the server` })
      .waitFor();
    // One field for the task: its list button shows the server's list.
    const options = await taskList(page);
    assert.equal(options.length, TASK_COUNT, "the server's tasks");
    assert.ok(options.includes('ProcessAssets'), 'the task only the live list has');
    assert.ok(options.includes('Optimize Database (OptimizeDatabase)'));
    assert.ok(
      options.includes('Update Plex Media Server (AutomaticUpdates), disabled'),
      'disabled tasks are marked',
    );
    await page.keyboard.press('Escape');
    await chooseTask(page, 'Optimize Database (OptimizeDatabase)');
    const taskField = page.locator('#node-input-task + .red-ui-typedInput-container input');
    assert.equal(await taskField.inputValue(), 'OptimizeDatabase');
    await screenshot(page, 'editor-2-start-dialog-task-list');

    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-task').waitFor({ state: 'detached' });
    assert.equal(
      await visibleText(canvasNode(page, start).locator('.red-ui-flow-node-label-text')),
      'start OptimizeDatabase',
    );

    await deploy(page);

    // The inject button is live once the flow is deployed.
    await pressInject(page, inject);
    await showSidebarTab(page, 'debug');
    const message = page.locator('.red-ui-debug-msg', {
      hasText: 'OptimizeDatabase',
    });
    await message.waitFor();
    const shown = await visibleText(message);
    assert.match(shown, /msg\.payload : Object/);
    assert.match(shown, /action: "start"/);
    assert.match(shown, /task: "OptimizeDatabase"/);
    assert.match(shown, /status: "started"/);
    assert.match(shown, new RegExp(`server: "${host.replace(/\./g, '\\.')}"`));
    // The node's status under it on the canvas: "started" and the time.
    const status = canvasNode(page, start).locator('.red-ui-flow-node-status-label', {
      hasText: 'started',
    });
    await status.waitFor();
    assert.match(await visibleText(status), /^started \d{2}:\d{2}$/);

    assert.ok(
      sim.exchanges.some(
        (exchange) =>
          exchange.method === 'POST' &&
          exchange.path === '/butler/OptimizeDatabase' &&
          exchange.status === 200,
      ),
      'the simulator was asked to start OptimizeDatabase',
    );
    // Deployed as this release saves nodes: a config version, and the server's client
    // identifier the one the runtime derives for it (asked for when the dialog opened).
    const flows = (await (await fetch(`${nodeRed.url}/flows`)).json()) as Array<{
      id: string;
      type: string;
      version?: number;
      clientId?: string;
    }>;
    const ours = flows.filter((node) => node.type.startsWith('plex-butler-'));
    assert.ok(ours.length >= 2);
    for (const node of ours) assert.equal(node.version, CONFIG_VERSION, `${node.type} version`);
    const server = ours.find((node) => node.type === 'plex-butler-server');
    assert.ok(server);
    assert.equal(server.clientId, derivedClientId(userDir, server.id));
    assert.equal(
      sim.exchanges.at(-1)?.headers['x-plex-client-identifier'],
      server.clientId,
      'the runtime sends the same one',
    );

    await dismissNotifications(page);
    // For the picture (and because users find nodes this way): the palette filtered to ours.
    await page.locator('#red-ui-palette-search input').pressSequentially('task');
    await paletteNode(page, 'inject').waitFor({ state: 'hidden' });
    for (const type of ['plex-butler-tasks', 'plex-butler-start', 'plex-butler-stop']) {
      assert.ok(await paletteNode(page, type).isVisible(), `${type} found by the palette filter`);
    }
    await screenshot(page, 'editor-3-debug-sidebar-result');
  });

  it('gives start a second output for "wait for completion"; watch has no input and connects', async function () {
    const { sim, nodeRed, browser } = started();
    page = await openEditor(browser, nodeRed.url);
    const start = await dragFromPalette(page, 'plex-butler-start', 400, 560);
    await openNodeDialog(page, start);
    if ((await page.locator('#node-input-server').inputValue()) === '_ADD_') {
      // The first test in this Node-RED: no server config yet.
      await openServerConfig(page, 'add');
      await page.locator('#node-config-input-url').pressSequentially(sim.url);
      await page.locator('#node-config-input-token').pressSequentially(TOKEN);
      await page.locator('#node-config-dialog-ok').click();
      await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    }
    const serverId = await page.locator('#node-input-server').inputValue();
    const waitRows = page.locator('.node-input-wait-row');
    assert.equal(await waitRows.first().isVisible(), false, 'wait options hidden at first');
    await page.locator('#node-input-wait').check();
    assert.equal(await waitRows.first().isVisible(), true, 'wait options shown when ticked');
    assert.equal(await page.locator('#node-input-waitTimeout').inputValue(), '60');
    await page.locator('#node-input-waitTitle').fill('optimi');
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-wait').waitFor({ state: 'detached' });
    const outputs = canvasNode(page, start).locator('.red-ui-flow-port-output');
    assert.equal(await outputs.count(), 2, 'start with waiting has two outputs');

    const watch = await dragFromPalette(page, 'plex-butler-watch', 400, 640);
    await openNodeDialog(page, watch);
    await page.locator('#node-input-server').selectOption(serverId);
    assert.equal(await page.locator('.node-input-rate-row').isVisible(), false);
    await page.locator('#node-input-updates').selectOption('limit');
    assert.equal(await page.locator('.node-input-rate-row').isVisible(), true);
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-updates').waitFor({ state: 'detached' });
    assert.equal(await canvasNode(page, watch).locator('.red-ui-flow-port-input').count(), 0);
    assert.equal(await canvasNode(page, watch).locator('.red-ui-flow-port-output').count(), 1);

    await deploy(page);
    const connected = canvasNode(page, watch).locator('.red-ui-flow-node-status-label', {
      hasText: 'connected',
    });
    await connected.waitFor();
    assert.ok(sim.stats.openNotificationSockets >= 1, 'the watch node opened the socket');
    await screenshot(page, 'editor-5-watch-and-wait');
  });

  it('when idle: its dialog shows the fields of the mode chosen, takes its defaults from the runtime, and watch mode has no input', async function () {
    const { sim, nodeRed, browser } = started();
    page = await openEditor(browser, nodeRed.url);
    const idle = await dragFromPalette(page, 'plex-butler-idle', 760, 640);
    await openNodeDialog(page, idle);
    if ((await page.locator('#node-input-server').inputValue()) === '_ADD_') {
      await openServerConfig(page, 'add');
      await page.locator('#node-config-input-url').pressSequentially(sim.url);
      await page.locator('#node-config-input-token').pressSequentially(TOKEN);
      await page.locator('#node-config-dialog-ok').click();
      await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    }
    // The defaults are the runtime's (LIMITS), as it hands them to the editor.
    assert.equal(await page.locator('#node-input-mode').inputValue(), 'wait');
    assert.equal(
      await page.locator('#node-input-deadline').inputValue(),
      String(LIMITS.deadlineMinutes.default),
    );
    assert.equal(
      await page.locator('#node-input-pausedLimit').inputValue(),
      String(LIMITS.pausedLimitMinutes.default),
    );
    assert.equal(
      await page.locator('#node-input-minimumPlaybacks').inputValue(),
      String(LIMITS.minimumPlaybacks.default),
    );
    assert.equal(await page.locator('#node-input-countRecordings').isChecked(), true);
    assert.equal(await page.locator('#node-input-countBackground').isChecked(), false);
    assert.equal(await page.locator('#node-input-onlyTranscodes').isChecked(), false);

    const row = page.locator('.node-input-deadline-row');
    const minutes = page.locator('#node-input-deadline');
    const time = page.locator('#node-input-deadlineTime');
    const dialog = page;
    const tip = (mode: string) => dialog.locator(`.node-input-mode-tip-${mode}`);
    assert.equal(await row.isVisible(), true, 'wait: the deadline');
    assert.equal(await minutes.isVisible(), true);
    assert.equal(await time.isVisible(), false);
    assert.equal(await tip('wait').isVisible(), true);
    await page.locator('#node-input-deadlineType').selectOption('time');
    assert.equal(await minutes.isVisible(), false);
    assert.equal(await time.inputValue(), '05:00');
    assert.equal(await time.isVisible(), true);

    // Only the deadline in use is checked; the editor checks a field as the user types.
    const type = async (field: Locator, text: string): Promise<void> => {
      await field.fill('');
      await field.pressSequentially(text);
    };
    await type(time, '25:00');
    await page.locator('#node-input-deadlineTime.input-error').waitFor();
    await minutes.evaluate((input: HTMLInputElement) => (input.value = 'soon'));
    await type(time, '05:30');
    await page.locator('#node-input-deadlineTime:not(.input-error)').waitFor();
    await page.locator('#node-input-deadlineType').selectOption('minutes');
    await page.locator('#node-input-deadline.input-error').waitFor();
    await type(minutes, '90');
    await page.locator('#node-input-deadline:not(.input-error)').waitFor();
    await type(page.locator('#node-input-pausedLimit'), '-1');
    await page.locator('#node-input-pausedLimit.input-error').waitFor();
    await type(page.locator('#node-input-pausedLimit'), '0');
    await page.locator('#node-input-pausedLimit:not(.input-error)').waitFor();

    await page.locator('#node-input-mode').selectOption('check');
    assert.equal(await row.isVisible(), false, 'check: no deadline');
    assert.equal(await tip('check').isVisible(), true);
    assert.equal(await tip('wait').isVisible(), false);
    await page.locator('#node-input-mode').selectOption('watch');
    assert.equal(await row.isVisible(), false, 'watch: no deadline');
    assert.equal(await tip('watch').isVisible(), true);
    assert.equal(await tip('check').isVisible(), false);
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-mode').waitFor({ state: 'detached' });

    const node = canvasNode(page, idle);
    assert.equal(await node.locator('.red-ui-flow-port-input').count(), 0, 'watch: no input');
    assert.equal(await node.locator('.red-ui-flow-port-output').count(), 2);
    assert.equal(await visibleText(node.locator('.red-ui-flow-node-label-text')), 'idle or in use');
    await deploy(page);
    // Nobody watches the simulator: the state it first finds, with the time.
    await node.locator('.red-ui-flow-node-status-label', { hasText: /^idle \d\d:\d\d$/ }).waitFor();
    await screenshot(page, 'editor-6-when-idle');

    // Back to wait: the input comes back, and the label names the deadline.
    await openNodeDialog(page, idle);
    assert.equal(await page.locator('#node-input-deadline').inputValue(), '90');
    assert.equal(await page.locator('#node-input-pausedLimit').inputValue(), '0');
    await page.locator('#node-input-mode').selectOption('wait');
    assert.equal(await row.isVisible(), true);
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-mode').waitFor({ state: 'detached' });
    assert.equal(await node.locator('.red-ui-flow-port-input').count(), 1, 'wait: an input');
    assert.equal(
      await visibleText(node.locator('.red-ui-flow-node-label-text')),
      'wait until idle · 90 min',
    );
  });

  it('reads the Butler schedule with a schedule node, from an inject to the debug sidebar', async function () {
    const { sim, nodeRed, browser } = started();
    page = await openEditor(browser, nodeRed.url);
    const inject = await dragFromPalette(page, 'inject', 160, 140);
    const schedule = await dragFromPalette(page, 'plex-butler-schedule', 400, 140);
    const debug = await dragFromPalette(page, 'debug', 680, 140);
    await wire(page, inject, schedule);
    await wire(page, schedule, debug);

    await openNodeDialog(page, schedule);
    assert.match(await visibleText(page.locator('.red-ui-tray-breadcrumbs')), /schedule node/);
    assert.match(await visibleText(page.locator('.form-tips')), /DeepMediaAnalysis/);
    if ((await page.locator('#node-input-server').inputValue()) === '_ADD_') {
      await openServerConfig(page, 'add');
      await page.locator('#node-config-input-url').pressSequentially(sim.url);
      await page.locator('#node-config-input-token').pressSequentially(TOKEN);
      await page.locator('#node-config-dialog-ok').click();
      await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    }
    // The output property is a msg typedInput that starts at payload and refuses a blank.
    const property = page.locator(
      '#node-input-property + .red-ui-typedInput-container input.red-ui-typedInput-input',
    );
    assert.equal(await property.inputValue(), 'payload');
    await property.fill('');
    await property.press('Tab');
    await page.locator('#node-input-property + .red-ui-typedInput-container.input-error').waitFor();
    // The debug node shows msg.payload, so the schedule goes back there.
    await property.fill('payload');
    await property.press('Tab');
    await page
      .locator('#node-input-property + .red-ui-typedInput-container:not(.input-error)')
      .waitFor();
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-property').waitFor({ state: 'detached' });
    assert.equal(
      await visibleText(canvasNode(page, schedule).locator('.red-ui-flow-node-label-text')),
      'schedule',
    );

    await deploy(page);
    const writesBefore = sim.exchanges.filter((exchange) => exchange.method === 'PUT').length;
    await pressInject(page, inject);
    await showSidebarTab(page, 'debug');
    const message = page.locator('.red-ui-debug-msg', { hasText: 'window' });
    await message.waitFor();
    const shown = await visibleText(message);
    assert.match(shown, /msg\.payload : Object/);
    assert.match(shown, /window: object/);
    assert.match(shown, /tasks: object/);
    const status = canvasNode(page, schedule).locator('.red-ui-flow-node-status-label', {
      hasText: 'read',
    });
    await status.waitFor();
    assert.match(await visibleText(status), /^read \d{2}:\d{2}$/);
    assert.ok(
      sim.exchanges.some((exchange) => exchange.method === 'GET' && exchange.path === '/:/prefs'),
      'the simulator was asked for its settings',
    );
    assert.equal(
      sim.exchanges.filter((exchange) => exchange.method === 'PUT').length,
      writesBefore,
      'an inject with a timestamp only reads',
    );
    await screenshot(page, 'editor-6-schedule-read');
  });

  it('shows a rejected token in plain words, styled as an error', async function () {
    const { sim, nodeRed, browser } = started();
    page = await openEditor(browser, nodeRed.url);
    const tasks = await dragFromPalette(page, 'plex-butler-tasks', 400, 420);
    await openNodeDialog(page, tasks);
    await openServerConfig(page, 'add');

    const answer = await testConnection(page, sim.url, 'not-the-token');
    assert.match(answer, /token rejected by the server \(401\)/);
    assert.match(answer, /check the token/);
    const result = page.locator(RESULT);
    assert.equal(await page.locator(`${RESULT}.plex-butler-test-error`).count(), 1);
    const color = await result.evaluate((element) => getComputedStyle(element).color);
    assert.ok(isReddish(color), `error text colour ${color}`);
    await screenshot(page, 'editor-4-config-wrong-token');
  });

  it('marks a server URL without http:// as an error, says why, and takes it once corrected', async function () {
    page = await openEditor(started().browser, started().nodeRed.url);
    const tasks = await dragFromPalette(page, 'plex-butler-tasks', 400, 500);
    await openNodeDialog(page, tasks);
    await openServerConfig(page, 'add');

    const url = page.locator('#node-config-input-url');
    await url.pressSequentially('192.168.1.10:32400');
    await page.locator('#node-config-input-url.input-error').waitFor();
    // The editor shows the validator's message when the pointer rests on the field.
    await url.hover();
    const tooltip = page.locator('.red-ui-popover', { hasText: 'http://' });
    assert.equal(
      await visibleText(tooltip),
      'Enter an http:// or https:// URL, e.g. http://192.168.1.10:32400',
    );

    await url.press('Home');
    await url.pressSequentially('http://');
    await page.locator('#node-config-input-url:not(.input-error)').waitFor();
    assert.equal(await url.inputValue(), 'http://192.168.1.10:32400');
  });

  it('lists the live tasks for a new https server whose certificate is not checked, before any deploy', async function () {
    const secure = await startSimulator({ token: TOKEN, tls: selfSignedCertificate() });
    try {
      page = await openEditor(started().browser, started().nodeRed.url);
      const start = await dragFromPalette(page, 'plex-butler-start', 400, 400);
      await openNodeDialog(page, start);
      await openServerConfig(page, 'add');
      // The certificate is for localhost, the URL has the IP: only "Do not verify" reaches it.
      await page.locator('#node-config-input-url').fill(secure.url);
      await page.locator('#node-config-input-token').fill(TOKEN);
      await page.locator('#node-config-input-tlsMode').selectOption('off');
      await page.locator('#node-config-dialog-ok').click();
      await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
      await page
        .locator('#node-input-task-note', {
          hasText: `${DEFAULT_TASKS.length} tasks from the server`,
        })
        .waitFor();
      assert.ok(
        secure.exchanges.some((exchange) => exchange.path === '/butler'),
        'the list came from the https server',
      );
      await page.locator('#node-dialog-cancel').click();
    } finally {
      await secure.stop();
    }
  });

  it("offers the spec's task names behind the stop dialog's task field while no server is chosen", async function () {
    page = await openEditor(started().browser, started().nodeRed.url);
    const stop = await dragFromPalette(page, 'plex-butler-stop', 400, 300);
    await openNodeDialog(page, stop);
    assert.match(await visibleText(page.locator('.red-ui-tray-breadcrumbs')), /stop task/);
    const server = page.locator('#node-input-server');
    // An earlier test may have deployed a server, which the dialog then picks by itself.
    if ((await server.inputValue()) !== '_ADD_') await server.selectOption('_ADD_');
    await page
      .locator('#node-input-task-note', { hasText: '(offline list: no server chosen)' })
      .waitFor();
    const options = await taskList(page);
    assert.deepEqual(options.sort(), [...STATIC_TASK_NAMES].sort());
    await page.keyboard.press('Escape');
    // Waiting for completion is start's alone.
    assert.equal(await page.locator('#node-input-wait').count(), 0);
  });

  it('speaks German to a German browser', async function () {
    page = await openEditor(started().browser, started().nodeRed.url, { locale: 'de-DE' });
    for (const [type, label] of [
      ['plex-butler-tasks', 'Aufgabenliste'],
      ['plex-butler-start', 'starten'],
      ['plex-butler-stop', 'stoppen'],
      ['plex-butler-watch', 'Aktivität'],
      ['plex-butler-schedule', 'Zeitplan'],
    ]) {
      assert.equal(await visibleText(paletteNode(page, type)), label, `palette label of ${type}`);
    }
    // The runtime sends its message as a catalog reference: the dialog words it in German.
    const tasks = await dragFromPalette(page, 'plex-butler-tasks', 400, 420);
    await openNodeDialog(page, tasks);
    await openServerConfig(page, 'add');
    const refused = await testConnection(page, started().sim.url, 'not-the-token');
    assert.match(
      refused,
      /konnte nicht die Butler-Aufgaben lesen: Token vom Server abgelehnt \(401\): Token in der Server-Konfiguration prüfen/,
    );
    const connected = await testConnection(page, started().sim.url, started().sim.token);
    assert.match(connected, /Verbunden mit Plex [\d.]+-?\w* \(\d+ Butler-Aufgaben\)/);
  });
});

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
