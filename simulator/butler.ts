/**
 * The simulated Butler: the task list, the tasks running now, and the activity each running
 * task shows (in /activities and as 'started', 'updated' and 'ended' events).
 */
import { randomUUID } from 'node:crypto';
import { cloneTask, taskActivity, type SimTask } from './tasks';
import type { Timers } from './timers';

export interface SimActivity {
  uuid: string;
  type: string;
  title: string;
  subtitle: string;
  progress: number;
  cancellable: boolean;
  userID: number;
}

/**
 * Emitted as 'activity' when a task starts, reports progress, or ends (finished, stopped, or
 * removed by setTasks); the same events go out on the notification WebSocket.
 */
export interface SimActivityEvent {
  event: 'started' | 'updated' | 'ended';
  task: string;
  activity: SimActivity;
}

export interface ButlerOptions {
  tasks: SimTask[];
  /** How long a started task runs. */
  taskDurationMs: number;
  /** How often a running task reports its progress; 0 or not less than the duration: never. */
  progressIntervalMs: number;
  timers: Timers;
  onActivity: (event: SimActivityEvent) => void;
  /** A task's switch in the server's settings, when it has one: it decides `enabled`. */
  switchOf?: (task: string) => boolean | undefined;
}

const ACTIVITY_USER_ID = 1;

interface RunningTask {
  name: string;
  uuid: string;
  type: string;
  title: string;
  startedAt: number;
  timer: NodeJS.Timeout;
  progressTimer: NodeJS.Timeout | undefined;
}

export class Butler {
  private taskList: SimTask[];
  private readonly running = new Map<string, RunningTask>();
  private readonly taskDurationMs: number;
  private readonly progressIntervalMs: number;
  private readonly timers: Timers;
  private readonly onActivity: (event: SimActivityEvent) => void;
  private readonly switchOf: (task: string) => boolean | undefined;
  /** Tasks start-all put off to later in the maintenance window, with when (ms since epoch). */
  private readonly later = new Map<string, { at: number; timer: NodeJS.Timeout }>();

  constructor(options: ButlerOptions) {
    this.switchOf = options.switchOf ?? (() => undefined);
    this.taskList = options.tasks.map(cloneTask);
    this.taskDurationMs = options.taskDurationMs;
    this.progressIntervalMs = options.progressIntervalMs;
    this.timers = options.timers;
    this.onActivity = options.onActivity;
  }

  /** The tasks as GET /butler lists them: `enabled` is the task's switch where it has one. */
  get tasks(): readonly SimTask[] {
    return this.taskList.map((task) => {
      const enabled = this.switchOf(task.name);
      // A deliberately malformed value (a schema test) is left as it is.
      return enabled === undefined || typeof task.enabled !== 'boolean'
        ? task
        : { ...task, enabled };
    });
  }

  task(name: string): SimTask | undefined {
    return this.tasks.find((candidate) => candidate.name === name);
  }

  /** Tasks start-all scheduled for later in the window, with the time they will start. */
  scheduledTasks(): Array<{ name: string; at: number }> {
    return [...this.later].map(([name, { at }]) => ({ name, at }));
  }

  /** Replaces the task list (another server version); running tasks no longer listed end. */
  setTasks(tasks: SimTask[]): void {
    this.taskList = tasks.map(cloneTask);
    const names = new Set(this.taskList.map((task) => task.name));
    for (const name of [...this.running.keys()]) {
      if (!names.has(name)) this.stop(name);
    }
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  runningTasks(): string[] {
    return [...this.running.keys()];
  }

  activities(): SimActivity[] {
    return [...this.running.values()].map((task) => this.activityOf(task));
  }

  start(task: SimTask): void {
    const running: RunningTask = {
      name: task.name,
      uuid: randomUUID(),
      ...taskActivity(task),
      startedAt: Date.now(),
      timer: this.timers.later(this.taskDurationMs, () => this.stop(task.name, true)),
      progressTimer: undefined,
    };
    this.running.set(task.name, running);
    this.activityEvent('started', running);
    this.scheduleProgress(running);
  }

  /**
   * POST /butler: every enabled task that is not running yet, at once, or, where `delayOf`
   * gives a delay (a randomised task inside the maintenance window), that much later.
   */
  startAllEnabled(delayOf: (task: SimTask) => number | undefined = () => undefined): void {
    for (const task of this.tasks) {
      if (!task.enabled || this.running.has(task.name) || this.later.has(task.name)) continue;
      const delay = delayOf(task);
      if (delay === undefined) {
        this.start(task);
        continue;
      }
      const timer = this.timers.later(delay, () => {
        this.later.delete(task.name);
        if (!this.running.has(task.name)) this.start(task);
      });
      this.later.set(task.name, { at: Date.now() + delay, timer });
    }
  }

  /** `finished`: ran its course (progress 100); otherwise stopped where it was. */
  stop(name: string, finished = false): void {
    const running = this.running.get(name);
    if (!running) return;
    this.timers.cancel(running.timer);
    if (running.progressTimer) this.timers.cancel(running.progressTimer);
    this.running.delete(name);
    this.activityEvent('ended', running, finished);
  }

  /** DELETE /butler: stops what runs and clears what was scheduled. */
  stopAll(): void {
    for (const name of [...this.running.keys()]) this.stop(name);
    for (const { timer } of this.later.values()) this.timers.cancel(timer);
    this.later.clear();
  }

  /** The server went down: nothing runs any more, and no 'ended' events (the process just stopped). */
  forgetRunning(): void {
    this.running.clear();
    this.later.clear();
  }

  private activityOf(task: RunningTask): SimActivity {
    const elapsed = Date.now() - task.startedAt;
    const progress =
      this.taskDurationMs <= 0
        ? 100
        : Math.min(100, Math.floor((elapsed / this.taskDurationMs) * 100));
    // Key order of the official /activities example.
    return {
      uuid: task.uuid,
      type: task.type,
      cancellable: false,
      userID: ACTIVITY_USER_ID,
      title: task.title,
      subtitle: '',
      progress,
    };
  }

  private scheduleProgress(running: RunningTask): void {
    if (this.progressIntervalMs <= 0 || this.progressIntervalMs >= this.taskDurationMs) return;
    running.progressTimer = this.timers.later(this.progressIntervalMs, () => {
      if (this.running.get(running.name) !== running) return;
      this.activityEvent('updated', running);
      this.scheduleProgress(running);
    });
  }

  private activityEvent(
    event: SimActivityEvent['event'],
    running: RunningTask,
    finished = false,
  ): void {
    const activity = this.activityOf(running);
    // A millisecond clock can make the last reading 99: work that ran its course is at 100.
    if (finished) activity.progress = 100;
    this.onActivity({ event, task: running.name, activity });
  }
}
