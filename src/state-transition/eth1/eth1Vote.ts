// The honest proposer's eth1 duties (validator.md v0.12.3, "Eth1 Data" and "Deposits"), pure: the vote from a
// list of eth1 blocks, and the deposits with their proofs against the eth1_data the block will leave in the state.
import type { BeaconConfig } from "../../config/index.js";
import type { BeaconStateView, Deposit, DepositData, Eth1Data } from "../../types/index.js";
import { bytesEqual, toHex } from "../../util/bytes.js";
import type { DepositTree } from "./depositTree.js";

/** An eth1 block with the deposit contract's state after it (validator.md's Eth1Block). */
export interface Eth1BlockData {
  timestamp: number;
  blockHash: Uint8Array;
  depositRoot: Uint8Array;
  depositCount: number;
}

// voting_period_start_time
export function votingPeriodStartTime(c: BeaconConfig, state: BeaconStateView): number {
  const slot = state.slot;
  const start = slot - (slot % (c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH));
  return state.genesisTime + start * c.SECONDS_PER_SLOT;
}

// is_candidate_block
export function isCandidateBlock(c: BeaconConfig, block: Eth1BlockData, periodStart: number): boolean {
  const follow = c.SECONDS_PER_ETH1_BLOCK * c.ETH1_FOLLOW_DISTANCE;
  return block.timestamp + follow <= periodStart && block.timestamp + follow * 2 >= periodStart;
}

function eth1DataKey(d: Eth1Data): string {
  return `${toHex(d.depositRoot)}:${d.depositCount}:${toHex(d.blockHash)}`;
}

/**
 * get_eth1_vote. `eth1Chain` is the known eth1 blocks in ascending height; the follower keeps those that can still be
 * candidates. Returns state.eth1_data when no block is a candidate (the eth1 chain is not live or not followed).
 */
export function getEth1Vote(c: BeaconConfig, state: BeaconStateView, eth1Chain: Eth1BlockData[]): Eth1Data {
  const periodStart = votingPeriodStartTime(c, state);
  const current = state.eth1Data.toValue();
  const toConsider = new Map<string, Eth1Data>();
  let last: Eth1Data | null = null;
  for (const block of eth1Chain) {
    if (!isCandidateBlock(c, block, periodStart) || block.depositCount < current.depositCount) continue;
    const vote = { depositRoot: block.depositRoot, depositCount: BigInt(block.depositCount), blockHash: block.blockHash };
    toConsider.set(eth1DataKey(vote), vote);
    last = vote;
  }
  // votes already cast in this period for a data we would vote for: most votes wins, ties to the first cast
  const counts = new Map<string, { count: number; first: number; vote: Eth1Data }>();
  state.eth1DataVotes.getAllReadonlyValues().forEach((v, i) => {
    const key = eth1DataKey(v);
    const vote = toConsider.get(key);
    if (!vote) return;
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { count: 1, first: i, vote });
  });
  let best: { count: number; first: number; vote: Eth1Data } | null = null;
  for (const e of counts.values()) {
    if (!best || e.count > best.count || (e.count === best.count && e.first < best.first)) best = e;
  }
  return best?.vote ?? last ?? current;
}

/** The state's eth1_data once process_eth1_data has counted `vote` (a block's deposits are checked against it). */
export function eth1DataAfterVote(c: BeaconConfig, state: BeaconStateView, vote: Eth1Data): Eth1Data {
  let count = 1;
  for (const v of state.eth1DataVotes.getAllReadonlyValues()) {
    if (v.depositCount === vote.depositCount && bytesEqual(v.depositRoot, vote.depositRoot) && bytesEqual(v.blockHash, vote.blockHash)) count++;
  }
  return count * 2 > c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH ? vote : state.eth1Data.toValue();
}

/**
 * The deposits a block must carry: state.eth1_deposit_index up to min(eth1_data.deposit_count, index +
 * MAX_DEPOSITS), each with its proof against eth1_data.deposit_root. `eth1Data` is the state's after this block's
 * vote (eth1DataAfterVote). Throws when the tree cannot prove them (not followed far enough, or another contract).
 */
export function getDepositsForBlock(
  c: BeaconConfig,
  state: BeaconStateView,
  eth1Data: Eth1Data,
  tree: DepositTree,
  depositData: (index: number) => DepositData,
): Deposit[] {
  const from = state.eth1DepositIndex;
  if (eth1Data.depositCount <= from) return [];
  // the tree holds the deposits the follower has seen, all below 2^53 (a count it does not have is an error below)
  if (BigInt(tree.count) < eth1Data.depositCount) {
    throw new Error(`eth1_data has ${eth1Data.depositCount} deposits, the deposit tree only ${tree.count}: the eth1 follower is behind`);
  }
  const count = Number(eth1Data.depositCount);
  const to = Math.min(count, from + c.MAX_DEPOSITS);
  if (!bytesEqual(tree.getRoot(count), eth1Data.depositRoot)) {
    throw new Error(`the deposit tree's root at ${count} deposits is not eth1_data's ${toHex(eth1Data.depositRoot)} (another deposit contract?)`);
  }
  const deposits: Deposit[] = [];
  for (let i = from; i < to; i++) deposits.push({ proof: tree.getProof(i, count), data: depositData(i) });
  return deposits;
}
