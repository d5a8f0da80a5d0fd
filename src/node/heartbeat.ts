// The beacon node's heartbeat: one log line per epoch with what an operator checks first (head, checkpoints,
// peers, sync, distance to the clock), and warnings for what needs them: no peers, no finality for a while.
import type { Logger } from "../util/logger.js";

export interface HeartbeatInput {
  clockSlot: number;
  slotsPerEpoch: number;
  headSlot: number;
  headRoot: string;
  justifiedEpoch: number;
  finalizedEpoch: number;
  /** null without networking (a standalone node has no peers to miss) */
  peers: number | null;
  syncing: boolean;
}

export interface HeartbeatOptions {
  /** Warn when the clock's epoch is more than this many epochs past the finalized one (default 4; 2 is normal). */
  noFinalityWarnEpochs?: number;
}

export function logHeartbeat(logger: Logger, s: HeartbeatInput, opts: HeartbeatOptions = {}): void {
  const epoch = Math.floor(Math.max(0, s.clockSlot) / s.slotsPerEpoch);
  const behind = Math.max(0, s.clockSlot - s.headSlot);
  logger.info("heartbeat", {
    epoch,
    headSlot: s.headSlot,
    headRoot: s.headRoot,
    justified: s.justifiedEpoch,
    finalized: s.finalizedEpoch,
    peers: s.peers ?? "none (no networking)",
    sync: s.syncing ? "syncing" : behind > s.slotsPerEpoch ? "behind" : "synced",
    slotsBehind: behind,
  });
  if (s.peers === 0) logger.warn("no peers: the node cannot follow the chain (check --bootnodes, the p2p port and the firewall)");
  const limit = opts.noFinalityWarnEpochs ?? 4;
  const sinceFinality = epoch - s.finalizedEpoch;
  if (sinceFinality > limit) {
    logger.warn("no finality", { epochsSinceFinalized: sinceFinality, finalized: s.finalizedEpoch, epoch });
  }
}
