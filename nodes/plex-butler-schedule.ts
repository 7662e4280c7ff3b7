import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {
  butlerSchedule,
  changeOutcome,
  journalFinder,
  notHeldError,
  planScheduleChange,
  type PlexSetting,
} from '../lib';
import type { DoneFunction, SendFunction } from './core/contract';
import { ButlerNodeRunner } from './core/runner';
import { asButlerError, clock } from './core/words';
import { migrateConfig } from './core/migrations';

const TYPE = 'plex-butler-schedule';

interface ScheduleConfig extends NodeDef {
  server: string;
  /** Where the schedule goes in the output message; default payload. */
  property: string;
}

/**
 * A message asks for a change when its payload is an object; anything else (an inject's
 * timestamp, a string) only reads.
 */
function changeOf(msg: NodeMessageInFlow): Record<string, unknown> | undefined {
  const payload: unknown = msg.payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  return Object.keys(payload).length > 0 ? (payload as Record<string, unknown>) : undefined;
}

/**
 * Changes of one server's schedule, one after the other: each read-back then belongs to its own
 * change, not to one that another message made in between.
 */
const changesInTurn = new WeakMap<object, Promise<unknown>>();

function inTurn<T>(server: object, work: () => Promise<T>): Promise<T> {
  // The chain itself never rejects: a change that failed does not stop the next one.
  const mine = (changesInTurn.get(server) ?? Promise.resolve()).then(work);
  changesInTurn.set(
    server,
    mine.catch(() => undefined),
  );
  return mine;
}

export = function registerSchedule(RED: NodeAPI): void {
  const userDir = (RED.settings as { userDir?: string }).userDir ?? '';
  function PlexButlerScheduleNode(this: Node, saved: ScheduleConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(TYPE, saved);
    const runner = new ButlerNodeRunner(RED, this, config, TYPE);
    const property = config.property || 'payload';
    const node = { id: this.id, name: config.name || '' };
    /** Into the journal a butler report node keeps for this server, if one does. */
    const journal = journalFinder(userDir, config.server);

    this.on('input', (msg: NodeMessageInFlow, send: SendFunction, done: DoneFunction) => {
      void runner.handle(done, async (client, signal) => {
        const change = changeOf(msg);
        let settings: PlexSetting[];
        let updated: string[] = [];
        if (change === undefined) {
          settings = await client.listSettings({ signal });
        } else {
          [settings, updated] = await inTurn(runner.server ?? client, async () => {
            const before = await client.listSettings({ signal, fresh: true });
            // Checked against the server's own list first: nothing is sent for a bad change.
            const values = planScheduleChange(before, change);
            try {
              await client.setSettings(values, { signal });
              // What the server holds now, not what was asked for.
              const after = await client.listSettings({ signal, fresh: true });
              const outcome = changeOutcome(before, after, values);
              if (outcome.notHeld.length > 0) throw notHeldError(after, values, outcome.notHeld);
              const status = outcome.updated.length > 0 ? 'changed' : 'unchanged';
              journal()?.scheduleChange({ settings: values, status, node });
              return [after, outcome.updated] as const;
            } catch (error) {
              const code = asButlerError(error).code;
              if (code !== 'aborted') {
                journal()?.scheduleChange({
                  settings: values,
                  status: 'failed',
                  error: code,
                  node,
                });
              }
              throw error;
            }
          });
        }
        RED.util.setMessageProperty(msg, property, butlerSchedule(settings), true);
        (msg as NodeMessageInFlow & { updated?: string[] }).updated = updated;
        send(msg);
        const key = change === undefined ? 'read' : updated.length > 0 ? 'updated' : 'unchanged';
        return {
          fill: 'green',
          shape: 'dot',
          text: `${runner.t(`status.${key}`)} ${clock()}`,
        };
      });
    });
  }
  RED.nodes.registerType(
    TYPE,
    PlexButlerScheduleNode as unknown as (this: Node, def: NodeDef) => void,
  );
};
