import { ListCompositeType } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../config/index.js";
import { DEPOSIT_CONTRACT_TREE_DEPTH, GENESIS_EPOCH } from "../../params/index.js";
import type { BeaconStateView, Deposit } from "../../types/index.js";
import { processDeposit } from "../block/processDeposit.js";
import { createCachedBeaconState } from "../cache/cachedBeaconState.js";
import { getActiveValidatorIndicesFromState } from "../cache/epochShuffling.js";

// initialize_beacon_state_from_eth1
export function initializeBeaconStateFromEth1(
  c: BeaconConfig,
  eth1BlockHash: Uint8Array,
  eth1Timestamp: number,
  deposits: Deposit[],
): BeaconStateView {
  const t = c.types;
  const state = t.BeaconState.defaultViewDU();
  state.genesisTime = eth1Timestamp + c.GENESIS_DELAY;
  state.fork = t.Fork.toViewDU({
    previousVersion: c.GENESIS_FORK_VERSION,
    currentVersion: c.GENESIS_FORK_VERSION,
    epoch: GENESIS_EPOCH,
  });
  state.eth1Data = t.Eth1Data.toViewDU({
    depositRoot: new Uint8Array(32),
    depositCount: BigInt(deposits.length),
    blockHash: eth1BlockHash,
  });
  state.latestBlockHeader = t.BeaconBlockHeader.toViewDU({
    ...t.BeaconBlockHeader.defaultValue(),
    bodyRoot: t.BeaconBlockBody.hashTreeRoot(t.BeaconBlockBody.defaultValue()),
  });
  for (let i = 0; i < c.EPOCHS_PER_HISTORICAL_VECTOR; i++) state.randaoMixes.set(i, eth1BlockHash);

  const cached = createCachedBeaconState(c, state);
  // The deposit root after each deposit: a growing tree, re-hashed incrementally.
  const depositDataList = new ListCompositeType(t.DepositData, 2 ** DEPOSIT_CONTRACT_TREE_DEPTH).defaultViewDU();
  for (const deposit of deposits) {
    depositDataList.push(t.DepositData.toViewDU(deposit.data));
    cached.state.eth1Data.depositRoot = depositDataList.hashTreeRoot();
    processDeposit(cached, deposit);
  }

  const n = state.validators.length;
  for (let i = 0; i < n; i++) {
    const balance = state.balances.get(i);
    const validator = state.validators.get(i);
    validator.effectiveBalance = Math.min(balance - (balance % c.EFFECTIVE_BALANCE_INCREMENT), c.MAX_EFFECTIVE_BALANCE);
    if (validator.effectiveBalance === c.MAX_EFFECTIVE_BALANCE) {
      validator.activationEligibilityEpoch = GENESIS_EPOCH;
      validator.activationEpoch = GENESIS_EPOCH;
    }
  }
  state.genesisValidatorsRoot = state.validators.hashTreeRoot();
  state.commit();
  return state;
}

// is_valid_genesis_state
export function isValidGenesisState(c: BeaconConfig, state: BeaconStateView): boolean {
  if (state.genesisTime < c.MIN_GENESIS_TIME) return false;
  return getActiveValidatorIndicesFromState(state, GENESIS_EPOCH).length >= c.MIN_GENESIS_ACTIVE_VALIDATOR_COUNT;
}
