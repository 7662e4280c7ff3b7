import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import {
  ButlerError,
  describeValue,
  type ButlerClient,
  type TaskAction,
  type TaskResult,
} from '../lib';
import { ButlerNodeRunner, clock, type DoneFunction, type SendFunction } from './common';

interface TaskActionConfig extends NodeDef {
  server: string;
  task: string;
  taskType: string;
}

/** The TypedInput type meaning "every task" (POST/DELETE /butler). */
const ALL = 'all';
const CONTEXT_TYPES = new Set(['flow', 'global', 'env']);

/** The name from the message: msg.task, else msg.payload when it is a string. */
function taskFromMessage(
  msg: NodeMessageInFlow & { task?: unknown },
  property: string,
  RED: NodeAPI,
): unknown {
  const fromProperty = property === '' ? undefined : RED.util.getMessageProperty(msg, property);
  if (fromProperty !== undefined && fromProperty !== '') return fromProperty;
  return typeof msg.payload === 'string' && msg.payload !== '' ? msg.payload : undefined;
}

function evaluateContext(
  RED: NodeAPI,
  node: Node,
  config: TaskActionConfig,
  msg: NodeMessageInFlow,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    RED.util.evaluateNodeProperty(config.task, config.taskType, node, msg, (error, value) => {
      if (error)
        reject(
          new ButlerError(
            'invalid-task',
            `could not read the task name from ${config.taskType} "${config.task}": ${error.message}`,
          ),
        );
      else resolve(value);
    });
  });
}

/** Start and stop differ only in the client call and the words on the status. */
export function registerTaskAction(RED: NodeAPI, type: string, action: TaskAction): void {
  function TaskActionNode(this: Node, config: TaskActionConfig): void {
    RED.nodes.createNode(this, config);
    const runner = new ButlerNodeRunner(RED, this, config, type);
    const taskType = config.taskType || 'str';

    const resolveTask = async (msg: NodeMessageInFlow): Promise<unknown> => {
      if (taskType === ALL) return ALL;
      if (taskType === 'str') {
        // A name set in the node wins; an empty field lets the message choose.
        return config.task !== '' && config.task !== undefined
          ? config.task
          : taskFromMessage(msg, 'task', RED);
      }
      if (taskType === 'msg') return taskFromMessage(msg, config.task || 'task', RED);
      if (CONTEXT_TYPES.has(taskType)) return evaluateContext(RED, this, config, msg);
      throw new ButlerError(
        'invalid-config',
        `unknown task source "${taskType}": use all, str, msg, flow, global or env`,
      );
    };

    const perform = (
      client: ButlerClient,
      task: unknown,
      signal: AbortSignal,
    ): Promise<TaskResult> => {
      if (task === undefined || task === null || task === '') {
        const validTasks = client.knownTaskNames();
        throw new ButlerError(
          'invalid-task',
          `${runner.t('errors.noTask')} (valid tasks: all, ${validTasks.join(', ')})`,
          { validTasks },
        );
      }
      if (task === ALL) {
        return action === 'start'
          ? client.startAllTasks({ signal })
          : client.stopAllTasks({ signal });
      }
      if (typeof task !== 'string') {
        const validTasks = client.knownTaskNames();
        throw new ButlerError(
          'invalid-task',
          `the task name must be a string, got ${describeValue(task)}: use one of ${validTasks.join(', ')}`,
          { validTasks },
        );
      }
      return action === 'start'
        ? client.startTask(task, { signal })
        : client.stopTask(task, { signal });
    };

    this.on('input', (msg: NodeMessageInFlow, send: SendFunction, done: DoneFunction) => {
      void runner.handle(done, async (client, signal): Promise<NodeStatus> => {
        const task = await resolveTask(msg);
        const result = await perform(client, task, signal);
        msg.payload = {
          action: result.action,
          task: result.task,
          status: result.status,
          server: runner.server?.serverName ?? '',
        };
        send(msg);
        const quiet = result.status === 'already-running' || result.status === 'not-running';
        return {
          fill: quiet ? 'yellow' : 'green',
          shape: quiet ? 'ring' : 'dot',
          text: `${runner.t(`status.${result.status}`)} ${clock()}`,
        };
      });
    });
  }
  RED.nodes.registerType(type, TaskActionNode as unknown as (this: Node, def: NodeDef) => void);
}
