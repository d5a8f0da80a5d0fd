// Helpers for the state-transition runners: lazy loading of src/state-transition, state files, state comparison.
import { isCompositeType, type Type } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../src/config/index.js";
import type { BeaconStateView } from "../../src/types/index.js";
import {
  bytesEqual,
  diffJson,
  expectThrow,
  normalizeJson,
  toHex,
  toNum,
  type CaseFn,
  type SpecCase,
  type TreeViewLike,
} from "./harness.js";

export type StateTransitionModule = typeof import("../../src/state-transition/index.js");
export type CachedBeaconState = ReturnType<StateTransitionModule["createCachedBeaconState"]>;

let stateTransition: Promise<StateTransitionModule> | undefined;
/**
 * Imported on first use, so the runners that do not need it (bls, ssz, shuffling) work even while
 * src/state-transition is incomplete; every case of the others then fails with the import error.
 */
export function loadStateTransition(): Promise<StateTransitionModule> {
  return (stateTransition ??= import("../../src/state-transition/index.js"));
}

export function loadState(c: SpecCase, file: string): BeaconStateView {
  return c.config.types.BeaconState.deserializeToViewDU(c.bytes(file));
}

/** meta.yaml bls_setting: 0 (either) and 1 (required) run with signature checks, 2 (ignored) without. */
export function verifySignatures(c: SpecCase): boolean {
  const setting = c.meta().bls_setting;
  return setting === undefined || toNum(setting, "bls_setting") !== 2;
}

/** Compare by hash_tree_root; on mismatch name every top-level field whose root differs, with its first difference. */
export function assertStatesEqual(config: BeaconConfig, actual: BeaconStateView, expected: BeaconStateView): void {
  const actualRoot = actual.hashTreeRoot();
  const expectedRoot = expected.hashTreeRoot();
  if (bytesEqual(actualRoot, expectedRoot)) return;

  const fields = config.types.BeaconState.fields as Record<string, Type<unknown>>;
  const diffs: string[] = [];
  for (const [name, type] of Object.entries(fields)) {
    const a = (actual as unknown as Record<string, unknown>)[name];
    const e = (expected as unknown as Record<string, unknown>)[name];
    // Composite fields are views, basic fields plain values.
    const root = (v: unknown) => (isCompositeType(type) ? (v as TreeViewLike).hashTreeRoot() : type.hashTreeRoot(v));
    if (bytesEqual(root(a), root(e))) continue;
    const value = (v: unknown) => normalizeJson(type.toJson(isCompositeType(type) ? (v as TreeViewLike).toValue() : v));
    diffs.push(`${name} (${diffJson(value(a), value(e), name) ?? "same JSON, different root"})`);
  }
  throw new Error(
    `post-state root ${toHex(actualRoot)} != expected ${toHex(expectedRoot)}; differing fields: ${diffs.join("; ")}`,
  );
}

/**
 * The shared shape of the state tests: build a CachedBeaconState from pre.ssz, run `apply`, then compare with
 * post.ssz, or, when the case has no post.ssz, require `apply` to throw.
 */
export function stateCase(
  apply: (st: StateTransitionModule, cached: CachedBeaconState, c: SpecCase) => CachedBeaconState | void,
): CaseFn {
  return async (c) => {
    const st = await loadStateTransition();
    let cached = st.createCachedBeaconState(c.config, loadState(c, "pre.ssz"));
    const run = () => {
      cached = apply(st, cached, c) ?? cached;
    };
    if (!c.has("post.ssz")) {
      const err = await expectThrow(run, `${c.runner}/${c.handler}`);
      // A missing or misnamed function also "throws"; that is not a rejection of the input.
      if (err instanceof TypeError && /is not a function/.test(err.message)) {
        throw new Error(`expected a rejection, got an implementation error: ${err.message}`);
      }
      return;
    }
    run();
    assertStatesEqual(c.config, cached.state, loadState(c, "post.ssz"));
  };
}
