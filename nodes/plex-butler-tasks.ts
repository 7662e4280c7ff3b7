import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow } from 'node-red';
import type { DoneFunction, SendFunction } from './core/contract';
import { ButlerNodeRunner } from './core/runner';
import { clock } from './core/words';
import { migrateConfig } from './core/migrations';

const TYPE = 'plex-butler-tasks';

interface TasksConfig extends NodeDef {
  server: string;
  enabledOnly: boolean;
  split: boolean;
  property: string;
}

export = function registerTasks(RED: NodeAPI): void {
  function PlexButlerTasksNode(this: Node, saved: TasksConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(TYPE, saved);
    const runner = new ButlerNodeRunner(RED, this, config, TYPE);
    const property = config.property || 'payload';

    this.on('input', (msg: NodeMessageInFlow, send: SendFunction, done: DoneFunction) => {
      void runner.handle(done, async (client, signal) => {
        const all = await client.listTasks({ signal });
        const tasks = config.enabledOnly ? all.filter((task) => task.enabled) : all;
        if (config.split) {
          // msg.parts lets a Join node in automatic mode rebuild the array.
          const partsId = RED.util.generateId();
          const messages: NodeMessage[] = tasks.map((task, index) => {
            const copy = RED.util.cloneMessage(msg) as NodeMessage & { parts?: unknown };
            RED.util.setMessageProperty(copy, property, task, true);
            copy.parts = { id: partsId, index, count: tasks.length, type: 'array', len: 1 };
            return copy;
          });
          if (messages.length > 0) send([messages]);
        } else {
          RED.util.setMessageProperty(msg, property, tasks, true);
          send(msg);
        }
        return {
          fill: 'green',
          shape: 'dot',
          text: `${runner.t('status.listed', { count: tasks.length })} ${clock()}`,
        };
      });
    });
  }
  RED.nodes.registerType(
    TYPE,
    PlexButlerTasksNode as unknown as (this: Node, def: NodeDef) => void,
  );
};
