// Reading committed SSZ trees node by node, where turning every element into a value would cost far more than
// the few fields the transition needs (pending attestations at each epoch, packed uint64 lists such as balances).
// The layout read here is SSZ's merkleization, fixed by the spec; nodes come from @chainsafe/persistent-merkle-tree,
// whose h0..h7 hold the 32 bytes of a chunk as little-endian 32-bit words.
import { getNodesAtDepth, type Node } from "@chainsafe/persistent-merkle-tree";

/** The 32 bytes of a root as the 8 int32 words a node holds. */
export function rootToWords(root: Uint8Array): Int32Array {
  if (root.length !== 32) throw new Error(`expected a 32-byte root, got ${root.length} bytes`);
  const w = new Int32Array(8);
  for (let i = 0; i < 8; i++) w[i] = root[4 * i] | (root[4 * i + 1] << 8) | (root[4 * i + 2] << 16) | (root[4 * i + 3] << 24);
  return w;
}

/** Whether a (hashed) node's 32 bytes equal `w` (from rootToWords). */
export function nodeEqualsWords(node: Node, w: Int32Array): boolean {
  return (
    (node.h0 | 0) === w[0] &&
    (node.h1 | 0) === w[1] &&
    (node.h2 | 0) === w[2] &&
    (node.h3 | 0) === w[3] &&
    (node.h4 | 0) === w[4] &&
    (node.h5 | 0) === w[5] &&
    (node.h6 | 0) === w[6] &&
    (node.h7 | 0) === w[7]
  );
}

/** The uint64 in the first 8 bytes of a leaf, as a number (exact below 2^53; 2^64-1 reads as Infinity). */
export function leafUint64(node: Node): number {
  const lo = node.h0 >>> 0;
  const hi = node.h1 >>> 0;
  if (hi === 0xffffffff && lo === 0xffffffff) return Infinity;
  return hi * 0x100000000 + lo;
}

/** Copies the 8 words of a leaf into `out`. */
export function leafWords(node: Node, out: Int32Array): void {
  out[0] = node.h0;
  out[1] = node.h1;
  out[2] = node.h2;
  out[3] = node.h3;
  out[4] = node.h4;
  out[5] = node.h5;
  out[6] = node.h6;
  out[7] = node.h7;
}

/** Ceil(log2(n)) for n >= 1: the depth of a tree with n leaves. */
export function treeDepth(n: number): number {
  let d = 0;
  while (2 ** d < n) d++;
  return d;
}

/** The element nodes of a committed list tree (the left child of its root, under the length mix-in). */
export function listElementNodes(listRoot: Node, elementDepth: number, length: number): Node[] {
  if (length === 0) return [];
  return getNodesAtDepth(listRoot.left, elementDepth, 0, length);
}

/**
 * The values of a committed packed uint64 list (4 per chunk) whose chunk tree has depth `chunkDepth`, into a new
 * array of numbers. Values are below 2^53 on any real chain; larger ones lose precision as in the list's own reads.
 */
export function readPackedUint64List(listRoot: Node, chunkDepth: number, length: number): number[] {
  const out = new Array<number>(length);
  if (length === 0) return out;
  const chunks = getNodesAtDepth(listRoot.left, chunkDepth, 0, Math.ceil(length / 4));
  const full = Math.floor(length / 4);
  for (let k = 0; k < full; k++) {
    const n = chunks[k];
    const i = 4 * k;
    out[i] = (n.h1 >>> 0) * 0x100000000 + (n.h0 >>> 0);
    out[i + 1] = (n.h3 >>> 0) * 0x100000000 + (n.h2 >>> 0);
    out[i + 2] = (n.h5 >>> 0) * 0x100000000 + (n.h4 >>> 0);
    out[i + 3] = (n.h7 >>> 0) * 0x100000000 + (n.h6 >>> 0);
  }
  if (full < chunks.length) {
    const n = chunks[full];
    const words = [n.h0, n.h1, n.h2, n.h3, n.h4, n.h5, n.h6, n.h7];
    for (let i = 4 * full; i < length; i++) {
      const j = 2 * (i - 4 * full);
      out[i] = (words[j + 1] >>> 0) * 0x100000000 + (words[j] >>> 0);
    }
  }
  return out;
}
