/**
 * Every timeout of one simulator, so that stop() can clear them all at once: a stopped
 * simulator must not answer, end a task or send an event later.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();

  /** `owner` also holds the timer, so that a request that goes away can cancel its own. */
  later(ms: number, callback: () => void, owner?: Set<NodeJS.Timeout>): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      owner?.delete(timer);
      callback();
    }, ms);
    this.pending.add(timer);
    owner?.add(timer);
    return timer;
  }

  cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.pending.delete(timer);
  }

  cancelAll(): void {
    for (const timer of this.pending) clearTimeout(timer);
    this.pending.clear();
  }
}
