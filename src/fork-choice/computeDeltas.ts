// Latest messages as weight changes. Each validator's vote is held as node indices: `current` is the node its balance
// is counted at in the proto-array now, `next` the node of its latest message. computeDeltas moves every changed
// vote (and every changed balance) into a per-node delta and marks the votes as applied, so a head update costs
// O(validators + nodes) with no tree walks.
//
// Weights stay exact as JavaScript numbers: effective balances are multiples of EFFECTIVE_BALANCE_INCREMENT (10^9,
// a multiple of 2^9), and sums of multiples of 2^9 are exact up to 2^62 Gwei, far above the ether supply.
import { NONE } from "./protoArray.js";

/** One entry per validator index. */
export interface Votes {
  /** Node whose weight includes this validator's balance (NONE: none). */
  currentIndices: number[];
  /** Node of the latest message (NONE: no message, or its block was pruned). */
  nextIndices: number[];
  /** Target epoch of the latest message; -1 when there is none. */
  nextEpochs: number[];
}

export function createVotes(): Votes {
  return { currentIndices: [], nextIndices: [], nextEpochs: [] };
}

/** Grows the vote arrays so that `validatorIndex` has an entry. */
export function ensureVote(votes: Votes, validatorIndex: number): void {
  while (votes.nextEpochs.length <= validatorIndex) {
    votes.currentIndices.push(NONE);
    votes.nextIndices.push(NONE);
    votes.nextEpochs.push(-1);
  }
}

/**
 * The change of every node's own weight (not its subtree's: applyScoreChanges propagates) when each vote moves from
 * `current` with `oldBalances` to `next` with `newBalances`. Validators past the end of a balance list weigh 0.
 * Marks every vote as applied (current = next).
 */
export function computeDeltas(
  nodeCount: number,
  votes: Votes,
  oldBalances: ArrayLike<number>,
  newBalances: ArrayLike<number>,
  /** where to write the deltas when it is long enough (a caller's reused buffer); a new array otherwise */
  buffer?: Float64Array,
): Float64Array {
  const deltas = buffer && buffer.length >= nodeCount ? buffer.subarray(0, nodeCount).fill(0) : new Float64Array(nodeCount);
  addDeltas(deltas, votes, oldBalances, newBalances);
  return deltas;
}

/**
 * computeDeltas into `deltas`, whose entries must be 0, without clearing it first (a caller that keeps its buffer
 * zeroed saves an O(nodes) fill per head update). Returns the lowest node index given a non-zero delta, or
 * deltas.length when none is.
 */
export function addDeltas(deltas: Float64Array, votes: Votes, oldBalances: ArrayLike<number>, newBalances: ArrayLike<number>): number {
  const { currentIndices, nextIndices } = votes;
  let lowest = deltas.length;
  for (let v = 0; v < currentIndices.length; v++) {
    const current = currentIndices[v];
    const next = nextIndices[v];
    if (current === NONE && next === NONE) continue;
    const oldBalance = v < oldBalances.length ? oldBalances[v] : 0;
    const newBalance = v < newBalances.length ? newBalances[v] : 0;
    if (current === next && oldBalance === newBalance) continue;
    if (current !== NONE) {
      deltas[current] -= oldBalance;
      if (current < lowest) lowest = current;
    }
    if (next !== NONE) {
      deltas[next] += newBalance;
      if (next < lowest) lowest = next;
    }
    currentIndices[v] = next;
  }
  return lowest;
}

/** After a prune: points every vote at the node's new index (NONE for removed nodes, whose weight left with them). */
export function remapVotes(votes: Votes, newIndexOf: Int32Array): void {
  const { currentIndices, nextIndices } = votes;
  for (let v = 0; v < currentIndices.length; v++) {
    if (currentIndices[v] !== NONE) currentIndices[v] = newIndexOf[currentIndices[v]];
    if (nextIndices[v] !== NONE) nextIndices[v] = newIndexOf[nextIndices[v]];
  }
}
