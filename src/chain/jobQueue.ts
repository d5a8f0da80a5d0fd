/**
 * A FIFO of async jobs run one at a time: the chain's single writer. Callers get a promise at once (the queue never
 * blocks them); a full queue refuses new work instead of growing without bound.
 */
export class JobQueue {
  private readonly jobs: (() => Promise<void>)[] = [];
  private running = false;

  constructor(readonly maxLength: number) {}

  get length(): number {
    return this.jobs.length;
  }

  push<T>(fn: () => Promise<T>): Promise<T> {
    if (this.jobs.length >= this.maxLength) return Promise.reject(new QueueFullError(`queue full (${this.jobs.length})`));
    return new Promise<T>((resolve, reject) => {
      this.jobs.push(() => fn().then(resolve, reject));
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.jobs.length > 0) await (this.jobs.shift() as () => Promise<void>)();
    } finally {
      this.running = false;
    }
  }

  /** Resolves when every job queued so far has finished. */
  async drain(): Promise<void> {
    while (this.jobs.length > 0 || this.running) await new Promise((r) => setImmediate(r));
  }
}

export class QueueFullError extends Error {}
