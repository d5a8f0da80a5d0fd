import type { BeaconBlockBody } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { listElementNodes, nodeEqualsWords, rootToWords } from "../util/tree.js";

// process_eth1_data
export function processEth1Data(cached: CachedBeaconState, body: BeaconBlockBody): void {
  const { config: c, state } = cached;
  const vote = body.eth1Data;
  const votes = state.eth1DataVotes;
  // Count the earlier identical votes, plus this one. Up to EPOCHS_PER_ETH1_VOTING_PERIOD * SLOTS_PER_EPOCH votes
  // are compared per block, so they are compared in the tree: an Eth1Data node's three field leaves
  // (deposit_root, deposit_count, block_hash; its fourth leaf is padding) against the vote's, value for value.
  votes.commit();
  const depositRoot = rootToWords(vote.depositRoot);
  const blockHash = rootToWords(vote.blockHash);
  const depositCount = uint64Words(vote.depositCount);
  let count = 1;
  for (const node of listElementNodes(votes.node, votes.type.chunkDepth, votes.length)) {
    const left = node.left;
    if (
      nodeEqualsWords(left.right, depositCount) &&
      nodeEqualsWords(node.right.left, blockHash) &&
      nodeEqualsWords(left.left, depositRoot)
    ) {
      count++;
    }
  }
  votes.push(c.types.Eth1Data.toViewDU(vote));
  if (count * 2 > c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH) {
    state.eth1Data = c.types.Eth1Data.toViewDU(vote);
  }
}

/** The leaf words of a uint64 (8 bytes little-endian, then zeros). */
function uint64Words(n: bigint): Int32Array {
  const w = new Int32Array(8);
  w[0] = Number(BigInt.asIntN(32, n));
  w[1] = Number(BigInt.asIntN(32, n >> 32n));
  return w;
}
