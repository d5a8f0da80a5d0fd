// Genesis from the deposit contract (beacon-chain.md, Genesis): the first followed eth1 block whose candidate state,
// initialize_beacon_state_from_eth1(hash, timestamp, deposits up to it), passes is_valid_genesis_state. Candidate
// states are built only for blocks that can pass: enough pubkeys with MAX_EFFECTIVE_BALANCE deposited (an upper
// bound: a bad signature can still spoil one) and a timestamp late enough for MIN_GENESIS_TIME.
import type { BeaconConfig } from "../config/index.js";
import { initializeBeaconStateFromEth1, isValidGenesisState } from "../state-transition/index.js";
import type { BeaconStateView, Deposit } from "../types/index.js";
import { toHex } from "../util/bytes.js";
import type { Logger } from "../util/logger.js";
import type { Eth1Follower } from "./follower.js";
import type { Eth1Block, Eth1Rpc } from "./jsonRpc.js";

export interface Eth1GenesisOptions {
  config: BeaconConfig;
  follower: Eth1Follower;
  rpc: Pick<Eth1Rpc, "getBlockByNumber">;
  logger?: Logger;
  signal?: AbortSignal;
  /** between eth1 polls (default one eth1 block time) */
  pollMs?: number;
  /** Unix seconds (tests) */
  now?: () => number;
}

/** Waits (polling the follower) until genesis can be built, and returns the genesis state. */
export async function waitForEth1Genesis(opts: Eth1GenesisOptions): Promise<BeaconStateView> {
  const { config: c, follower, logger } = opts;
  const pollMs = opts.pollMs ?? c.SECONDS_PER_ETH1_BLOCK * 1000;
  let lastProgress = "";
  for (;;) {
    if (opts.signal?.aborted) throw new Error("stopped while waiting for genesis");
    try {
      await follower.update();
      const state = await tryGenesis(opts);
      if (state) return state;
    } catch (e) {
      logger?.warn("eth1 genesis", { error: (e as Error).message });
    }
    const progress = `deposits ${follower.depositCount}, full validators ${fullValidatorCount(c, follower, follower.depositCount)}/${c.MIN_GENESIS_ACTIVE_VALIDATOR_COUNT}, eth1 followed to block ${follower.followedBlock}`;
    if (progress !== lastProgress) logger?.info(`waiting for genesis: ${progress}, MIN_GENESIS_TIME ${c.MIN_GENESIS_TIME}`);
    lastProgress = progress;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        opts.signal?.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, pollMs);
      opts.signal?.addEventListener("abort", done, { once: true });
    });
  }
}

/** Pubkeys whose deposits among the first `count` add up to MAX_EFFECTIVE_BALANCE (signatures not checked). */
function fullValidatorCount(c: BeaconConfig, follower: Eth1Follower, count: number): number {
  const balances = new Map<string, number>();
  let full = 0;
  for (let i = 0; i < count; i++) {
    const { pubkey, amount } = follower.getDeposit(i).data;
    const key = toHex(pubkey);
    const before = balances.get(key) ?? 0;
    balances.set(key, before + amount);
    if (before < c.MAX_EFFECTIVE_BALANCE && before + amount >= c.MAX_EFFECTIVE_BALANCE) full++;
  }
  return full;
}

/** The smallest deposit count with MIN_GENESIS_ACTIVE_VALIDATOR_COUNT full validators, or null. */
function firstCountWithFullValidators(c: BeaconConfig, follower: Eth1Follower): number | null {
  const balances = new Map<string, number>();
  let full = 0;
  for (let i = 0; full < c.MIN_GENESIS_ACTIVE_VALIDATOR_COUNT; i++) {
    if (i >= follower.depositCount) return null;
    const { pubkey, amount } = follower.getDeposit(i).data;
    const key = toHex(pubkey);
    const before = balances.get(key) ?? 0;
    balances.set(key, before + amount);
    if (before < c.MAX_EFFECTIVE_BALANCE && before + amount >= c.MAX_EFFECTIVE_BALANCE) full++;
    if (full >= c.MIN_GENESIS_ACTIVE_VALIDATOR_COUNT) return i + 1;
  }
  return 0;
}

async function tryGenesis(opts: Eth1GenesisOptions): Promise<BeaconStateView | null> {
  const { config: c, follower, rpc } = opts;
  const now = opts.now?.() ?? Math.floor(Date.now() / 1000);
  // the first deposit count at which enough validators can be full
  const count = firstCountWithFullValidators(c, follower);
  if (count === null) return null;
  let number = count === 0 ? 0 : follower.getDeposit(count - 1).blockNumber;
  const fetch = async (n: number): Promise<Eth1Block> => {
    const b = await rpc.getBlockByNumber(n);
    if (!b) throw new Error(`eth1 block ${n} is not available`);
    return b;
  };
  for (;;) {
    if (number > follower.followedBlock) return null;
    let block = await fetch(number);
    if (block.timestamp + c.GENESIS_DELAY < c.MIN_GENESIS_TIME) {
      // the first followed block late enough: a binary search on timestamps
      const last = await fetch(follower.followedBlock);
      if (last.timestamp + c.GENESIS_DELAY < c.MIN_GENESIS_TIME) return null;
      let [lo, hi] = [number + 1, follower.followedBlock];
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if ((await fetch(mid)).timestamp + c.GENESIS_DELAY >= c.MIN_GENESIS_TIME) hi = mid;
        else lo = mid + 1;
      }
      block = await fetch(lo);
      number = lo;
    }
    // eth1 blocks count only once SECONDS_PER_ETH1_BLOCK * ETH1_FOLLOW_DISTANCE old
    if (block.timestamp + c.SECONDS_PER_ETH1_BLOCK * c.ETH1_FOLLOW_DISTANCE > now) return null;
    const n = follower.depositCountAt(number);
    const deposits: Deposit[] = [];
    for (let i = 0; i < n; i++) deposits.push({ proof: follower.tree.getProof(i, i + 1), data: follower.getDeposit(i).data });
    const state = initializeBeaconStateFromEth1(c, block.hash, block.timestamp, deposits);
    if (isValidGenesisState(c, state)) {
      opts.logger?.info("genesis from eth1", { block: number, hash: toHex(block.hash), deposits: n, genesisTime: state.genesisTime, validators: state.validators.length });
      return state;
    }
    // too few valid validators (bad signatures, partial deposits): only a later deposit can change that
    if (n >= follower.depositCount) return null;
    number = follower.getDeposit(n).blockNumber;
  }
}
