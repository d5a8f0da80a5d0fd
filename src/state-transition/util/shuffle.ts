// The swap-or-not shuffle (spec v0.12.3 `compute_shuffled_index`), per index and for a whole list at once.
// Pure: no I/O, no caches; sha256 is the WASM `digest` of as-sha256.
import { digest } from "@chainsafe/as-sha256";

/** A round count, or any config that carries one (the ChainConfig / BeaconConfig). */
export type ShuffleRounds = number | { readonly SHUFFLE_ROUND_COUNT: number };

const SEED_LENGTH = 32;
// seed ++ round (1 byte) ++ position / 256 (4 bytes little-endian)
const SOURCE_INPUT_LENGTH = SEED_LENGTH + 1 + 4;

function roundCount(rounds: ShuffleRounds): number {
  const n = typeof rounds === "number" ? rounds : rounds.SHUFFLE_ROUND_COUNT;
  // The round number is hashed as one byte.
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`invalid shuffle round count ${n}`);
  return n;
}

function seedInput(seed: Uint8Array): Uint8Array {
  if (seed.length !== SEED_LENGTH) throw new Error(`shuffle seed must be ${SEED_LENGTH} bytes, got ${seed.length}`);
  const buf = new Uint8Array(SOURCE_INPUT_LENGTH);
  buf.set(seed);
  return buf;
}

/** bytes_to_int(hash(seed + round)[0:8]) % indexCount; the 64-bit value needs BigInt to reduce exactly. */
function computePivot(buf: Uint8Array, round: number, indexCount: number): number {
  buf[SEED_LENGTH] = round;
  const h = digest(buf.subarray(0, SEED_LENGTH + 1));
  const v = new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0, true);
  return Number(v % BigInt(indexCount));
}

/** hash(seed + round + int_to_bytes(position // 256, 4)); buf[SEED_LENGTH] must already hold the round. */
function computeSource(buf: Uint8Array, positionDiv256: number): Uint8Array {
  buf[SEED_LENGTH + 1] = positionDiv256 & 0xff;
  buf[SEED_LENGTH + 2] = (positionDiv256 >>> 8) & 0xff;
  buf[SEED_LENGTH + 3] = (positionDiv256 >>> 16) & 0xff;
  buf[SEED_LENGTH + 4] = (positionDiv256 >>> 24) & 0xff;
  return digest(buf);
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
  const buf = seedInput(seed);
  for (let round = 0; round < roundsN; round++) {
    const pivot = computePivot(buf, round, indexCount);
    const flip = (pivot + indexCount - index) % indexCount;
    const position = Math.max(index, flip);
    const source = computeSource(buf, Math.floor(position / 256));
    const byte = source[(position % 256) >>> 3];
    if ((byte >>> (position & 7)) & 1) index = flip;
  }
  return index;
}

/**
 * Apply the swap-or-not network to a whole list in place. Each round is an involution made of disjoint swaps
 * (i <-> flip(i), decided by the bit at max(i, flip)), so a round costs one pass and one hash per 256 positions
 * instead of two hashes per index.
 *
 * Applying rounds R-1..0 ("backwards") gives out[i] = in[computeShuffledIndex(i)]; rounds 0..R-1 give the inverse.
 */
function innerShuffleList(list: Uint32Array, seed: Uint8Array, rounds: ShuffleRounds, forwards: boolean): void {
  const roundsN = roundCount(rounds);
  const buf = seedInput(seed);
  const n = list.length;
  if (n <= 1 || roundsN === 0) return;
  if (n > 2 ** 32) throw new Error(`shuffle list too long: ${n}`);

  for (let r = 0; r < roundsN; r++) {
    const round = forwards ? r : roundsN - 1 - r;
    const pivot = computePivot(buf, round, n);

    // Pairs with i + j = pivot (both <= pivot), then pairs with i + j = pivot + n (both > pivot).
    // Walk each segment from its top so `j` is always the larger index: the one whose bit decides the swap.
    for (const [top, sum] of [
      [pivot, pivot],
      [n - 1, pivot + n],
    ] as const) {
      let source: Uint8Array | null = null;
      let sourceBlock = -1;
      for (let j = top; j > sum - j; j--) {
        const block = j >>> 8;
        if (block !== sourceBlock || source === null) {
          source = computeSource(buf, block);
          sourceBlock = block;
        }
        if ((source[(j & 0xff) >>> 3] >>> (j & 7)) & 1) {
          const i = sum - j;
          const tmp = list[i];
          list[i] = list[j];
          list[j] = tmp;
        }
      }
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

/** The inverse of unshuffleList: out[computeShuffledIndex(i, n, seed)] = input[i]. Returns a new array. */
export function shuffleList(input: Uint32Array, seed: Uint8Array, rounds: ShuffleRounds): Uint32Array {
  const out = input.slice();
  innerShuffleList(out, seed, rounds, true);
  return out;
}
