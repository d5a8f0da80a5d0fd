// The eth1 deposit follower: the deposit contract's logs up to head - ETH1_FOLLOW_DISTANCE (so eth1 reorgs shallower
// than that never touch what it has), checked (index order, no gaps), stored with their block number, and the
// deposit tree built from them; plus a cache of recent eth1 blocks with the contract's deposit count and root after
// each, for the proposer's eth1 vote. Resumes from the store after a restart.
import type { BeaconConfig } from "../config/index.js";
import {
  DepositTree,
  eth1DataAfterVote,
  getDepositsForBlock,
  getEth1Vote,
  type CachedBeaconState,
  type Eth1BlockData,
} from "../state-transition/index.js";
import type { Deposit, DepositData, Eth1Data } from "../types/index.js";
import { bytesEqual, fromHex, toHex } from "../util/bytes.js";
import type { Logger } from "../util/logger.js";
import { DEPOSIT_EVENT_TOPIC, decodeDepositLog, type DepositEvent } from "./depositLog.js";
import type { Eth1Rpc } from "./jsonRpc.js";

export interface StoredDeposit {
  blockNumber: number;
  data: DepositData;
}

/** Where deposits survive a restart (the beacon database, or memory before there is one). */
export interface Eth1Store {
  load(): Promise<{ progress: { depositContract: Uint8Array; followedBlock: number } | null; deposits: StoredDeposit[] }>;
  /** appends deposits from `firstIndex` and records the followed block, atomically */
  append(firstIndex: number, deposits: StoredDeposit[], progress: { depositContract: Uint8Array; followedBlock: number }): Promise<void>;
}

export class MemoryEth1Store implements Eth1Store {
  deposits: StoredDeposit[] = [];
  progress: { depositContract: Uint8Array; followedBlock: number } | null = null;
  async load() {
    return { progress: this.progress, deposits: this.deposits.slice() };
  }
  async append(firstIndex: number, deposits: StoredDeposit[], progress: { depositContract: Uint8Array; followedBlock: number }) {
    this.deposits.length = firstIndex;
    this.deposits.push(...deposits);
    this.progress = progress;
  }
}

export interface Eth1BlockInfo extends Eth1BlockData {
  number: number;
  parentHash: Uint8Array;
}

export interface Eth1FollowerOptions {
  config: BeaconConfig;
  rpc: Pick<Eth1Rpc, "blockNumber" | "getLogs" | "getBlockByNumber" | "maxLogsRange">;
  /** 0x address */
  depositContract: string;
  /** the contract's deployment block: no deposit log is older */
  depositBlock: number;
  store: Eth1Store;
  logger?: Logger;
  /** most eth1 block headers fetched at once */
  concurrency?: number;
}

export class Eth1Follower {
  readonly tree = new DepositTree();
  private readonly deposits: StoredDeposit[] = [];
  /** the last block whose logs are all in `deposits`; depositBlock - 1 before any */
  followedBlock: number;
  /** the eth1 head seen at the last update */
  headBlock: number | null = null;
  /** recent blocks up to followedBlock, ascending, without gaps */
  readonly blocks: Eth1BlockInfo[] = [];
  private readonly contract: Uint8Array;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastError: string | null = null;
  /** called with the deposits each update adds (metrics, genesis) */
  onDeposits: ((count: number) => void) | null = null;

  constructor(private readonly opts: Eth1FollowerOptions) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(opts.depositContract)) throw new Error(`deposit contract "${opts.depositContract}" is not a 0x address`);
    if (!Number.isSafeInteger(opts.depositBlock) || opts.depositBlock < 0) throw new Error(`deposit block ${opts.depositBlock} is not a block number`);
    this.contract = fromHex(opts.depositContract);
    this.followedBlock = opts.depositBlock - 1;
  }

  get depositCount(): number {
    return this.deposits.length;
  }

  getDeposit(index: number): StoredDeposit {
    const d = this.deposits[index];
    if (!d) throw new Error(`no deposit ${index} (${this.deposits.length} followed)`);
    return d;
  }

  /** Loads what the store has; refuses a store filled from another deposit contract. */
  async init(): Promise<void> {
    const { progress, deposits } = await this.opts.store.load();
    if (progress && !bytesEqual(progress.depositContract, this.contract)) {
      throw new Error(`the database followed deposit contract ${toHex(progress.depositContract)}, not ${this.opts.depositContract}`);
    }
    for (const d of deposits) {
      this.deposits.push(d);
      this.tree.push(this.opts.config.types.DepositData.hashTreeRoot(d.data));
    }
    if (progress) this.followedBlock = Math.max(this.followedBlock, progress.followedBlock);
  }

  /** One round: new deposit logs and block headers up to head - ETH1_FOLLOW_DISTANCE. Returns the followed block. */
  async update(): Promise<number> {
    const { rpc, config: c } = this.opts;
    const head = await rpc.blockNumber();
    this.headBlock = head;
    const target = head - c.ETH1_FOLLOW_DISTANCE;
    if (target <= this.followedBlock) return this.followedBlock;
    // logs in bounded ranges, each stored with its progress so a restart resumes where it stopped
    const step = rpc.maxLogsRange;
    for (let from = this.followedBlock + 1; from <= target; from += step) {
      const to = Math.min(target, from + step - 1);
      const logs = await rpc.getLogs(this.opts.depositContract, DEPOSIT_EVENT_TOPIC, from, to);
      // follow-distance deep logs are final: a removed one means the endpoint's chain is not the one followed
      const removed = logs.find((l) => l.removed);
      if (removed) throw new Error(`eth1 log ${removed.logIndex} of block ${removed.blockNumber} was removed by a reorg deeper than ETH1_FOLLOW_DISTANCE`);
      const events = this.checkLogs(logs.filter((l) => bytesEqual(l.topics[0] ?? new Uint8Array(), fromHex(DEPOSIT_EVENT_TOPIC))).map(decodeDepositLog));
      const added = events.map((e) => ({ blockNumber: e.blockNumber, data: e.data }));
      await this.opts.store.append(this.deposits.length, added, { depositContract: this.contract, followedBlock: to });
      for (const d of added) {
        this.deposits.push(d);
        this.tree.push(c.types.DepositData.hashTreeRoot(d.data));
      }
      this.followedBlock = to;
      if (added.length) this.onDeposits?.(added.length);
    }
    await this.updateBlocks();
    return this.followedBlock;
  }

  /** Deposit events in index order, continuing the stored ones without a gap; throws (and keeps nothing) otherwise. */
  private checkLogs(events: DepositEvent[]): DepositEvent[] {
    events.sort((a, b) => a.index - b.index);
    events.forEach((e, k) => {
      const expected = this.deposits.length + k;
      if (e.index !== expected) throw new Error(`deposit log with index ${e.index} where ${expected} was expected (a gap or a duplicate)`);
      if (k > 0 && e.blockNumber < events[k - 1].blockNumber) throw new Error(`deposit ${e.index} is in an earlier block than deposit ${e.index - 1}`);
      if (e.blockNumber <= this.followedBlock) throw new Error(`deposit ${e.index} is in block ${e.blockNumber}, already followed`);
    });
    return events;
  }

  /** The deposit count after eth1 block `number` (deposits are in block order). */
  depositCountAt(number: number): number {
    let lo = 0;
    let hi = this.deposits.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.deposits[mid].blockNumber <= number) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Block headers from after the cached ones up to the followed block, keeping those that can still be voted for. */
  private async updateBlocks(): Promise<void> {
    const c = this.opts.config;
    // a block is a candidate while its timestamp is within 2 * follow distance of a voting period start, and the
    // period may have started up to one period ago
    const window = 2 * c.ETH1_FOLLOW_DISTANCE * c.SECONDS_PER_ETH1_BLOCK + c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH * c.SECONDS_PER_SLOT;
    const maxBlocks = 2 * c.ETH1_FOLLOW_DISTANCE + c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH * 4;
    const last = this.blocks.at(-1);
    const from = Math.max(last ? last.number + 1 : 0, this.opts.depositBlock, this.followedBlock - maxBlocks + 1);
    const concurrency = this.opts.concurrency ?? 8;
    for (let start = from; start <= this.followedBlock; start += concurrency) {
      const numbers = [];
      for (let n = start; n < start + concurrency && n <= this.followedBlock; n++) numbers.push(n);
      const headers = await Promise.all(numbers.map((n) => this.opts.rpc.getBlockByNumber(n)));
      for (const [k, h] of headers.entries()) {
        if (!h || h.number !== numbers[k]) throw new Error(`eth1 block ${numbers[k]} is missing or another block`);
        const prev = this.blocks.at(-1);
        if (prev && (prev.number !== h.number - 1 || !bytesEqual(prev.blockHash, h.parentHash))) {
          // deeper than ETH1_FOLLOW_DISTANCE (or a gap): the cache no longer describes one chain
          this.opts.logger?.warn("eth1 reorg deeper than the follow distance: block cache dropped", { block: h.number });
          this.blocks.length = 0;
        }
        const depositCount = this.depositCountAt(h.number);
        this.blocks.push({
          number: h.number,
          blockHash: h.hash,
          parentHash: h.parentHash,
          timestamp: h.timestamp,
          depositCount,
          depositRoot: this.tree.getRoot(depositCount),
        });
      }
    }
    const newest = this.blocks.at(-1)?.timestamp ?? 0;
    const keepFrom = this.blocks.findIndex((b) => b.timestamp >= newest - window);
    if (keepFrom > 0) this.blocks.splice(0, keepFrom);
  }

  /** Block production's eth1 part (Eth1ForBlockProduction): the vote, then the deposits the state will require. */
  getEth1DataAndDeposits(pre: CachedBeaconState): { eth1Data: Eth1Data; deposits: Deposit[] } {
    const c = pre.config;
    const eth1Data = getEth1Vote(c, pre.state, this.blocks);
    const after = eth1DataAfterVote(c, pre.state, eth1Data);
    const deposits = getDepositsForBlock(c, pre.state, after, this.tree, (i) => this.getDeposit(i).data);
    return { eth1Data, deposits };
  }

  /** Polls every `intervalMs` (one eth1 block time by default); a failure is logged once until it changes. */
  start(intervalMs = this.opts.config.SECONDS_PER_ETH1_BLOCK * 1000): void {
    if (this.timer) return;
    const tick = async () => {
      try {
        await this.update();
        if (this.lastError) this.opts.logger?.info("eth1 follower recovered", { followed: this.followedBlock });
        this.lastError = null;
      } catch (e) {
        const msg = (e as Error).message;
        if (msg !== this.lastError) this.opts.logger?.warn("eth1 follower", { error: msg });
        this.lastError = msg;
      }
    };
    const loop = () => {
      this.running = tick().finally(() => {
        this.running = null;
        if (this.timer) this.timer = setTimeout(loop, intervalMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
