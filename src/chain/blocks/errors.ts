// Why a block was not imported, with the facts that say so, and the one place that decides whose fault that is.
// Gossip, range sync, parent lookup and the API all map a BlockError through blockErrorOutcome(); none of them
// matches on codes or messages of its own.

export type BlockErrorData =
  /** already in fork choice (or the database) */
  | { code: "ALREADY_KNOWN"; root: string }
  /** the block or one of its ancestors failed the state transition before */
  | { code: "KNOWN_INVALID"; root: string; invalidAncestor: string }
  /** later than the wall clock allows (slot beyond clock + MAXIMUM_GOSSIP_CLOCK_DISPARITY) */
  | { code: "FUTURE_SLOT"; slot: number; latestSlot: number }
  /** at or before the finalized checkpoint's slot */
  | { code: "WOULD_REVERT_FINALIZED"; slot: number; finalizedSlot: number }
  /** the parent is known but the block does not descend from the finalized checkpoint */
  | { code: "NOT_FINALIZED_DESCENDANT"; root: string; parentRoot: string; finalizedRoot: string }
  /** not after its parent (process_block_header asserts block.slot > parent.slot) */
  | { code: "NOT_LATER_THAN_PARENT"; slot: number; parentSlot: number }
  /** the parent is unknown: the block waits in the pending pool (not an error for the API, which answers 202) */
  | { code: "PARENT_UNKNOWN"; root: string; parentRoot: string }
  | { code: "PROPOSER_INDEX_OUT_OF_RANGE"; proposerIndex: number; validatorCount: number }
  | { code: "INCORRECT_PROPOSER"; slot: number; expected: number; actual: number }
  /** gossip only: a block of this proposer for this slot was already seen */
  | { code: "REPEAT_PROPOSAL"; slot: number; proposerIndex: number }
  | { code: "PROPOSAL_SIGNATURE_INVALID"; root: string }
  /** another signature of the block (RANDAO, attestations, slashings, exits) */
  | { code: "INVALID_SIGNATURE"; root: string }
  | { code: "INVALID_STATE_TRANSITION"; root: string; reason: string }
  | { code: "INVALID_STATE_ROOT"; root: string; expected: string; actual: string }
  /** our own trouble: no pre-state could be built */
  | { code: "REGEN_FAILED"; root: string; reason: string }
  | { code: "QUEUE_FULL"; queueLength: number }
  | { code: "STORE_FAILED"; root: string; reason: string }
  | { code: "CHAIN_CLOSED" };

export type BlockErrorCode = BlockErrorData["code"];

export class BlockError extends Error {
  constructor(readonly data: BlockErrorData) {
    super(`${data.code}: ${describe(data)}`);
    this.name = "BlockError";
  }

  get code(): BlockErrorCode {
    return this.data.code;
  }
}

function describe(d: BlockErrorData): string {
  switch (d.code) {
    case "ALREADY_KNOWN":
      return `block ${d.root} is already known`;
    case "KNOWN_INVALID":
      return d.root === d.invalidAncestor ? `block ${d.root} is known to be invalid` : `block ${d.root} descends from the invalid block ${d.invalidAncestor}`;
    case "FUTURE_SLOT":
      return `block slot ${d.slot} is after the clock's latest slot ${d.latestSlot}`;
    case "WOULD_REVERT_FINALIZED":
      return `block slot ${d.slot} is not after the finalized slot ${d.finalizedSlot}`;
    case "NOT_FINALIZED_DESCENDANT":
      return `block ${d.root} (parent ${d.parentRoot}) does not descend from the finalized block ${d.finalizedRoot}`;
    case "NOT_LATER_THAN_PARENT":
      return `block slot ${d.slot} is not after its parent's slot ${d.parentSlot}`;
    case "PARENT_UNKNOWN":
      return `parent ${d.parentRoot} of block ${d.root} is unknown`;
    case "PROPOSER_INDEX_OUT_OF_RANGE":
      return `proposer index ${d.proposerIndex} is out of range (${d.validatorCount} validators)`;
    case "INCORRECT_PROPOSER":
      return `proposer ${d.actual} is not the expected proposer ${d.expected} of slot ${d.slot}`;
    case "REPEAT_PROPOSAL":
      return `already saw a block of proposer ${d.proposerIndex} for slot ${d.slot}`;
    case "PROPOSAL_SIGNATURE_INVALID":
      return `block ${d.root} has an invalid proposer signature`;
    case "INVALID_SIGNATURE":
      return `block ${d.root} has an invalid signature`;
    case "INVALID_STATE_TRANSITION":
      return `block ${d.root} fails the state transition: ${d.reason}`;
    case "INVALID_STATE_ROOT":
      return `block ${d.root} claims state root ${d.expected}, the transition gives ${d.actual}`;
    case "REGEN_FAILED":
      return `no pre-state for block ${d.root}: ${d.reason}`;
    case "QUEUE_FULL":
      return `the import queue is full (${d.queueLength} waiting)`;
    case "STORE_FAILED":
      return `storing block ${d.root} failed: ${d.reason}`;
    case "CHAIN_CLOSED":
      return "the chain is closed";
  }
}

/** Who is to blame: the sender (peer), this node (us), or nobody (a race, a duplicate, a block we cannot use yet). */
export type BlockFault = "peer" | "us" | "nobody";

export interface BlockErrorOutcome {
  fault: BlockFault;
  /** the p2p-interface.md result for a gossip block failing this way */
  gossip: "ignore" | "reject";
  /** the message itself is invalid: remember its root so that it and its descendants are refused at once */
  markInvalid: boolean;
  /** the Beacon API's status for POST /eth/v1/beacon/blocks */
  httpStatus: 200 | 202 | 400 | 500 | 503;
}

/**
 * The one exhaustive mapping from a block error to consequences. A bad signature does not mark the root invalid:
 * the root covers the message only, so the same block may still arrive with a valid signature.
 */
export function blockErrorOutcome(e: BlockError | BlockErrorData): BlockErrorOutcome {
  const d = e instanceof BlockError ? e.data : e;
  switch (d.code) {
    case "ALREADY_KNOWN":
      return { fault: "nobody", gossip: "ignore", markInvalid: false, httpStatus: 200 };
    case "PARENT_UNKNOWN":
      return { fault: "nobody", gossip: "ignore", markInvalid: false, httpStatus: 202 };
    case "FUTURE_SLOT":
    case "WOULD_REVERT_FINALIZED":
      // a clock a little off is not malice: gossip ignores, the API refuses
      return { fault: "nobody", gossip: "ignore", markInvalid: false, httpStatus: 400 };
    case "REPEAT_PROPOSAL":
      return { fault: "nobody", gossip: "ignore", markInvalid: false, httpStatus: 200 };
    case "KNOWN_INVALID":
    case "NOT_FINALIZED_DESCENDANT":
    case "NOT_LATER_THAN_PARENT":
    case "PROPOSER_INDEX_OUT_OF_RANGE":
    case "INCORRECT_PROPOSER":
    case "INVALID_STATE_TRANSITION":
    case "INVALID_STATE_ROOT":
      return { fault: "peer", gossip: "reject", markInvalid: true, httpStatus: 400 };
    case "PROPOSAL_SIGNATURE_INVALID":
    case "INVALID_SIGNATURE":
      return { fault: "peer", gossip: "reject", markInvalid: false, httpStatus: 400 };
    case "QUEUE_FULL":
      return { fault: "us", gossip: "ignore", markInvalid: false, httpStatus: 503 };
    case "REGEN_FAILED":
    case "STORE_FAILED":
    case "CHAIN_CLOSED":
      return { fault: "us", gossip: "ignore", markInvalid: false, httpStatus: 500 };
  }
}
