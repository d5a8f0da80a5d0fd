import type { BeaconBlockBody } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { bytesEqual } from "../util/math.js";

// process_eth1_data
export function processEth1Data(cached: CachedBeaconState, body: BeaconBlockBody): void {
  const { config: c, state } = cached;
  const vote = body.eth1Data;
  const votes = state.eth1DataVotes;
  // count the earlier identical votes (element reads work on uncommitted views, bulk reads do not), plus this one
  let count = 1;
  for (let i = 0, n = votes.length; i < n; i++) {
    const v = votes.getReadonly(i);
    if (v.depositCount === vote.depositCount && bytesEqual(v.depositRoot, vote.depositRoot) && bytesEqual(v.blockHash, vote.blockHash)) {
      count++;
    }
  }
  votes.push(c.types.Eth1Data.toViewDU(vote));
  if (count * 2 > c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH) {
    state.eth1Data = c.types.Eth1Data.toViewDU(vote);
  }
}
