// The deposit contract's Merkle tree (deposit_contract.md): depth 32 over DepositData roots, the root mixed with
// the count. Kept whole (not the contract's O(depth) frontier) because a proposer must prove deposit i against
// state.eth1_data.deposit_root, the root at some earlier count n, not the newest one (validator.md, Deposits).
import { digest2Bytes32 } from "@chainsafe/as-sha256";
import { DEPOSIT_CONTRACT_TREE_DEPTH } from "../../params/index.js";

const DEPTH = DEPOSIT_CONTRACT_TREE_DEPTH;

/** ZERO[d]: the root of an all-zero subtree of depth d. */
const ZERO: Uint8Array[] = [new Uint8Array(32)];
for (let d = 1; d <= DEPTH; d++) ZERO.push(digest2Bytes32(ZERO[d - 1], ZERO[d - 1]));

/** The 32-byte length mix-in: the count as 8 bytes little-endian, then 24 zero bytes. */
function lengthChunk(count: number): Uint8Array {
  const out = new Uint8Array(32);
  new DataView(out.buffer).setBigUint64(0, BigInt(count), true);
  return out;
}

export class DepositTree {
  /**
   * layers[d][k]: the root of the complete subtree of depth d holding leaves [k * 2^d, (k + 1) * 2^d). Only complete
   * subtrees are stored: they never change as leaves are appended, so they serve the roots of every later count.
   */
  private readonly layers: Uint8Array[][] = [];

  constructor() {
    for (let d = 0; d <= DEPTH; d++) this.layers.push([]);
  }

  get count(): number {
    return this.layers[0].length;
  }

  /** Appends a leaf (hash_tree_root of a DepositData). */
  push(leaf: Uint8Array): void {
    if (leaf.length !== 32) throw new Error(`deposit tree leaf must be 32 bytes, got ${leaf.length}`);
    if (this.count >= 2 ** DEPTH) throw new Error("deposit tree is full");
    this.layers[0].push(leaf);
    // each completed pair completes the parent subtree
    for (let d = 0, k = this.layers[0].length - 1; d < DEPTH && k % 2 === 1; d++, k = (k - 1) / 2) {
      this.layers[d + 1].push(digest2Bytes32(this.layers[d][k - 1], this.layers[d][k]));
    }
  }

  /** Drops the leaves from `count` on (an eth1 reorg past data kept too eagerly); the remaining roots are unchanged. */
  truncate(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0 || count > this.count) throw new Error(`cannot truncate ${this.count} deposits to ${count}`);
    for (let d = 0; d <= DEPTH; d++) this.layers[d].length = Math.floor(count / 2 ** d);
  }

  /** The contract's get_deposit_root() after the first `count` deposits (default: all). */
  getRoot(count = this.count): Uint8Array {
    this.checkCount(count);
    return digest2Bytes32(this.subtreeRoot(DEPTH, 0, count), lengthChunk(count));
  }

  /**
   * The proof of deposit `index` against getRoot(count): 32 sibling hashes, then the length chunk, as
   * is_valid_merkle_branch(leaf, proof, DEPOSIT_CONTRACT_TREE_DEPTH + 1, index, root) checks it in process_deposit.
   */
  getProof(index: number, count = this.count): Uint8Array[] {
    this.checkCount(count);
    if (!Number.isSafeInteger(index) || index < 0 || index >= count) throw new Error(`deposit ${index} is not among the first ${count}`);
    const proof: Uint8Array[] = [];
    for (let d = 0; d < DEPTH; d++) {
      const k = Math.floor(index / 2 ** d);
      proof.push(this.subtreeRoot(d, k % 2 === 0 ? k + 1 : k - 1, count)); // the sibling (no ^: indices pass 2^31)
    }
    proof.push(lengthChunk(count));
    return proof;
  }

  /** The leaf at `index`. */
  getLeaf(index: number): Uint8Array {
    const leaf = this.layers[0][index];
    if (!leaf) throw new Error(`no deposit ${index} (the tree has ${this.count})`);
    return leaf;
  }

  /** The root of subtree k at depth d as it is when the tree holds only its first `count` leaves. */
  private subtreeRoot(d: number, k: number, count: number): Uint8Array {
    const start = k * 2 ** d;
    if (start >= count) return ZERO[d];
    if (start + 2 ** d <= count) return this.layers[d][k];
    // partly filled: only one child can be partial, so this walks one path down
    return digest2Bytes32(this.subtreeRoot(d - 1, 2 * k, count), this.subtreeRoot(d - 1, 2 * k + 1, count));
  }

  private checkCount(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0 || count > this.count) {
      throw new Error(`deposit count ${count} is not in [0, ${this.count}]`);
    }
  }
}
