/**
 * The Butler panel's admin routes: following a server (read permission) and acting on it (write
 * permission). An action is one call of the server's own client, as the start and stop nodes
 * make it: a task name is checked against the live list first, and when that list cannot be
 * read nothing is sent; the answer carries the same status words and error codes as their
 * msg.payload and msg.error.
 */
import type { Request, Response } from 'express';
import {
  ButlerError,
  findJournal,
  message,
  type TaskAction,
  type TaskResult,
  type TaskStatus,
} from '../../lib';
import { SERVER_TYPE } from '../core/contract';
import { asButlerError } from '../core/words';
import { answer, refuse, textOf } from './editor-contract';
import { PanelFeed, whoOf, type WatchAnswer } from './panel-feed';
import type { RouteContext } from './route-context';

/** What an action did, shaped like the start and stop nodes' msg.payload. */
export interface PanelActionResult {
  action: TaskAction;
  /** A task name, or "all". */
  task: string;
  status: TaskStatus;
  server: string;
}

/** How the panel's actions appear in a journal's report. */
const JOURNAL_NODE = { id: 'plex-butler-panel', name: 'Butler panel' };

/**
 * The feed of the runtime that loaded this module last (Node-RED loads it once; the test helper
 * once per flow, and the new one replaces the old).
 */
let feed: PanelFeed | undefined;

/** The package is being removed from the palette: nothing of the panel keeps running. */
export function closePanelFeed(): void {
  feed?.close();
  feed = undefined;
}

function bodyOf(req: Request): Record<string, unknown> {
  return typeof req.body === 'object' && req.body !== null
    ? (req.body as Record<string, unknown>)
    : {};
}

function statusFor(error: ButlerError): number {
  return error.code === 'rate-limited' ? 429 : 200;
}

export function registerPanelRoutes(context: RouteContext): void {
  const { RED } = context;
  const userDir = (RED.settings as { userDir?: string }).userDir;
  feed?.close();
  const current = new PanelFeed(RED, { userDir });
  feed = current;
  const read = RED.auth.needsPermission(`${SERVER_TYPE}.read`);
  const write = RED.auth.needsPermission(`${SERVER_TYPE}.write`);

  RED.httpAdmin.post('/plex-butler/panel/watch', read, (req: Request, res: Response) => {
    const body = bodyOf(req);
    current.watch(body.panel, body.server, whoOf(req.user)).then(
      (watched) => answer<WatchAnswer>(res, watched),
      (error: unknown) => {
        const failure = asButlerError(error);
        refuse(res, failure, statusFor(failure));
      },
    );
  });

  RED.httpAdmin.post('/plex-butler/panel/unwatch', read, (req: Request, res: Response) => {
    try {
      current.unwatch(bodyOf(req).panel, whoOf(req.user));
      answer(res, {});
    } catch (error) {
      refuse(res, error);
    }
  });

  /** One action on one server: one request of its client (after the list check of a name). */
  async function act(
    serverId: unknown,
    action: TaskAction,
    task: unknown,
    all: boolean,
  ): Promise<PanelActionResult> {
    const server = current.server(serverId);
    if (!server) throw new ButlerError('invalid-config', message('errors.serverNotDeployed'));
    const client = server.connection.getClient();
    // The journal a report node keeps, if one does: the panel's actions are in its reports.
    const journal = userDir ? findJournal(userDir, server.id) : undefined;
    let result: TaskResult;
    try {
      if (all) {
        result = action === 'start' ? await client.startAllTasks() : await client.stopAllTasks();
      } else {
        result = action === 'start' ? await client.startTask(task) : await client.stopTask(task);
      }
    } catch (thrown) {
      const error = asButlerError(thrown);
      const named = all ? 'all' : textOf(task);
      journal?.taskAction({ action, task: named, error: error.code, node: JOURNAL_NODE });
      throw error;
    }
    journal?.taskAction({
      action,
      task: result.task,
      status: result.status,
      node: JOURNAL_NODE,
    });
    return { action, task: result.task, status: result.status, server: server.serverName };
  }

  for (const [path, action, all] of [
    ['start', 'start', false],
    ['stop', 'stop', false],
    ['start-all', 'start', true],
    ['stop-all', 'stop', true],
  ] as const) {
    RED.httpAdmin.post(`/plex-butler/panel/${path}`, write, (req: Request, res: Response) => {
      const body = bodyOf(req);
      act(body.server, action, body.task, all).then(
        (result) => answer<PanelActionResult>(res, result),
        (error: unknown) => refuse(res, error),
      );
    });
  }
}
