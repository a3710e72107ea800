/**
 * A job that works off marks in the database (dirty quarter hours) in the background: started
 * shortly after a nudge, run until a pass reports nothing done, retried after a failure, never
 * two passes at once. `flush` waits until nothing is left (tests, shutdown).
 */
export class BackgroundJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  /** `pass` returns how much it did; 0 means nothing was left. `afterRun` follows every run that did something. */
  constructor(
    private readonly name: string,
    private readonly pass: () => Promise<number>,
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

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let worked = false;
      try {
        while ((await this.pass()) > 0 && !this.closed) worked = true;
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
    await this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
