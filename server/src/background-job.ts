/** What one pass did, and whether it left work behind (more than a pass takes). */
export interface PassResult {
  readonly done: number;
  readonly more: boolean;
}

/**
 * A job that works off marks in the database (dirty quarter hours) in the background: started
 * shortly after a nudge, passes repeated while a pass says more is waiting, retried after a
 * failure, never two passes at once. `flush` goes on until a pass finds nothing left (tests,
 * shutdown).
 */
export class BackgroundJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  /** `afterRun` follows every run that did something. */
  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<PassResult>,
    private readonly delayMs: number,
    private readonly afterRun?: () => void,
  ) {}

  nudge(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.delayMs);
  }

  private run(drain = false): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let worked = false;
      try {
        for (;;) {
          const { done, more } = await this.pass();
          if (done === 0) break;
          worked = true;
          if (this.closed || (!drain && !more)) break;
        }
      } catch (error) {
        process.stderr.write(`gridshare: ${this.name} failed, will retry: ${(error as Error).message}\n`);
        this.nudge();
      } finally {
        this.running = undefined;
        if (worked && !this.closed) this.afterRun?.();
        if (this.again && !this.closed) {
          this.again = false;
          this.nudge();
        }
      }
    })();
    return this.running;
  }

  async flush(): Promise<void> {
    await this.running;
    await this.run(true);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
