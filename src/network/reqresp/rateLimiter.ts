// Responder-side limits per peer: token buckets for requests (per protocol) and for blocks served, plus caps on
// streams in flight. A peer that exceeds one is answered with an error and reported as RATE_LIMITED.
import { Method } from "./protocols.js";

/** `tokens` per `windowMs`, refilled continuously; `tokens` is also the burst. */
export interface Quota {
  tokens: number;
  windowMs: number;
}

export interface RateLimits {
  /** blocks one peer may ask for (by_range count, by_root roots), charged when the request arrives */
  blocks: Quota;
  /** requests of one protocol from one peer */
  requests: Record<Method, Quota>;
  /** streams of one protocol one peer may have open at once */
  maxConcurrentPerPeer: number;
  /** streams of one protocol open at once, all peers together */
  maxConcurrentPerProtocol: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  blocks: { tokens: 1024, windowMs: 10_000 },
  requests: {
    [Method.status]: { tokens: 5, windowMs: 15_000 },
    [Method.goodbye]: { tokens: 2, windowMs: 10_000 },
    [Method.ping]: { tokens: 5, windowMs: 10_000 },
    [Method.metadata]: { tokens: 5, windowMs: 10_000 },
    [Method.beaconBlocksByRange]: { tokens: 50, windowMs: 10_000 },
    [Method.beaconBlocksByRoot]: { tokens: 50, windowMs: 10_000 },
  },
  maxConcurrentPerPeer: 2,
  maxConcurrentPerProtocol: 64,
};

/** What callers pass: any subset, `requests` per protocol. */
export type RateLimitsInput = Partial<Omit<RateLimits, "requests">> & { requests?: Partial<Record<Method, Quota>> };

/** Defaults overridden by `partial`; `requests` is merged per protocol. */
export function resolveRateLimits(partial: RateLimitsInput | undefined): RateLimits {
  return {
    ...DEFAULT_RATE_LIMITS,
    ...partial,
    requests: { ...DEFAULT_RATE_LIMITS.requests, ...partial?.requests },
  };
}

class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly quota: Quota,
    now: number,
  ) {
    this.tokens = quota.tokens;
    this.last = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.quota.tokens, this.tokens + (elapsed * this.quota.tokens) / this.quota.windowMs);
  }

  take(n: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.quota.tokens;
  }
}

export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Takes `n` tokens from the bucket `key` (created full with `quota`); false if there are not enough. */
  take(key: string, quota: Quota, n = 1): boolean {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      b = new TokenBucket(quota, now);
      this.buckets.set(key, b);
    }
    return b.take(n, now);
  }

  /** Drops buckets that refilled completely: they hold no information, and peers come and go. */
  prune(): void {
    const now = this.now();
    for (const [k, b] of this.buckets) if (b.isFull(now)) this.buckets.delete(k);
  }

  get size(): number {
    return this.buckets.size;
  }

  clear(): void {
    this.buckets.clear();
  }
}

/** Counts streams in flight per key; `tryAcquire` refuses above `max`. */
export class ConcurrencyLimiter {
  private readonly counts = new Map<string, number>();

  tryAcquire(key: string, max: number): boolean {
    const c = this.counts.get(key) ?? 0;
    if (c >= max) return false;
    this.counts.set(key, c + 1);
    return true;
  }

  release(key: string): void {
    const c = (this.counts.get(key) ?? 0) - 1;
    if (c <= 0) this.counts.delete(key);
    else this.counts.set(key, c);
  }
}
