// A full garbage collection once an epoch. A busy node (sync, the harness, long non-finality) never idles, so V8's
// memory reducer never runs, and old-space garbage (the merkle nodes of states dropped from the caches) grows to
// ~3.5x the live heap before a major GC: at 100,000 validators RSS swung between 0.8 and 1.2 GB over 45-epoch
// cycles. One full GC an epoch (~0.1-0.3 s, every 6.4 min on mainnet) keeps RSS within a few percent of the
// live data. gc() is exposed at run time, so no node flag is needed.
import v8 from "node:v8";
import vm from "node:vm";

let cached: (() => void) | null | undefined;

/** The engine's full GC, or null where it cannot be exposed. */
export function getFullGc(): (() => void) | null {
  if (cached !== undefined) return cached;
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === "function") return (cached = existing);
  try {
    v8.setFlagsFromString("--expose-gc");
    const fn = vm.runInNewContext("gc") as unknown;
    cached = typeof fn === "function" ? (fn as () => void) : null;
  } catch {
    cached = null;
  }
  return cached;
}

/** The full GC after an epoch's first block, at most once per `minIntervalMs` (a syncing node crosses epochs fast). */
export class FullGcScheduler {
  // the first one an interval after start: a node that has just started has no old states to reclaim yet, and a
  // forced full GC holds the event loop (~0.1 s at 100,000 validators)
  private lastAt = performance.now();

  constructor(private readonly minIntervalMs: number) {}

  /** Runs it when due; pushes its duration to `durations`. */
  maybeRun(durations: number[]): void {
    const start = performance.now();
    if (start - this.lastAt < this.minIntervalMs) return;
    getFullGc()?.();
    this.lastAt = performance.now();
    durations.push(this.lastAt - start);
  }
}
