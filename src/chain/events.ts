// What the chain announces after its head moves (the Beacon API's event stream and the metrics listen; listeners
// must not throw), and the duty dependent roots that the head event carries.
import type { EventEmitter } from "node:events";
import type { BeaconConfig } from "../config/index.js";
import type { BlockSummary, ForkChoice } from "../fork-choice/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";

export interface HeadEvent {
  slot: number;
  block: string;
  state: string;
  epochTransition: boolean;
  previousDutyDependentRoot: string;
  currentDutyDependentRoot: string;
}
export interface ReorgEvent {
  slot: number;
  depth: number;
  oldHeadBlock: string;
  newHeadBlock: string;
  oldHeadState: string;
  newHeadState: string;
  epoch: number;
}
export interface ChainEvents {
  block: [{ slot: number; root: string }];
  head: [HeadEvent];
  reorg: [ReorgEvent];
  finalized: [{ epoch: number; root: string; stateRoot: string }];
  justified: [{ epoch: number; root: string }];
}

interface EventSource {
  config: BeaconConfig;
  forkChoice: ForkChoice;
  emitter: EventEmitter<ChainEvents>;
  headRoot: string;
  anchorSummary: BlockSummary;
}

/**
 * The root that duties of `epoch` depend on, seen from `root`: the block at the last slot before the epoch (for
 * proposer duties of `epoch`, and attester duties of `epoch + 1`); the anchor before the chain's start.
 */
export function getDependentRoot(chain: EventSource, root: string, epoch: number): string {
  const slot = computeStartSlotAtEpoch(chain.config, epoch) - 1;
  if (slot < chain.anchorSummary.slot) return chain.anchorSummary.root;
  return chain.forkChoice.getAncestor(root, slot) ?? chain.forkChoice.getFinalizedCheckpoint().root;
}

/** head (and, when the old head is not an ancestor of the new one, reorg) events after the head moved; true on a reorg. */
export function emitHeadEvents(chain: EventSource, previous: string): boolean {
  const head = chain.headRoot;
  if (previous === head) return false;
  const { config: c, forkChoice: fc } = chain;
  const node = fc.getBlock(head);
  if (!node) return false;
  const prevNode = fc.getBlock(previous);
  const epoch = computeEpochAtSlot(c, node.slot);
  chain.emitter.emit("head", {
    slot: node.slot,
    block: head,
    state: node.stateRoot,
    epochTransition: prevNode ? computeEpochAtSlot(c, prevNode.slot) < epoch : true,
    previousDutyDependentRoot: getDependentRoot(chain, head, epoch - 1),
    currentDutyDependentRoot: getDependentRoot(chain, head, epoch),
  });
  if (!prevNode || fc.isDescendant(previous, head)) return false;
  let ancestorSlot = prevNode.slot;
  for (let r: string | undefined = prevNode.parentRoot; r; ) {
    const n = fc.getBlock(r);
    if (!n) break;
    ancestorSlot = n.slot;
    if (fc.isDescendant(r, head)) break;
    r = n.parentRoot;
  }
  chain.emitter.emit("reorg", {
    slot: node.slot,
    depth: prevNode.slot - ancestorSlot,
    oldHeadBlock: previous,
    newHeadBlock: head,
    oldHeadState: prevNode.stateRoot,
    newHeadState: node.stateRoot,
    epoch,
  });
  return true;
}
