/**
 * A fixed-rate loop for the local runner, standing in for EventBridge schedules:
 * runs `task` every `intervalMs` (measured from the start of one run to the
 * start of the next), never two runs at once, and stops cleanly: `stop()`
 * resolves after the run in flight has finished, so a round is never cut in
 * half by Ctrl-C (and if the process dies anyway, every step is idempotent).
 */
export interface Loop {
  stop(): Promise<void>;
  /** Resolves after the next run that starts from now has finished (tests, shutdown). */
  runNow(): Promise<void>;
}

export function startLoop(intervalMs: number, task: () => Promise<void>, onError: (e: unknown) => void): Loop {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let waiters: (() => void)[] = [];

  const runOnce = async (): Promise<void> => {
    const started = Date.now();
    try {
      await task();
    } catch (e) {
      onError(e);
    }
    const done = waiters;
    waiters = [];
    for (const w of done) w();
    if (!stopped) timer = setTimeout(tick, Math.max(0, intervalMs - (Date.now() - started)));
  };
  function tick(): void {
    timer = undefined;
    inFlight = runOnce();
  }
  timer = setTimeout(tick, 0);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
    runNow() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        if (timer && !stopped) {
          clearTimeout(timer);
          tick();
        }
      });
    },
  };
}
