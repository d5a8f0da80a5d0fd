// The incremental deposit tree against a naive full-tree computation and the state transition's proof check.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { ByteVectorType, ListCompositeType } from "@chainsafe/ssz";
import { DepositTree } from "../../src/state-transition/eth1/depositTree.js";
import { isValidMerkleBranch } from "../../src/state-transition/util/merkle.js";
import { toHex } from "../../src/util/bytes.js";

const sha = (a: Uint8Array, b: Uint8Array) => new Uint8Array(createHash("sha256").update(a).update(b).digest());
const leafOf = (i: number) => new Uint8Array(createHash("sha256").update(`deposit ${i}`).digest());

/** get_deposit_root by the definition: the full depth-32 tree over the leaves padded with zeros, then the count. */
function naiveRoot(leaves: Uint8Array[]): Uint8Array {
  let layer = leaves.slice();
  let zero = new Uint8Array(32);
  for (let d = 0; d < 32; d++) {
    const next: Uint8Array[] = [];
    for (let k = 0; k < layer.length; k += 2) next.push(sha(layer[k], layer[k + 1] ?? zero));
    layer = next;
    zero = sha(zero, zero);
  }
  const len = new Uint8Array(32);
  new DataView(len.buffer).setBigUint64(0, BigInt(leaves.length), true);
  return sha(layer[0] ?? zero, len);
}

describe("DepositTree", () => {
  const N = 100;
  const leaves = Array.from({ length: N }, (_, i) => leafOf(i));
  const tree = new DepositTree();
  for (const leaf of leaves) tree.push(leaf);
  // the same root the state transition computes for a List[DepositData, 2**32] (genesis does it this way)
  const sszList = new ListCompositeType(new ByteVectorType(32), 2 ** 32);

  test("roots at every count 0..100 match the naive full tree and the SSZ list root", () => {
    for (let n = 0; n <= N; n++) {
      const expected = naiveRoot(leaves.slice(0, n));
      assert.equal(toHex(tree.getRoot(n)), toHex(expected), `root at count ${n}`);
      assert.equal(toHex(sszList.hashTreeRoot(leaves.slice(0, n))), toHex(expected));
    }
    // an empty tree's root is the known empty deposit root
    assert.equal(toHex(new DepositTree().getRoot()), "0xd70a234731285c6804c2a4f56711ddb8c82c99740f207854891028af34e27e5e");
  });

  test("every proof of deposit i verifies against the root at every count n > i, and not elsewhere", () => {
    for (let n = 1; n <= N; n++) {
      const root = tree.getRoot(n);
      for (let i = 0; i < n; i++) {
        const proof = tree.getProof(i, n);
        assert.equal(proof.length, 33);
        assert.ok(isValidMerkleBranch(leaves[i], proof, 33, i, root), `deposit ${i} at count ${n}`);
      }
    }
    const proof = tree.getProof(5, 50);
    assert.equal(isValidMerkleBranch(leaves[5], proof, 33, 5, tree.getRoot(51)), false, "another count's root");
    assert.equal(isValidMerkleBranch(leaves[5], proof, 33, 6, tree.getRoot(50)), false, "another index");
    assert.equal(isValidMerkleBranch(leaves[6], proof, 33, 5, tree.getRoot(50)), false, "another leaf");
  });

  test("truncate keeps the roots of the remaining counts; bad arguments throw and change nothing", () => {
    const t = new DepositTree();
    for (const leaf of leaves.slice(0, 37)) t.push(leaf);
    const before = toHex(t.getRoot(20));
    t.truncate(20);
    assert.equal(t.count, 20);
    assert.equal(toHex(t.getRoot()), before);
    for (const leaf of leaves.slice(20, 37)) t.push(leaf);
    assert.equal(toHex(t.getRoot()), toHex(tree.getRoot(37)));
    assert.throws(() => t.getProof(37, 37), /not among the first 37/);
    assert.throws(() => t.getRoot(38), /not in \[0, 37\]/);
    assert.throws(() => t.truncate(40), /cannot truncate/);
    assert.throws(() => t.push(new Uint8Array(31)), /32 bytes/);
    assert.equal(t.count, 37);
  });
});
