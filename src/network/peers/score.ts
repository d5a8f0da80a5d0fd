// Per-peer reputation. Cairn's own score moves with what the node observes (req/resp faults, bad batches from
// sync) and decays exponentially back towards 0, so an old mistake is forgiven and only repeated faults add up.
// The gossipsub score (Eth2 topic scoring) is combined in only when negative: a peer that gossips well must not
// buy back bad req/resp behaviour. Below one threshold a peer is disconnected, below a lower one it is banned.
import type { ReqRespFault } from "../reqresp/errors.js";

export type PeerAction = "fatal" | "lowTolerance" | "midTolerance" | "highTolerance";

export const MAX_SCORE = 100;
export const MIN_SCORE = -100;
/** At or below: disconnect (Goodbye 250 bad score). */
export const MIN_SCORE_BEFORE_DISCONNECT = -20;
/** At or below: ban (Goodbye 251 banned) and refuse the peer for the ban period. */
export const MIN_SCORE_BEFORE_BAN = -50;

/** Penalties per action. "fatal" drops the peer to MIN_SCORE at once. A few low-tolerance faults in a row ban. */
export const PEER_ACTION_SCORE: Record<PeerAction, number> = {
  fatal: MIN_SCORE - MAX_SCORE,
  lowTolerance: -10,
  midTolerance: -5,
  highTolerance: -1,
};

/**
 * How much each req/resp fault says about the peer. Malformed data is a protocol violation; timeouts and errors
 * can be load or a slow link; RESOURCE_UNAVAILABLE and a failed dial say least.
 */
export const REQ_RESP_FAULT_ACTION: Record<ReqRespFault, PeerAction> = {
  INVALID_REQUEST: "lowTolerance",
  INVALID_RESPONSE: "lowTolerance",
  RATE_LIMITED: "midTolerance",
  TIMEOUT: "midTolerance",
  SERVER_ERROR: "midTolerance",
  STREAM_ERROR: "highTolerance",
  RESOURCE_UNAVAILABLE: "highTolerance",
  DIAL_FAILED: "highTolerance",
};

export interface PeerScoreOpts {
  /** Cairn's score halves in this time (default 10 min) */
  halfLifeMs?: number;
  /** how long a ban lasts (default 30 min) */
  banDurationMs?: number;
  /**
   * The gossipsub score that maps to MIN_SCORE_BEFORE_DISCONNECT (default -16000, the Eth2 graylist threshold):
   * a graylisted peer is dropped, not banned, unless Cairn's own score is also low.
   */
  gossipDisconnectScore?: number;
  /** how many disconnected peers' scores are remembered (default 1000) */
  maxRemembered?: number;
  now?: () => number;
}

export type ScoreState = "healthy" | "disconnect" | "ban";

interface Entry {
  score: number;
  lastUpdateMs: number;
  gossipScore: number;
  bannedUntilMs: number;
}

export class PeerScoreStore {
  private readonly entries = new Map<string, Entry>();
  private readonly halfLifeMs: number;
  readonly banDurationMs: number;
  private readonly gossipWeight: number;
  private readonly maxRemembered: number;
  private readonly now: () => number;

  constructor(opts: PeerScoreOpts = {}) {
    this.halfLifeMs = opts.halfLifeMs ?? 10 * 60_000;
    this.banDurationMs = opts.banDurationMs ?? 30 * 60_000;
    const gossipDisconnect = opts.gossipDisconnectScore ?? -16000;
    if (!(gossipDisconnect < 0)) throw new Error("gossipDisconnectScore must be negative");
    this.gossipWeight = MIN_SCORE_BEFORE_DISCONNECT / gossipDisconnect;
    this.maxRemembered = opts.maxRemembered ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  /** Cairn's score combined with the (negative part of the) gossipsub score. */
  getScore(peer: string): number {
    const e = this.entries.get(peer);
    if (!e) return 0;
    this.decay(e);
    return Math.max(MIN_SCORE, e.score + Math.min(0, e.gossipScore) * this.gossipWeight);
  }

  /** Cairn's own part of the score, without gossip. */
  getOwnScore(peer: string): number {
    const e = this.entries.get(peer);
    if (!e) return 0;
    this.decay(e);
    return e.score;
  }

  applyAction(peer: string, action: PeerAction): ScoreState {
    const e = this.entry(peer);
    this.decay(e);
    e.score = clamp(e.score + PEER_ACTION_SCORE[action]);
    return this.state(peer);
  }

  /** Latest gossipsub score of the peer (read from pubsub.getScore on each heartbeat). */
  setGossipScore(peer: string, gossipScore: number): ScoreState {
    const e = this.entry(peer);
    e.gossipScore = Number.isFinite(gossipScore) ? gossipScore : 0;
    return this.state(peer);
  }

  /** What the score calls for now. */
  state(peer: string): ScoreState {
    const score = this.getScore(peer);
    if (score <= MIN_SCORE_BEFORE_BAN) return "ban";
    if (score <= MIN_SCORE_BEFORE_DISCONNECT) return "disconnect";
    return "healthy";
  }

  ban(peer: string, durationMs = this.banDurationMs): void {
    const e = this.entry(peer);
    e.bannedUntilMs = Math.max(e.bannedUntilMs, this.now() + durationMs);
  }

  isBanned(peer: string): boolean {
    const e = this.entries.get(peer);
    return e !== undefined && e.bannedUntilMs > this.now();
  }

  bannedPeers(): string[] {
    const now = this.now();
    return [...this.entries].filter(([, e]) => e.bannedUntilMs > now).map(([p]) => p);
  }

  /**
   * Drops entries that no longer matter (score back near 0, no ban) and, beyond the bound, the oldest entries of
   * peers that are not connected. Bans survive the pruning.
   */
  prune(isConnected: (peer: string) => boolean): void {
    const now = this.now();
    for (const [peer, e] of this.entries) {
      if (isConnected(peer) || e.bannedUntilMs > now) continue;
      this.decay(e);
      if (Math.abs(e.score) < 0.1) this.entries.delete(peer);
    }
    if (this.entries.size <= this.maxRemembered) return;
    const removable = [...this.entries]
      .filter(([peer, e]) => !isConnected(peer) && e.bannedUntilMs <= now)
      .sort((a, b) => a[1].lastUpdateMs - b[1].lastUpdateMs);
    for (const [peer] of removable) {
      if (this.entries.size <= this.maxRemembered) break;
      this.entries.delete(peer);
    }
  }

  private entry(peer: string): Entry {
    let e = this.entries.get(peer);
    if (!e) {
      e = { score: 0, lastUpdateMs: this.now(), gossipScore: 0, bannedUntilMs: 0 };
      this.entries.set(peer, e);
    }
    return e;
  }

  private decay(e: Entry): void {
    const now = this.now();
    const dt = now - e.lastUpdateMs;
    if (dt <= 0) return;
    e.score *= Math.pow(0.5, dt / this.halfLifeMs);
    e.lastUpdateMs = now;
  }
}

function clamp(score: number): number {
  return Math.min(MAX_SCORE, Math.max(MIN_SCORE, score));
}
