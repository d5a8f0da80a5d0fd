// The node's networking: the libp2p host with req/resp, gossip, discovery and the peer manager, plus sync.
//
// Medalla's lessons, in order of appearance here:
//   - no gossip while syncing: core topics are joined only once the head is near the clock, and left again when
//     the node falls far behind (peers scored nodes down for not forwarding what they could not validate);
//   - sync keeps progress: range sync continues from the head when a peer leaves (src/sync);
//   - bad peers are shed: req/resp faults, gossip rejections and invalid batches all feed one peer score.
import "./polyfill.js";
import { isIPv6 } from "node:net";
import type { PrivateKey } from "@libp2p/interface";
import type { BeaconChain } from "../chain/chain.js";
import type { OpPools } from "../chain/opPools/index.js";
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import { computeForkDigest } from "../state-transition/util/domain.js";
import { fromHex } from "../util/bytes.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import type { Attestation, Metadata, Status } from "../types/index.js";
import { BackfillSync } from "../sync/backfill.js";
import { RangeSync } from "../sync/rangeSync.js";
import { UnknownBlockSync } from "../sync/unknownBlock.js";
import type { SlotClock } from "../util/slotClock.js";
import { nullLogger, type Logger } from "../util/logger.js";
import { Discovery } from "./discovery/index.js";
import { Gossip, SubnetService, computeSubnetForAttestation, createGossipsubOptions } from "./gossip/index.js";
import type { PeerInfo, Publisher, SyncStatus } from "./interface.js";
import { createCairnLibp2p, type CairnLibp2p } from "./libp2p.js";
import { PeerManager, createBanGater } from "./peers/index.js";
import { ReqResp } from "./reqresp/index.js";

export interface NetworkOptions {
  config: BeaconConfig;
  chain: BeaconChain;
  db: BeaconDb;
  pools: OpPools;
  clock: SlotClock;
  privateKey: PrivateKey;
  /** address to listen on (default 127.0.0.1; 0.0.0.0 for all interfaces) */
  host?: string;
  p2pPort: number;
  /** discv5 UDP port; null: no discovery (static peers only) */
  discoveryPort: number | null;
  /** what the ENR advertises when it differs from what the node binds (a public address, forwarded ports) */
  enr?: { ip?: string; tcpPort?: number; udpPort?: number };
  bootnodes?: string[];
  staticPeers?: string[];
  targetPeers?: number;
  /** validator indices this node's validator clients run (long-lived attestation subnets) */
  localValidators?: number[];
  logger?: Logger;
}

/** Head behind the clock by more than FAR_BEHIND_EPOCHS epochs: leave gossip; within SYNCED_EPOCHS: join it (hysteresis). */
const FAR_BEHIND_EPOCHS = 4;
const SYNCED_EPOCHS = 2;

export class Network {
  readonly forkDigest: Uint8Array;
  readonly reqResp: ReqResp;
  readonly gossip: Gossip;
  readonly subnets: SubnetService;
  readonly peerManager: PeerManager;
  readonly discovery: Discovery | null;
  readonly rangeSync: RangeSync;
  readonly unknownBlockSync: UnknownBlockSync;
  /** history before a checkpoint anchor, filled in from peers (idle on a chain from genesis) */
  readonly backfill: BackfillSync;
  private metadataSeq = 0n;
  private readonly localValidators = new Set<number>();
  private attnets;
  private slotTimer: NodeJS.Timeout | null = null;
  private lastSlot = -1;
  private readonly logger: Logger;

  private constructor(
    private readonly o: NetworkOptions,
    readonly libp2p: CairnLibp2p,
    forkDigest: Uint8Array,
    discovery: Discovery | null,
  ) {
    const { config, chain, pools, clock } = o;
    this.logger = o.logger ?? nullLogger;
    const syncLogger = this.logger.child("sync");
    this.forkDigest = forkDigest;
    const currentSlot = () => Math.max(0, clock.currentSlot());

    this.reqResp = new ReqResp({
      libp2p,
      config,
      handlers: {
        onStatus: (peer, status) => {
          void this.peerManager.onStatusReceived(peer, status).catch(() => undefined);
          return this.getStatus();
        },
        onGoodbye: (peer, reason) => void this.peerManager.onGoodbyeReceived(peer, reason).catch(() => undefined),
        onPing: (peer, seq) => this.peerManager.onPingReceived(peer, seq),
        getMetadata: () => this.getMetadata(),
        onBeaconBlocksByRange: (_peer, req) => this.blocksByRange(req.startSlot, req.count, req.step),
        onBeaconBlocksByRoot: (_peer, roots) => this.blocksByRoot(roots),
      },
      onPeerFault: (peer, fault, detail) => this.peerManager.onPeerFault(peer, fault, detail),
      // a public network is full of misbehaving peers: their req/resp faults are debug lines, not warnings
      logger: { ...this.logger, warn: this.logger.debug },
    });

    this.unknownBlockSync = new UnknownBlockSync({ config, chain, peers: { getPeerStatuses: () => this.peerManager.getPeerStatuses(), reportPeer: (p, a, r) => this.peerManager.reportPeer(p, a, r) }, fetcher: this.reqResp, logger: syncLogger });
    this.gossip = new Gossip({
      libp2p,
      config,
      chain,
      pools,
      clock: { currentSlot, slotAt: (ms: number) => clock.slotAt(ms), now: () => clock.now() },
      forkDigest,
      bls: chain.bls,
      onUnknownParent: (block) => this.unknownBlockSync.onUnknownParent(block),
      onPeerPenalty: (peer, reason) => this.peerManager.reportPeer(peer, "lowTolerance", reason),
      meshMessageDeliveries: false,
      logger: this.logger,
    });
    this.subnets = new SubnetService({
      config,
      clock: { currentSlot },
      gossip: this.gossip,
      onChange: (attnets) => {
        this.attnets = attnets;
        this.metadataSeq++;
        this.discovery?.setAttnets(attnets);
      },
    });
    this.attnets = this.subnets.getAttnets();

    this.peerManager = new PeerManager({
      libp2p: libp2p as never,
      reqResp: this.reqResp,
      config,
      getStatus: () => this.getStatus(),
      getMetadataSeq: () => this.metadataSeq,
      getCanonicalRootAtEpoch: (epoch) => this.canonicalRootAtEpoch(epoch),
      targetPeers: o.targetPeers,
      staticPeers: o.staticPeers,
      logger: this.logger,
    });
    this.discovery = discovery;

    this.rangeSync = new RangeSync({
      config,
      chain,
      peers: this.peerManager,
      fetcher: this.reqResp,
      currentSlot,
      logger: syncLogger,
      onProgress: (p) =>
        syncLogger.info("syncing", {
          head: p.headSlot,
          target: p.targetSlot,
          blocksPerSecond: p.blocksPerSecond,
          eta: p.etaSeconds === null ? "?" : `${p.etaSeconds}s`,
          peers: p.peers,
        }),
    });
    this.peerManager.emitter.on("peerStatus", () => this.rangeSync.notify());
    this.backfill = new BackfillSync({
      config,
      db: o.db,
      peers: this.peerManager,
      fetcher: this.reqResp,
      logger: this.logger.child("backfill"),
    });
  }

  static async create(o: NetworkOptions): Promise<Network> {
    const gvr = o.chain.anchorState.state.genesisValidatorsRoot;
    const forkDigest = computeForkDigest(o.config, o.config.GENESIS_FORK_VERSION, gvr);
    const host = o.host ?? "127.0.0.1";
    // the gater exists before the peer manager that keeps the bans: it asks through this late-bound check
    let isBanned: (peer: string) => boolean = () => false;
    const libp2p = await createCairnLibp2p({
      connectionGater: createBanGater((peer) => isBanned(peer)),
      privateKey: o.privateKey,
      listen: [`/${isIPv6(host) ? "ip6" : "ip4"}/${host}/tcp/${o.p2pPort}`],
      inboundConnectionThreshold: host === "127.0.0.1" ? 100 : 5,
      gossip: createGossipsubOptions(o.config, {
        forkDigest,
        activeValidatorCount: o.chain.anchorState.epochCtx.currentShuffling.activeIndices.length,
        currentSlot: Math.max(0, o.clock.currentSlot()),
        meshMessageDeliveries: false,
        ipColocationWhitelist: host === "127.0.0.1" ? ["127.0.0.1"] : [],
      }),
    });
    // discovery hands what it finds to the peer manager, which exists once the Network does
    let network: Network | null = null;
    const discovery =
      o.discoveryPort === null
        ? null
        : await Discovery.create({
            config: o.config,
            privateKey: o.privateKey,
            forkDigest,
            ip: host,
            udpPort: o.discoveryPort,
            tcpPort: o.enr?.tcpPort ?? o.p2pPort,
            enrIp: o.enr?.ip,
            enrUdpPort: o.enr?.udpPort,
            bootEnrs: o.bootnodes,
            wantMorePeers: () => network?.peerManager.needsPeers() ?? false,
            onPeerDiscovered: (p) => network?.peerManager.addDiscoveredPeer(p),
          });
    network = new Network(o, libp2p, forkDigest, discovery);
    const manager = network.peerManager;
    isBanned = (peer) => manager.isBanned(peer);
    return network;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  async start(): Promise<void> {
    await this.reqResp.start();
    await this.libp2p.start();
    // with port 0 the real TCP port is known only now
    const tcp = this.libp2p.getMultiaddrs().map((a) => Number(/\/tcp\/(\d+)/.exec(a.toString())?.[1])).find((p) => p > 0);
    if (tcp && this.discovery && tcp !== this.o.p2pPort && this.o.enr?.tcpPort === undefined) this.discovery.setTcpPort(tcp);
    this.gossip.start();
    for (const v of this.o.localValidators ?? []) this.localValidators.add(v);
    if (this.localValidators.size > 0) this.subnets.setLocalValidators(this.localValidators);
    this.subnets.start();
    this.peerManager.start();
    await this.discovery?.start();
    this.rangeSync.start();
    this.backfill.start();
    this.slotTimer = setInterval(() => this.onTick(), 250);
    this.slotTimer.unref();
    this.logger.info("network started", { peerId: this.peerId, addrs: this.libp2p.getMultiaddrs().map(String).join(","), enr: this.discovery?.enr });
  }

  async stop(): Promise<void> {
    if (this.slotTimer) clearInterval(this.slotTimer);
    await this.rangeSync.stop();
    await this.backfill.stop();
    await this.discovery?.stop();
    await this.peerManager.stop();
    this.subnets.stop();
    this.gossip.stop();
    await this.reqResp.stop();
    await this.libp2p.stop();
  }

  /** Joins or leaves gossip by how far the head is behind the clock; refreshes scoring once an epoch. */
  private onTick(): void {
    const slot = this.o.clock.currentSlot();
    if (slot === this.lastSlot || slot < 0) return;
    const newEpoch = computeEpochAtSlot(this.o.config, slot) !== computeEpochAtSlot(this.o.config, Math.max(0, this.lastSlot));
    this.lastSlot = slot;
    const behind = slot - this.headSlot();
    const spe = this.o.config.SLOTS_PER_EPOCH;
    const subscribed = this.gossip.isSubscribedToCore();
    if (!subscribed && behind <= SYNCED_EPOCHS * spe) {
      this.gossip.subscribeCoreTopics();
      this.logger.info("joined gossip", { head: this.headSlot(), clock: slot });
    } else if (subscribed && behind > FAR_BEHIND_EPOCHS * spe) {
      this.gossip.unsubscribeAll();
      this.logger.info("left gossip while far behind", { head: this.headSlot(), clock: slot });
    }
    this.subnets.onSlot(slot);
    if (newEpoch) {
      const head = this.o.chain.query.getCachedHeadState();
      this.gossip.updateScoreParams(head?.epochCtx.currentShuffling.activeIndices.length);
    }
  }

  private headSlot(): number {
    return this.o.chain.query.headSlot;
  }

  getStatus(): Status {
    const q = this.o.chain.query;
    const finalized = q.getFinalizedCheckpoint();
    return {
      forkDigest: this.forkDigest,
      // p2p-interface.md: the genesis checkpoint's root is zero
      finalizedRoot: finalized.epoch === 0 ? new Uint8Array(32) : fromHex(finalized.root),
      finalizedEpoch: finalized.epoch,
      headRoot: fromHex(this.o.chain.headRoot),
      headSlot: q.headSlot,
    };
  }

  getMetadata(): Metadata {
    return { seqNumber: this.metadataSeq, attnets: this.attnets };
  }

  syncStatus(): SyncStatus {
    const head = this.headSlot();
    const clock = Math.max(0, this.o.clock.currentSlot());
    const distance = Math.max(0, clock - head);
    return { headSlot: head, syncDistance: distance, isSyncing: this.rangeSync.state === "syncing" && distance > 1 };
  }

  peers(): PeerInfo[] {
    // one entry per peer (two simultaneous dials leave two connections to the same peer for a while)
    const out: PeerInfo[] = [];
    const seen = new Set<string>();
    for (const conn of this.libp2p.getConnections()) {
      if (seen.has(conn.remotePeer.toString())) continue;
      seen.add(conn.remotePeer.toString());
      out.push({
        peerId: conn.remotePeer.toString(),
        lastSeenP2pAddress: conn.remoteAddr.toString(),
        state: "connected",
        direction: conn.direction,
      } as PeerInfo);
    }
    return out;
  }

  /** Gossip for what the API accepted. */
  publisher(): Publisher {
    const log = (what: string) => (e: unknown) => this.logger.debug(`publishing ${what} failed`, { error: (e as Error).message });
    return {
      block: (b) => void this.gossip.publishBlock(b).catch(log("block")),
      attestation: (a) => void this.publishAttestation(a).catch(log("attestation")),
      aggregate: (a) => void this.gossip.publishAggregate(a).catch(log("aggregate")),
      voluntaryExit: (e) => void this.gossip.publishVoluntaryExit(e).catch(log("exit")),
      proposerSlashing: (s) => void this.gossip.publishProposerSlashing(s).catch(log("proposer slashing")),
      attesterSlashing: (s) => void this.gossip.publishAttesterSlashing(s).catch(log("attester slashing")),
      committeeSubscriptions: (subs) => {
        // the validators behind these subscriptions are ours: each keeps a random long-lived subnet (attnets)
        let added = false;
        for (const s of subs) {
          if (!this.localValidators.has(s.validatorIndex)) {
            this.localValidators.add(s.validatorIndex);
            added = true;
          }
        }
        if (added) this.subnets.setLocalValidators(this.localValidators);
        for (const s of subs) {
          const subnet = computeSubnetForAttestation(this.o.config, s.committeesAtSlot, s.slot, s.committeeIndex);
          try {
            this.subnets.addDutySubscription(subnet, s.slot, s.isAggregator);
          } catch (e) {
            // a slot already past or too far ahead: nothing to join
            this.logger.debug("committee subscription skipped", { slot: s.slot, subnet, error: (e as Error).message });
          }
        }
      },
    };
  }

  private async publishAttestation(att: Attestation): Promise<void> {
    const state = await this.o.chain.getHeadState("gossip");
    const epoch = computeEpochAtSlot(this.o.config, att.data.slot);
    const committeesPerSlot = state.epochCtx.getCommitteeCountPerSlot(epoch);
    await this.gossip.publishAttestation(att, computeSubnetForAttestation(this.o.config, committeesPerSlot, att.data.slot, att.data.index));
  }

  // --- req/resp serving -----------------------------------------------------------------------------------

  private blocksByRange(startSlot: number, count: number, step: number): AsyncIterable<Uint8Array> {
    return this.o.chain.query.getBlockBytesByRange(startSlot, count, step);
  }

  private async *blocksByRoot(roots: Uint8Array[]): AsyncIterable<Uint8Array> {
    for (const root of roots) {
      const bytes = await this.o.chain.query.getBlockBytesByRoot(root);
      if (bytes) yield bytes;
    }
  }

  /** Our canonical block root at the start of `epoch` (the latest block at or before its first slot). */
  private async canonicalRootAtEpoch(epoch: number): Promise<Uint8Array | null> {
    if (epoch === 0) return new Uint8Array(32);
    const start = computeStartSlotAtEpoch(this.o.config, epoch);
    for (let s = start; s >= Math.max(0, start - 4 * this.o.config.SLOTS_PER_EPOCH); s--) {
      const r = await this.o.chain.query.getCanonicalBlockRootAtSlot(s);
      if (r) return fromHex(r);
    }
    return null;
  }
}
