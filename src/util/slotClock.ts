// The validator's slot clock: slots from the genesis time and the system clock (or an injected `now()`).
// Waits are cut into short steps that re-read the clock, so a clock that jumps (forwards or back) is noticed
// within a step instead of after a timer set on the old time fires.

export interface SlotClockOptions {
  /** Unix seconds, from the beacon node's genesis. */
  genesisTime: number;
  /** The config's SECONDS_PER_SLOT; tests may pass fractions of a second. */
  secondsPerSlot: number;
  slotsPerEpoch: number;
  /** Milliseconds since the Unix epoch; Date.now by default. */
  now?: () => number;
  /** Longest single timer of a wait (default 500 ms, capped at a quarter slot). */
  maxStepMs?: number;
}

export class SlotClock {
  readonly genesisTimeMs: number;
  readonly slotMs: number;
  readonly slotsPerEpoch: number;
  readonly now: () => number;
  private readonly maxStepMs: number;

  constructor(opts: SlotClockOptions) {
    if (!(opts.secondsPerSlot > 0)) throw new Error(`secondsPerSlot must be positive, got ${opts.secondsPerSlot}`);
    if (!Number.isInteger(opts.slotsPerEpoch) || opts.slotsPerEpoch <= 0) throw new Error(`invalid slotsPerEpoch ${opts.slotsPerEpoch}`);
    this.genesisTimeMs = opts.genesisTime * 1000;
    this.slotMs = opts.secondsPerSlot * 1000;
    this.slotsPerEpoch = opts.slotsPerEpoch;
    this.now = opts.now ?? Date.now;
    this.maxStepMs = Math.max(1, Math.min(opts.maxStepMs ?? 500, this.slotMs / 4));
  }

  /** The slot at time `ms` (default: now); negative before genesis. */
  slotAt(ms: number = this.now()): number {
    return Math.floor((ms - this.genesisTimeMs) / this.slotMs);
  }

  currentSlot(): number {
    return this.slotAt();
  }

  /** The current epoch; 0 before genesis. */
  currentEpoch(): number {
    return this.epochAtSlot(Math.max(0, this.currentSlot()));
  }

  epochAtSlot(slot: number): number {
    return Math.floor(slot / this.slotsPerEpoch);
  }

  slotStartMs(slot: number): number {
    return this.genesisTimeMs + slot * this.slotMs;
  }

  /** Milliseconds since the start of the current slot. */
  msIntoSlot(): number {
    const now = this.now();
    return now - this.slotStartMs(this.slotAt(now));
  }

  /**
   * Waits until `fraction` (0..1) of `slot` has passed. Resolves true then, or false (early) when the clock has
   * moved more than a slot away from `slot` in either direction (a jump), or when `signal` aborts.
   */
  async waitForSlotFraction(slot: number, fraction: number, signal: AbortSignal): Promise<boolean> {
    const target = this.slotStartMs(slot) + fraction * this.slotMs;
    for (;;) {
      if (signal.aborted) return false;
      const now = this.now();
      const current = this.slotAt(now);
      if (current > slot + 1 || current < slot - 1) return false;
      if (now >= target) return true;
      await sleep(Math.min(target - now, this.maxStepMs), signal);
    }
  }

  /** Waits until the current slot differs from `slot` (later, or earlier after the clock went back); returns it. */
  async waitForSlotChange(slot: number, signal: AbortSignal): Promise<number> {
    for (;;) {
      const now = this.now();
      const current = this.slotAt(now);
      if (current !== slot || signal.aborted) return current;
      await sleep(Math.min(this.slotStartMs(slot + 1) - now, this.maxStepMs), signal);
    }
  }
}

/** Resolves after `ms` or when `signal` aborts, whichever is first; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
