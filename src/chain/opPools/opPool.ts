// Voluntary exits, proposer slashings and attester slashings waiting for a block. Entries are checked when they
// arrive (see validation.ts); they are dropped once the head state shows them done (validator exiting / slashed).
import { FAR_FUTURE_EPOCH } from "../../params/index.js";
import {
  processAttesterSlashing,
  processProposerSlashing,
  processVoluntaryExit,
  type CachedBeaconState,
} from "../../state-transition/index.js";
import { isSlashableValidator } from "../../state-transition/util/validator.js";
import type { AttesterSlashing, ProposerSlashing, SignedVoluntaryExit } from "../../types/index.js";
import { PoolFullError } from "./attestationPool.js";

export interface BlockOperations {
  proposerSlashings: ProposerSlashing[];
  attesterSlashings: AttesterSlashing[];
  voluntaryExits: SignedVoluntaryExit[];
}

export class OpPool {
  private readonly exits = new Map<number, SignedVoluntaryExit>();
  private readonly proposerSlashings = new Map<number, ProposerSlashing>();
  /** by hash_tree_root, with the validators both attestations name (the ones it would slash) */
  private readonly attesterSlashings = new Map<string, { slashing: AttesterSlashing; indices: number[] }>();

  constructor(private readonly maxPerKind = 4096) {}

  hasVoluntaryExit(validatorIndex: number): boolean {
    return this.exits.has(validatorIndex);
  }
  hasProposerSlashing(proposerIndex: number): boolean {
    return this.proposerSlashings.has(proposerIndex);
  }
  hasAttesterSlashing(root: string): boolean {
    return this.attesterSlashings.has(root);
  }

  addVoluntaryExit(exit: SignedVoluntaryExit): void {
    this.checkRoom(this.exits.size, "voluntary exit");
    this.exits.set(exit.message.validatorIndex, exit);
  }

  addProposerSlashing(slashing: ProposerSlashing): void {
    this.checkRoom(this.proposerSlashings.size, "proposer slashing");
    this.proposerSlashings.set(slashing.signedHeader1.message.proposerIndex, slashing);
  }

  addAttesterSlashing(root: string, slashing: AttesterSlashing): void {
    this.checkRoom(this.attesterSlashings.size, "attester slashing");
    const in2 = new Set(slashing.attestation2.attestingIndices);
    const indices = slashing.attestation1.attestingIndices.filter((i) => in2.has(i));
    this.attesterSlashings.set(root, { slashing, indices });
  }

  getVoluntaryExits(): SignedVoluntaryExit[] {
    return [...this.exits.values()];
  }
  getProposerSlashings(): ProposerSlashing[] {
    return [...this.proposerSlashings.values()];
  }
  getAttesterSlashings(): AttesterSlashing[] {
    return [...this.attesterSlashings.values()].map((e) => e.slashing);
  }

  /**
   * The operations a block on `pre` (a state at the block's slot) can carry, up to each MAX_*: each one is applied
   * to a scratch copy in block order, so together they are valid (no validator slashed twice or exited twice).
   * Signatures were checked on arrival and are not checked again.
   */
  selectForBlock(pre: CachedBeaconState): BlockOperations {
    const c = pre.config;
    const out: BlockOperations = { proposerSlashings: [], attesterSlashings: [], voluntaryExits: [] };
    if (this.exits.size + this.proposerSlashings.size + this.attesterSlashings.size === 0) return out;
    const scratch = pre.clone(true);
    for (const s of this.proposerSlashings.values()) {
      if (out.proposerSlashings.length >= c.MAX_PROPOSER_SLASHINGS) break;
      if (tryApply(() => processProposerSlashing(scratch, s, false))) out.proposerSlashings.push(s);
    }
    for (const { slashing } of this.attesterSlashings.values()) {
      if (out.attesterSlashings.length >= c.MAX_ATTESTER_SLASHINGS) break;
      if (tryApply(() => processAttesterSlashing(scratch, slashing, false))) out.attesterSlashings.push(slashing);
    }
    for (const e of this.exits.values()) {
      if (out.voluntaryExits.length >= c.MAX_VOLUNTARY_EXITS) break;
      if (tryApply(() => processVoluntaryExit(scratch, e, false))) out.voluntaryExits.push(e);
    }
    return out;
  }

  /** Drops what `state` (the head) shows already done: exits of exiting validators, slashings of slashed ones. */
  prune(state: CachedBeaconState): void {
    const validators = state.state.validators;
    const n = validators.length;
    const epoch = state.epochCtx.epoch;
    for (const index of this.exits.keys()) {
      if (index >= n || validators.getReadonly(index).exitEpoch !== FAR_FUTURE_EPOCH) this.exits.delete(index);
    }
    for (const index of this.proposerSlashings.keys()) {
      if (index >= n || validators.getReadonly(index).slashed) this.proposerSlashings.delete(index);
    }
    for (const [root, e] of this.attesterSlashings) {
      if (!e.indices.some((i) => i < n && isSlashableValidator(validators.getReadonly(i), epoch))) this.attesterSlashings.delete(root);
    }
  }

  private checkRoom(size: number, what: string): void {
    if (size >= this.maxPerKind) throw new PoolFullError(`${what} pool is full (${size} entries)`);
  }
}

function tryApply(apply: () => void): boolean {
  try {
    apply();
    return true;
  } catch {
    // no longer valid on this state (already slashed or exiting, or an earlier operation here did it)
    return false;
  }
}
