import type { BeaconBlock } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { assert } from "../util/assert.js";
import { bytesEqual } from "../../util/bytes.js";

// process_block_header
export function processBlockHeader(cached: CachedBeaconState, block: BeaconBlock): void {
  const { config: c, state, epochCtx } = cached;
  assert(block.slot === state.slot, `block slot ${block.slot} != state slot ${state.slot}`);
  assert(block.slot > state.latestBlockHeader.slot, `block slot ${block.slot} not after the latest block header's`);
  const proposer = epochCtx.getBeaconProposer(state.slot);
  assert(block.proposerIndex === proposer, `proposer index ${block.proposerIndex} != expected ${proposer}`);
  assert(
    bytesEqual(block.parentRoot, state.latestBlockHeader.hashTreeRoot()),
    "parent root does not match the latest block header",
  );
  state.latestBlockHeader = c.types.BeaconBlockHeader.toViewDU({
    slot: block.slot,
    proposerIndex: block.proposerIndex,
    parentRoot: block.parentRoot,
    stateRoot: new Uint8Array(32),
    bodyRoot: c.types.BeaconBlockBody.hashTreeRoot(block.body),
  });
  assert(!state.validators.getReadonly(block.proposerIndex).slashed, `proposer ${block.proposerIndex} is slashed`);
}
