import type { BeaconBlockBody } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";

// process_eth1_data
export function processEth1Data(cached: CachedBeaconState, body: BeaconBlockBody): void {
  const { config: c, state } = cached;
  const t = c.types.Eth1Data;
  state.eth1DataVotes.push(t.toViewDU(body.eth1Data));
  let count = 0;
  state.eth1DataVotes.forEachValue((vote) => {
    if (t.equals(vote, body.eth1Data)) count++;
  });
  if (count * 2 > c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH) {
    state.eth1Data = t.toViewDU(body.eth1Data);
  }
}
