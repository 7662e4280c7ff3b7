import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import {
  ButlerError,
  CompletionTracker,
  LIMITS,
  TASK_NAME_PATTERN,
  checkNumber,
  describeValue,
  journalFinder,
  message,
  type ActivityWatcher,
  type MessageParam,
  type ButlerClient,
  type TaskAction,
  type TaskResult,
} from '../lib';
import type { DoneFunction, SendFunction } from './core/contract';
import { ButlerNodeRunner } from './core/runner';
import { asButlerError, clock, errorStatus, localized } from './core/words';
import { migrateConfig } from './core/migrations';

interface TaskActionConfig extends NodeDef {
  server: string;
  task: string;
  taskType: string;
  /** Start only: send a second message when the work has ended. */
  wait?: boolean | string;
  /** Minutes before the wait gives up with a timeout error. */
  waitTimeout?: number | string;
  /** Which activities count as the task's: type prefix(es) and title text. */
  waitType?: string;
  waitTitle?: string;
}

/** How long the first activity may take to appear, at least; more while polling. */
const APPEAR_WITHIN_MS = 5000;

/** The TypedInput type meaning "every task" (POST/DELETE /butler). */
const ALL = 'all';
const CONTEXT_TYPES = new Set(['flow', 'global', 'env']);

/** The documented place for a task name in a message; only there may msg.payload stand in. */
const TASK_PROPERTY = 'task';

/**
 * The name from the configured message property. For msg.task alone (the default, and an
 * empty Task field) a string msg.payload is used when msg.task is missing, as the help says:
 * an inject node with a string payload is enough. Any other property is read as it is.
 */
function taskFromMessage(msg: NodeMessageInFlow, property: string, RED: NodeAPI): unknown {
  let value: unknown;
  try {
    value = RED.util.getMessageProperty(msg, property);
  } catch {
    throw new ButlerError('invalid-config', message('errors.badTaskProperty', { property }));
  }
  if (value !== undefined && value !== '') return value;
  if (property === TASK_PROPERTY && typeof msg.payload === 'string' && msg.payload !== '') {
    return msg.payload;
  }
  return undefined;
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
            message('errors.taskSource', {
              type: config.taskType,
              name: config.task,
              detail: error.message,
            }),
          ),
        );
      else resolve(value);
    });
  });
}

/**
 * Failures not journaled: the name was refused before any request (invalid-task), the config
 * is unusable, or the node closed while it waited.
 */
const NOT_SENT = new Set(['invalid-task', 'invalid-config', 'aborted']);

/** Start and stop differ only in the client call and the words on the status. */
export function registerTaskAction(RED: NodeAPI, type: string, action: TaskAction): void {
  const userDir = (RED.settings as { userDir?: string }).userDir ?? '';
  function TaskActionNode(this: Node, saved: TaskActionConfig): void {
    RED.nodes.createNode(this, saved);
    const config = migrateConfig(type, saved);
    const runner = new ButlerNodeRunner(RED, this, config, type);
    const journalNode = { id: this.id, name: config.name || '' };
    /** The journal a butler report node keeps for this server, if one does (else nothing). */
    const journal = journalFinder(userDir, config.server);
    const taskType = config.taskType || 'str';
    const waiting = action === 'start' && (config.wait === true || config.wait === 'true');
    // A bad limit fails every message with invalid-config, before any request.
    let configError: ButlerError | undefined;
    let waitTimeoutMs = LIMITS.waitTimeoutMinutes.default * 60_000;
    if (waiting) {
      try {
        waitTimeoutMs = checkNumber(config.waitTimeout, LIMITS.waitTimeoutMinutes) * 60_000;
      } catch (error) {
        configError = asButlerError(error);
        this.error(localized(RED, configError).message);
        this.status(errorStatus(RED, configError));
      }
    }
    const waits = new Set<AbortController>();
    let watcher: ActivityWatcher | undefined;
    if (waiting && runner.server && !configError) {
      try {
        // Connected now, so that the first message finds the socket open.
        watcher = runner.server.connection.acquireWatcher();
      } catch {
        // An unusable config: every message reports it through runner.handle.
      }
    }
    if (watcher) {
      this.on('close', (done: () => void) => {
        for (const controller of waits) controller.abort();
        waits.clear();
        runner.server?.connection.releaseWatcher();
        done();
      });
    }

    /** Follows the started work to its end; sends on output 2, or reports a timeout. */
    const awaitCompletion = async (
      tracker: CompletionTracker,
      result: TaskResult,
      base: NodeMessage,
    ): Promise<void> => {
      const payload = {
        action: result.action,
        task: result.task,
        server: runner.server?.serverName ?? '',
      };
      // The activities this wait counts are the task's, as far as it can tell: journaled so.
      const tied = new Set<string>();
      const tie = (uuid: string): void => {
        if (result.task === ALL || tied.has(uuid)) return;
        tied.add(uuid);
        journal()?.tie(uuid, result.task);
      };
      try {
        const report = await tracker.wait(result.status === 'already-running', (event) => {
          tie(event.uuid);
          const progress = event.progress >= 0 ? ` ${event.progress}%` : '';
          const suffix = event.event === 'ended' ? ` ${runner.t('status.ended')}` : progress;
          this.status({
            fill: 'blue',
            shape: 'ring',
            text: `${shortened(event.title || event.type, STATUS_LENGTH - suffix.length)}${suffix}`,
          });
        });
        for (const activity of report.activities) tie(activity.uuid);
        const finished = {
          ...base,
          payload: {
            ...payload,
            status: 'finished',
            durationMs: report.durationMs,
            activities: report.activities.map(({ uuid, type, title, subtitle }) => ({
              uuid,
              type,
              title,
              subtitle,
            })),
          },
        };
        this.send([null, finished]);
        this.status({
          fill: 'green',
          shape: 'dot',
          text: `${runner.t('status.finished', { duration: formatDuration(report.durationMs) })} ${clock()}`,
        });
      } catch (thrown) {
        const error = asButlerError(thrown);
        if (error.code === 'aborted') return;
        this.status(errorStatus(RED, error));
        const forTask = new ButlerError(
          error.code,
          message('errors.forTask', { task: result.task, detail: error.messageRef }),
        );
        // An Error (not a string), so that the Catch node gets msg.error.code too.
        this.error(localized(RED, forTask), {
          ...base,
          payload: { ...payload, status: 'timeout' },
        });
      }
    };

    /** Where the name was looked for, for the words of a "no task" error. */
    const taskSource: MessageParam =
      taskType === 'msg'
        ? `msg.${config.task || TASK_PROPERTY}`
        : taskType === 'str' && !config.task
          ? message('source.taskOrPayload')
          : `${taskType} ${config.task}`;

    const resolveTask = async (msg: NodeMessageInFlow): Promise<unknown> => {
      if (configError) throw configError;
      if (taskType === ALL) return ALL;
      if (taskType === 'str') {
        // A name set in the node wins; an empty field lets the message choose.
        return config.task !== '' && config.task !== undefined
          ? config.task
          : taskFromMessage(msg, TASK_PROPERTY, RED);
      }
      if (taskType === 'msg') return taskFromMessage(msg, config.task || TASK_PROPERTY, RED);
      if (CONTEXT_TYPES.has(taskType)) return evaluateContext(RED, this, config, msg);
      throw new ButlerError(
        'invalid-config',
        message('errors.unknownTaskSource', { source: taskType }),
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
          message('errors.noTask', { source: taskSource, tasks: validTasks.join(', ') }),
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
          message('errors.taskNotText', {
            value: describeValue(task),
            tasks: validTasks.join(', '),
          }),
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
        // Listening starts before the request, so that an activity starting at once is seen.
        let tracker: CompletionTracker | undefined;
        let wait: AbortController | undefined;
        if (watcher) {
          wait = new AbortController();
          const polling = watcher.status.state === 'polling';
          tracker = new CompletionTracker(watcher, {
            timeoutMs: waitTimeoutMs,
            match: { typePrefix: config.waitType ?? '', titleContains: config.waitTitle ?? '' },
            appearWithinMs: polling
              ? Math.max(
                  APPEAR_WITHIN_MS,
                  2 * (runner.server?.connection.watchOptions.pollIntervalMs ?? 0),
                )
              : APPEAR_WITHIN_MS,
            signal: wait.signal,
          });
        }
        const base = tracker ? (RED.util.cloneMessage(msg) as NodeMessage) : undefined;
        let result: TaskResult;
        try {
          result = await perform(client, task, signal);
        } catch (error) {
          tracker?.cancel();
          const code = asButlerError(error).code;
          if (
            !NOT_SENT.has(code) &&
            typeof task === 'string' &&
            (task === ALL || TASK_NAME_PATTERN.test(task))
          ) {
            journal()?.taskAction({ action, task, error: code, node: journalNode });
          }
          throw error;
        }
        journal()?.taskAction({
          action,
          task: result.task,
          status: result.status,
          node: journalNode,
        });
        msg.payload = {
          action: result.action,
          task: result.task,
          status: result.status,
          server: runner.server?.serverName ?? '',
        };
        if (tracker && wait && base) {
          send([msg, null]);
          const controller = wait;
          waits.add(controller);
          void awaitCompletion(tracker, result, base).finally(() => waits.delete(controller));
          return {
            fill: 'blue',
            shape: 'ring',
            text: `${runner.t(`status.${result.status}`)} ${clock()}`,
          };
        }
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

/** 75000 → "1m 15s": short enough for a status line, and the same in every language. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** About what fits a status line (the clock comes on top). */
const STATUS_LENGTH = 20;

/** A server's activity title cut to fit the status line. */
function shortened(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, Math.max(1, length - 1))}…`;
}
