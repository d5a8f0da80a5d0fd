// Keeping the event loop free: long work yields between its steps, and the loop's delay is measured so that a stall
// shows in the metrics (the Medalla lesson: block processing on the one executor starved everything else).
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** Let pending I/O callbacks (API requests, libp2p streams, timers) run before continuing. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs a generator of steps (a pure computation that stops between its parts) to its end, letting the event loop
 * run whenever `yieldAfterMs` have passed since it last did; resolves to the generator's result.
 */
export async function runSteps<T>(steps: Generator<void, T, void>, yieldAfterMs = 10): Promise<T> {
  let last = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - last > yieldAfterMs) {
      await yieldToEventLoop();
      last = performance.now();
    }
  }
}

/** Event-loop delay, sampled every `resolutionMs`; read percentiles in ms, reset between reports. */
export class EventLoopDelayMonitor {
  private readonly histogram: IntervalHistogram;

  constructor(resolutionMs = 10) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /** percentile (0..100) of the delay since the last reset, in ms */
  percentileMs(p: number): number {
    return this.histogram.count > 0 ? this.histogram.percentile(p) / 1e6 : 0;
  }

  maxMs(): number {
    return this.histogram.count > 0 ? this.histogram.max / 1e6 : 0;
  }

  reset(): void {
    this.histogram.reset();
  }

  close(): void {
    this.histogram.disable();
  }
}

/** A sleep that another part of the program can cut short (a loop waiting for work, woken when work arrives). */
export class WakeableSleep {
  private wakeUp: (() => void) | null = null;

  async sleep(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.wakeUp = null;
  }

  /** Ends the current sleep, if any, at once. */
  wake(): void {
    this.wakeUp?.();
  }
}
