/**
 * Connect in a minute, as a person does it in the editor: Sign in with Plex (approving on the
 * plex.tv stand-in's page in the tab it opens), pick the server from the account's list, Test
 * connection goes green, deploy, start a task. The token appears in no page, no request or
 * answer of the browser, no log line and not in flows.json.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startNodeRed, type NodeRedProcess } from '../../scripts/node-red-process';
import { tokenBinding } from '../../nodes/server/token-policy';
import type { PlexSimulator } from '../../simulator';
import {
  ACCOUNT_TOKEN,
  HOME_HASH,
  HOME_ID,
  startPlexWorld,
  type PlexWorld,
} from '../support/plex-world';
import { waitUntil } from '../support/wait';
import {
  canvasNode,
  chooseTask,
  closePage,
  deploy,
  dragFromPalette,
  launchBrowser,
  openEditor,
  openNodeDialog,
  openServerConfig,
  screenshot,
  visibleText,
  wire,
  pressInject,
  requireBuild,
} from './editor-page';

const STATUS = '#node-config-plex-butler-server-signin-status';

interface Deployed {
  rev: string;
  flows: Array<Record<string, unknown>>;
}

/** The flows as the runtime holds them (Admin API v2). */
async function deployedFlows(url: string): Promise<Deployed> {
  const answer = await fetch(`${url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
  return (await answer.json()) as Deployed;
}

/** A full deploy of `flows` through the Admin API, as the editor's Deploy button does. */
async function deployFully(url: string, flows: Deployed): Promise<void> {
  const answer = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'Node-RED-API-Version': 'v2',
      'Node-RED-Deployment-Type': 'full',
    },
    body: JSON.stringify(flows),
  });
  assert.equal(answer.status, 200);
}
const RESULT = '#node-config-plex-butler-server-test-result';

/** *Sign in with Plex* in the server dialog: the plex.tv tab it opens. */
async function openPlexTab(page: Page): Promise<Page> {
  const opened = page.waitForEvent('popup');
  await page.locator('#node-config-plex-butler-server-signin').click();
  return opened;
}

describe('Sign in with Plex in a real browser (Node-RED + Chromium + plex.tv stand-in)', function () {
  this.timeout(90_000);
  let world: PlexWorld | undefined;
  let nodeRed: NodeRedProcess | undefined;
  let browser: Browser | undefined;
  let page: Page | undefined;
  let userDir: string | undefined;
  /** Everything the browser sent and received, and every page it showed. */
  const seen: string[] = [];

  before(async function () {
    requireBuild();
    world = await startPlexWorld();
    userDir = mkdtempSync(join(tmpdir(), 'plex-butler-signin-'));
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
      }),
      launchBrowser(),
    ]);
  });
  after(async function () {
    await closePage(page);
    await Promise.allSettled([browser?.close(), nodeRed?.stop(), world?.stop()]);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  function watch(target: Page): void {
    target.on('request', (request) => {
      seen.push(
        `${request.method()} ${request.url()} ${JSON.stringify(request.headers())} ${request.postData() ?? ''}`,
      );
    });
    target.on('response', (response) => {
      void response.text().then(
        (text) => seen.push(`${response.url()} ${text}`),
        () => undefined,
      );
    });
  }

  it('signs in, picks the server, tests it, deploys and starts a task; the token shows nowhere', async function () {
    assert.ok(world && nodeRed && browser);
    page = await openEditor(browser, nodeRed.url);
    watch(page);
    page.context().on('page', watch);

    const inject = await dragFromPalette(page, 'inject', 160, 220);
    const start = await dragFromPalette(page, 'plex-butler-start', 400, 220);
    const debug = await dragFromPalette(page, 'debug', 680, 220);
    await wire(page, inject, start);
    await wire(page, start, debug);
    await openNodeDialog(page, start);
    await openServerConfig(page, 'add');

    // Sign in: the button opens plex.tv's page in a new tab, where the person approves.
    const plexTab = await openPlexTab(page);
    await plexTab.locator('#code').waitFor();
    assert.match(await plexTab.locator('#code').innerText(), /^[a-z0-9]{25}$/);
    assert.equal(await plexTab.locator('#product').innerText(), 'node-red-plex-butler');
    seen.push(await plexTab.content());
    await plexTab.locator('#approve').click();
    await page.locator(STATUS, { hasText: 'signed in as world-owner' }).waitFor();
    await screenshot(page, 'signin-1-signed-in');

    // Pick the server: the account's list, then the address that answers.
    const servers = page.locator('#node-config-plex-butler-server-servers');
    await page
      .locator('#node-config-plex-butler-server-servers option', { hasText: 'Living room' })
      .waitFor({ state: 'attached' });
    const labels = await servers.locator('option').allInnerTexts();
    assert.deepEqual(labels.slice(1), [
      'Living room (yours, online)',
      "Friend's server (shared with you, online)",
    ]);
    await servers.selectOption({ label: 'Living room (yours, online)' });
    await page.locator(STATUS, { hasText: 'Living room chosen' }).waitFor();
    assert.equal(await page.locator('#node-config-input-url').inputValue(), world.home.url);
    assert.equal(await page.locator('#node-config-input-machineId').inputValue(), HOME_ID);
    assert.equal(await page.locator('#node-config-input-name').inputValue(), 'Living room');
    // The token field holds the editor's "saved" marker, not the token.
    assert.equal(await page.locator('#node-config-input-token').inputValue(), '__PWRD__');

    await page.locator('#node-config-plex-butler-server-test').click();
    await page.locator(`${RESULT}.plex-butler-test-ok`).waitFor();
    assert.match(
      await visibleText(page.locator(RESULT)),
      /^Connected to Plex [\d.]+-\w+ \(22 Butler tasks\)$/,
    );
    await screenshot(page, 'signin-2-server-chosen-and-tested');
    seen.push(await page.content());

    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    await page.locator('#node-input-task-note', { hasText: '22 tasks from the server' }).waitFor();
    await chooseTask(page, 'Optimize Database (OptimizeDatabase)');
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-task').waitFor({ state: 'detached' });
    await deploy(page);

    await pressInject(page, inject);
    await canvasNode(page, start)
      .locator('.red-ui-flow-node-status-label', { hasText: 'started' })
      .waitFor();
    assert.deepEqual(world.home.runningTasks(), ['OptimizeDatabase']);
    assert.equal(
      world.home.exchanges.find((exchange) => exchange.path === '/butler/OptimizeDatabase')
        ?.headers['x-plex-token'],
      ACCOUNT_TOKEN,
      'the runtime used the token it keeps',
    );
    seen.push(await page.content());

    const flows = readFileSync(join(userDir ?? '', 'flows.json'), 'utf8');
    assert.match(flows, /"machineId": ?"a1b2c3/);
    for (const [where, text] of [
      ['the browser', seen.join('\n')],
      ['the log', nodeRed.output()],
      ['flows.json', flows],
      ['flows_cred.json', readFileSync(join(userDir ?? '', 'flows_cred.json'), 'utf8')],
    ]) {
      assert.doesNotMatch(text, new RegExp(ACCOUNT_TOKEN), `the token in ${where}`);
    }
    assert.ok(seen.length > 20, `${seen.length} requests, answers and pages looked at`);
  });

  it('a dialog cancelled after choosing another server changes nothing; a typed URL is no longer the chosen one', async function () {
    assert.ok(world && nodeRed && browser);
    page = await openEditor(browser, nodeRed.url);
    watch(page);
    const deployed = (await (await fetch(`${nodeRed.url}/flows`)).json()) as Array<{
      id: string;
      type: string;
      wires?: string[][];
    }>;
    const start = deployed.find((node) => node.type === 'plex-butler-start');
    const inject = deployed.find((node) => node.type === 'inject');
    assert.ok(start && inject);
    await openServerDialog(page, String(start.id));

    // Signed in before: the account's servers are listed with the token the runtime keeps.
    const servers = page.locator('#node-config-plex-butler-server-servers');
    await page
      .locator('#node-config-plex-butler-server-servers option', { hasText: "Friend's server" })
      .waitFor({ state: 'attached' });
    await servers.selectOption({ label: "Friend's server (shared with you, online)" });
    await page.locator(STATUS, { hasText: "Friend's server chosen" }).waitFor();
    assert.equal(await page.locator('#node-config-input-url').inputValue(), world.friend.url);
    assert.notEqual(await page.locator('#node-config-input-machineId').inputValue(), '');
    // Typing in the URL makes it an address of one's own: no longer the chosen server.
    await page.locator('#node-config-input-url').press('End');
    await page.locator('#node-config-input-url').press('Backspace');
    assert.equal(await page.locator('#node-config-input-machineId').inputValue(), '');

    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    await page.locator('#node-dialog-cancel').click();
    await page.locator('#node-input-task').waitFor({ state: 'detached' });

    // A full deploy saves whatever the runtime holds for the config: still Living room's.
    const current = await deployedFlows(nodeRed.url);
    await deployFully(nodeRed.url, current);
    await page.reload();
    await canvasNode(page, inject.id).waitFor();
    const startsBefore = world.home.exchanges.filter(
      (exchange) => exchange.path === '/butler/OptimizeDatabase',
    ).length;
    await pressInject(page, inject.id);
    // The editor may still show the status of the first test's start: wait for the request.
    const home = world.home;
    await waitUntil(
      () =>
        home.exchanges.filter((exchange) => exchange.path === '/butler/OptimizeDatabase').length >
        startsBefore,
      8000,
      'a start request to Living room',
    );
    await canvasNode(page, start.id)
      .locator('.red-ui-flow-node-status-label', { hasText: /started|already running/ })
      .waitFor();
    const starts = world.home.exchanges.filter(
      (exchange) => exchange.path === '/butler/OptimizeDatabase',
    );
    assert.equal(starts.length, startsBefore + 1);
    assert.equal(starts.at(-1)?.headers['x-plex-token'], ACCOUNT_TOKEN);
    assert.deepEqual(
      world.friend.exchanges.filter((exchange) => exchange.headers['x-plex-token'] !== undefined),
      [],
      "nothing with a token went to the friend's server",
    );
    assert.doesNotMatch(seen.join('\n'), new RegExp(ACCOUNT_TOKEN));
  });

  it('a LAN server picked without a signed-in account does not get the token saved for another address', async function () {
    assert.ok(world && nodeRed && browser);
    const typed = 'HAND-TYPED-SECRET-5150';
    // The config now points at the friend's server with a typed token, and no sign-in.
    const current = await deployedFlows(nodeRed.url);
    const server = current.flows.find((node) => node.type === 'plex-butler-server');
    const start = current.flows.find((node) => node.type === 'plex-butler-start');
    const inject = current.flows.find((node) => node.type === 'inject');
    assert.ok(server && start && inject);
    server.url = world.friend.url;
    server.machineId = '';
    server.credentials = { token: typed, accountToken: '' };
    await deployFully(nodeRed.url, current);

    await closePage(page);
    page = await openEditor(browser, nodeRed.url);
    watch(page);
    await openServerDialog(page, String(start.id));
    assert.equal(await page.locator('#node-config-input-token').inputValue(), '__PWRD__');
    await page.locator('#node-config-plex-butler-server-discover').click();
    const servers = page.locator('#node-config-plex-butler-server-servers');
    await page
      .locator('#node-config-plex-butler-server-servers option', { hasText: 'Living room' })
      .waitFor({ state: 'attached' });
    await servers.selectOption({ label: `Living room (${world.home.url})` });
    await page.locator(STATUS, { hasText: 'enter its token' }).waitFor();
    assert.equal(await page.locator('#node-config-input-url').inputValue(), world.home.url);
    assert.equal(await page.locator('#node-config-input-token').inputValue(), '');

    // Done and deploy as it stands: the typed token does not follow to the picked address.
    await page.locator('#node-config-dialog-ok').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
    await page.locator('#node-dialog-ok').click();
    await page.locator('#node-input-task').waitFor({ state: 'detached' });
    await deploy(page);
    const home = world.home;
    const before = home.exchanges.length;
    await pressInject(page, String(inject.id));
    await canvasNode(page, String(start.id))
      .locator('.red-ui-flow-node-status-label', { hasText: /no token|invalid/i })
      .waitFor();
    assert.deepEqual(
      home.exchanges.slice(before).filter((exchange) => exchange.headers['x-plex-token'] === typed),
      [],
    );
    assert.deepEqual(
      world.friend.exchanges.filter((exchange) => exchange.path.startsWith('/butler/')),
      [],
    );
  });

  it('a plex.tv tab the dialog can no longer see does not end the sign-in; a typed https LAN address stays with the plex.direct mode', async function () {
    assert.ok(world && nodeRed && browser);
    const start = (await deployedFlows(nodeRed.url)).flows.find(
      (node) => node.type === 'plex-butler-start',
    );
    assert.ok(start);
    await closePage(page);
    page = await openEditor(browser, nodeRed.url);
    await openServerDialog(page, String(start.id));

    const plexTab = await openPlexTab(page);
    await plexTab.locator('#approve').waitFor();
    const authUrl = plexTab.url();
    // Closed, as a person does, or hidden by a Cross-Origin-Opener-Policy: the same here.
    await plexTab.close();
    await page.locator(STATUS, { hasText: 'if you closed its tab, press Cancel' }).waitFor();
    assert.ok(await page.locator('#node-config-plex-butler-server-signin-cancel').isVisible());

    const again = await page.context().newPage();
    try {
      await again.goto(authUrl);
      await again.locator('#approve').click();
      await page.locator(STATUS, { hasText: 'signed in as world-owner' }).waitFor();
    } finally {
      await again.close();
    }
    assert.equal(
      await page.locator('#node-config-plex-butler-server-signin-cancel').isVisible(),
      false,
    );

    // The LAN address over https, typed, stays when the server is picked: plex.direct mode.
    await page.locator('#node-config-input-url').fill(world.homeSecure.url);
    await page.locator('#node-config-input-ca').fill(world.certificate.ca);
    await pickLivingRoom(page);
    assert.equal(await page.locator('#node-config-input-url').inputValue(), world.homeSecure.url);
    assert.equal(await page.locator('#node-config-input-tlsMode').inputValue(), 'plex-direct');
    await page.locator('#node-config-plex-butler-server-test').click();
    await page.locator(`${RESULT}.plex-butler-test-ok`).waitFor();
    await page.locator('#node-config-dialog-cancel').click();
    await page.locator('#node-config-input-url').waitFor({ state: 'detached' });
  });

  /** The deployed flow's nodes, with the server config changed and fully deployed; a new page. */
  async function redeployServer(
    changes: Record<string, unknown>,
  ): Promise<{ page: Page; start: Record<string, unknown>; inject: Record<string, unknown> }> {
    assert.ok(nodeRed && browser);
    const current = await deployedFlows(nodeRed.url);
    const server = current.flows.find((node) => node.type === 'plex-butler-server');
    const start = current.flows.find((node) => node.type === 'plex-butler-start');
    const inject = current.flows.find((node) => node.type === 'inject');
    assert.ok(server && start && inject);
    Object.assign(server, changes);
    await deployFully(nodeRed.url, current);
    await closePage(page);
    page = await openEditor(browser, nodeRed.url);
    return { page, start, inject };
  }

  /** The https address of Living room, with the token chosen for its http one. */
  function boundElsewhere(world: PlexWorld): Record<string, unknown> {
    return {
      url: world.homeSecure.url,
      tlsMode: 'plex-direct',
      plexDirectHash: HOME_HASH,
      ca: world.certificate.ca,
      machineId: HOME_ID,
      name: 'Living room',
      credentials: { token: ACCOUNT_TOKEN, tokenFor: tokenBinding(world.home.url, ACCOUNT_TOKEN) },
    };
  }

  async function openServerDialog(shown: Page, startId: string): Promise<void> {
    await openNodeDialog(shown, startId);
    await openServerConfig(shown, 'edit');
  }

  /** Done in the server dialog, then in the start node's. */
  async function doneAndDone(shown: Page): Promise<void> {
    await shown.locator('#node-config-dialog-ok').click();
    await shown.locator('#node-config-input-url').waitFor({ state: 'detached' });
    await shown.locator('#node-dialog-ok').click();
    await shown.locator('#node-input-task').waitFor({ state: 'detached' });
  }

  async function pickLivingRoom(shown: Page): Promise<void> {
    await shown
      .locator('#node-config-plex-butler-server-servers option', { hasText: 'Living room' })
      .waitFor({ state: 'attached' });
    await shown
      .locator('#node-config-plex-butler-server-servers')
      .selectOption({ label: 'Living room (yours, online)' });
    await shown.locator(STATUS, { hasText: 'Living room chosen' }).waitFor();
  }

  /** Clicks the inject, and waits for the start request at `sim` (a status may be a stale one). */
  async function injectAndStartAt(
    shown: Page,
    ids: { start: Record<string, unknown>; inject: Record<string, unknown> },
    sim: PlexSimulator,
  ): Promise<void> {
    const before = sim.exchanges.length;
    await pressInject(shown, String(ids.inject.id));
    const path = `/butler/${String(ids.start.task)}`;
    await waitUntil(
      () =>
        sim.exchanges
          .slice(before)
          .some((exchange) => exchange.method === 'POST' && exchange.path === path),
      8000,
      `a start request to ${sim.url}`,
    );
  }

  async function refusedAsInvalidConfig(
    shown: Page,
    ids: { start: Record<string, unknown>; inject: Record<string, unknown> },
  ): Promise<void> {
    await pressInject(shown, String(ids.inject.id));
    await canvasNode(shown, String(ids.start.id))
      .locator('.red-ui-flow-node-status-label', { hasText: 'invalid config' })
      .waitFor();
  }

  it('a token kept for another address is refused there until the user types it, which makes it theirs', async function () {
    assert.ok(world);
    // Done, then the editor's changes discarded, then the credentials saved by a later deploy.
    const ids = await redeployServer(boundElsewhere(world));
    const secure = world.homeSecure;
    const requestsBefore = secure.exchanges.length;
    await refusedAsInvalidConfig(ids.page, ids);
    assert.deepEqual(
      secure.exchanges.slice(requestsBefore).filter((exchange) => exchange.method === 'POST'),
      [],
      'nothing started at the other address',
    );

    // Typed in the dialog (the same token): the user's own, for the address in the dialog.
    await openServerDialog(ids.page, String(ids.start.id));
    await ids.page.locator('#node-config-input-token').fill(ACCOUNT_TOKEN);
    await doneAndDone(ids.page);
    await deploy(ids.page);
    await injectAndStartAt(ids.page, ids, secure);
  });

  it('picking the server again for a token kept elsewhere changes the config, so it deploys and works', async function () {
    assert.ok(world);
    const ids = await redeployServer(boundElsewhere(world));
    await refusedAsInvalidConfig(ids.page, ids);

    // Sign in and pick the same server at the same address: no field of the dialog changes.
    await openServerDialog(ids.page, String(ids.start.id));
    await (await openPlexTab(ids.page)).locator('#approve').click();
    await ids.page.locator(STATUS, { hasText: 'signed in as world-owner' }).waitFor();
    await pickLivingRoom(ids.page);
    assert.equal(
      await ids.page.locator('#node-config-input-url').inputValue(),
      world.homeSecure.url,
    );
    await doneAndDone(ids.page);
    // The credentials changed on the runtime's side: the editor has something to deploy.
    await ids.page.locator('#red-ui-header-button-deploy:not(.disabled)').waitFor();
    await deploy(ids.page);
    await injectAndStartAt(ids.page, ids, world.homeSecure);
  });

  it('a config saved without a binding: picked, then moved and its token typed before a deploy, works at the new address', async function () {
    assert.ok(world);
    // As saved by an earlier release or with a typed token: no tokenFor (a blank removes it).
    const ids = await redeployServer({
      url: world.home.url,
      tlsMode: 'verify',
      plexDirectHash: '',
      ca: '',
      credentials: { token: ACCOUNT_TOKEN, tokenFor: ' ' },
    });
    await openServerDialog(ids.page, String(ids.start.id));
    await pickLivingRoom(ids.page);
    assert.equal(await ids.page.locator('#node-config-input-url').inputValue(), world.home.url);
    await doneAndDone(ids.page);
    // Not deployed yet: the plex.direct name instead, with the CA, and the token typed.
    await openServerDialog(ids.page, String(ids.start.id));
    await ids.page.locator('#node-config-input-url').fill(world.plexDirectUrl);
    await ids.page.locator('#node-config-input-ca').fill(world.certificate.ca);
    await ids.page.locator('#node-config-input-token').fill(ACCOUNT_TOKEN);
    await doneAndDone(ids.page);
    await deploy(ids.page);
    await injectAndStartAt(ids.page, ids, world.homeSecure);
  });
});
