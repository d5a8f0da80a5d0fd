import { digest2Bytes32 } from "@chainsafe/as-sha256";
import { bytesEqual } from "../../util/bytes.js";

// is_valid_merkle_branch
export function isValidMerkleBranch(
  leaf: Uint8Array,
  branch: Uint8Array[],
  depth: number,
  index: number,
  root: Uint8Array,
): boolean {
  let value = leaf;
  for (let i = 0; i < depth; i++) {
    value = Math.floor(index / 2 ** i) % 2 ? digest2Bytes32(branch[i], value) : digest2Bytes32(value, branch[i]);
  }
  return bytesEqual(value, root);
}
