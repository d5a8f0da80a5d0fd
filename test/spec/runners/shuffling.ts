// <preset>/phase0/shuffling/core: mapping[i] == compute_shuffled_index(i, count, seed), plus the whole-list shuffles.
import { computeShuffledIndex, shuffleList, unshuffleList } from "../../../src/state-transition/util/shuffle.js";
import { assert, fromHex, toNum, type Runner } from "../harness.js";

// computeShuffledIndex costs 2 hashes per round per index: 9999 indices x 90 rounds (mainnet) take ~4 s a case.
// Above this many index-rounds it is checked on an even spread of indices (first and last included); the whole-list
// functions, which share no code path with it beyond the hashing, are always checked on every index.
const MAX_INDEX_ROUNDS = 100_000;
const SAMPLE_SIZE = 1000;

let indicesTotal = 0;
let indicesChecked = 0;

interface MappingYaml {
  seed: string;
  count: bigint;
  mapping: bigint[];
}

export const shufflingRunner: Runner = {
  handlers: {
    core(c) {
      const data = c.yaml("mapping.yaml") as MappingYaml;
      const seed = fromHex(data.seed);
      const count = toNum(data.count, "count");
      const mapping = data.mapping.map((x) => toNum(x, "mapping"));
      assert(mapping.length === count, `mapping has ${mapping.length} entries for count ${count}`);
      const rounds = c.config.SHUFFLE_ROUND_COUNT;

      const step = count * rounds <= MAX_INDEX_ROUNDS ? 1 : Math.ceil(count / SAMPLE_SIZE);
      const indices = new Set<number>();
      for (let i = 0; i < count; i += step) indices.add(i);
      if (count > 0) indices.add(count - 1);
      for (const i of indices) {
        const got = computeShuffledIndex(i, count, seed, rounds);
        assert(got === mapping[i], `computeShuffledIndex(${i}) = ${got}, expected ${mapping[i]}`);
        indicesChecked++;
      }
      indicesTotal += count;

      const identity = Uint32Array.from({ length: count }, (_, i) => i);
      // unshuffleList: out[i] = input[computeShuffledIndex(i)], so on the identity it is the mapping itself.
      const unshuffled = unshuffleList(identity, seed, rounds);
      for (let i = 0; i < count; i++) {
        assert(unshuffled[i] === mapping[i], `unshuffleList[${i}] = ${unshuffled[i]}, expected ${mapping[i]}`);
      }
      // shuffleList is the inverse permutation: out[mapping[i]] = i.
      const shuffled = shuffleList(identity, seed, rounds);
      for (let i = 0; i < count; i++) {
        assert(shuffled[mapping[i]] === i, `shuffleList[${mapping[i]}] = ${shuffled[mapping[i]]}, expected ${i}`);
      }
      assert(identity.every((v, i) => v === i), "the whole-list shuffles must not modify their input");
    },
  },
  notes: () =>
    indicesTotal === indicesChecked
      ? []
      : [
          `shuffling: computeShuffledIndex checked on ${indicesChecked} of ${indicesTotal} indices ` +
            `(sampled above ${MAX_INDEX_ROUNDS} index-rounds per case); unshuffleList/shuffleList on all of them`,
        ],
};
