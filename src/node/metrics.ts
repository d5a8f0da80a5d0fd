// Beacon node metrics (prom-client): the standard beacon-metrics names (ethereum/beacon-metrics) and Cairn's own.
// Gauges read the chain when scraped, so nothing on the import path pays for them; only timings and counters are
// recorded as things happen.
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { BeaconChain } from "../chain/chain.js";
import { computeEpochAtSlot } from "../state-transition/util/epoch.js";
import { EventLoopDelayMonitor } from "../util/eventLoop.js";
import { previousEpochTargetParticipation } from "./node.js";

export interface NodeMetrics {
  registry: Registry;
  /** What libp2p_peers reads (0 until networking registers its count). */
  peerCount: () => number;
  blockImportSeconds: Histogram;
  gossipAttestations: Counter<"outcome">;
}

/** Registers the node's metrics on a new registry (or the one given) and hooks them to the chain's events. */
export function createNodeMetrics(chain: BeaconChain, registry = new Registry()): NodeMetrics {
  const registers = [registry];
  // the standard names (process_cpu_seconds_total, process_resident_memory_bytes, nodejs_*): dashboards expect them
  collectDefaultMetrics({ register: registry });
  const q = chain.query;
  const cfg = chain.config;
  const headSlot = () => q.headSlot;
  const metrics = { registry, peerCount: () => 0 } as NodeMetrics;

  new Gauge({ name: "beacon_head_slot", help: "Slot of the head block", registers, collect() { this.set(headSlot()); } });
  new Gauge({
    name: "beacon_head_root",
    help: "Low 48 bits of the head block root (for change detection)",
    registers,
    collect() {
      this.set(parseInt(chain.headRoot.slice(2, 14), 16));
    },
  });
  new Gauge({
    name: "beacon_finalized_epoch",
    help: "Epoch of the finalized checkpoint",
    registers,
    collect() {
      this.set(q.getFinalizedCheckpoint().epoch);
    },
  });
  new Gauge({
    name: "beacon_current_justified_epoch",
    help: "Epoch of the current justified checkpoint (fork choice)",
    registers,
    collect() {
      this.set(q.getJustifiedCheckpoint().epoch);
    },
  });
  // the head state's view of justification: previous and current justified, and participation
  const headStateGauge = (name: string, help: string, read: (s: Awaited<ReturnType<BeaconChain["getHeadState"]>>) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const s = q.getCachedHeadState();
        if (s) this.set(read(s));
      },
    });
  headStateGauge("beacon_processed_deposits_total", "Deposits processed by the head state (its eth1_deposit_index)", (s) => s.state.eth1DepositIndex);
  headStateGauge("beacon_previous_justified_epoch", "Epoch of the head state's previous justified checkpoint", (s) => s.state.previousJustifiedCheckpoint.epoch);
  headStateGauge("cairn_previous_epoch_target_participation", "Share of the active balance that voted for the previous epoch's target (head state)", (s) => previousEpochTargetParticipation(s) ?? 0);
  headStateGauge("beacon_current_active_validators", "Active validators in the head state's current epoch", (s) => s.epochCtx.currentShuffling.activeIndices.length);
  new Gauge({
    name: "beacon_current_epoch",
    help: "Epoch of the fork-choice clock",
    registers,
    collect() {
      this.set(computeEpochAtSlot(cfg, q.stats().forkChoiceSlot));
    },
  });
  new Gauge({ name: "beacon_clock_slot", help: "Slot of the fork-choice clock", registers, collect() { this.set(q.stats().forkChoiceSlot); } });
  new Gauge({
    name: "cairn_sync_distance_slots",
    help: "Slots between the clock and the head",
    registers,
    collect() {
      this.set(Math.max(0, q.stats().forkChoiceSlot - headSlot()));
    },
  });
  // a standalone node has no peers; networking sets the source (registerNetworkMetrics)
  new Gauge({ name: "libp2p_peers", help: "Connected peers that passed the status handshake", registers, collect() { this.set(metrics.peerCount()); } });
  const reorgs = new Counter({ name: "beacon_reorgs_total", help: "Head changes to a block that does not descend from the old head", registers });
  const reorgDepth = new Histogram({ name: "cairn_reorg_depth_slots", help: "Slots from the old head back to the common ancestor", buckets: [1, 2, 4, 8, 16, 32, 64], registers });
  const blocks = new Counter({ name: "beacon_processed_blocks_total", help: "Blocks imported into the chain", registers });
  const finalizations = new Counter({ name: "cairn_finalizations_total", help: "New finalized checkpoints", registers });
  chain.emitter.on("reorg", (e) => {
    reorgs.inc();
    reorgDepth.observe(e.depth);
  });
  chain.emitter.on("block", () => blocks.inc());
  chain.emitter.on("finalized", () => finalizations.inc());

  const blockImportSeconds = new Histogram({
    name: "cairn_block_import_seconds",
    help: "Time to import a block: regen, state transition, signatures, fork choice and database",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  let importsSeen = 0;
  chain.emitter.on("block", () => {
    const ms = chain.metrics.importMs;
    for (; importsSeen < ms.length; importsSeen++) blockImportSeconds.observe(ms[importsSeen] / 1000);
    if (ms.length > 10_000) {
      ms.splice(0, ms.length);
      importsSeen = 0;
    }
  });

  new Gauge({ name: "cairn_fork_choice_nodes", help: "Blocks in the fork-choice proto-array", registers, collect() { this.set(q.stats().forkChoiceNodes); } });
  new Gauge({ name: "cairn_fork_choice_votes", help: "Validators with a latest message", registers, collect() { this.set(q.stats().forkChoiceVotes); } });
  new Gauge({ name: "cairn_block_state_cache_size", help: "States in the block-state cache", registers, collect() { this.set(q.stats().blockStateCacheSize); } });
  new Gauge({ name: "cairn_checkpoint_state_cache_size", help: "States in the checkpoint-state cache", registers, collect() { this.set(q.stats().checkpointStateCacheSize); } });
  new Gauge({ name: "cairn_pending_blocks", help: "Blocks held until their parent arrives", registers, collect() { this.set(q.stats().pendingBlocks); } });
  new Gauge({ name: "cairn_regen_queue_length", help: "State regeneration requests waiting", registers, collect() { this.set(q.stats().regenQueueLength); } });
  const regenCounter = (name: string, help: string, key: "requests" | "cacheHits" | "shared" | "dropped" | "blocksReplayed") =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(q.stats().regen[key]);
      },
    });
  regenCounter("cairn_regen_requests", "State regeneration requests (all callers, since start)", "requests");
  regenCounter("cairn_regen_cache_hits", "Regen requests answered from a cache", "cacheHits");
  regenCounter("cairn_regen_shared", "Regen requests that joined an identical request under way", "shared");
  regenCounter("cairn_regen_dropped", "Regen requests refused because the queue was full", "dropped");
  regenCounter("cairn_regen_blocks_replayed", "Blocks replayed by state regeneration", "blocksReplayed");
  new Gauge({
    name: "cairn_regen_requests_by_caller",
    help: "Regen requests by caller",
    labelNames: ["caller"] as const,
    registers,
    collect() {
      for (const [caller, n] of Object.entries(q.stats().regen.byCaller)) this.set({ caller }, n);
    },
  });

  // the event loop's delay: what every request, stream and import waits for on top of its own work
  const loop = new EventLoopDelayMonitor(10);
  for (const [name, p] of [["p50", 50], ["p99", 99]] as const) {
    new Gauge({
      name: `cairn_event_loop_delay_${name}_seconds`,
      help: `Event-loop delay, ${name} since the previous scrape`,
      registers,
      collect() {
        this.set(loop.percentileMs(p) / 1000);
      },
    });
  }
  new Gauge({
    name: "cairn_event_loop_delay_max_seconds",
    help: "Longest event-loop delay since the previous scrape",
    registers,
    collect() {
      this.set(loop.maxMs() / 1000);
      loop.reset();
    },
  });

  const gossipAttestations = new Counter({
    name: "cairn_api_attestations_total",
    help: "Attestations submitted to the pool, by outcome",
    labelNames: ["outcome"] as const,
    registers,
  });
  metrics.blockImportSeconds = blockImportSeconds;
  metrics.gossipAttestations = gossipAttestations;
  return metrics;
}

/** Networking: the source of libp2p_peers, range sync and gossip counts. */
export function registerNetworkMetrics(
  metrics: NodeMetrics,
  network: {
    peerManager: { peerCount: number };
    syncStatus(): { syncDistance: number; isSyncing: boolean };
    rangeSync: { blocksImported: number };
    backfill: { progress(): { slot: number; blocks: number } };
    gossip: { getCounters(): Record<string, { accept: number; ignore: number; reject: number }> };
  },
): void {
  const registers = [metrics.registry];
  metrics.peerCount = () => network.peerManager.peerCount;
  new Gauge({ name: "cairn_sync_syncing", help: "1 while range sync is catching up", registers, collect() { this.set(network.syncStatus().isSyncing ? 1 : 0); } });
  new Gauge({ name: "cairn_sync_blocks_imported", help: "Blocks imported by range sync since start", registers, collect() { this.set(network.rangeSync.blocksImported); } });
  new Gauge({ name: "cairn_backfill_slot", help: "Oldest slot the history reaches (0: back to genesis)", registers, collect() { this.set(network.backfill.progress().slot); } });
  new Gauge({ name: "cairn_backfill_blocks", help: "Blocks backfilled since start", registers, collect() { this.set(network.backfill.progress().blocks); } });
  new Gauge({
    name: "cairn_gossip_messages",
    help: "Gossip messages validated since start, by topic and result",
    labelNames: ["topic", "result"] as const,
    registers,
    collect() {
      for (const [topic, c] of Object.entries(network.gossip.getCounters())) {
        this.set({ topic, result: "accept" }, c.accept);
        this.set({ topic, result: "ignore" }, c.ignore);
        this.set({ topic, result: "reject" }, c.reject);
      }
    },
  });
}

/** Serves `GET /metrics` in the Prometheus text format. */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url !== "/metrics" && !req.url?.startsWith("/metrics?"))) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr ? addr.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The eth1 follower's gauges (a node with --eth1.endpoints). */
export function registerEth1Metrics(registry: Registry, eth1: { headBlock: number | null; followedBlock: number; depositCount: number }): void {
  const registers = [registry];
  new Gauge({
    name: "cairn_eth1_head_distance",
    help: "Eth1 blocks between the eth1 head and the last followed block (ETH1_FOLLOW_DISTANCE when caught up)",
    registers,
    collect() {
      if (eth1.headBlock !== null) this.set(eth1.headBlock - eth1.followedBlock);
    },
  });
  new Gauge({ name: "cairn_eth1_deposit_count", help: "Deposit logs followed from the deposit contract", registers, collect() { this.set(eth1.depositCount); } });
  new Gauge({ name: "cairn_eth1_followed_block", help: "Last eth1 block whose deposit logs are followed", registers, collect() { this.set(eth1.followedBlock); } });
}
