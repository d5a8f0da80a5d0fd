// The peer manager: which peers the node keeps. It dials discovered and static peers up to a target count,
// handshakes (Status) every new connection, drops peers of another network or with a conflicting finality,
// keeps each peer's latest Status for sync, pings peers and refreshes their MetaData, scores them (req/resp
// faults, sync reports, gossipsub score) and disconnects or bans the bad ones. Above the target it sheds the
// lowest-scored peers first; static peers are never shed, never scored out, and are redialed when lost.
import { EventEmitter } from "node:events";
import type { Connection, Libp2p, PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import type { BeaconConfig } from "../../config/index.js";
import { bytesEqual, toHex } from "../../util/bytes.js";
import type { Metadata, Status } from "../../types/index.js";
import { nullLogger, type Logger } from "../../util/logger.js";
import { GoodbyeReasonCode, goodbyeReasonName } from "./constants.js";
import type { ReqRespFault } from "../reqresp/errors.js";
import { PeerScoreStore, REQ_RESP_FAULT_ACTION, type PeerAction, type PeerScoreOpts, type ScoreState } from "./score.js";

/** The part of D's ReqResp the peer manager calls. */
export interface PeerManagerReqResp {
  status(peer: string, ours: Status): Promise<Status>;
  goodbye(peer: string, reason: bigint): Promise<void>;
  ping(peer: string, ourSeq: bigint): Promise<bigint>;
  metadata(peer: string): Promise<Metadata>;
}

export interface PeerManagerEvents {
  /** handshake done: the peer is on our network and its Status is known */
  peerConnected: [peer: string, status: Status];
  /** a peer that had been reported by peerConnected is gone */
  peerDisconnected: [peer: string];
  /** every Status accepted from a peer (the handshake and each refresh) */
  peerStatus: [peer: string, status: Status];
  /** a peer's MetaData was fetched (its seq number changed) */
  peerMetadata: [peer: string, metadata: Metadata];
}

export interface PeerManagerOpts {
  libp2p: Libp2p;
  reqResp: PeerManagerReqResp;
  /** not needed by the peer manager itself; accepted so the network pieces share one constructor shape */
  config?: BeaconConfig;
  /** our Status as of now (fork digest, finalized checkpoint, head) */
  getStatus: () => Status;
  /** our MetaData seq number, sent in pings */
  getMetadataSeq: () => bigint;
  /** our canonical block root at the start slot of `epoch` (null if unknown), to check a peer's finalized root */
  getCanonicalRootAtEpoch: (epoch: number) => Promise<Uint8Array | null>;
  /** default 25 */
  targetPeers?: number;
  /** multiaddrs with /p2p/<peerId>, dialed at start and redialed when lost */
  staticPeers?: string[];
  /** default: the gossipsub service's getScore, when the host has one */
  getGossipScore?: (peer: string) => number;
  heartbeatIntervalMs?: number;
  pingIntervalMs?: number;
  /** how often a handshaken peer's Status is re-requested */
  statusIntervalMs?: number;
  /** how long an inbound peer has to send its Status before we ask for it */
  inboundStatusGraceMs?: number;
  dialTimeoutMs?: number;
  goodbyeTimeoutMs?: number;
  /** after a Goodbye either way, wait this long before dialing that peer again (default 60 s) */
  reconnectDelayMs?: number;
  score?: PeerScoreOpts;
  logger?: Logger;
  now?: () => number;
}

interface PeerData {
  readonly peer: string;
  readonly direction: "inbound" | "outbound";
  readonly connectedAtMs: number;
  status: Status | null;
  statusAtMs: number;
  metadata: Metadata | null;
  lastPingMs: number;
  pingFailures: number;
  /** peerConnected was emitted */
  handshaken: boolean;
  disconnecting: boolean;
  statusInFlight: boolean;
  pingInFlight: boolean;
  metadataInFlight: boolean;
  inboundTimer: NodeJS.Timeout | null;
}

interface KnownAddr {
  multiaddr: string;
  /** no dial before this time (after a failed dial) */
  retryAtMs: number;
  failures: number;
}

const MAX_KNOWN_ADDRS = 500;
const PENDING_STATUS_MAX_AGE_MS = 10_000;
const MAX_PENDING_STATUSES = 100;
const MAX_PING_FAILURES = 3;
const DIAL_BACKOFF_BASE_MS = 5_000;
const DIAL_BACKOFF_MAX_MS = 5 * 60_000;

export class PeerManager {
  readonly emitter = new EventEmitter<PeerManagerEvents>();
  readonly scores: PeerScoreStore;
  readonly targetPeers: number;
  /** counters, for logs, metrics and tests */
  readonly stats = { dials: 0, dialFailures: 0, refusedBanned: 0, goodbyesSent: 0, handshakes: 0, bans: 0, pruned: 0 };

  private readonly libp2p: Libp2p;
  private readonly reqResp: PeerManagerReqResp;
  private readonly opts: PeerManagerOpts;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly getGossipScore: ((peer: string) => number) | null;
  private readonly peers = new Map<string, PeerData>();
  private readonly staticPeers = new Map<string, KnownAddr>();
  /** discovered peers (insertion order = age), to dial while below the target */
  private readonly knownAddrs = new Map<string, KnownAddr>();
  private readonly dialing = new Set<string>();
  /** Status requests that came in before their connection was seen */
  private readonly pendingStatuses = new Map<string, { status: Status; atMs: number }>();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private running = false;
  private readonly selfId: string;

  constructor(opts: PeerManagerOpts) {
    const target = opts.targetPeers ?? 25;
    if (!Number.isInteger(target) || target < 0) throw new Error(`invalid target peer count ${target}`);
    this.targetPeers = target;
    this.opts = opts;
    this.libp2p = opts.libp2p;
    this.reqResp = opts.reqResp;
    this.logger = opts.logger ?? nullLogger;
    this.now = opts.now ?? Date.now;
    this.scores = new PeerScoreStore({ now: this.now, ...opts.score });
    this.selfId = opts.libp2p.peerId.toString();
    this.getGossipScore = opts.getGossipScore ?? defaultGossipScore(opts.libp2p);
    for (const addr of opts.staticPeers ?? []) {
      const peer = peerIdOfMultiaddr(addr);
      this.staticPeers.set(peer, { multiaddr: addr, retryAtMs: 0, failures: 0 });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.libp2p.addEventListener("connection:open", this.onConnectionOpen);
    this.libp2p.addEventListener("peer:disconnect", this.onPeerDisconnect);
    // Connections made before start (the host may have been started first) are handled as new ones.
    for (const conn of this.libp2p.getConnections()) this.onConnection(conn);
    for (const peer of this.staticPeers.keys()) void this.dialPeer(peer);
    const interval = this.opts.heartbeatIntervalMs ?? 5_000;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), interval);
    this.heartbeatTimer.unref?.();
  }

  /** Says Goodbye (client shut down) to every peer and hangs up. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    this.libp2p.removeEventListener("connection:open", this.onConnectionOpen);
    await Promise.all([...this.peers.keys()].map((peer) => this.disconnect(peer, GoodbyeReasonCode.clientShutDown, "shutting down")));
    this.libp2p.removeEventListener("peer:disconnect", this.onPeerDisconnect);
    for (const data of this.peers.values()) this.forget(data);
  }

  // ---- queries ----

  /** Handshaken peers and their latest Status (for sync). */
  getPeerStatuses(): Map<string, Status> {
    const out = new Map<string, Status>();
    for (const data of this.peers.values()) if (data.handshaken && !data.disconnecting && data.status) out.set(data.peer, data.status);
    return out;
  }

  getConnectedPeers(): string[] {
    return [...this.peers.values()].filter((d) => d.handshaken && !d.disconnecting).map((d) => d.peer);
  }

  getPeerMetadata(peer: string): Metadata | null {
    return this.peers.get(peer)?.metadata ?? null;
  }

  getPeerScore(peer: string): number {
    return this.scores.getScore(peer);
  }

  isBanned(peer: string): boolean {
    return this.scores.isBanned(peer);
  }

  /** Connected (handshaking or handshaken) plus dials in flight. */
  get peerCount(): number {
    let n = 0;
    for (const d of this.peers.values()) if (!d.disconnecting) n++;
    return n;
  }

  /** Discovery asks this before each lookup. */
  needsPeers(): boolean {
    return this.running && this.peerCount + this.dialing.size < this.targetPeers;
  }

  // ---- inputs ----

  /** A peer found by discovery: remembered, and dialed now if we are below the target. */
  addDiscoveredPeer(found: { peerId: string; multiaddr: string }): void {
    const peer = found.peerId;
    if (peer === this.selfId || this.staticPeers.has(peer)) return;
    const known = this.knownAddrs.get(peer);
    if (known) {
      // keep its backoff; refresh the address and its age
      this.knownAddrs.delete(peer);
      known.multiaddr = found.multiaddr;
      this.knownAddrs.set(peer, known);
    } else {
      this.knownAddrs.set(peer, { multiaddr: found.multiaddr, retryAtMs: 0, failures: 0 });
      if (this.knownAddrs.size > MAX_KNOWN_ADDRS) {
        const oldest = this.knownAddrs.keys().next().value;
        if (oldest !== undefined) this.knownAddrs.delete(oldest);
      }
    }
    if (this.needsPeers()) void this.dialPeer(peer);
  }

  /** The inbound half of the handshake: the peer sent us its Status (the req/resp handler routes it here). */
  async onStatusReceived(peer: string, status: Status): Promise<void> {
    if (!this.running) return;
    if (this.scores.isBanned(peer)) {
      await this.disconnect(peer, GoodbyeReasonCode.banned, "banned peer sent a status");
      return;
    }
    let data = this.peers.get(peer);
    if (!data) {
      const conn = this.libp2p.getConnections(peerIdFromString(peer))[0];
      if (!conn) {
        // The request can arrive before this side has seen the connection open: keep it for the handshake.
        this.pendingStatuses.set(peer, { status, atMs: this.now() });
        prunePending(this.pendingStatuses, this.now());
        return;
      }
      data = this.onConnection(conn) ?? undefined;
      if (!data) return;
    }
    await this.processStatus(data, status);
  }

  /** The peer pinged us with its MetaData seq number: fetch its MetaData if it changed. */
  onPingReceived(peer: string, seq: bigint): void {
    const data = this.peers.get(peer);
    if (data && data.handshaken && (!data.metadata || seq !== data.metadata.seqNumber)) void this.fetchMetadata(data);
  }

  /** The peer said Goodbye: hang up without answering in kind. */
  async onGoodbyeReceived(peer: string, reason: bigint): Promise<void> {
    const data = this.peers.get(peer);
    this.logger.debug("peer said goodbye", { peer, reason: goodbyeReasonName(reason) });
    if (data) data.disconnecting = true;
    this.delayRedial(peer);
    await this.hangUp(peer);
  }

  /** A req/resp failure attributed to the peer (D's onPeerFault). */
  onPeerFault(peer: string, fault: ReqRespFault, detail?: string): void {
    const action: PeerAction = REQ_RESP_FAULT_ACTION[fault] ?? "highTolerance";
    this.reportPeer(peer, action, detail ? `req/resp ${fault}: ${detail}` : `req/resp ${fault}`);
  }

  /** Penalize a peer (sync reports bad batches, gossip reports invalid messages). */
  reportPeer(peer: string, action: PeerAction, reason: string): void {
    const state = this.scores.applyAction(peer, action);
    this.logger.debug("peer reported", { peer, action, reason, score: this.scores.getScore(peer).toFixed(2) });
    this.applyScoreState(peer, state, reason);
  }

  // ---- connection lifecycle ----

  private readonly onConnectionOpen = (evt: CustomEvent<Connection>): void => {
    this.onConnection(evt.detail);
  };

  private readonly onPeerDisconnect = (evt: CustomEvent<PeerId>): void => {
    const data = this.peers.get(evt.detail.toString());
    if (data) this.forget(data);
  };

  /** A new connection: refuse banned peers at once, otherwise start tracking and handshake. */
  private onConnection(conn: Connection): PeerData | null {
    const peer = conn.remotePeer.toString();
    if (this.scores.isBanned(peer)) {
      this.stats.refusedBanned++;
      this.logger.debug("refused banned peer", { peer });
      conn.abort(new Error("peer is banned"));
      return null;
    }
    const existing = this.peers.get(peer);
    if (existing) return existing;
    const data: PeerData = {
      peer,
      direction: conn.direction,
      connectedAtMs: this.now(),
      status: null,
      statusAtMs: 0,
      metadata: null,
      lastPingMs: 0,
      pingFailures: 0,
      handshaken: false,
      disconnecting: false,
      statusInFlight: false,
      pingInFlight: false,
      metadataInFlight: false,
      inboundTimer: null,
    };
    this.peers.set(peer, data);
    const pending = this.pendingStatuses.get(peer);
    this.pendingStatuses.delete(peer);
    if (pending && this.now() - pending.atMs <= PENDING_STATUS_MAX_AGE_MS) {
      void this.processStatus(data, pending.status);
    } else if (conn.direction === "outbound") {
      // p2p-interface.md: the dialing client MUST send a Status request upon connection
      void this.requestStatus(data);
    } else {
      // the dialer should send its Status; if it does not within the grace period, ask for it
      data.inboundTimer = setTimeout(() => {
        data.inboundTimer = null;
        if (!data.handshaken && !data.disconnecting) void this.requestStatus(data);
      }, this.opts.inboundStatusGraceMs ?? 5_000);
      data.inboundTimer.unref?.();
    }
    return data;
  }

  private forget(data: PeerData): void {
    if (data.inboundTimer) clearTimeout(data.inboundTimer);
    data.inboundTimer = null;
    if (this.peers.get(data.peer) !== data) return;
    this.peers.delete(data.peer);
    data.disconnecting = true;
    if (data.handshaken) this.emitter.emit("peerDisconnected", data.peer);
  }

  private async requestStatus(data: PeerData): Promise<void> {
    if (data.statusInFlight || data.disconnecting) return;
    data.statusInFlight = true;
    let status: Status;
    try {
      status = await this.reqResp.status(data.peer, this.opts.getStatus());
    } catch (e) {
      data.statusInFlight = false;
      if (data.disconnecting || this.peers.get(data.peer) !== data) return;
      // a peer that cannot tell us its chain is of no use
      await this.disconnect(data.peer, GoodbyeReasonCode.unableToVerifyNetwork, `status request failed: ${(e as Error).message}`);
      return;
    }
    data.statusInFlight = false;
    await this.processStatus(data, status);
  }

  private async processStatus(data: PeerData, status: Status): Promise<void> {
    if (data.disconnecting) return;
    const rejection = await this.checkStatus(status);
    if (data.disconnecting || this.peers.get(data.peer) !== data) return;
    if (rejection) {
      await this.disconnect(data.peer, GoodbyeReasonCode.irrelevantNetwork, rejection);
      return;
    }
    data.status = status;
    data.statusAtMs = this.now();
    if (!data.handshaken) {
      data.handshaken = true;
      if (data.inboundTimer) clearTimeout(data.inboundTimer);
      data.inboundTimer = null;
      this.stats.handshakes++;
      this.logger.debug("peer connected", { peer: data.peer, direction: data.direction, headSlot: status.headSlot });
      this.emitter.emit("peerConnected", data.peer, status);
      // learn its MetaData right away (attnets)
      void this.pingPeer(data);
    }
    this.emitter.emit("peerStatus", data.peer, status);
  }

  /**
   * The spec's two reasons to drop a peer after the handshake: another fork digest, or a finalized checkpoint
   * that is not in our chain. Returns why, or null when the peer is acceptable.
   */
  private async checkStatus(theirs: Status): Promise<string | null> {
    const ours = this.opts.getStatus();
    if (!bytesEqual(theirs.forkDigest, ours.forkDigest)) {
      return `fork digest ${toHex(theirs.forkDigest)} is not ours (${toHex(ours.forkDigest)})`;
    }
    // A peer finalized further than we are cannot be checked yet: sync will tell.
    if (theirs.finalizedEpoch > ours.finalizedEpoch) return null;
    // The genesis checkpoint's root is zero by convention.
    if (theirs.finalizedEpoch === 0 && theirs.finalizedRoot.every((b) => b === 0)) return null;
    let expected: Uint8Array | null;
    if (theirs.finalizedEpoch === ours.finalizedEpoch) {
      expected = ours.finalizedRoot;
    } else {
      try {
        expected = await this.opts.getCanonicalRootAtEpoch(theirs.finalizedEpoch);
      } catch (e) {
        this.logger.warn("cannot read our canonical root to check a peer", { epoch: theirs.finalizedEpoch, error: e as Error });
        expected = null;
      }
    }
    if (expected && !bytesEqual(expected, theirs.finalizedRoot)) {
      return `finalized root ${toHex(theirs.finalizedRoot)} at epoch ${theirs.finalizedEpoch} conflicts with ours ${toHex(expected)}`;
    }
    return null;
  }

  /** Goodbye (best effort, bounded in time), then hang up. */
  async disconnect(peer: string, reason: bigint, why: string): Promise<void> {
    const data = this.peers.get(peer);
    if (data?.disconnecting) return;
    if (data) data.disconnecting = true;
    this.logger.debug("disconnecting peer", { peer, reason: goodbyeReasonName(reason), why });
    if (reason !== GoodbyeReasonCode.clientShutDown) this.delayRedial(peer);
    this.stats.goodbyesSent++;
    await withTimeout(this.reqResp.goodbye(peer, reason), this.opts.goodbyeTimeoutMs ?? 1_000).catch(() => undefined);
    await this.hangUp(peer);
  }

  private async hangUp(peer: string): Promise<void> {
    await this.libp2p.hangUp(peerIdFromString(peer)).catch(() => undefined);
    // peer:disconnect normally cleans up; make sure nothing is left if the event did not come
    const data = this.peers.get(peer);
    if (data && this.libp2p.getConnections(peerIdFromString(peer)).length === 0) this.forget(data);
  }

  /** Two nodes that keep parting (too many peers, a bad status) should not redial each other at once. */
  private delayRedial(peer: string): void {
    const known = this.staticPeers.get(peer) ?? this.knownAddrs.get(peer);
    if (known) known.retryAtMs = Math.max(known.retryAtMs, this.now() + (this.opts.reconnectDelayMs ?? 60_000));
  }

  private applyScoreState(peer: string, state: ScoreState, reason: string): void {
    if (state === "healthy" || this.staticPeers.has(peer)) return;
    if (state === "ban") {
      if (!this.scores.isBanned(peer)) {
        this.stats.bans++;
        this.logger.info("banning peer", { peer, reason, score: this.scores.getScore(peer).toFixed(2) });
      }
      this.scores.ban(peer);
      this.knownAddrs.delete(peer);
      if (this.peers.has(peer)) void this.disconnect(peer, GoodbyeReasonCode.banned, reason);
    } else if (this.peers.has(peer)) {
      void this.disconnect(peer, GoodbyeReasonCode.badScore, reason);
    }
  }

  // ---- pings and metadata ----

  private async pingPeer(data: PeerData): Promise<void> {
    if (data.pingInFlight || data.disconnecting) return;
    data.pingInFlight = true;
    data.lastPingMs = this.now();
    try {
      const seq = await this.reqResp.ping(data.peer, this.opts.getMetadataSeq());
      data.pingFailures = 0;
      if (!data.metadata || seq !== data.metadata.seqNumber) void this.fetchMetadata(data);
    } catch {
      // the req/resp layer scores the fault; a peer that stops answering altogether is dropped
      data.pingFailures++;
      if (data.pingFailures >= MAX_PING_FAILURES && !data.disconnecting) {
        void this.disconnect(data.peer, GoodbyeReasonCode.fault, `${data.pingFailures} pings unanswered`);
      }
    } finally {
      data.pingInFlight = false;
    }
  }

  private async fetchMetadata(data: PeerData): Promise<void> {
    if (data.metadataInFlight || data.disconnecting) return;
    data.metadataInFlight = true;
    try {
      const metadata = await this.reqResp.metadata(data.peer);
      if (data.disconnecting) return;
      data.metadata = metadata;
      this.emitter.emit("peerMetadata", data.peer, metadata);
    } catch {
      // scored by the req/resp layer; the next ping retries
    } finally {
      data.metadataInFlight = false;
    }
  }

  // ---- dialing ----

  private async dialPeer(peer: string): Promise<void> {
    if (!this.running || this.dialing.has(peer) || this.peers.has(peer) || this.scores.isBanned(peer)) return;
    const known = this.staticPeers.get(peer) ?? this.knownAddrs.get(peer);
    if (!known || known.retryAtMs > this.now()) return;
    this.dialing.add(peer);
    this.stats.dials++;
    try {
      await this.libp2p.dial(multiaddr(known.multiaddr), { signal: AbortSignal.timeout(this.opts.dialTimeoutMs ?? 5_000) });
      known.failures = 0;
      known.retryAtMs = 0;
    } catch (e) {
      this.stats.dialFailures++;
      known.failures++;
      known.retryAtMs = this.now() + Math.min(DIAL_BACKOFF_MAX_MS, DIAL_BACKOFF_BASE_MS * 2 ** (known.failures - 1));
      this.logger.debug("dial failed", { peer, addr: known.multiaddr, error: e as Error });
    } finally {
      this.dialing.delete(peer);
    }
  }

  // ---- heartbeat ----

  /** Periodic upkeep; public so tests and the node can run one round at a chosen moment. */
  async heartbeat(): Promise<void> {
    if (!this.running) return;
    const now = this.now();

    // 1. scores, with the latest gossipsub score: drop or ban peers below the thresholds (also one that came
    //    back before its score recovered)
    for (const data of this.peers.values()) {
      if (data.disconnecting) continue;
      const state = this.getGossipScore
        ? this.scores.setGossipScore(data.peer, this.getGossipScore(data.peer))
        : this.scores.state(data.peer);
      this.applyScoreState(data.peer, state, "low score");
    }

    // 2. above the target: shed the lowest scores first (ties: the newest connection), never a static peer
    const live = [...this.peers.values()].filter((d) => !d.disconnecting);
    let excess = live.length - this.targetPeers;
    if (excess > 0) {
      const candidates = live
        .filter((d) => !this.staticPeers.has(d.peer))
        .map((d) => ({ d, score: this.scores.getScore(d.peer) }))
        .sort((a, b) => a.score - b.score || Number(a.d.handshaken) - Number(b.d.handshaken) || b.d.connectedAtMs - a.d.connectedAtMs);
      for (const { d } of candidates) {
        if (excess <= 0) break;
        excess--;
        this.stats.pruned++;
        void this.disconnect(d.peer, GoodbyeReasonCode.tooManyPeers, "too many peers");
      }
    }

    // 3. static peers are redialed whenever lost; discovered ones fill up to the target
    for (const peer of this.staticPeers.keys()) if (!this.peers.has(peer)) void this.dialPeer(peer);
    let room = this.targetPeers - this.peerCount - this.dialing.size;
    for (const [peer, known] of this.knownAddrs) {
      if (room <= 0) break;
      if (this.peers.has(peer) || this.dialing.has(peer) || known.retryAtMs > now || this.scores.isBanned(peer)) continue;
      room--;
      void this.dialPeer(peer);
    }

    // 4. pings and Status refreshes that are due
    const pingInterval = this.opts.pingIntervalMs ?? 20_000;
    const statusInterval = this.opts.statusIntervalMs ?? 5 * 60_000;
    for (const data of this.peers.values()) {
      if (!data.handshaken || data.disconnecting) continue;
      if (now - data.lastPingMs >= pingInterval) void this.pingPeer(data);
      if (now - data.statusAtMs >= statusInterval) void this.requestStatus(data);
    }

    // 5. forget scores that no longer matter
    this.scores.prune((peer) => this.peers.has(peer));
  }
}

/** The peer id string at the end of a multiaddr (`.../p2p/<id>`); a clear error otherwise. */
export function peerIdOfMultiaddr(addr: string): string {
  let components;
  try {
    components = multiaddr(addr).getComponents();
  } catch (e) {
    throw new Error(`invalid peer multiaddr "${addr}": ${(e as Error).message}`);
  }
  const p2p = components.find((c) => c.name === "p2p");
  if (!p2p?.value) throw new Error(`peer multiaddr "${addr}" has no /p2p/<peerId>`);
  try {
    return peerIdFromString(p2p.value).toString();
  } catch {
    throw new Error(`peer multiaddr "${addr}" has an invalid peer id`);
  }
}

function prunePending(pending: Map<string, { atMs: number }>, now: number): void {
  for (const [peer, p] of pending) {
    if (pending.size > MAX_PENDING_STATUSES || now - p.atMs > PENDING_STATUS_MAX_AGE_MS) pending.delete(peer);
  }
}

function defaultGossipScore(libp2p: Libp2p): ((peer: string) => number) | null {
  const pubsub = (libp2p.services as { pubsub?: { getScore?: (peer: string) => number } }).pubsub;
  if (!pubsub || typeof pubsub.getScore !== "function") return null;
  return (peer) => pubsub.getScore!(peer);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
