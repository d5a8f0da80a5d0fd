import type { BeaconConfig } from "../../config/index.js";
import type { BeaconStateView } from "../../types/index.js";
import { StateTransitionError } from "./assert.js";

/**
 * What holds in every state the state transition can produce, checked on a state that comes from outside (a
 * checkpoint-sync server, a `--checkpoint-state` or `--genesis-state` file) before the node builds its caches on
 * it. Cairn reads balances as packed leaves, so a state with fewer balances than validators would not fail: it
 * would quietly compute with zeros. Such a state gets this error instead. Only cheap checks: no list is read.
 */
export function checkAnchorState(c: BeaconConfig, s: BeaconStateView): void {
  const fail = (why: string): never => {
    throw new StateTransitionError(`not a state the chain can be in: ${why}`);
  };
  if (s.balances.length !== s.validators.length) fail(`${s.balances.length} balances for ${s.validators.length} validators`);
  if (s.latestBlockHeader.slot > s.slot) fail(`its latest block header is at slot ${s.latestBlockHeader.slot}, after the state's slot ${s.slot}`);
  const epoch = Math.floor(s.slot / c.SLOTS_PER_EPOCH);
  const finalized = s.finalizedCheckpoint.epoch;
  const justified = s.currentJustifiedCheckpoint.epoch;
  const previous = s.previousJustifiedCheckpoint.epoch;
  if (!(finalized <= justified && previous <= justified && justified <= epoch)) {
    fail(`checkpoints out of order: finalized ${finalized}, previous justified ${previous}, current justified ${justified}, state epoch ${epoch}`);
  }
}
