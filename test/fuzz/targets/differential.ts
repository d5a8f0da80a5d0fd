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
import { StateTransitionError, stateTransition, type CachedBeaconState } from "../../../src/state-transition/index.js";
import { bytesEqual, toHex } from "../../../src/util/bytes.js";
import { FUZZ_SRC_DIR, FuzzFinding, FuzzSkip, unexpected, type FuzzTarget } from "../engine.js";
import { hasUnsafeUint } from "./ssz.js";
import { blockTooFar, loadStates, opArbitrary } from "./stateTransition.js";

export const LODESTAR_DIR = join(FUZZ_SRC_DIR, "../perf/lodestar");

interface LState {
  hashTreeRoot(): Uint8Array;
  clone(dontTransferCache?: boolean): LState;
}
interface Lodestar {
  chainConfig: Record<string, unknown>;
  overrides: Record<string, unknown>;
  ssz: { phase0: { BeaconState: { deserializeToViewDU(b: Uint8Array): LState & { genesisValidatorsRoot: Uint8Array } }; SignedBeaconBlock: { deserialize(b: Uint8Array): object } } };
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

async function loadLodestar(): Promise<Lodestar> {
  if (!lodestarInstalled() && process.env.CAIRN_FUZZ_NO_INSTALL !== "1") {
    process.stderr.write(`installing Lodestar's state transition into ${LODESTAR_DIR} (once) ...\n`);
    spawnSync("npm", ["install", "--prefix", LODESTAR_DIR, "--no-audit", "--no-fund"], { stdio: "inherit" });
  }
  if (!lodestarInstalled()) throw new FuzzSkip(`Lodestar is not installed in ${LODESTAR_DIR} (npm install --prefix ${LODESTAR_DIR} failed or was not allowed)`);
  // Lodestar reads its preset once, when @lodestar/params loads: the first import in this process decides
  const mod = (await import(pathToFileURL(join(LODESTAR_DIR, "fuzz.mjs")).href)) as { loadLodestar(c: unknown): Promise<Lodestar> };
  return mod.loadLodestar(getNamedConfig("minimal"));
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
  // a uint64 at or above 2^53 in a number-typed field is held lossily by both clients, differently: a known
  // limitation (docs/fuzzing.md, finding 2), left out so that other divergences show
  if (hasUnsafeUint(c.types.SignedBeaconBlock.toJson(cairnBlock as never))) return null;
  let cairn: Outcome;
  try {
    cairn = { ok: true, root: stateTransition(cairnPre, cairnBlock as never, { verifySignatures: false, verifyStateRoot: false }).state.hashTreeRoot() };
  } catch (e) {
    if (!(e instanceof StateTransitionError)) throw unexpected("cairn stateTransition", e);
    cairn = { ok: false, why: e.message };
  }
  const L = lodestar;
  const config = L.chainConfig;
  const view = L.ssz.phase0.BeaconState.deserializeToViewDU(preBytes);
  const pre = L.stateTransition.createCachedBeaconState(view, L.stateTransition.createEmptyEpochCacheImmutableData(config, view));
  let lode: Outcome;
  try {
    const post = L.stateTransition.stateTransition(pre, L.ssz.phase0.SignedBeaconBlock.deserialize(blockBytes), {
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
        const dir = join(FUZZ_SRC_DIR, "corpus/block/states");
        stateBytes = existsSync(dir) ? readdirSync(dir).sort().map((f) => new Uint8Array(readFileSync(join(dir, f)))) : [];
        if (states.length === 0) throw new FuzzSkip("no pre-states in corpus/block/states");
      },
      // the block target's seeds and mutations
      corpus: "block",
      arbitrary: opArbitrary(() => getNamedConfig("minimal").types.SignedBeaconBlock as never, () => states),
      run(input) {
        if (input.length < 1) return;
        const i = input[0]! % states.length;
        const r = diffBlock(lodestar, stateBytes[i]!, states[i]!, input.subarray(1));
        if (!r) return;
        const { cairn, lodestar: l } = r;
        if (cairn.ok !== l.ok) {
          throw new FuzzFinding(`divergence: Cairn ${cairn.ok ? "accepts" : `rejects (${cairn.why})`}, Lodestar ${l.ok ? "accepts" : `rejects (${l.why})`}`);
        }
        if (cairn.ok && l.ok && !bytesEqual(cairn.root, l.root)) {
          throw new FuzzFinding(`divergence: post-state root Cairn ${toHex(cairn.root)} != Lodestar ${toHex(l.root)}`);
        }
      },
    },
  ];
}
