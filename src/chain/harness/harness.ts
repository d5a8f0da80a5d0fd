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
import { EventLoopDelayMonitor } from "../../util/eventLoop.js";
import { sleep } from "../../util/slotClock.js";
import type { ArchiveStats } from "../archiver.js";
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
  /** participation by slot, overriding `participation`: each step holds from its slot on (see parseParticipationTimeline) */
  participationTimeline?: ParticipationStep[];
  /** check the proto-array head against the spec's get_head every N slots (0 = never) */
  checkHeadEvery: number;
  chain?: Partial<ChainOptions>;
  onProgress?: (line: string) => void;
  /** one row per epoch, for long runs: memory, import times, checkpoints, fork choice and store sizes over time */
  onEpoch?: (row: EpochRow) => void;
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
  /** when the datadir held a chain already: opening it (the database, fork choice, the head state) */
  resumed: { ms: number; cpuMs: number; blocksReplayed: number; headSlot: number; forkChoiceNodes: number } | null;
  headChecks: number;
  reorgs: number;
  /** median duration of the chain's once-an-epoch full GC (part of the import times above) */
  gcMsMedian: number;
  /** the longest archive run (the first finalization after a long gap archives the whole gap) */
  longestArchive: (NonNullable<ArchiveStats["last"]> & { atSlot: number }) | null;
  archiveRuns: number;
  /** finalizations left to a newer one (since the last restart) */
  archiveRunsSkipped: number;
  /** slots during which the archiver was at work: how long their imports and event-loop stalls were */
  whileArchiving: { slots: number; imports: number; importMsMax: number; loopStallMsMax: number };
}

/** From `fromSlot` on (until the next step), this share of validators attests. */
export interface ParticipationStep {
  fromSlot: number;
  participation: number;
}

/** One epoch of a long run (the series written by `cairn harness --series`). */
export interface EpochRow {
  epoch: number;
  slot: number;
  /** since the harness started */
  wallS: number;
  rssMb: number;
  heapMb: number;
  externalMb: number;
  /** imports during this epoch */
  imports: number;
  importMsMedian: number;
  importMsP99: number;
  importMsMax: number;
  /**
   * the process's CPU time (all its threads) per import, median: on a shared machine the wall-clock import times
   * above follow the other tenants' load, this does much less
   */
  importCpuMsMedian: number;
  /** the process's CPU time since the harness started */
  cpuS: number;
  /** the longest event-loop delay seen this epoch */
  loopStallMsMax: number;
  /** the longest of the chain's forced full GCs this epoch (gc.ts; 0: none ran), a part of that delay */
  gcMsMax: number;
  participation: number;
  headEpoch: number;
  justifiedEpoch: number;
  finalizedEpoch: number;
  forkChoiceNodes: number;
  hotStates: number;
  /** regen counters of the current chain (cumulative since its last restart) */
  regen: { requests: number; shared: number; blocksReplayed: number; cacheHits: number };
  /** archive runs that ended during this epoch (the last one described) */
  archived: (NonNullable<ArchiveStats["last"]> & { runs: number }) | null;
}

/**
 * "0:0.55,32000:1" = from slot 0 participation 0.55, from slot 32000 participation 1. Steps start at slot 0 and are
 * in strictly increasing slot order; each share is from 0 to 1.
 */
export function parseParticipationTimeline(text: string): ParticipationStep[] {
  const steps: ParticipationStep[] = [];
  for (const entry of text.split(",")) {
    const m = /^\s*(\d+)\s*:\s*(\d+(?:\.\d+)?|\.\d+)\s*$/.exec(entry);
    if (!m) throw new Error(`expected SLOT:SHARE entries separated by commas (e.g. 0:0.55,32000:1), got ${JSON.stringify(entry)}`);
    const fromSlot = Number(m[1]);
    const participation = Number(m[2]);
    if (!Number.isSafeInteger(fromSlot)) throw new Error(`slot ${m[1]} is too large`);
    if (participation > 1) throw new Error(`share ${m[2]} at slot ${fromSlot} is above 1`);
    const prev = steps[steps.length - 1];
    if (prev === undefined && fromSlot !== 0) throw new Error(`the first step must be at slot 0, got ${fromSlot}`);
    if (prev !== undefined && fromSlot <= prev.fromSlot) throw new Error(`slot ${fromSlot} does not come after slot ${prev.fromSlot}`);
    steps.push({ fromSlot, participation });
  }
  return steps;
}

/** The share of validators attesting at `slot` under the timeline. */
export function participationAt(steps: readonly ParticipationStep[], slot: number): number {
  let p = steps[0]?.participation ?? 1;
  for (const s of steps) if (s.fromSlot <= slot) p = s.participation;
  return p;
}

/** CPU time of this process (all its threads), ms: on a shared machine it follows the work done, wall time the load. */
function cpuMsNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
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
  const openStart = { ms: performance.now(), cpu: cpuMsNow() };
  let db = await BeaconDb.open(o.datadir, { config });
  let chain: BeaconChain;
  let resumed: HarnessResult["resumed"] = null;
  // an epoch's garbage collected every epoch, however fast the harness goes: its memory figures are about that
  const chainOpts = { gcMinIntervalMs: 0, ...o.chain };
  if (await db.getMeta("anchor")) {
    // continuing on an existing datadir (a long run in steps): opening it is a restart, timed like one
    chain = await BeaconChain.fromDb(config, db, bls, chainOpts);
    resumed = {
      ms: Math.round(performance.now() - openStart.ms),
      cpuMs: Math.round(cpuMsNow() - openStart.cpu),
      blocksReplayed: chain.regen.counters.blocksReplayed,
      headSlot: chain.forkChoice.getBlock(chain.headRoot)?.slot ?? 0,
      forkChoiceNodes: chain.forkChoice.nodeCount,
    };
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
  const timeline = o.participationTimeline ?? [{ fromSlot: 0, participation: o.participation }];
  const started = performance.now();
  const epochLoop = new EventLoopDelayMonitor();
  const slotLoop = new EventLoopDelayMonitor();
  let epochImportsFrom = 0;
  let epochGcsFrom = 0;
  // archive runs of the current chain seen so far, and of the chains before its restarts
  let archiveRunsSeen = 0;
  let archiveRunsBefore = 0;
  let archivedThisEpoch: EpochRow["archived"] = null;
  let longestArchive: HarnessResult["longestArchive"] = null;
  const whileArchiving = { slots: 0, imports: 0, importMsMax: 0, loopStallMsMax: 0 };
  const noteArchiveRuns = (slot: number) => {
    const archive = chain.archiveStats;
    if (archive.runs === archiveRunsSeen || !archive.last) return;
    archiveRunsSeen = archive.runs;
    archivedThisEpoch = { ...archive.last, ms: Math.round(archive.last.ms), runs: archiveRunsBefore + archive.runs };
    if (!longestArchive || archive.last.ms > longestArchive.ms) longestArchive = { ...archive.last, atSlot: slot };
  };
  const startSlot = (await chain.getHeadState("harness")).state.slot + 1;
  const importMs: number[] = [];
  const importCpuMs: number[] = [];
  const cpuMs = cpuMsNow;
  const cpuStart = cpuMs();
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
      slotLoop.reset();
      const archivingBefore = chain.archiveStats.busy;
      const importsBefore = importMs.length;
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
          const p = participationAt(timeline, attSlot);
          const atts = signer.attest(view, fromHexString(chain.headRoot), attSlot, () => rand() < p);
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
        const cpu = cpuMs();
        const imported = await chain.processBlock({ signed, source: "harness", verifySignatures: o.signatures });
        importMs.push(performance.now() - t);
        importCpuMs.push(cpuMs() - cpu);
        o.onImported?.(imported.root, slot);
      }

      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      // an archive run that was under way at any point of this slot: the slot's imports and stalls count as "while archiving"
      const archive = chain.archiveStats;
      const archiving = archivingBefore || archive.busy || archive.runs !== archiveRunsSeen;
      // A stall enters the delay monitors only when their timer next runs, after the turn that stalled: let it run
      // before they are read (and reset), or the last turn of the import (the epoch transition, the forced GC) is lost.
      if (archiving || slot % config.SLOTS_PER_EPOCH === 0) await sleep(1);
      if (archiving) {
        whileArchiving.slots++;
        whileArchiving.imports += importMs.length - importsBefore;
        for (const ms of importMs.slice(importsBefore)) whileArchiving.importMsMax = Math.max(whileArchiving.importMsMax, ms);
        whileArchiving.loopStallMsMax = Math.max(whileArchiving.loopStallMsMax, slotLoop.maxMs());
      }
      noteArchiveRuns(slot);
      if (slot % config.SLOTS_PER_EPOCH === 0) {
        const mem = process.memoryUsage();
        rssMbAtEpoch.push(Math.round(mem.rss / 2 ** 20));
        const fc = chain.forkChoice;
        if (o.onEpoch) {
          const epochMs = importMs.slice(epochImportsFrom);
          o.onEpoch({
            epoch: computeEpochAtSlot(config, slot),
            slot,
            wallS: Number(((performance.now() - started) / 1000).toFixed(1)),
            rssMb: Math.round(mem.rss / 2 ** 20),
            heapMb: Math.round(mem.heapUsed / 2 ** 20),
            externalMb: Math.round(mem.external / 2 ** 20),
            imports: epochMs.length,
            importMsMedian: Number(quantile(epochMs, 0.5).toFixed(2)),
            importMsP99: Number(quantile(epochMs, 0.99).toFixed(2)),
            importMsMax: Number(Math.max(0, ...epochMs).toFixed(2)),
            importCpuMsMedian: Number(quantile(importCpuMs.slice(epochImportsFrom), 0.5).toFixed(2)),
            cpuS: Number(((cpuMs() - cpuStart) / 1000).toFixed(1)),
            loopStallMsMax: Number(epochLoop.maxMs().toFixed(1)),
            gcMsMax: Number(Math.max(0, ...chain.metrics.gcMs.slice(epochGcsFrom)).toFixed(1)),
            participation: participationAt(timeline, slot),
            headEpoch: computeEpochAtSlot(config, fc.getBlock(chain.headRoot)?.slot ?? 0),
            justifiedEpoch: fc.getJustifiedCheckpoint().epoch,
            finalizedEpoch: fc.getFinalizedCheckpoint().epoch,
            forkChoiceNodes: fc.nodeCount,
            hotStates: (await db.listHotStates()).length,
            regen: { ...chain.regen.counters },
            archived: archivedThisEpoch,
          });
          epochImportsFrom = importMs.length;
          epochGcsFrom = chain.metrics.gcMs.length;
          archivedThisEpoch = null;
          epochLoop.reset();
        }
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
        noteArchiveRuns(slot);
        archiveRunsBefore += chain.archiveStats.runs;
        archiveRunsSeen = 0;
        addRegen(chain);
        await db.close();
        const t = performance.now();
        db = await BeaconDb.open(o.datadir, { config });
        chain = await BeaconChain.fromDb(config, db, bls, chainOpts);
        epochGcsFrom = 0;
        restartMs = performance.now() - t;
        restartBlocksReplayed = chain.regen.counters.blocksReplayed;
        restarts++;
      }
    }
    await chain.settle();
    noteArchiveRuns(startSlot + o.slots - 1);
    const fc = chain.forkChoice;
    addRegen(chain);
    // assigned in noteArchiveRuns (a closure), which the compiler does not follow
    const longest = longestArchive as HarnessResult["longestArchive"];
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
      resumed,
      headChecks,
      reorgs: chain.metrics.reorgs,
      gcMsMedian: Number(quantile(chain.metrics.gcMs, 0.5).toFixed(1)),
      longestArchive: longest && { ...longest, ms: Math.round(longest.ms) },
      archiveRuns: archiveRunsBefore + chain.archiveStats.runs,
      archiveRunsSkipped: chain.archiveStats.skipped,
      whileArchiving: {
        ...whileArchiving,
        importMsMax: Number(whileArchiving.importMsMax.toFixed(2)),
        loopStallMsMax: Number(whileArchiving.loopStallMsMax.toFixed(1)),
      },
    };
  } finally {
    epochLoop.close();
    slotLoop.close();
    await chain.close();
    await db.close();
    await bls.close();
  }
}

/** Restart on an existing datadir and report how long it took and how many blocks were replayed. */
export async function measureRestart(
  config: BeaconConfig,
  datadir: string,
): Promise<{ restartMs: number; restartCpuMs: number; restartBlocksReplayed: number; headSlot: number }> {
  const t = performance.now();
  const cpu = cpuMsNow();
  const db = await BeaconDb.open(datadir, { config });
  const bls = new MainThreadBlsVerifier();
  const chain = await BeaconChain.fromDb(config, db, bls);
  const restartMs = performance.now() - t;
  const result = {
    restartMs: Math.round(restartMs),
    restartCpuMs: Math.round(cpuMsNow() - cpu),
    restartBlocksReplayed: chain.regen.counters.blocksReplayed,
    headSlot: chain.forkChoice.getBlock(chain.headRoot)?.slot ?? 0,
  };
  await chain.close();
  await db.close();
  return result;
}
