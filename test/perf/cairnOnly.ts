// Cairn's own benchmarks (no Lodestar counterpart in the table): full block import with every signature checked,
// shuffling of the whole registry, decoding a block, and fork choice with 100,000 moving votes.
import { BlsWorkerPool } from "../../src/chain/bls/pool.js";
import { verifySignatureSets } from "../../src/crypto/bls.js";
import { PubkeyCache } from "../../src/state-transition/cache/pubkeyCache.js";
import {
  createCachedBeaconState,
  getBlockSignatureSets,
    processBlock,
  processSlots,
  stateTransition,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { getSeed } from "../../src/state-transition/util/seed.js";
import { unshuffleList } from "../../src/state-transition/util/shuffle.js";
import { bytesEqual } from "../../src/util/bytes.js";
import type { SignedBeaconBlock } from "../../src/types/index.js";
import type { LoadedFixtures } from "./files.js";
import { benchConfig } from "./fixtures.js";
import { measure, measureAsync, peakRssMb, summarize, toHex, type MeasureOpts, type Timing } from "./harness.js";

export interface CairnOnlyResult {
  impl: "cairn-only";
  validators: number;
  timings: Record<string, Timing>;
  /** what each figure consists of, e.g. signature set counts */
  details: Record<string, unknown>;
  notes: string[];
  peakRssMb: number;
}

/** `importOnly`: the block import figures alone (bench --import-only). */
export async function runCairnOnly(fx: LoadedFixtures, opts: MeasureOpts, log: (msg: string) => void, importOnly = false): Promise<CairnOnlyResult> {
  const c = benchConfig();
  const t = c.types;
  const timings: Record<string, Timing> = {};
  const details: Record<string, unknown> = {};
  const notes: string[] = [];
  const validators = fx.meta.validators;

  const pubkeyCache = new PubkeyCache();
  const base = createCachedBeaconState(c, t.BeaconState.deserializeToViewDU(fx.blockPre), { pubkeyCache });
  base.state.hashTreeRoot();
  const block = t.SignedBeaconBlock.deserialize(fx.block);
  // As in the comparison: each run starts from a copy with the caches a node's head state has.
  const fresh = (): CachedBeaconState => {
    const s = base.clone(true);
    s.state.validators.getAllReadonlyValues();
    return s;
  };

  // --- Block import with every signature checked -------------------------------------------------------------
  const signers: number[] = [];
  // Signature sets of the block (proposer, randao, 128 attestations naming their signers), alone; then their
  // verification on one thread, which aggregates the signers' keys.
  {
    const post = fresh().clone();
    processSlots(post, block.message.slot);
    const sets = getBlockSignatureSets(post, block);
    details.signatureSets = sets.length;
    details.signerCount = block.message.body.attestations.reduce((n, a) => n + a.aggregationBits.getTrueBitIndexes().length, 0) + 2;
    for (const s of sets) if ("indices" in s) signers.push(...Array.from(s.indices));
    // The first verification decompresses the signers' pubkeys into the chain's pubkey cache (once per validator).
    const t0 = performance.now();
    if (!verifySignatureSets(sets)) throw new Error("the benchmark block's signatures do not verify");
    details.firstVerifyMs = performance.now() - t0;
    timings.signatureSets = measure(opts, () => post, (s) => getBlockSignatureSets(s, block));
    timings.blsVerifyMainThread = measure(opts, () => sets, (s) => verifySignatureSets(s), (ok) => check(ok));
    log(`cairn: ${sets.length} signature sets ${timings.signatureSets.median.toFixed(1)} ms, one-thread batch verify ${timings.blsVerifyMainThread.median.toFixed(1)} ms`);
  }

  // stateTransition as is: sets, one multi-pairing on the calling thread, processBlock, state root.
  // CPU time of each import, all threads of the process (the workers' too): beside the wall time, the share of the
  // machine's cores the import got on a shared machine.
  const cpu: number[] = [];
  const cpuOf = <R>(fn: () => R): R => {
    const c0 = process.cpuUsage();
    const r = fn();
    if (r instanceof Promise) return r.finally(() => cpu.push(cpuMs(c0))) as R;
    cpu.push(cpuMs(c0));
    return r;
  };
  timings.blockImportOneThread = measure(opts, fresh, (pre) => cpuOf(() => stateTransition(pre, block)), (post) => checkRoot(post, block));
  timings.blockImportOneThreadCpu = summarize(cpu.splice(0).slice(opts.warmup));
  log(`cairn: block import, BLS on the main thread ${timings.blockImportOneThread.median.toFixed(1)} ms`);

  // The same import with the signatures verified on the worker pool while the main thread processes the block.
  for (const workers of [2, 1]) {
    const pool = new BlsWorkerPool(workers);
    try {
      // the signers' keys decompressed in each worker, as on the main thread above (a worker does it on first use)
      await pool.warmUp(pubkeyCache, signers);
      const mainThread: number[] = [];
      timings[`blockImportPool${workers}`] = await measureAsync(opts, fresh, (pre) => cpuOf(() => importWithPool(pre, block, pool, mainThread)), (post) => checkRoot(post, block));
      timings[`blockImportPool${workers}Cpu`] = summarize(cpu.splice(0).slice(opts.warmup));
      // until the main thread is done with the block (sets, processBlock, state root) and only waits for the workers
      timings[`blockImportPool${workers}MainThread`] = summarize(mainThread.slice(opts.warmup));
    } finally {
      await pool.close();
    }
    log(`cairn: block import, BLS on ${workers} worker thread(s) ${timings[`blockImportPool${workers}`].median.toFixed(1)} ms, CPU ${timings[`blockImportPool${workers}Cpu`].median.toFixed(1)} ms`);
  }
  if (importOnly) return { impl: "cairn-only", validators, timings, details, notes, peakRssMb: peakRssMb() };

  // --- Shuffling of the whole registry -------------------------------------------------------------------
  {
    const ctx = base.epochCtx;
    const active = ctx.currentShuffling.activeIndices;
    const seed = getSeed(c, base.state, ctx.epoch, c.DOMAIN_BEACON_ATTESTER);
    timings.shuffling = measure(
      opts,
      () => active,
      (a) => unshuffleList(a, seed, c.SHUFFLE_ROUND_COUNT),
      (out) => {
        for (let i = 0; i < out.length; i++) {
          if (out[i] !== ctx.currentShuffling.shuffling[i]) throw new Error("unshuffleList differs from the epoch context's shuffling");
        }
      },
    );
    details.shuffledIndices = active.length;
    log(`cairn: unshuffleList of ${active.length} indices ${timings.shuffling.median.toFixed(1)} ms`);
  }

  // --- Decoding a block ------------------------------------------------------------------------------------
  timings.decodeBlock = measure(opts, () => fx.block, (b) => t.SignedBeaconBlock.deserialize(b));
  details.blockBytes = fx.block.length;
  log(`cairn: decode a ${fx.block.length}-byte block ${timings.decodeBlock.median.toFixed(2)} ms`);

  // --- Fork choice -------------------------------------------------------------------------------------------
  try {
    const fc = await forkChoiceBench(validators, opts);
    Object.assign(timings, fc.timings);
    details.forkChoice = fc.details;
    log(`cairn: fork choice, ${validators} votes moved ${fc.timings.forkChoiceVotes.median.toFixed(1)} ms, getHead ${fc.timings.forkChoiceHead.median.toFixed(1)} ms`);
    const long = await forkChoiceLongChainBench(validators);
    Object.assign(timings, long.timings);
    details.forkChoiceLongChain = long.details;
    log(
      `cairn: fork choice, a block and getHead at ${long.details.shortNodes} nodes ${long.timings.forkChoiceBlockShortChain.median.toFixed(2)} ms, ` +
        `at ${long.details.longNodes} nodes ${long.timings.forkChoiceBlockLongChain.median.toFixed(2)} ms ` +
        `(ratio ${(long.timings.forkChoiceBlockLongChain.median / long.timings.forkChoiceBlockShortChain.median).toFixed(2)}; flat is 1)`,
    );
  } catch (e) {
    notes.push(`fork choice: not measured (${(e as Error).message})`);
    log(`cairn: fork choice not measured: ${(e as Error).message}`);
  }

  return { impl: "cairn-only", validators, timings, details, notes, peakRssMb: peakRssMb() };
}

/**
 * Full import as the chain does it (src/chain/blocks/stateTransition.ts): the block's signature sets (attestations
 * name their signers by index) go to the pool in one batch, which cuts it into jobs of equal cost for the workers to
 * aggregate and verify, while the main thread processes the block and checks the state root; both must succeed.
 */
async function importWithPool(pre: CachedBeaconState, block: SignedBeaconBlock, pool: BlsWorkerPool, mainThreadMs?: number[]): Promise<CachedBeaconState> {
  const t0 = performance.now();
  const post = pre.clone();
  processSlots(post, block.message.slot);
  const valid = pool.verifySignatureSets(getBlockSignatureSets(post, block));
  try {
    processBlock(post, block.message, false);
    const root = post.state.hashTreeRoot();
    if (!bytesEqual(root, block.message.stateRoot)) throw new Error(`state root mismatch ${toHex(root)}`);
  } finally {
    mainThreadMs?.push(performance.now() - t0);
    check(await valid);
  }
  return post;
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(since);
  return (c.user + c.system) / 1000;
}

function check(ok: boolean): void {
  if (!ok) throw new Error("signature batch did not verify");
}

function checkRoot(post: CachedBeaconState, block: SignedBeaconBlock): void {
  if (!bytesEqual(post.state.hashTreeRoot(), block.message.stateRoot)) throw new Error("block import: wrong post-state root");
}

/**
 * Fork choice over a chain of one block per slot, with `validators` votes. Each run, the chain grows by an epoch
 * (untimed), then every validator attests to a block of the previous epoch (committee by committee, as
 * attestations arrive: ~128 validators each), then the head is recomputed: every vote moves.
 */
async function forkChoiceBench(
  validators: number,
  opts: MeasureOpts,
): Promise<{ timings: Record<string, Timing>; details: Record<string, unknown> }> {
  const S = benchConfig().SLOTS_PER_EPOCH;
  const runs = opts.warmup + opts.runs;
  const { rootOf, summary, fc } = await forkChoiceOnOneChain(validators);
  let tip = 0;
  const grow = (toSlot: number) => {
    for (let slot = tip + 1; slot <= toSlot; slot++) fc.onBlock(summary(slot), slot);
    tip = toSlot;
  };
  grow(S);
  fc.getHead();

  const perSlot = Math.ceil(validators / S);
  const committeeSize = 128;
  const votes: number[] = [];
  const heads: number[] = [];
  for (let r = 0; r < runs; r++) {
    const epoch = r + 1;
    grow((epoch + 1) * S);
    const target = { epoch, root: rootOf(epoch * S) };
    const t0 = performance.now();
    for (let s = 0; s < S; s++) {
      const slot = epoch * S + s;
      const end = Math.min(validators, (s + 1) * perSlot);
      for (let from = s * perSlot; from < end; from += committeeSize) {
        const indices: number[] = [];
        for (let v = from; v < Math.min(end, from + committeeSize); v++) indices.push(v);
        fc.onAttestation({ attestingIndices: indices, data: { slot, beaconBlockRoot: rootOf(slot), target } });
      }
    }
    const t1 = performance.now();
    const head = fc.getHead();
    const t2 = performance.now();
    if (head !== rootOf(tip)) throw new Error(`fork choice head ${head}, expected the chain's tip ${rootOf(tip)}`);
    if (r >= opts.warmup) {
      votes.push(t1 - t0);
      heads.push(t2 - t1);
    }
  }
  return {
    timings: { forkChoiceVotes: summarize(votes), forkChoiceHead: summarize(heads) },
    details: { blocksAtEnd: tip + 1, votes: validators, attestationsPerRun: S * Math.ceil(perSlot / committeeSize) },
  };
}

/**
 * Fork choice's cost per block through a long non-finality: one slot's votes (validators / SLOTS_PER_EPOCH, for the
 * previous block), the block, getHead; the median over 64 blocks once the chain holds 10 epochs, and again once it
 * holds 1000 (32,000 nodes: nothing is pruned while finality does not move). Flat is the goal (issue 16).
 */
export async function forkChoiceLongChainBench(validators: number): Promise<{ timings: Record<string, Timing>; details: { shortNodes: number; longNodes: number } }> {
  const S = benchConfig().SLOTS_PER_EPOCH;
  const { rootOf, summary, fc } = await forkChoiceOnOneChain(validators);
  const perSlot = Math.ceil(validators / S);
  const block = (slot: number) => {
    const voteSlot = slot - 1;
    const first = (voteSlot % S) * perSlot;
    const target = { epoch: Math.floor(voteSlot / S), root: rootOf(voteSlot - (voteSlot % S)) };
    for (let from = first; from < Math.min(validators, first + perSlot); from += 128) {
      const indices: number[] = [];
      for (let v = from; v < Math.min(validators, first + perSlot, from + 128); v++) indices.push(v);
      fc.onAttestation({ attestingIndices: indices, data: { slot: voteSlot, beaconBlockRoot: rootOf(voteSlot), target } });
    }
    fc.onBlock(summary(slot), slot);
    const head = fc.getHead();
    if (head !== rootOf(slot)) throw new Error(`fork choice head ${head} at slot ${slot}, expected the tip`);
  };
  const measure = (from: number, count: number): number[] => {
    const out: number[] = [];
    for (let slot = from; slot < from + count; slot++) {
      const t0 = performance.now();
      block(slot);
      out.push(performance.now() - t0);
    }
    return out;
  };
  let slot = 1;
  for (; slot < 10 * S; slot++) block(slot);
  const short = measure(slot, 64);
  const shortNodes = fc.nodeCount;
  slot += 64;
  for (; slot < 1000 * S; slot++) block(slot);
  const long = measure(slot, 64);
  return {
    timings: { forkChoiceBlockShortChain: summarize(short), forkChoiceBlockLongChain: summarize(long) },
    details: { shortNodes, longNodes: fc.nodeCount },
  };
}

/** A fork choice anchored at slot 0 of a chain with a block every slot (roots are slot numbers), no finality, every validator 32 ETH. */
async function forkChoiceOnOneChain(validators: number) {
  const { ForkChoice } = await import("../../src/fork-choice/index.js");
  const c = benchConfig();
  const rootOf = (slot: number) => "0x" + slot.toString(16).padStart(64, "0");
  const genesis = { epoch: 0, root: rootOf(0) };
  const summary = (slot: number) => ({
    slot,
    root: rootOf(slot),
    parentRoot: slot === 0 ? "0x" + "ff".repeat(32) : rootOf(slot - 1),
    stateRoot: rootOf(slot),
    targetRoot: rootOf(slot - (slot % c.SLOTS_PER_EPOCH)),
    justifiedCheckpoint: genesis,
    finalizedCheckpoint: genesis,
  });
  const balances = new Array<number>(validators).fill(c.MAX_EFFECTIVE_BALANCE);
  return { rootOf, summary, fc: new ForkChoice(c, { block: summary(0) }, () => balances) };
}
