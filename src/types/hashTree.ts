// Hashing a tree's unhashed nodes level by level, many per SHA-256 call. ssz's default `hashTreeRoot()` recurses
// through `Node.rootHashObject`, one native call per node: about a million calls for a freshly deserialized state
// of 100,000 validators. Here the unhashed nodes are collected first (validator nodes apart, hashed from their
// values by hashValidatorNodes), then each level is hashed bottom-up in large batches. The roots are the same:
// every branch is still sha256(left ++ right).
import { hashInto, type Node } from "@chainsafe/persistent-merkle-tree";
import { BranchNodeStruct, type Type } from "@chainsafe/ssz";
import type { ContainerTypeGeneric } from "@chainsafe/ssz/lib/view/container.js";
import {
  BasicContainerTreeViewDU,
  getContainerTreeViewDUClass,
  type ContainerTreeViewDUTypeConstructor,
} from "@chainsafe/ssz/lib/viewDU/container.js";
import { hashValidatorNodes, ValidatorNode } from "./validator.js";

const BATCH = 1024; // parents per hashInto call: 64 KB in, 32 KB out
const input = new Uint8Array(BATCH * 64);
const output = new Uint8Array(BATCH * 32);
// A node's h0..h7 are the chunk's bytes as little-endian 32-bit words (persistent-merkle-tree's own batch hasher
// relies on the same layout); Node.js runs little-endian on every platform it supports.
const input32 = new Int32Array(input.buffer);
const output32 = new Int32Array(output.buffer);

/** Computes the root of every unhashed node under (and including) `root`. Hashed subtrees are not visited. */
export function hashTreeBatched(root: Node): void {
  if (root.h0 !== null) return;
  const levels: Node[][] = [];
  const validators: ValidatorNode[] = [];
  collect(root, 0, levels, validators);
  hashValidatorNodes(validators);
  for (let depth = levels.length - 1; depth >= 0; depth--) hashLevel(levels[depth]);
}

function collect(node: Node, depth: number, levels: Node[][], validators: ValidatorNode[]): void {
  if (node.h0 !== null) return;
  if (node instanceof ValidatorNode) {
    validators.push(node);
    return;
  }
  if (node instanceof BranchNodeStruct) {
    // Another struct node type: hashed from its value on its own.
    void node.rootHashObject;
    return;
  }
  // A node without a root is a branch (leaves are created with theirs). Shared subtrees may be listed twice: they
  // are then hashed twice, to the same root.
  (levels[depth] ??= []).push(node);
  collect(node.left, depth + 1, levels, validators);
  collect(node.right, depth + 1, levels, validators);
}

/** Hashes nodes whose children all have roots. */
function hashLevel(nodes: Node[]): void {
  for (let start = 0; start < nodes.length; start += BATCH) {
    const end = Math.min(nodes.length, start + BATCH);
    let w = 0;
    for (let i = start; i < end; i++, w += 16) {
      const l = nodes[i].left;
      const r = nodes[i].right;
      input32[w] = l.h0;
      input32[w + 1] = l.h1;
      input32[w + 2] = l.h2;
      input32[w + 3] = l.h3;
      input32[w + 4] = l.h4;
      input32[w + 5] = l.h5;
      input32[w + 6] = l.h6;
      input32[w + 7] = l.h7;
      input32[w + 8] = r.h0;
      input32[w + 9] = r.h1;
      input32[w + 10] = r.h2;
      input32[w + 11] = r.h3;
      input32[w + 12] = r.h4;
      input32[w + 13] = r.h5;
      input32[w + 14] = r.h6;
      input32[w + 15] = r.h7;
    }
    const n = end - start;
    hashInto(input.subarray(0, n * 64), output.subarray(0, n * 32));
    let o = 0;
    for (let i = start; i < end; i++, o += 8) {
      const node = nodes[i];
      node.h0 = output32[o];
      node.h1 = output32[o + 1];
      node.h2 = output32[o + 2];
      node.h3 = output32[o + 3];
      node.h4 = output32[o + 4];
      node.h5 = output32[o + 5];
      node.h6 = output32[o + 6];
      node.h7 = output32[o + 7];
    }
  }
}

/**
 * For a container type's `getContainerTreeViewDUClass` option: the library's ViewDU class, whose hashTreeRoot()
 * commits and then hashes the new nodes with hashTreeBatched (used for BeaconState, the one large tree).
 */
export function batchHashedContainerViewDU<Fields extends Record<string, Type<unknown>>>(
  type: ContainerTypeGeneric<Fields>,
): ContainerTreeViewDUTypeConstructor<Fields> {
  // The library types its class as a bare constructor; it is a subclass of BasicContainerTreeViewDU.
  const Base = getContainerTreeViewDUClass(type) as unknown as typeof BasicContainerTreeViewDU<Fields>;
  class BatchHashedContainerTreeViewDU extends Base {
    override hashTreeRoot(): Uint8Array {
      this.commit();
      hashTreeBatched(this.node);
      return this.node.root;
    }
  }
  return BatchHashedContainerTreeViewDU as unknown as ContainerTreeViewDUTypeConstructor<Fields>;
}
