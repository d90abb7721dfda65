/**
 * Runs an async step one at a time: a request made while it runs (a ZooKeeper
 * watch firing, say) does not start a second run but makes the running one go
 * again when it ends, so the last request is always seen and never raced.
 */
export class Rerunner {
  private running = false;
  private again = false;

  constructor(
    private readonly step: () => Promise<void>,
    /** Whether a pending rerun is still wanted (e.g. not closed). */
    private readonly wanted: () => boolean,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs the step now, or once more after the run in progress. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.step();
        } while (this.again && this.wanted());
      } catch (err) {
        this.onError(err);
      } finally {
        this.running = false;
      }
    })();
  }
}
