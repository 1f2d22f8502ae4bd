// Owns every timer and outgoing request of one generation of simulator state, so that reset()
// and close() can drop all pending work at once and tests exit cleanly.

export class Scheduler {
  /** Each pending timer with what to do when it is dropped early. */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly controller = new AbortController();

  /** Aborted when the scheduler is disposed; outgoing requests listen to it. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get disposed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Runs `task` after `ms`, unless the scheduler is disposed first. */
  after(ms: number, task: () => void): void {
    if (this.disposed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, ms);
    this.timers.set(timer, () => undefined);
  }

  /** Resolves after `ms`, or at once on dispose: a delayed response must not keep close() waiting. */
  sleep(ms: number): Promise<void> {
    if (this.disposed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  dispose(): void {
    this.controller.abort();
    for (const [timer, release] of this.timers) {
      clearTimeout(timer);
      release();
    }
    this.timers.clear();
  }
}
