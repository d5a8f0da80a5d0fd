// Block production on the head for the API: the pre-state from regen, then the operations from the pools, with
// attestations packed for the most new votes. Wraps produceBlock (which builds the block and its state root).
import { aggregateSignatures } from "../../crypto/bls.js";
import {
  getRandaoRevealSignatureSet,
  processBlock,
  validateAttestation,
  type CachedBeaconState,
} from "../../state-transition/index.js";
import { getBlockRootAtSlot } from "../../state-transition/epoch/util.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../state-transition/util/epoch.js";
import { bytesEqual, fromHex, toHex } from "../../util/bytes.js";
import { verifySignatureSet } from "../../state-transition/util/signature.js";
import type { Attestation, BeaconBlock } from "../../types/index.js";
import type { BeaconChain } from "../chain.js";
import { produceBlock, type Eth1ForBlockProduction } from "../produceBlock.js";
import { countBits, countNewBits, isDisjoint, type PooledAttestation } from "./attestationPool.js";
import type { OpPools } from "./index.js";

export class ProduceBlockError extends Error {
  constructor(
    message: string,
    /** "request": the request cannot be served (bad slot, bad randao); "node": this node cannot now (eth1 behind) */
    readonly fault: "request" | "node" = "request",
  ) {
    super(message);
    this.name = "ProduceBlockError";
  }
}

export interface ProduceBlockRequest {
  slot: number;
  randaoReveal: Uint8Array;
  graffiti?: Uint8Array;
  /** check the randao reveal against the proposer's key first (default true): a bad one makes an unusable block */
  verifyRandao?: boolean;
}

/** An unsigned block at `slot` on the current head, with the pools' operations and the post-state root filled in. */
export async function produceBlockOnHead(
  chain: BeaconChain,
  pools: OpPools | null,
  req: ProduceBlockRequest,
  eth1: Eth1ForBlockProduction | null = null,
): Promise<{ block: BeaconBlock; post: CachedBeaconState }> {
  const headRoot = chain.headRoot;
  const headSlot = chain.forkChoice.getBlock(headRoot)?.slot ?? chain.anchorSummary.slot;
  if (req.slot <= headSlot) throw new ProduceBlockError(`slot ${req.slot} is not after the head block's slot ${headSlot}`);
  const parentRoot = fromHex(headRoot);
  // getPreState reads only the slot and the parent root of the block it is given
  const pre = await chain.regen.getPreState({ slot: req.slot, parentRoot } as BeaconBlock, "validator");
  if (req.verifyRandao ?? true) {
    const proposer = pre.epochCtx.getBeaconProposer(req.slot);
    const epoch = computeEpochAtSlot(chain.config, req.slot);
    if (!verifySignatureSet(getRandaoRevealSignatureSet(pre, req.randaoReveal))) {
      throw new ProduceBlockError(`randao_reveal is not the signature of epoch ${epoch} by the slot's proposer (validator ${proposer})`);
    }
  }
  if (pools) {
    pools.prune();
    pools.pruneOperations(pre);
  }
  const attestations = pools ? selectAttestations(pre, pools.getAttestations()) : [];
  const ops = pools ? pools.operations.selectForBlock(pre) : null;
  // without an eth1 follower the block repeats the state's eth1_data and so owes no deposits
  let eth1Contents = {};
  if (eth1) {
    try {
      eth1Contents = eth1.getEth1DataAndDeposits(pre);
    } catch (e) {
      throw new ProduceBlockError(`eth1: ${(e as Error).message}`, "node");
    }
  }
  const produced = produceBlock(pre, { randaoReveal: req.randaoReveal, graffiti: req.graffiti, attestations, ...eth1Contents });
  if (!ops || ops.proposerSlashings.length + ops.attesterSlashings.length + ops.voluntaryExits.length === 0) return produced;
  // produceBlock carries attestations only: add the other operations and compute the state root again
  const block = produced.block;
  block.body.proposerSlashings = ops.proposerSlashings;
  block.body.attesterSlashings = ops.attesterSlashings;
  block.body.voluntaryExits = ops.voluntaryExits;
  const post = pre.clone();
  processBlock(post, block, false);
  block.stateRoot = post.state.hashTreeRoot();
  return { block, post };
}

/**
 * Attestations for a block on `pre` (a state at the block's slot), at most MAX_ATTESTATIONS: only includable ones
 * (validateAttestation), aggregates of the same data merged where they do not overlap, then chosen greedily by
 * how many votes each adds that are neither on chain yet (the state's pending attestations) nor already chosen.
 */
export function selectAttestations(pre: CachedBeaconState, candidates: PooledAttestation[]): Attestation[] {
  const c = pre.config;
  const slot = pre.state.slot;
  // votes the chain already has, per attestation data
  const covered = new Map<string, Uint8Array>();
  for (const list of [pre.state.previousEpochAttestations, pre.state.currentEpochAttestations]) {
    for (const p of list.getAllReadonlyValues()) {
      const root = toHex(c.types.AttestationData.hashTreeRoot(p.data));
      const bytes = p.aggregationBits.uint8Array;
      const acc = covered.get(root);
      if (!acc) covered.set(root, Uint8Array.from(bytes));
      else for (let i = 0; i < acc.length && i < bytes.length; i++) acc[i] |= bytes[i];
    }
  }

  const groups = new Map<string, Attestation[]>();
  for (const { dataRoot, attestation } of candidates) {
    const s = attestation.data.slot;
    if (s + c.MIN_ATTESTATION_INCLUSION_DELAY > slot || s + c.SLOTS_PER_EPOCH < slot) continue;
    let group = groups.get(dataRoot);
    if (!group) {
      // another branch's vote: process_attestation (without its signature) may accept it, but its bits name that
      // branch's committee, so on this one its signature fails and the block would be invalid (seen after a
      // partition healed). Same target root = same ancestry = same shuffling.
      const targetStart = computeStartSlotAtEpoch(c, attestation.data.target.epoch);
      if (targetStart >= slot || !bytesEqual(getBlockRootAtSlot(c, pre.state, targetStart), attestation.data.target.root)) continue;
      try {
        validateAttestation(pre, attestation);
      } catch {
        continue; // wrong source, too old: not for this block
      }
      group = [];
      groups.set(dataRoot, group);
    }
    group.push(attestation);
  }

  const options: { dataRoot: string; att: Attestation }[] = [];
  for (const [dataRoot, group] of groups) for (const att of mergeDisjoint(group)) options.push({ dataRoot, att });

  const chosen: Attestation[] = [];
  const taken = new Set<number>();
  while (chosen.length < c.MAX_ATTESTATIONS) {
    let best = -1;
    let bestCount = 0;
    for (let k = 0; k < options.length; k++) {
      if (taken.has(k)) continue;
      const n = countNewBits(options[k].att.aggregationBits, covered.get(options[k].dataRoot));
      if (n > bestCount) {
        best = k;
        bestCount = n;
      }
    }
    if (best < 0) break;
    taken.add(best);
    const { dataRoot, att } = options[best];
    chosen.push(att);
    const bytes = att.aggregationBits.uint8Array;
    const acc = covered.get(dataRoot);
    if (!acc) covered.set(dataRoot, Uint8Array.from(bytes));
    else for (let i = 0; i < acc.length; i++) acc[i] |= bytes[i];
  }
  return chosen;
}

/** Aggregates of one attestation data, largest first, each folded into the first earlier one it does not overlap. */
function mergeDisjoint(group: Attestation[]): Attestation[] {
  const sorted = [...group].sort((a, b) => countBits(b.aggregationBits) - countBits(a.aggregationBits));
  const out: Attestation[] = [];
  for (const att of sorted) {
    const into = out.find((o) => isDisjoint(o.aggregationBits, att.aggregationBits));
    if (into) {
      try {
        const signature = aggregateSignatures([into.signature, att.signature]);
        into.aggregationBits.mergeOrWith(att.aggregationBits);
        into.signature = signature;
        continue;
      } catch {
        // not aggregatable (cannot happen for pooled, verified signatures): keep it apart
      }
    }
    out.push({ data: att.data, aggregationBits: att.aggregationBits.clone(), signature: att.signature });
  }
  return out;
}
