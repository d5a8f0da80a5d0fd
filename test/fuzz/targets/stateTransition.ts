// State-transition operations and whole blocks, mutated from real pre-states of the v0.12.3 spec vectors (the
// committed corpus under corpus/<target>/states/, built by `npm run fuzz -- --build-corpus`). An input is
// [pre-state index][operation SSZ]. Properties: processing throws nothing but StateTransitionError, and a rejected
// operation leaves the state as it was (hash_tree_root before == after); stateTransition never touches its pre-state;
// what is accepted was decoded exactly (a uint64 held as a number is rounded from 2^53 on: src/types/primitive.ts
// argues that the spec rejects every such value, and this checks it).
// Signatures are not checked (a mutated operation would only ever fail there), except randao, whose only check
// is the signature. Mutations are both byte edits and edits of one field of the decoded operation (slots,
// indices, roots, bits: the values consensus bugs hide behind).
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { BitArray } from "@chainsafe/ssz";
import fc from "fast-check";
import { getNamedConfig, type BeaconConfig } from "../../../src/config/index.js";
import {
  StateTransitionError,
  createCachedBeaconState,
  processAttestation,
  processAttesterSlashing,
  processBlockHeader,
  processDeposit,
  processEth1Data,
  processProposerSlashing,
  processRandao,
  processVoluntaryExit,
  checkAnchorState,
  processSlots,
  stateTransition,
  type CachedBeaconState,
} from "../../../src/state-transition/index.js";
import type { Phase0Types } from "../../../src/types/index.js";
import { bigintTwin } from "../../spec/runners/sszStatic.js";
import { bytesEqual, toHex } from "../../../src/util/bytes.js";
import { CORPUS_DIR, FuzzFinding, FuzzSkip, mutatedBytes, unexpected, type FuzzTarget } from "../engine.js";

/** Furthest a fuzzed block may sit past its pre-state: process_slots to slot 2^40 is valid but endless. */
export const MAX_SLOT_GAP = 64;

export interface OpSpec {
  /** target name; corpus/<name>/ holds the seeds, corpus/<name>/states/ the pre-states */
  name: string;
  /** the spec-vector handler the corpus is built from, and the operation file in its cases */
  handler: string;
  file: string;
  type(t: Phase0Types): SszLike;
  apply(cached: CachedBeaconState, op: unknown): void;
  /** The part of the operation that acceptance vouches for, which must then have been decoded exactly. */
  exact?: Exact;
}

export interface SszLike {
  deserialize(b: Uint8Array): unknown;
  serialize(v: unknown): Uint8Array;
  hashTreeRoot(v: unknown): Uint8Array;
}

interface Exact {
  type(t: Phase0Types): SszLike;
  part(op: unknown): unknown;
}
const whole = (type: (t: Phase0Types) => unknown): Exact => ({ type: type as (t: Phase0Types) => SszLike, part: (o) => o });

type Op<T> = (cached: CachedBeaconState, op: T) => void;
function op<T>(name: string, handler: string, file: string, type: (t: Phase0Types) => unknown, apply: Op<T>, exact?: Exact): OpSpec {
  return { name, handler, file, type: type as (t: Phase0Types) => SszLike, apply: apply as Op<unknown>, exact };
}

export const OPS: OpSpec[] = [
  op("op-attestation", "attestation", "attestation", (t) => t.Attestation, (s, o: never) => processAttestation(s, o, false), whole((t) => t.Attestation)),
  op("op-attester-slashing", "attester_slashing", "attester_slashing", (t) => t.AttesterSlashing, (s, o: never) => processAttesterSlashing(s, o, false), whole((t) => t.AttesterSlashing)),
  op("op-proposer-slashing", "proposer_slashing", "proposer_slashing", (t) => t.ProposerSlashing, (s, o: never) => processProposerSlashing(s, o, false), whole((t) => t.ProposerSlashing)),
  op("op-deposit", "deposit", "deposit", (t) => t.Deposit, (s, o: never) => processDeposit(s, o), whole((t) => t.Deposit)),
  op("op-voluntary-exit", "voluntary_exit", "voluntary_exit", (t) => t.SignedVoluntaryExit, (s, o: never) => processVoluntaryExit(s, o, false), whole((t) => t.SignedVoluntaryExit)),
  // header and randao vouch for part of a block only (the body's operations are checked later): the block target
  // checks whole blocks
  op("op-block-header", "block_header", "block", (t) => t.BeaconBlock, (s, o: never) => processBlockHeader(s, o)),
  // randao and eth1 data read the body of a block_header case's block (the vectors have no handler of their own)
  op("op-randao", "block_header", "block", (t) => t.BeaconBlock, (s, o: { body: never }) => processRandao(s, o.body, true)),
  op("op-eth1-data", "block_header", "block", (t) => t.BeaconBlock, (s, o: { body: never }) => processEth1Data(s, o.body), {
    type: (t) => t.Eth1Data as unknown as SszLike,
    part: (o) => (o as { body: { eth1Data: unknown } }).body.eth1Data,
  }),
];

/** Whether the accepted operation's `exact` part has the root that its bytes have when every uint64 is a bigint. */
export function checkExact(spec: OpSpec, t: Phase0Types, op: unknown, bytes: Uint8Array): void {
  if (!spec.exact) return;
  const partType = spec.exact.type(t);
  const exactOp = (bigintTwin(spec.type(t) as never) as unknown as SszLike).deserialize(bytes);
  const want = (bigintTwin(partType as never) as unknown as SszLike).hashTreeRoot(spec.exact.part(exactOp));
  const got = partType.hashTreeRoot(spec.exact.part(op));
  if (!bytesEqual(got, want)) {
    throw new FuzzFinding(`accepted, but decoded inexactly (a uint64 at or above 2^53 held as a number): root ${toHex(got)}, exact ${toHex(want)}`);
  }
}

const config = (): BeaconConfig => getNamedConfig("minimal");

/** The committed pre-states of a target, in file order (an input's first byte indexes them). */
export function loadStates(name: string): CachedBeaconState[] {
  const dir = join(CORPUS_DIR, name, "states");
  if (!existsSync(dir)) return [];
  const c = config();
  return readdirSync(dir)
    .sort()
    .map((f) => createCachedBeaconState(c, c.types.BeaconState.deserializeToViewDU(new Uint8Array(readFileSync(join(dir, f))))));
}

// ------------------------------------------------------------------------------------------------ field edits

type Leaf = { get(): unknown; set(v: unknown): void };

/** Every number, byte string and bit array in a decoded SSZ value, with a setter. */
function leaves(v: unknown, out: Leaf[] = []): Leaf[] {
  if (v === null || typeof v !== "object" || v instanceof Uint8Array || v instanceof BitArray) return out;
  const o = v as Record<string | number, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x === "number" || typeof x === "bigint" || x instanceof Uint8Array || x instanceof BitArray || typeof x === "boolean") {
      out.push({ get: () => o[k], set: (nv) => (o[k] = nv) });
    } else leaves(x, out);
  }
  return out;
}

export interface FieldEdit {
  at: number;
  kind: number;
  n: number;
}

const fieldEditArb: fc.Arbitrary<FieldEdit> = fc.record({ at: fc.nat(), kind: fc.nat(7), n: fc.nat(1 << 20) });

function editLeaf(leaf: Leaf, e: FieldEdit, state: CachedBeaconState): void {
  const x = leaf.get();
  if (typeof x === "number") {
    const slot = state.state.slot;
    const epoch = Math.floor(slot / state.config.SLOTS_PER_EPOCH);
    const nVal = state.state.validators.length;
    const pick = [0, 1, x + 1, x - 1, slot, epoch, nVal, Infinity][e.kind]!;
    leaf.set(Math.max(0, Number.isNaN(pick) ? 0 : pick));
  } else if (typeof x === "bigint") {
    // the exact fields: slots, epochs, committee indices in slashings, eth1 deposit counts
    const s = state.state;
    const max = 2n ** 64n - 1n;
    const epoch = BigInt(Math.floor(s.slot / state.config.SLOTS_PER_EPOCH));
    const pick = [0n, x < max ? x + 1n : x, x > 0n ? x - 1n : x, BigInt(s.slot), epoch, BigInt(s.eth1DepositIndex), 2n ** 53n + 1n, max][e.kind]!;
    leaf.set(pick);
  } else if (typeof x === "boolean") {
    leaf.set(!x);
  } else if (x instanceof Uint8Array) {
    const b = x.slice();
    if (b.length > 0) {
      if (e.kind < 4) b[e.n % b.length]! ^= 1 << e.kind;
      else if (e.kind < 6) b.fill(0);
      else {
        // another root of the state: mismatches that only a real root can make
        const roots = [state.state.latestBlockHeader.parentRoot, state.state.currentJustifiedCheckpoint.root, state.state.previousJustifiedCheckpoint.root];
        const r = roots[e.n % roots.length]!;
        if (r.length === b.length) b.set(r);
      }
    }
    leaf.set(b);
  } else if (x instanceof BitArray) {
    const bits = BitArray.fromBoolArray(x.toBoolArray());
    if (bits.bitLen > 0) bits.set(e.n % bits.bitLen, !bits.get(e.n % bits.bitLen));
    leaf.set(bits);
  }
}

/** [state index][op SSZ] inputs: seeds with byte edits, or decoded seeds with field edits re-encoded. */
export function opArbitrary(type: () => SszLike, states: () => CachedBeaconState[]): (seeds: Uint8Array[]) => fc.Arbitrary<Uint8Array> {
  return (seeds) => {
    const fieldEdits = fc.record({ seed: fc.nat(Math.max(0, seeds.length - 1)), edits: fc.array(fieldEditArb, { minLength: 1, maxLength: 3 }) }).map(({ seed, edits }) => {
      const s = seeds[seed]!;
      const st = states()[s[0]! % Math.max(1, states().length)];
      let value: unknown;
      try {
        value = type().deserialize(s.subarray(1));
      } catch {
        return s;
      }
      if (!st) return s;
      for (const e of edits) {
        const all = leaves(value);
        if (all.length > 0) editLeaf(all[e.at % all.length]!, e, st);
      }
      try {
        return Uint8Array.of(s[0]!, ...type().serialize(value));
      } catch {
        return s;
      }
    });
    return fc.oneof({ weight: 3, arbitrary: fieldEdits }, { weight: 1, arbitrary: mutatedBytes(seeds, 4) });
  };
}

function decodeOp(type: SszLike, bytes: Uint8Array): unknown | null {
  try {
    return type.deserialize(bytes);
  } catch {
    return null; // SSZ decoding has its own targets
  }
}

/** Runs `apply` on a copy of the pre-state; a rejection must be a StateTransitionError and change nothing. */
export function checkRejectionLeavesState(pre: CachedBeaconState, apply: (s: CachedBeaconState) => void): "accepted" | "rejected" {
  const s = pre.clone(true);
  const before = s.state.hashTreeRoot();
  try {
    apply(s);
    return "accepted";
  } catch (e) {
    if (!(e instanceof StateTransitionError)) throw unexpected("processing", e);
    const after = s.state.hashTreeRoot();
    if (!bytesEqual(before, after)) {
      throw new FuzzFinding(`rejected (${e.message}) but the state changed: root ${toHex(before)} -> ${toHex(after)}`);
    }
    return "rejected";
  }
}

function opTarget(spec: OpSpec): FuzzTarget {
  let states: CachedBeaconState[] = [];
  const type = () => spec.type(config().types);
  return {
    name: spec.name,
    description: `${spec.name.slice(3)} on spec pre-states: StateTransitionError only, a rejection leaves the state unchanged`,
    setup() {
      states = loadStates(spec.name);
      if (states.length === 0) throw new FuzzSkip(`no pre-states in corpus/${spec.name}/states (npm run fuzz -- --build-corpus)`);
    },
    arbitrary: opArbitrary(type, () => states),
    run(input) {
      if (input.length < 1) return "undecodable";
      const pre = states[input[0]! % states.length]!;
      const value = decodeOp(type(), input.subarray(1));
      if (value === null) return "undecodable";
      const outcome = checkRejectionLeavesState(pre, (s) => spec.apply(s, value));
      if (outcome === "accepted") checkExact(spec, config().types, value, input.subarray(1));
      return outcome;
    },
  };
}

// ------------------------------------------------------------------------------------------------ whole blocks

export function blockTooFar(pre: CachedBeaconState, block: { message: { slot: number } }): boolean {
  return !(block.message.slot <= pre.state.slot + MAX_SLOT_GAP);
}

function blockTarget(): FuzzTarget {
  let states: CachedBeaconState[] = [];
  const type = () => config().types.SignedBeaconBlock as unknown as SszLike;
  return {
    name: "block",
    description: "whole signed blocks (stateTransition, no signatures, no state root): StateTransitionError only, pre-state untouched",
    setup() {
      states = loadStates("block");
      if (states.length === 0) throw new FuzzSkip("no pre-states in corpus/block/states (npm run fuzz -- --build-corpus)");
    },
    arbitrary: opArbitrary(type, () => states),
    run(input) {
      if (input.length < 1) return "undecodable";
      const pre = states[input[0]! % states.length]!;
      const block = decodeOp(type(), input.subarray(1)) as { message: { slot: number } } | null;
      if (block === null) return "undecodable";
      if (blockTooFar(pre, block)) return "too far";
      const before = pre.state.hashTreeRoot();
      let outcome = "accepted";
      try {
        stateTransition(pre, block as never, { verifySignatures: false, verifyStateRoot: false });
      } catch (e) {
        if (!(e instanceof StateTransitionError)) throw unexpected("stateTransition", e);
        outcome = "rejected";
      }
      const after = pre.state.hashTreeRoot();
      if (!bytesEqual(before, after)) throw new FuzzFinding(`stateTransition changed its pre-state: ${toHex(before)} -> ${toHex(after)}`);
      // an accepted block was decoded exactly: every uint64 it holds as a number is below 2^53
      if (outcome === "accepted" && !bytesEqual(type().serialize(block), input.subarray(1))) {
        throw new FuzzFinding("accepted a block that does not re-serialize to its bytes (a uint64 at or above 2^53 held as a number)");
      }
      return outcome;
    },
  };
}

// ------------------------------------------------------------------------------------------------ anchor states

/** Every committed pre-state, as bytes: the seeds of the anchor-state target. */
function allStateBytes(): Uint8Array[] {
  const out = new Map<string, Uint8Array>();
  for (const name of [...OPS.map((o) => o.name), "block"]) {
    const dir = join(CORPUS_DIR, name, "states");
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) {
      const b = new Uint8Array(readFileSync(join(dir, f)));
      out.set(toHex(b.subarray(0, 64)) + b.length, b);
    }
  }
  return [...out.values()];
}

/** A list's length changed: the edits that make a state inconsistent (balances shorter than validators, ...). */
const listEditArb = fc.record({ list: fc.constantFrom("validators", "balances", "previousEpochAttestations", "currentEpochAttestations", "eth1DataVotes", "historicalRoots"), drop: fc.integer({ min: -3, max: 3 }) });

/**
 * A state from a checkpoint-sync server or a file (`--checkpoint-state`, `--genesis-state`) is input like any other:
 * `checkAnchorState` must refuse it with a StateTransitionError, or the node must be able to start from it, which
 * here means building its caches and processing slots past the next epoch boundary with no other exception.
 */
function anchorStateTarget(): FuzzTarget {
  let seeds: Uint8Array[] = [];
  const type = () => config().types.BeaconState as unknown as SszLike;
  let states: CachedBeaconState[] = [];
  return {
    name: "anchor-state",
    description: "checkpoint/genesis states from outside: checkAnchorState refuses with StateTransitionError, or caches and two epochs of slots work",
    setup() {
      seeds = allStateBytes().map((b) => Uint8Array.of(0, ...b));
      if (seeds.length === 0) throw new FuzzSkip("no pre-states in the corpus (npm run fuzz -- --build-corpus)");
      states = seeds.map((b) => createCachedBeaconState(config(), config().types.BeaconState.deserializeToViewDU(b.subarray(1))));
    },
    seeds: () => seeds,
    arbitrary: (ss) => {
      const lengths = fc.record({ seed: fc.nat(Math.max(0, ss.length - 1)), edits: fc.array(listEditArb, { minLength: 1, maxLength: 2 }) }).map(({ seed, edits }) => {
        const b = ss[seed]!;
        try {
          const v = type().deserialize(b.subarray(1)) as Record<string, unknown[]>;
          for (const e of edits) {
            const list = v[e.list]!;
            if (e.drop > 0) list.splice(Math.max(0, list.length - e.drop));
            else for (let i = 0; i < -e.drop && list.length > 0; i++) list.push(structuredClone(list[list.length - 1]));
          }
          return Uint8Array.of(0, ...type().serialize(v));
        } catch {
          return b;
        }
      });
      return fc.oneof({ weight: 2, arbitrary: opArbitrary(type, () => states)(ss) }, { weight: 1, arbitrary: lengths });
    },
    run(input) {
      const c = config();
      let view;
      try {
        view = c.types.BeaconState.deserializeToViewDU(input.subarray(1));
      } catch {
        return "undecodable";
      }
      try {
        checkAnchorState(c, view);
      } catch (e) {
        if (!(e instanceof StateTransitionError)) throw unexpected("checkAnchorState", e);
        return "refused";
      }
      try {
        const cached = createCachedBeaconState(c, view);
        processSlots(cached, (Math.floor(view.slot / c.SLOTS_PER_EPOCH) + 2) * c.SLOTS_PER_EPOCH);
      } catch (e) {
        if (!(e instanceof StateTransitionError)) throw unexpected("a state checkAnchorState accepted", e);
        return "rejected later";
      }
      return "accepted";
    },
  };
}

export function stateTargets(): FuzzTarget[] {
  return [...OPS.map(opTarget), blockTarget(), anchorStateTarget()];
}

