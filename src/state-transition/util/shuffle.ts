// The swap-or-not shuffle (spec v0.12.3 `compute_shuffled_index`), per index and for a whole list at once.
// Pure: no I/O, no caches. Every hash here is sha256(seed ++ round [++ position // 256]): a one-block message
// starting with the seed, hashed by SeededSha256 (the seed's part of the compression is done once per shuffle).
import { SeededSha256 } from "../../crypto/sha256.js";
import { runToEnd } from "./steps.js";

/** A round count, or any config that carries one (the ChainConfig / BeaconConfig). */
export type ShuffleRounds = number | { readonly SHUFFLE_ROUND_COUNT: number };

const SEED_LENGTH = 32;

function roundCount(rounds: ShuffleRounds): number {
  const n = typeof rounds === "number" ? rounds : rounds.SHUFFLE_ROUND_COUNT;
  // The round number is hashed as one byte.
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`invalid shuffle round count ${n}`);
  return n;
}

/** The two hashes of the shuffle for one seed. */
class ShuffleHasher {
  private readonly sha: SeededSha256;
  private readonly out = new Int32Array(8);
  /** hash(seed ++ round ++ position // 256) as 8 little-endian words: bit b of the hash is (source[b >> 5] >>> (b & 31)) & 1 */
  readonly source = new Int32Array(8);

  constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) throw new Error(`shuffle seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
    this.sha = new SeededSha256(seed);
  }

  /** bytes_to_int(hash(seed + round)[0:8]) % indexCount, exactly (the 64-bit value reduced in 16-bit steps). */
  pivot(round: number, indexCount: number): number {
    const out = this.out;
    // 33-byte message: the round byte, then the padding; length 264 bits
    this.sha.hashWords((round << 24) | 0x800000, 0, 0, 0, 0, 0, 0, 264, out);
    const lo = bswap(out[0]);
    const hi = bswap(out[1]);
    let x = hi % indexCount;
    x = (x * 0x10000) % indexCount;
    x = (x * 0x10000) % indexCount;
    return (x + lo) % indexCount;
  }

  /** Fills `source` with hash(seed + round + int_to_bytes(positionDiv256, 4)). */
  computeSource(round: number, positionDiv256: number): void {
    const p = positionDiv256;
    const out = this.out;
    // 37-byte message: round, the 4 position bytes little-endian, then the padding; length 296 bits
    this.sha.hashWords(
      (round << 24) | ((p & 0xff) << 16) | (((p >>> 8) & 0xff) << 8) | ((p >>> 16) & 0xff),
      ((p >>> 24) << 24) | 0x800000,
      0,
      0,
      0,
      0,
      0,
      296,
      out,
    );
    const source = this.source;
    for (let i = 0; i < 8; i++) source[i] = bswap(out[i]);
  }
}

/** The 32-bit word read with the other byte order, as an unsigned number. */
function bswap(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/** The spec's compute_shuffled_index: where `index` lands after shuffling `indexCount` items with `seed`. */
export function computeShuffledIndex(
  index: number,
  indexCount: number,
  seed: Uint8Array,
  rounds: ShuffleRounds,
): number {
  if (!(Number.isInteger(index) && index >= 0 && index < indexCount && indexCount <= 2 ** 32)) {
    throw new Error(`computeShuffledIndex: index ${index} out of range for count ${indexCount}`);
  }
  const roundsN = roundCount(rounds);
  const hasher = new ShuffleHasher(seed);
  const source = hasher.source;
  for (let round = 0; round < roundsN; round++) {
    const pivot = hasher.pivot(round, indexCount);
    const flip = (pivot + indexCount - index) % indexCount;
    const position = Math.max(index, flip);
    hasher.computeSource(round, Math.floor(position / 256));
    const b = position % 256;
    if ((source[b >>> 5] >>> (b & 31)) & 1) index = flip;
  }
  return index;
}

/**
 * Apply the swap-or-not network to a whole list in place. Each round is an involution made of disjoint swaps
 * (i <-> flip(i), decided by the bit at max(i, flip)), so a round costs one pass over half the list and one hash
 * per 256 positions instead of two hashes per index.
 *
 * Applying rounds R-1..0 ("backwards") gives out[i] = in[computeShuffledIndex(i)]; rounds 0..R-1 give the inverse.
 */
function innerShuffleList(list: Uint32Array, seed: Uint8Array, rounds: ShuffleRounds, forwards: boolean): void {
  runToEnd(innerShuffleListSteps(list, seed, rounds, forwards));
}

/** Rounds between two stops of the stepped shuffle (~0.5 ms a round at 100,000 indices: a stop every ~5 ms). */
const ROUNDS_PER_STEP = 10;

/** innerShuffleList, the generator stopping every ROUNDS_PER_STEP rounds (the list must not be touched meanwhile). */
function* innerShuffleListSteps(list: Uint32Array, seed: Uint8Array, rounds: ShuffleRounds, forwards: boolean): Generator<void, void, void> {
  const roundsN = roundCount(rounds);
  const hasher = new ShuffleHasher(seed);
  const n = list.length;
  if (n <= 1 || roundsN === 0) return;
  if (n > 2 ** 32) throw new Error(`shuffle list too long: ${n}`);

  for (let r = 0; r < roundsN; r++) {
    const round = forwards ? r : roundsN - 1 - r;
    const pivot = hasher.pivot(round, n);
    // Pairs with i + j = pivot (both <= pivot), then pairs with i + j = pivot + n (both > pivot). Each segment is
    // walked from its top so `j` is always the larger index: the one whose bit decides the swap.
    swapSegment(list, hasher, round, pivot, pivot);
    swapSegment(list, hasher, round, n - 1, pivot + n);
    if ((r + 1) % ROUNDS_PER_STEP === 0 && r + 1 < roundsN) yield;
  }
}

/** Swaps list[sum - j] and list[j] where bit j of the round's source is set, for j from `top` down to sum / 2. */
function swapSegment(list: Uint32Array, hasher: ShuffleHasher, round: number, top: number, sum: number): void {
  const source = hasher.source;
  const stop = Math.floor(sum / 2); // j > sum - j  <=>  j > floor(sum / 2)
  let j = top;
  while (j > stop) {
    const block = Math.floor(j / 256);
    hasher.computeSource(round, block);
    const low = Math.max(stop + 1, block * 256);
    for (; j >= low; j--) {
      // branch-free conditional swap: the bits are random, a branch would be mispredicted half of the time
      const bit = (source[(j & 0xff) >>> 5] >>> (j & 31)) & 1;
      const i = sum - j;
      const a = list[i];
      const b = list[j];
      const x = (a ^ b) & -bit;
      list[i] = a ^ x;
      list[j] = b ^ x;
    }
  }
}

/**
 * Whole-list shuffle as used for committees: out[i] = input[computeShuffledIndex(i, n, seed)],
 * i.e. compute_committee's `indices[compute_shuffled_index(index, len(indices), seed)]` for every index at once.
 * Returns a new array; `input` is not modified.
 */
export function unshuffleList(input: Uint32Array, seed: Uint8Array, rounds: ShuffleRounds): Uint32Array {
  const out = input.slice();
  innerShuffleList(out, seed, rounds, false);
  return out;
}

/** unshuffleList in steps (a stop every few rounds), for callers that let other work run between them. */
export function* unshuffleListSteps(input: Uint32Array, seed: Uint8Array, rounds: ShuffleRounds): Generator<void, Uint32Array, void> {
  const out = input.slice();
  yield* innerShuffleListSteps(out, seed, rounds, false);
  return out;
}

/** The inverse of unshuffleList: out[computeShuffledIndex(i, n, seed)] = input[i]. Returns a new array. */
export function shuffleList(input: Uint32Array, seed: Uint8Array, rounds: ShuffleRounds): Uint32Array {
  const out = input.slice();
  innerShuffleList(out, seed, rounds, true);
  return out;
}
