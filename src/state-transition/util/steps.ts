// Long computations are written as generators that stop between their parts (the chain lets the event loop run
// there, see src/util/eventLoop.ts runSteps); a plain call runs one through at once with this.

/** Runs a generator of steps to its end and returns its result. */
export function runToEnd<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
