// The chain harness: generates a valid signed chain from the interop keys and imports it into a real BeaconChain
// (LevelDB store, fork choice, regen, BLS pool), as fast as it can, without a wall clock. Knobs: participation,
// forks, skipped slots, restarts. Tests, benchmarks and the devnet use it.
import { mkdirSync } from "node:fs";
import type { BeaconConfig } from "../../config/index.js";
import { BeaconDb } from "../../db/index.js";
import { specGetHead } from "../../fork-choice/index.js";
import { createCachedBeaconState, createInteropGenesisStateFast, processSlots, type CachedBeaconState } from "../../state-transition/index.js";
import { computeEpochAtSlot } from "../../state-transition/util/epoch.js";
import { fromHexString } from "@chainsafe/ssz";
import type { Attestation } from "../../types/index.js";
import type { BlsVerifier } from "../bls/interface.js";
import { MainThreadBlsVerifier } from "../bls/mainThread.js";
import { BlsWorkerPool } from "../bls/pool.js";
import { BeaconChain, type ChainOptions } from "../chain.js";
import { produceBlock } from "../produceBlock.js";
import { createPrng } from "../../util/prng.js";
import { InteropSigner } from "./signer.js";

export interface HarnessOptions {
  validators: number;
  slots: number;
  participation: number;
  datadir: string;
  forkRate: number;
  skipRate: number;
  restartEvery: number;
  signatures: boolean;
  seed: number;
  /** check the proto-array head against the spec's get_head every N slots (0 = never) */
  checkHeadEvery: number;
  chain?: Partial<ChainOptions>;
  onProgress?: (line: string) => void;
  /** each block once its import has resolved (stored): the kill -9 campaign checks none of them is lost */
  onImported?: (root: string, slot: number) => void;
}

export interface HarnessResult {
  headSlot: number;
  finalizedEpoch: number;
  justifiedEpoch: number;
  blocksImported: number;
  importMsMedian: number;
  importMsP99: number;
  regen: { requests: number; shared: number; blocksReplayed: number; cacheHits: number };
  forkChoiceNodes: number;
  peakRssMb: number;
  rssMbAtEpoch: number[];
  restarts: number;
  restartMs: number | null;
  restartBlocksReplayed: number | null;
  headChecks: number;
  reorgs: number;
  /** median duration of the chain's once-an-epoch full GC (part of the import times above) */
  gcMsMedian: number;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

export async function runHarness(config: BeaconConfig, o: HarnessOptions): Promise<HarnessResult> {
  mkdirSync(o.datadir, { recursive: true });
  const rand = createPrng(o.seed);
  const signer = new InteropSigner(config, o.signatures);
  const bls: BlsVerifier = o.signatures ? new BlsWorkerPool() : new MainThreadBlsVerifier();
  let db = await BeaconDb.open(o.datadir, { config });
  let chain: BeaconChain;
  // an epoch's garbage collected every epoch, however fast the harness goes: its memory figures are about that
  const chainOpts = { gcMinIntervalMs: 0, ...o.chain };
  if (await db.getMeta("anchor")) {
    chain = await BeaconChain.fromDb(config, db, bls, chainOpts);
  } else {
    const genesisState = createInteropGenesisStateFast(config, o.validators, config.MIN_GENESIS_TIME, { signDeposits: o.signatures });
    const genesis = createCachedBeaconState(config, genesisState);
    chain = await BeaconChain.fromAnchorState(config, db, bls, genesis, chainOpts);
  }

  let peakRss = process.memoryUsage().rss;
  const rssMbAtEpoch: number[] = [];
  let restarts = 0;
  let restartMs: number | null = null;
  let restartBlocksReplayed: number | null = null;
  let headChecks = 0;
  let pool: Attestation[] = [];
  const startSlot = (await chain.getHeadState("harness")).state.slot + 1;
  const importMs: number[] = [];
  let regenTotals = { requests: 0, shared: 0, blocksReplayed: 0, cacheHits: 0 };
  const addRegen = (ch: BeaconChain) => {
    const r = ch.regen.counters;
    regenTotals = {
      requests: regenTotals.requests + r.requests,
      shared: regenTotals.shared + r.shared,
      blocksReplayed: regenTotals.blocksReplayed + r.blocksReplayed,
      cacheHits: regenTotals.cacheHits + r.cacheHits,
    };
  };

  try {
    for (let slot = startSlot; slot < startSlot + o.slots; slot++) {
      // attestations of the previous slot, by the validators that take part, for the head they saw
      const headState = await chain.getHeadState("harness");
      if (slot - 1 >= 1) {
        const attSlot = slot - 1;
        let view: CachedBeaconState = headState;
        if (view.state.slot < attSlot) {
          view = headState.clone();
          processSlots(view, attSlot);
        }
        if (computeEpochAtSlot(config, view.state.slot) === computeEpochAtSlot(config, attSlot)) {
          const atts = signer.attest(view, fromHexString(chain.headRoot), attSlot, () => rand() < o.participation);
          for (const a of atts) chain.onAttestation(a, view, o.signatures);
          pool.push(...atts);
        }
      }
      pool = pool.filter((a) => a.data.slot + config.SLOTS_PER_EPOCH >= slot);

      if (rand() >= o.skipRate) {
        // a fork: build on the head's parent instead of the head
        let parentRoot = chain.headRoot;
        if (o.forkRate > 0 && rand() < o.forkRate) {
          const head = chain.forkChoice.getBlock(chain.headRoot);
          if (head && chain.forkChoice.hasBlock(head.parentRoot)) parentRoot = head.parentRoot;
        }
        const pre = await chain.regen.getPreState({ slot, parentRoot: fromHexString(parentRoot) } as never, "harness");
        const proposer = pre.epochCtx.getBeaconProposer(slot);
        const randaoReveal = signer.randaoReveal(pre, proposer, computeEpochAtSlot(config, slot));
        const { block } = produceBlock(pre, { randaoReveal, attestations: pool });
        const included = new Set(block.body.attestations);
        pool = pool.filter((a) => !included.has(a));
        const signed = signer.signBlock(pre, block);
        const t = performance.now();
        const imported = await chain.processBlock({ signed, source: "harness", verifySignatures: o.signatures });
        importMs.push(performance.now() - t);
        o.onImported?.(imported.root, slot);
      }

      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      if (slot % config.SLOTS_PER_EPOCH === 0) {
        const mem = process.memoryUsage();
        rssMbAtEpoch.push(Math.round(mem.rss / 2 ** 20));
        await chain.pruneHotStatesNow();
        const fc = chain.forkChoice;
        o.onProgress?.(
          `slot ${slot} head ${fc.getBlock(chain.headRoot)?.slot} justified ${fc.getJustifiedCheckpoint().epoch} ` +
            `finalized ${fc.getFinalizedCheckpoint().epoch} nodes ${fc.nodeCount} rss ${rssMbAtEpoch[rssMbAtEpoch.length - 1]}MB ` +
            `heap ${Math.round(mem.heapUsed / 2 ** 20)}MB external ${Math.round(mem.external / 2 ** 20)}MB`,
        );
      }
      if (o.checkHeadEvery > 0 && slot % o.checkHeadEvery === 0) {
        const expected = specGetHead(chain.forkChoice.toSpecStore());
        if (expected !== chain.headRoot) throw new Error(`slot ${slot}: proto-array head ${chain.headRoot} != spec get_head ${expected}`);
        headChecks++;
      }
      if (o.restartEvery > 0 && (slot - startSlot + 1) % o.restartEvery === 0) {
        await chain.close();
        addRegen(chain);
        await db.close();
        const t = performance.now();
        db = await BeaconDb.open(o.datadir, { config });
        chain = await BeaconChain.fromDb(config, db, bls, chainOpts);
        restartMs = performance.now() - t;
        restartBlocksReplayed = chain.regen.counters.blocksReplayed;
        restarts++;
      }
    }
    await chain.settle();
    const fc = chain.forkChoice;
    addRegen(chain);
    return {
      headSlot: fc.getBlock(chain.headRoot)?.slot ?? 0,
      finalizedEpoch: fc.getFinalizedCheckpoint().epoch,
      justifiedEpoch: fc.getJustifiedCheckpoint().epoch,
      blocksImported: importMs.length,
      importMsMedian: Number(quantile(importMs, 0.5).toFixed(2)),
      importMsP99: Number(quantile(importMs, 0.99).toFixed(2)),
      regen: regenTotals,
      forkChoiceNodes: fc.nodeCount,
      peakRssMb: Math.round(peakRss / 2 ** 20),
      rssMbAtEpoch,
      restarts,
      restartMs: restartMs === null ? null : Math.round(restartMs),
      restartBlocksReplayed,
      headChecks,
      reorgs: chain.metrics.reorgs,
      gcMsMedian: Number(quantile(chain.metrics.gcMs, 0.5).toFixed(1)),
    };
  } finally {
    await chain.close();
    await db.close();
    await bls.close();
  }
}

/** Restart on an existing datadir and report how long it took and how many blocks were replayed. */
export async function measureRestart(config: BeaconConfig, datadir: string): Promise<{ restartMs: number; restartBlocksReplayed: number; headSlot: number }> {
  const t = performance.now();
  const db = await BeaconDb.open(datadir, { config });
  const bls = new MainThreadBlsVerifier();
  const chain = await BeaconChain.fromDb(config, db, bls);
  const restartMs = performance.now() - t;
  const result = {
    restartMs: Math.round(restartMs),
    restartBlocksReplayed: chain.regen.counters.blocksReplayed,
    headSlot: chain.forkChoice.getBlock(chain.headRoot)?.slot ?? 0,
  };
  await chain.close();
  await db.close();
  return result;
}
