// Differential fuzzing against Lodestar's state transition (@lodestar/state-transition 1.48, installed apart in
// test/perf/lodestar as `npm run bench` does; installed here on first use, or the target is skipped). The same
// mutated block goes through both from the same minimal pre-state (signatures and the state root not checked):
// the accept/reject decision and the post-state root must agree. Lodestar implements the current spec with every
// fork after phase 0 disabled; its minimal preset is today's, so the known version differences are excluded
// before comparing (see docs/fuzzing.md, "Differential").
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { getNamedConfig } from "../../../src/config/index.js";
import { StateTransitionError, processRandao, stateTransition, type CachedBeaconState } from "../../../src/state-transition/index.js";
import { bytesEqual, toHex } from "../../../src/util/bytes.js";
import { FUZZ_SRC_DIR, FuzzFinding, FuzzSkip, unexpected, type FuzzTarget } from "../engine.js";
import { hasUnsafeUint } from "./ssz.js";
import { OPS, blockTooFar, loadStates, opArbitrary, type OpSpec } from "./stateTransition.js";

export const LODESTAR_DIR = join(FUZZ_SRC_DIR, "../perf/lodestar");

interface LState {
  hashTreeRoot(): Uint8Array;
  clone(dontTransferCache?: boolean): LState;
}
interface Lodestar {
  ssz: { phase0: Record<string, { deserialize(b: Uint8Array): unknown; deserializeToViewDU(b: Uint8Array): LState & { genesisValidatorsRoot: Uint8Array } }> };
  chainConfig: Record<string, unknown>;
  overrides: Record<string, unknown>;
  stateTransition: {
    createCachedBeaconState(state: LState, immutable: unknown): LState;
    createEmptyEpochCacheImmutableData(config: Record<string, unknown>, state: { genesisValidatorsRoot: Uint8Array }): unknown;
    stateTransition(state: LState, block: object, opts: Record<string, unknown>): LState;
    ExecutionPayloadStatus: { valid: unknown };
    DataAvailabilityStatus: { Available: unknown };
  };
}

function lodestarInstalled(): boolean {
  return existsSync(join(LODESTAR_DIR, "node_modules/@lodestar/state-transition/package.json"));
}

let loaded: Promise<Lodestar> | undefined;
/** Once per process: Lodestar's preset is frozen when first loaded. */
function loadLodestar(): Promise<Lodestar> {
  return (loaded ??= loadLodestarOnce());
}

async function loadLodestarOnce(): Promise<Lodestar> {
  if (!lodestarInstalled() && process.env.CAIRN_FUZZ_NO_INSTALL !== "1") {
    process.stderr.write(`installing Lodestar's state transition into ${LODESTAR_DIR} (once) ...\n`);
    spawnSync("npm", ["install", "--prefix", LODESTAR_DIR, "--no-audit", "--no-fund"], { stdio: "inherit" });
  }
  if (!lodestarInstalled()) throw new FuzzSkip(`Lodestar is not installed in ${LODESTAR_DIR} (npm install --prefix ${LODESTAR_DIR} failed or was not allowed)`);
  // Lodestar reads its preset once, when @lodestar/params loads: the first import in this process decides
  const mod = (await import(pathToFileURL(join(LODESTAR_DIR, "fuzz.mjs")).href)) as { loadLodestar(c: unknown): Promise<Lodestar> };
  return mod.loadLodestar(getNamedConfig("minimal"));
}

/** Lodestar's per-operation functions (not exported by the package index: loaded by file, same module instances). */
interface LodestarOps {
  [fn: string]: (...args: unknown[]) => void;
}

async function loadLodestarOps(): Promise<LodestarOps> {
  const lib = join(LODESTAR_DIR, "node_modules/@lodestar/state-transition/lib/block");
  const files = ["processAttestationPhase0", "processAttesterSlashing", "processProposerSlashing", "processDeposit", "processVoluntaryExit", "processBlockHeader", "processRandao", "processEth1Data"];
  const out: LodestarOps = {};
  for (const f of files) Object.assign(out, (await import(pathToFileURL(join(lib, `${f}.js`)).href)) as LodestarOps);
  return out;
}

const PHASE0 = 0; // ForkSeq.phase0

/** How each operation target's input goes through Lodestar: its SSZ type name and the call (phase 0 fork). */
const LODESTAR_OPS: Record<string, { type: string; apply(f: LodestarOps, state: LState, op: unknown): void }> = {
  "op-attestation": { type: "Attestation", apply: (f, s, o) => f.processAttestationPhase0!(s, o, false) },
  "op-attester-slashing": { type: "AttesterSlashing", apply: (f, s, o) => f.processAttesterSlashing!(PHASE0, s, o, false) },
  "op-proposer-slashing": { type: "ProposerSlashing", apply: (f, s, o) => f.processProposerSlashing!(PHASE0, s, o, false) },
  "op-deposit": { type: "Deposit", apply: (f, s, o) => f.processDeposit!(PHASE0, s, o) },
  "op-voluntary-exit": { type: "SignedVoluntaryExit", apply: (f, s, o) => f.processVoluntaryExit!(PHASE0, s, o, false) },
  "op-block-header": { type: "BeaconBlock", apply: (f, s, o) => f.processBlockHeader!(s, o) },
  // without the signature: Lodestar takes the randao domain from its config's fork schedule and the signer from
  // block.proposerIndex (checked by processBlockHeader before), the spec from state.fork and the state's proposer;
  // the spec vectors' states carry fork version 0x00000000 against the config's 0x00000001 (docs/fuzzing.md)
  "op-randao": { type: "BeaconBlock", apply: (f, s, o) => f.processRandao!(s, o, false) },
  "op-eth1-data": { type: "BeaconBlock", apply: (f, s, o) => f.processEth1Data!(s, (o as { body: { eth1Data: unknown } }).body.eth1Data) },
};

function lodestarState(L: Lodestar, bytes: Uint8Array): LState {
  const view = L.ssz.phase0.BeaconState!.deserializeToViewDU(bytes);
  return L.stateTransition.createCachedBeaconState(view, L.stateTransition.createEmptyEpochCacheImmutableData(L.chainConfig, view));
}

type Outcome = { ok: true; root: Uint8Array } | { ok: false; why: string };

export function diffBlock(lodestar: Lodestar, preBytes: Uint8Array, cairnPre: CachedBeaconState, blockBytes: Uint8Array): { cairn: Outcome; lodestar: Outcome } | null {
  const c = getNamedConfig("minimal");
  let cairnBlock: { message: { slot: number } };
  try {
    cairnBlock = c.types.SignedBeaconBlock.deserialize(blockBytes) as never;
  } catch {
    return null;
  }
  if (blockTooFar(cairnPre, cairnBlock)) return null;
  // a uint64 at or above 2^53: Lodestar holds every such field as a rounded number, Cairn holds those the spec
  // accepts at any value exactly (and rejects the rest, as the spec does), so the two disagree by design (Cairn
  // follows the spec: docs/fuzzing.md, finding 2); left out so that other divergences show
  if (hasUnsafeUint(c.types.SignedBeaconBlock.toJson(cairnBlock as never))) return null;
  let cairn: Outcome;
  try {
    cairn = { ok: true, root: stateTransition(cairnPre, cairnBlock as never, { verifySignatures: false, verifyStateRoot: false }).state.hashTreeRoot() };
  } catch (e) {
    if (!(e instanceof StateTransitionError)) throw unexpected("cairn stateTransition", e);
    cairn = { ok: false, why: e.message };
  }
  const L = lodestar;
  const pre = lodestarState(L, preBytes);
  let lode: Outcome;
  try {
    const post = L.stateTransition.stateTransition(pre, L.ssz.phase0.SignedBeaconBlock!.deserialize(blockBytes) as object, {
      verifyStateRoot: false,
      verifyProposer: false,
      verifySignatures: false,
      executionPayloadStatus: L.stateTransition.ExecutionPayloadStatus.valid,
      dataAvailabilityStatus: L.stateTransition.DataAvailabilityStatus.Available,
    });
    lode = { ok: true, root: post.hashTreeRoot() };
  } catch (e) {
    lode = { ok: false, why: (e as Error).message };
  }
  return { cairn, lodestar: lode };
}

function compare(cairn: Outcome, l: Outcome): string {
  if (cairn.ok !== l.ok) {
    throw new FuzzFinding(`divergence: Cairn ${cairn.ok ? "accepts" : `rejects (${cairn.why})`}, Lodestar ${l.ok ? "accepts" : `rejects (${l.why})`}`);
  }
  if (cairn.ok && l.ok && !bytesEqual(cairn.root, l.root)) {
    throw new FuzzFinding(`divergence: post-state root Cairn ${toHex(cairn.root)} != Lodestar ${toHex(l.root)}`);
  }
  return cairn.ok ? "both accept" : "both reject";
}

function readStates(name: string): Uint8Array[] {
  const dir = join(FUZZ_SRC_DIR, "corpus", name, "states");
  return existsSync(dir) ? readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f)))) : [];
}

/** One operation target through both clients, from the same pre-state. */
function diffOpTarget(spec: OpSpec): FuzzTarget {
  const l = LODESTAR_OPS[spec.name]!;
  let lodestar: Lodestar;
  let fns: LodestarOps;
  let states: CachedBeaconState[] = [];
  let lstates: LState[] = [];
  const type = () => spec.type(getNamedConfig("minimal").types);
  return {
    name: `diff-${spec.name.slice(3)}`,
    description: `${spec.name.slice(3)} through Cairn and Lodestar 1.48 (phase 0): accept/reject and post-state root agree`,
    corpus: spec.name,
    async setup() {
      lodestar = await loadLodestar();
      fns = await loadLodestarOps();
      states = loadStates(spec.name);
      if (states.length === 0) throw new FuzzSkip(`no pre-states in corpus/${spec.name}/states`);
      lstates = readStates(spec.name).map((b) => lodestarState(lodestar, b));
    },
    arbitrary: opArbitrary(type, () => states),
    run(input) {
      if (input.length < 1) return "skipped";
      const i = input[0]! % states.length;
      const bytes = input.subarray(1);
      let op: unknown;
      try {
        op = type().deserialize(bytes);
      } catch {
        return "skipped";
      }
      if (hasUnsafeUint((type() as unknown as { toJson(v: unknown): unknown }).toJson(op))) return "skipped";
      let cairn: Outcome;
      const s = states[i]!.clone(true);
      try {
        if (spec.name === "op-randao") processRandao(s, (op as { body: never }).body, false);
        else spec.apply(s, op);
        cairn = { ok: true, root: s.state.hashTreeRoot() };
      } catch (e) {
        if (!(e instanceof StateTransitionError)) throw unexpected(`cairn ${spec.name}`, e);
        cairn = { ok: false, why: e.message };
      }
      let lode: Outcome;
      const ls = lstates[i]!.clone(true);
      try {
        l.apply(fns, ls, lodestar.ssz.phase0[l.type]!.deserialize(bytes));
        lode = { ok: true, root: ls.hashTreeRoot() };
      } catch (e) {
        lode = { ok: false, why: (e as Error).message };
      }
      return compare(cairn, lode);
    },
  };
}

export function differentialTargets(): FuzzTarget[] {
  let lodestar: Lodestar;
  let states: CachedBeaconState[] = [];
  let stateBytes: Uint8Array[] = [];
  return [
    {
      name: "diff-block",
      description: "the same mutated block through Cairn and Lodestar 1.48: accept/reject and post-state root agree",
      async setup() {
        lodestar = await loadLodestar();
        process.stderr.write(`diff-block: Lodestar runs with Cairn's v0.12.3 values of ${Object.keys(lodestar.overrides).join(", ") || "nothing"}\n`);
        states = loadStates("block");
        stateBytes = readStates("block");
        if (states.length === 0) throw new FuzzSkip("no pre-states in corpus/block/states");
      },
      // the block target's seeds and mutations
      corpus: "block",
      arbitrary: opArbitrary(() => getNamedConfig("minimal").types.SignedBeaconBlock as never, () => states),
      run(input) {
        if (input.length < 1) return "skipped";
        const i = input[0]! % states.length;
        const r = diffBlock(lodestar, stateBytes[i]!, states[i]!, input.subarray(1));
        if (!r) return "skipped";
        return compare(r.cairn, r.lodestar);
      },
    },
    ...OPS.map(diffOpTarget),
  ];
}
