// The hand-written fast paths of the state transition against the library functions they replace: the seeded
// SHA-256 of the shuffle, and the node-level tree reads of util/tree.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { digest } from "@chainsafe/as-sha256";
import { ListUintNum64Type } from "@chainsafe/ssz";
import { SeededSha256 } from "../../src/crypto/sha256.js";
import { leafUint64, nodeEqualsWords, readPackedUint64List, rootToWords } from "../../src/state-transition/util/tree.js";
import { computeShuffledIndex, shuffleList, unshuffleList } from "../../src/state-transition/util/shuffle.js";

function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out[i] = x & 0xff;
  }
  return out;
}

test("SeededSha256 equals sha256 of prefix ++ tail for every one-block length", () => {
  for (let seed = 0; seed < 8; seed++) {
    const prefix = pseudoRandomBytes(32, seed);
    const sha = new SeededSha256(prefix);
    for (let len = 0; len <= 23; len++) {
      const tail = pseudoRandomBytes(len, seed * 100 + len);
      const message = new Uint8Array(32 + len);
      message.set(prefix);
      message.set(tail, 32);
      assert.deepEqual(sha.digest(tail), digest(message), `seed ${seed}, tail of ${len} bytes`);
    }
  }
  assert.throws(() => new SeededSha256(new Uint8Array(31)));
  assert.throws(() => new SeededSha256(new Uint8Array(32)).digest(new Uint8Array(24)));
});

test("unshuffleList and shuffleList agree with computeShuffledIndex", () => {
  for (const n of [1, 2, 3, 255, 256, 257, 1000]) {
    const seed = pseudoRandomBytes(32, n);
    const input = Uint32Array.from({ length: n }, (_, i) => i * 3 + 7);
    const unshuffled = unshuffleList(input, seed, 10);
    const shuffled = shuffleList(input, seed, 10);
    for (let i = 0; i < n; i++) {
      const j = computeShuffledIndex(i, n, seed, 10);
      assert.equal(unshuffled[i], input[j], `unshuffle n=${n} i=${i}`);
      assert.equal(shuffled[j], input[i], `shuffle n=${n} i=${i}`);
    }
  }
});

test("readPackedUint64List reads what the list holds, whatever its length", () => {
  const type = new ListUintNum64Type(2 ** 20);
  for (const n of [0, 1, 3, 4, 5, 1023, 1024, 1025]) {
    const values = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 2 ** 53 - 1 - i : 32_000_000_000 + i * 12345));
    const view = type.toViewDU(values);
    view.commit();
    assert.deepEqual(readPackedUint64List(view.node, type.chunkDepth, n), values, `length ${n}`);
  }
});

test("rootToWords / nodeEqualsWords / leafUint64 read a node's bytes", () => {
  const type = new ListUintNum64Type(16);
  const view = type.toViewDU([5, 2 ** 40 + 3]);
  view.commit();
  const chunk = view.node.left.left.left; // under the length mix-in, a depth-2 chunk tree: chunk 0
  assert.equal(leafUint64(chunk), 5);
  const bytes = chunk.root;
  assert.ok(nodeEqualsWords(chunk, rootToWords(bytes)));
  const other = Uint8Array.from(bytes);
  other[31] ^= 1;
  assert.ok(!nodeEqualsWords(chunk, rootToWords(other)));
});
