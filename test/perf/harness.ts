// Timing helpers shared by every benchmark child. Nothing here imports an implementation, so a child loads only
// the implementation it measures (its peak RSS is that implementation's).

export interface Timing {
  /** median of the measured runs, ms */
  median: number;
  min: number;
  max: number;
  runs: number[];
  /**
   * CPU time of the same runs (this process's user + system time, every thread: GC helpers included), ms. On a
   * machine shared with other work it counts what the code did, not how long it waited for a core.
   */
  cpu?: { median: number; runs: number[] };
}

export interface MeasureOpts {
  warmup: number;
  runs: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summarize(runs: number[]): Timing {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}

/**
 * Runs `prepare` (untimed) then `fn` (timed), `warmup` times without recording and `runs` times recorded. `after`
 * (untimed) receives fn's result, e.g. to check it. Runs follow each other without a forced GC or a pause: on this
 * kind of shared virtual machine either makes the next run slower (by up to 2x), and a node does not get them
 * either; garbage collection inside a run is part of its cost.
 */
export function measure<P, R>(
  opts: MeasureOpts,
  prepare: () => P,
  fn: (p: P) => R,
  after?: (r: R, p: P) => void,
): Timing {
  const runs: number[] = [];
  const cpuRuns: number[] = [];
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    const p = prepare();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = fn(p);
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (i >= opts.warmup) {
      runs.push(dt);
      cpuRuns.push((c.user + c.system) / 1000);
    }
    after?.(r, p);
  }
  return { ...summarize(runs), cpu: { median: median(cpuRuns), runs: cpuRuns } };
}

/** measure() for an asynchronous fn. */
export async function measureAsync<P, R>(
  opts: MeasureOpts,
  prepare: () => P | Promise<P>,
  fn: (p: P) => Promise<R>,
  after?: (r: R, p: P) => void,
): Promise<Timing> {
  const runs: number[] = [];
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    const p = await prepare();
    const t0 = performance.now();
    const r = await fn(p);
    const dt = performance.now() - t0;
    if (i >= opts.warmup) runs.push(dt);
    after?.(r, p);
  }
  return summarize(runs);
}

export { toHex } from "../../src/util/bytes.js";

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** What a comparison child sends back (one JSON line on stdout). */
export interface ImplResult {
  impl: string;
  validators: number;
  timings: Record<string, Timing>;
  roots: Record<string, string>;
  peakRssMb: number;
  /** resident set size once the states are loaded, before any measurement, MB */
  loadedRssMb: number;
  notes: string[];
}
