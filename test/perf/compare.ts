// The side-by-side protocol: the same steps, in the same order, on the same bytes, for whichever implementation
// the adapter wraps. Each implementation runs it in its own process (see child.ts), so its peak RSS is its own.
import { measure, peakRssMb, summarize, toHex, type ImplResult, type MeasureOpts, type Timing } from "./harness.js";

export interface FixtureFiles {
  epochPre: Uint8Array;
  blockPre: Uint8Array;
  block: Uint8Array;
  epochPreSlot: number;
  validators: number;
}

/**
 * One implementation behind the protocol. S is its state with caches (epoch context, pubkeys), V a bare
 * deserialized tree, B its decoded signed block.
 */
export interface Adapter<S, V, B> {
  name: string;
  /** Deserialize and build the caches a node keeps with a state (epoch context, shufflings, pubkey cache). */
  load(bytes: Uint8Array): S;
  /**
   * Untimed, before each run: a pre-state in the condition a node's head state is in, when the timed step would
   * otherwise leave `base` changed (e.g. moving its caches to the copy).
   */
  fresh(base: S): S;
  /** processSlots across the epoch boundary, including the copy of the state it needs and the final commit. */
  epochTransition(pre: S, slot: number): S;
  decodeBlock(bytes: Uint8Array): B;
  /** The full state transition of a block without signature checks, state root check included. */
  blockTransition(pre: S, block: B): S;
  hashTreeRoot(s: S): Uint8Array;
  serialize(s: S): Uint8Array;
  deserialize(bytes: Uint8Array): V;
  viewHashTreeRoot(v: V): Uint8Array;
}

export function runComparison<S, V, B>(
  a: Adapter<S, V, B>,
  fx: FixtureFiles,
  opts: MeasureOpts,
  log: (msg: string) => void,
  sszOnly = false,
): ImplResult {
  const timings: Record<string, Timing> = {};
  const roots: Record<string, string> = {};
  const notes: string[] = [];

  let t0 = performance.now();
  const epochBase = a.load(fx.epochPre);
  roots.epochPre = toHex(a.hashTreeRoot(epochBase));
  let loadedRssMb = process.memoryUsage().rss / 2 ** 20;
  if (!sszOnly) {
    const blockBase = a.load(fx.blockPre);
    roots.blockPre = toHex(a.hashTreeRoot(blockBase));
    const block = a.decodeBlock(fx.block);
    loadedRssMb = process.memoryUsage().rss / 2 ** 20;
    log(`${a.name}: states loaded in ${(performance.now() - t0).toFixed(0)} ms, RSS ${loadedRssMb.toFixed(0)} MB`);
    stateTransitionFigures(a, fx, opts, log, epochBase, blockBase, block, timings, roots);
  }
  sszFigures(a, fx, opts, log, epochBase, timings, roots);
  return { impl: a.name, validators: fx.validators, timings, roots, peakRssMb: peakRssMb(), loadedRssMb, notes };
}

function stateTransitionFigures<S, V, B>(
  a: Adapter<S, V, B>,
  fx: FixtureFiles,
  opts: MeasureOpts,
  log: (msg: string) => void,
  epochBase: S,
  blockBase: S,
  block: B,
  timings: Record<string, Timing>,
  roots: Record<string, string>,
): void {
  // Epoch transition, then the (incremental) hashTreeRoot of its post-state, timed apart in the same run.
  const epochRuns: number[] = [];
  const htrRuns: number[] = [];
  for (let i = 0; i < opts.warmup + opts.runs; i++) {
    const pre = a.fresh(epochBase);
    const t0 = performance.now();
    const post = a.epochTransition(pre, fx.epochPreSlot + 1);
    const t1 = performance.now();
    const root = toHex(a.hashTreeRoot(post));
    const t2 = performance.now();
    if (i >= opts.warmup) {
      epochRuns.push(t1 - t0);
      htrRuns.push(t2 - t1);
    }
    if (roots.epochPost !== undefined && roots.epochPost !== root) throw new Error(`${a.name}: epoch post-state root differs between runs`);
    roots.epochPost = root;
  }
  timings.epochTransition = summarize(epochRuns);
  timings.hashTreeRootAfterEpoch = summarize(htrRuns);
  log(`${a.name}: epoch transition ${timings.epochTransition.median.toFixed(1)} ms, then hashTreeRoot ${timings.hashTreeRootAfterEpoch.median.toFixed(1)} ms`);

  // A block takes milliseconds: give the JIT as many runs to settle as a node's stream of blocks would.
  timings.block = measure(
    { warmup: opts.warmup * 4, runs: opts.runs },
    () => a.fresh(blockBase),
    (pre) => a.blockTransition(pre, block),
    (post) => {
      const root = toHex(a.hashTreeRoot(post));
      if (roots.blockPost !== undefined && roots.blockPost !== root) throw new Error(`${a.name}: block post-state root differs between runs`);
      roots.blockPost = root;
    },
  );
  log(`${a.name}: block ${timings.block.median.toFixed(1)} ms`);
}

/** Serialize the loaded epoch pre-state, deserialize its bytes to a tree, hash a freshly deserialized tree. */
function sszFigures<S, V, B>(
  a: Adapter<S, V, B>,
  fx: FixtureFiles,
  opts: MeasureOpts,
  log: (msg: string) => void,
  epochBase: S,
  timings: Record<string, Timing>,
  roots: Record<string, string>,
): void {
  let bytes: Uint8Array = new Uint8Array(0);
  timings.serialize = measure(
    opts,
    () => epochBase,
    (s) => a.serialize(s),
    (b) => (bytes = b),
  );
  if (Buffer.compare(Buffer.from(bytes), Buffer.from(fx.epochPre)) !== 0) throw new Error(`${a.name}: serialized state differs from its input`);
  timings.deserialize = measure(
    opts,
    () => fx.epochPre,
    (b) => a.deserialize(b),
  );
  timings.hashTreeRootFresh = measure(
    opts,
    () => a.deserialize(fx.epochPre),
    (v) => a.viewHashTreeRoot(v),
    (root) => {
      if (toHex(root) !== roots.epochPre) throw new Error(`${a.name}: root of the deserialized state differs`);
    },
  );
  log(`${a.name}: serialize ${timings.serialize.median.toFixed(1)} ms, deserialize ${timings.deserialize.median.toFixed(1)} ms, hashTreeRoot fresh ${timings.hashTreeRootFresh.median.toFixed(1)} ms`);
}

/**
 * Peak RSS of doing each step once, as a node holding a few states does: both pre-states loaded, the post-state of
 * the epoch transition and of the block kept, the serialized state and a deserialized copy (hashed) kept too.
 * Measured in a process of its own, with V8's default heap settings and no benchmark loop whose garbage would
 * decide the figure.
 */
export function runMemory<S, V, B>(a: Adapter<S, V, B>, fx: FixtureFiles): { impl: string; validators: number; peakRssMb: number; roots: Record<string, string> } {
  const epochBase = a.load(fx.epochPre);
  a.hashTreeRoot(epochBase);
  const blockBase = a.load(fx.blockPre);
  a.hashTreeRoot(blockBase);
  const block = a.decodeBlock(fx.block);
  const epochPost = a.epochTransition(a.fresh(epochBase), fx.epochPreSlot + 1);
  const blockPost = a.blockTransition(a.fresh(blockBase), block);
  const bytes = a.serialize(epochBase);
  const copy = a.deserialize(bytes);
  const roots = {
    epochPost: toHex(a.hashTreeRoot(epochPost)),
    blockPost: toHex(a.hashTreeRoot(blockPost)),
    deserialized: toHex(a.viewHashTreeRoot(copy)),
  };
  return { impl: a.name, validators: fx.validators, peakRssMb: peakRssMb(), roots };
}
