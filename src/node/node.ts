// The beacon node: database, BLS worker pool, chain, libp2p network (gossip, req/resp, discovery, sync; optional),
// REST API and metrics, started in that order, then the network dials out and the wall clock ticks fork choice every
// slot; closed in reverse. `cairn beacon` builds one (`cairn dev` without networking); nothing starts on import,
// and libp2p is loaded only when networking is on.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createBeaconApiServer } from "../api/server/index.js";
import { decodeGenesisState, loadCheckpoint, type CheckpointContext, type CheckpointSource } from "./checkpointSync.js";
import { OpPools } from "../chain/opPools/index.js";
import type { PrivateKey } from "@libp2p/interface";
import type { Network } from "../network/network.js";
import { BlsWorkerPool } from "../chain/bls/pool.js";
import type { BlsVerifier } from "../chain/bls/interface.js";
import { BeaconChain, type ChainOptions } from "../chain/chain.js";
import type { BeaconConfig } from "../config/index.js";
import { BeaconDb } from "../db/index.js";
import { createCachedBeaconState, type CachedBeaconState } from "../state-transition/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import { toHex } from "../util/bytes.js";
import { SlotClock } from "../util/slotClock.js";
import { nullLogger, type Logger } from "../util/logger.js";
import { DbEth1Store, Eth1Follower, Eth1Rpc, MemoryEth1Store, waitForEth1Genesis } from "../eth1/index.js";
import { logHeartbeat, type HeartbeatOptions } from "./heartbeat.js";
import { createNodeMetrics, registerEth1Metrics, registerNetworkMetrics, startMetricsServer, type NodeMetrics } from "./metrics.js";

export interface BeaconNodeOptions {
  config: BeaconConfig;
  datadir: string;
  /** The genesis (anchor) state, used only when the database is empty; otherwise it must match the database. */
  genesisState?: Uint8Array | CachedBeaconState;
  /** Start an empty database from a finalized checkpoint instead (see checkpointSync.ts); ignored when it holds a chain. */
  checkpoint?: CheckpointSource & Pick<CheckpointContext, "network" | "maxBytes" | "timeoutMs">;
  rest?: { address: string; port: number } | null;
  metrics?: { address: string; port: number } | null;
  logger?: Logger;
  /** BLS verification threads (default: one per core). */
  blsWorkers?: number;
  chain?: Partial<ChainOptions>;
  /** ms since the Unix epoch (tests). */
  now?: () => number;
  version?: string;
  /**
   * The eth1 deposit follower: eth1 votes and deposits in produced blocks; and genesis from the deposit contract
   * when the database is empty and no genesis state is given. None: blocks repeat the state's eth1_data.
   */
  eth1?: { endpoints: string[]; depositContract: string; depositBlock: number } | null;
  /** aborts a wait for eth1 genesis */
  signal?: AbortSignal;
  heartbeat?: HeartbeatOptions;
  /** libp2p networking; none: a standalone node (cairn dev) */
  network?: {
    privateKey: PrivateKey;
    host?: string;
    p2pPort: number;
    discoveryPort: number | null;
    /** what the ENR advertises, when not the bound address and ports */
    enr?: { ip?: string; tcpPort?: number; udpPort?: number };
    bootnodes?: string[];
    staticPeers?: string[];
    targetPeers?: number;
  } | null;
}

/** One status line's worth of chain facts. */
export interface NodeStatus {
  clockSlot: number;
  headSlot: number;
  headRoot: string;
  justifiedEpoch: number;
  finalizedEpoch: number;
  /** share of the active balance that voted for the previous epoch's target, from the head state (0..1) */
  previousEpochParticipation: number | null;
  peers: number;
}

export class BeaconNode {
  readonly clock: SlotClock;
  readonly metrics: NodeMetrics;
  private readonly abort = new AbortController();
  private clockLoop: Promise<void> = Promise.resolve();
  private api: Awaited<ReturnType<typeof createBeaconApiServer>> | null = null;
  readonly pools: OpPools;
  network: Network | null = null;
  private metricsServer: { port: number; close(): Promise<void> } | null = null;
  eth1: Eth1Follower | null = null;
  private closed = false;
  restPort: number | null = null;
  metricsPort: number | null = null;

  private constructor(
    readonly config: BeaconConfig,
    readonly db: BeaconDb,
    readonly chain: BeaconChain,
    readonly bls: BlsVerifier & { close?(): Promise<void> },
    readonly logger: Logger,
    private readonly opts: BeaconNodeOptions,
  ) {
    this.clock = new SlotClock({
      genesisTime: chain.anchorState.state.genesisTime,
      secondsPerSlot: config.SECONDS_PER_SLOT,
      slotsPerEpoch: config.SLOTS_PER_EPOCH,
      now: opts.now,
    });
    this.metrics = createNodeMetrics(chain);
    this.pools = new OpPools(chain, { currentSlot: () => Math.max(0, this.clock.currentSlot()) });
  }

  static async start(opts: BeaconNodeOptions): Promise<BeaconNode> {
    const { config } = opts;
    const logger = opts.logger ?? nullLogger;
    let genesis: CachedBeaconState | undefined;
    if (opts.genesisState instanceof Uint8Array) {
      genesis = createCachedBeaconState(config, decodeGenesisState(config, opts.genesisState));
    } else {
      genesis = opts.genesisState;
    }
    const dbPath = join(opts.datadir, "chain");
    const loadAnchor = () => loadCheckpoint(opts.checkpoint!, { ...opts.checkpoint, config, genesis, now: opts.now, logger: logger.child("checkpoint") });
    // into a new datadir the checkpoint is fetched first, so that a refused one leaves nothing behind
    let anchor = opts.checkpoint && !existsSync(dbPath) ? await loadAnchor() : null;
    const db = await BeaconDb.open(dbPath, {
      config,
      genesisValidatorsRoot: (genesis ?? anchor?.state)?.state.genesisValidatorsRoot,
    });
    let bls: (BlsVerifier & { close?(): Promise<void> }) | undefined;
    try {
      const pool = new BlsWorkerPool(opts.blsWorkers);
      bls = pool;
      // the chain refuses blocks from beyond this clock
      const chainOpts = { ...opts.chain, ...(opts.now ? { now: opts.now } : {}) };
      let chain: BeaconChain;
      if (await db.getMeta("anchor")) {
        const t = performance.now();
        chain = await BeaconChain.fromDb(config, db, bls, chainOpts);
        logger.info("resumed from the database", {
          head: chain.query.headSlot,
          finalized: chain.query.getFinalizedCheckpoint().epoch,
          blocksReplayed: chain.query.stats().regen.blocksReplayed,
          ms: Math.round(performance.now() - t),
        });
        if (opts.checkpoint) logger.info("the datadir holds a chain: checkpoint sync options ignored", { anchorSlot: chain.anchorSummary.slot });
      } else if (opts.checkpoint) {
        anchor ??= await loadAnchor();
        chain = await BeaconChain.fromAnchorState(config, db, bls, anchor.state, chainOpts, { block: anchor.block, genesisBlockRoot: anchor.genesisBlockRoot });
        logger.info("started from a checkpoint", { epoch: anchor.epoch, root: anchor.root, slot: anchor.state.state.slot, validators: anchor.state.state.validators.length });
      } else {
        if (!genesis && opts.eth1) genesis = await genesisFromEth1(config, opts.eth1, logger, opts.signal);
        if (!genesis) throw new Error(`the database in ${opts.datadir} is empty: give a genesis state (--genesis-state FILE.ssz), a checkpoint (--checkpoint-sync-url URL) or an eth1 endpoint (--eth1.endpoints URL)`);
        chain = await BeaconChain.fromAnchorState(config, db, bls, genesis, chainOpts);
        logger.info("started from the genesis state", {
          genesisTime: genesis.state.genesisTime,
          validators: genesis.state.validators.length,
          root: chain.headRoot,
        });
      }
      // every key decompressed once, in the background on the BLS workers, while the node starts and finds peers
      pool.preloadKeys(chain.pubkeyTable);
      const node = new BeaconNode(config, db, chain, bls, logger, opts);
      await node.startServices();
      return node;
    } catch (e) {
      await bls?.close?.().catch(() => undefined);
      await db.close().catch(() => undefined);
      throw e;
    }
  }

  private async startServices(): Promise<void> {
    const { opts, chain } = this;
    const current = this.clock.currentSlot();
    if (current > 0) await chain.onClockSlot(current);
    if (opts.network) {
      // loaded here so a node without networking never loads libp2p
      const { Network } = await import("../network/network.js");
      this.network = await Network.create({
        config: this.config,
        chain,
        db: this.db,
        pools: this.pools,
        clock: this.clock,
        logger: this.logger.child("network"),
        ...opts.network,
      });
    }
    const network = this.network;
    if (network) registerNetworkMetrics(this.metrics, network);
    if (opts.eth1) {
      const rpc = new Eth1Rpc({ endpoints: opts.eth1.endpoints, chainId: this.config.DEPOSIT_CHAIN_ID });
      const eth1 = new Eth1Follower({ ...opts.eth1, config: this.config, rpc, store: new DbEth1Store(this.db), logger: this.logger.child("eth1") });
      await eth1.init();
      eth1.start();
      this.eth1 = eth1;
      registerEth1Metrics(this.metrics.registry, eth1);
      this.logger.info("following eth1 deposits", { contract: opts.eth1.depositContract, fromBlock: eth1.followedBlock + 1, deposits: eth1.depositCount });
    }
    if (opts.rest) {
      const facts = { version: `Cairn/v${opts.version ?? "0.1.0"}`, ...(opts.eth1 ? { depositContract: opts.eth1.depositContract } : {}) };
      this.api = await createBeaconApiServer({
        chain,
        config: this.config,
        pools: this.pools,
        clock: { currentSlot: () => Math.max(0, this.clock.currentSlot()) },
        node: network
          ? {
              ...facts,
              peerId: network.peerId,
              // read when asked: the addresses and the ENR are known only once the network has started
              get enr() {
                return network.discovery?.enr;
              },
              get p2pAddresses() {
                return network.libp2p.getMultiaddrs().map(String);
              },
              peers: () => network.peers(),
              syncing: () => network.syncStatus(),
              metadata: () => {
                const md = network.getMetadata();
                return { seqNumber: md.seqNumber, attnets: toHex(md.attnets.uint8Array) };
              },
            }
          : facts,
        publisher: network?.publisher(),
        logger: this.logger,
        eth1: this.eth1,
      });
      const { port } = await this.api.listen(opts.rest.address, opts.rest.port).catch((e: unknown) => {
        throw portInUse(e, { listen: `REST API port ${opts.rest!.port}` }, { listen: "--rest.port" });
      });
      this.restPort = port;
      this.logger.info("REST API listening", { address: opts.rest.address, port });
    }
    if (opts.metrics) {
      this.metricsServer = await startMetricsServer(this.metrics.registry, opts.metrics.address, opts.metrics.port).catch((e: unknown) => {
        throw portInUse(e, { listen: `metrics port ${opts.metrics!.port}` }, { listen: "--metrics.port" });
      });
      this.metricsPort = this.metricsServer.port;
      this.logger.info("metrics listening", { address: opts.metrics.address, port: this.metricsPort });
    }
    await network?.start().catch((e: unknown) => {
      const net = opts.network!;
      // UDP (discv5) binds, TCP (libp2p) listens
      throw portInUse(e, { bind: `discovery port ${net.discoveryPort} (UDP)`, listen: `p2p port ${net.p2pPort} (TCP)` }, { bind: "--discovery-port", listen: "--p2p-port" });
    });
    chain.emitter.on("finalized", (e) => this.logger.info("finalized", { epoch: e.epoch, root: e.root }));
    chain.emitter.on("reorg", (e) => this.logger.info("reorg", { depth: e.depth, slot: e.slot, newHead: e.newHeadBlock }));
    this.clockLoop = this.runClock();
  }

  /** Ticks fork choice at every slot. A clock that jumps back is ignored by fork choice (time only moves forward). */
  private async runClock(): Promise<void> {
    const signal = this.abort.signal;
    let slot = this.clock.currentSlot();
    while (!signal.aborted) {
      slot = await this.clock.waitForSlotChange(slot, signal).catch(() => slot);
      if (signal.aborted) break;
      if (slot < 0) continue;
      try {
        await this.chain.onClockSlot(slot);
      } catch (e) {
        this.logger.warn("clock tick failed", { slot, error: e as Error });
      }
      if (slot % this.config.SLOTS_PER_EPOCH === 0) this.heartbeat();
    }
  }

  private heartbeat(): void {
    const s = this.status();
    logHeartbeat(this.logger, {
      ...s,
      slotsPerEpoch: this.config.SLOTS_PER_EPOCH,
      peers: this.network ? s.peers : null,
      syncing: this.network?.syncStatus().isSyncing ?? false,
    }, this.opts.heartbeat);
  }

  status(): NodeStatus {
    const q = this.chain.query;
    const headState = q.getCachedHeadState();
    let participation: number | null = null;
    if (headState) participation = previousEpochTargetParticipation(headState);
    return {
      clockSlot: this.clock.currentSlot(),
      headSlot: q.headSlot,
      headRoot: this.chain.headRoot,
      justifiedEpoch: q.getJustifiedCheckpoint().epoch,
      finalizedEpoch: q.getFinalizedCheckpoint().epoch,
      previousEpochParticipation: participation,
      peers: this.network?.peerManager.peerCount ?? 0,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    await this.clockLoop;
    await this.api?.close().catch((e: unknown) => this.logger.warn("REST API close failed", { error: e as Error }));
    await this.network?.stop().catch((e: unknown) => this.logger.warn("network stop failed", { error: e as Error }));
    await this.eth1?.stop();
    await this.metricsServer?.close();
    await this.chain.close();
    await this.bls.close?.();
    await this.db.close();
  }
}

/**
 * Share of the active balance whose previous-epoch attestations (as included so far in the head state) voted for
 * the right target: what justification counts.
 */
export function previousEpochTargetParticipation(cached: CachedBeaconState): number | null {
  const { config: c, state, epochCtx } = cached;
  const currentEpoch = computeEpochAtSlot(c, state.slot);
  if (currentEpoch === 0) return null;
  const previousEpoch = currentEpoch - 1;
  const targetSlot = computeStartSlotAtEpoch(c, previousEpoch);
  const targetRoot = state.blockRoots.get(targetSlot % c.SLOTS_PER_HISTORICAL_ROOT);
  const attesters = new Set<number>();
  for (const pending of state.previousEpochAttestations.getAllReadonly()) {
    const data = pending.data;
    if (!Buffer.from(data.target.root).equals(Buffer.from(targetRoot))) continue;
    const committee = epochCtx.getBeaconCommittee(data.slot, data.index);
    const bits = pending.aggregationBits;
    for (let i = 0; i < committee.length; i++) if (bits.get(i)) attesters.add(committee[i]);
  }
  let total = 0;
  let voted = 0;
  const validators = state.validators;
  for (const i of epochCtx.previousShuffling.activeIndices) {
    const eb = validators.getReadonly(i).effectiveBalance;
    total += eb;
    if (attesters.has(i)) voted += eb;
  }
  return total > 0 ? voted / total : null;
}

/** Waits for genesis from the deposit contract (an empty database, no genesis state). */
async function genesisFromEth1(
  config: BeaconConfig,
  eth1: NonNullable<BeaconNodeOptions["eth1"]>,
  logger: Logger,
  signal?: AbortSignal,
): Promise<CachedBeaconState> {
  const rpc = new Eth1Rpc({ endpoints: eth1.endpoints, chainId: config.DEPOSIT_CHAIN_ID });
  // in memory: the node's follower stores the deposits in the database once the chain exists
  const follower = new Eth1Follower({ ...eth1, config, rpc, store: new MemoryEth1Store(), logger: logger.child("eth1") });
  await follower.init();
  const state = await waitForEth1Genesis({ config, follower, rpc, logger: logger.child("eth1"), signal });
  return createCachedBeaconState(config, state);
}

/**
 * A port already taken, anywhere in `e`'s causes, becomes an error naming the port and the flag that moves it
 * (by the failing call: "listen" for TCP, "bind" for UDP); any other error is returned as it is.
 */
function portInUse(e: unknown, what: { listen: string; bind?: string }, flags: { listen: string; bind?: string }): unknown {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    const err = c as NodeJS.ErrnoException;
    if (err.code !== "EADDRINUSE" && !/EADDRINUSE/.test(err.message)) continue;
    const udp = err.syscall === "bind" || /\bbind EADDRINUSE/.test(err.message);
    const kind = udp && what.bind !== undefined ? "bind" : "listen";
    return new Error(`${what[kind]} is in use (another node running?): choose another with ${flags[kind]}`, { cause: e });
  }
  return e;
}
