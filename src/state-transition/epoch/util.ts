// Helpers shared by the epoch sub-steps: block-root lookups with the spec's range check, and exact integer
// arithmetic for the few products that can leave the float-exact range (2^53).
import type { ChainConfig } from "../../params/index.js";
import type { BeaconStateView } from "../../types/index.js";
import { assert } from "../util/assert.js";
import { computeStartSlotAtEpoch } from "../util/epoch.js";
import { integerSquareRoot } from "../util/math.js";

// get_block_root_at_slot
export function getBlockRootAtSlot(c: ChainConfig, state: BeaconStateView, slot: number): Uint8Array {
  assert(
    slot < state.slot && state.slot <= slot + c.SLOTS_PER_HISTORICAL_ROOT,
    `block root of slot ${slot} is not available at state slot ${state.slot}`,
  );
  return state.blockRoots.get(slot % c.SLOTS_PER_HISTORICAL_ROOT);
}

// get_block_root
export function getBlockRoot(c: ChainConfig, state: BeaconStateView, epoch: number): Uint8Array {
  return getBlockRootAtSlot(c, state, computeStartSlotAtEpoch(c, epoch));
}

/**
 * floor(a * b / d) for non-negative integers. Float arithmetic is exact while a * b < 2^53 (and then
 * Math.floor(x / d) is the exact integer quotient); beyond that the product is formed in BigInt. The quotient
 * itself must be below 2^53 (all callers divide back down to reward-sized amounts).
 */
export function mulDivFloor(a: number, b: number, d: number): number {
  const p = a * b;
  if (p <= Number.MAX_SAFE_INTEGER) return Math.floor(p / d);
  return Number((BigInt(a) * BigInt(b)) / BigInt(d));
}

/** integer_squareroot of a Gwei total held as a bigint (totals of large registries pass 2^53). */
export function integerSquareRootBig(n: bigint): number {
  if (n < 0n) throw new Error("integerSquareRoot of a negative number");
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return integerSquareRoot(Number(n));
  // Newton's method from an upper estimate; converges monotonically down to floor(sqrt(n)).
  let x = BigInt(Math.ceil(Math.sqrt(Number(n)))) + 1n;
  for (;;) {
    const y = (x + n / x) / 2n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x--;
  while ((x + 1n) * (x + 1n) <= n) x++;
  return Number(x);
}

/**
 * An exact running sum of Gwei amounts: whole increments and remainders are summed apart, so each float
 * accumulator stays far below 2^53 (the remainders need more than 9 million validators to get there).
 */
export class GweiSum {
  increments = 0;
  remainder = 0;
  constructor(readonly increment: number) {}

  add(amount: number): void {
    const q = Math.floor(amount / this.increment);
    this.increments += q;
    this.remainder += amount - q * this.increment;
  }

  /** The exact sum. */
  value(): bigint {
    return BigInt(this.increments) * BigInt(this.increment) + BigInt(this.remainder);
  }

  /** get_total_balance semantics: at least one increment, to avoid divisions by zero. */
  total(): bigint {
    const v = this.value();
    const min = BigInt(this.increment);
    return v < min ? min : v;
  }
}

/** balance // increment for a bigint balance, as a number (exact: at most 2^64 / 10^9). */
export function toIncrements(balance: bigint, increment: number): number {
  return Number(balance / BigInt(increment));
}
