// The invariants, each a pass/fail line. The time-bound ones (heads agreeing after a heal, finality regained after
// participation returns, the resource bounds) are decided from the samples as they come in: a check is decided as
// soon as it is met, or failed at its deadline, once every sample up to the slot it needs has arrived (`settled`).
// A decision never depends on a later sample, so the live verdict and the one at the end are the same.
import type { NodeView } from "../testnet/testnet.js";
import type { Invariant, Sample, SimReport } from "./engine.js";
import type { FaultInterval, Scenario } from "./scenario.js";

export interface Crash {
  slot: number;
  what: string;
}

/** A node's latest sample at `slot`, up to two slots old (a slow node misses some); series are in slot order. */
export function sampleAt(series: Sample[][], i: number, slot: number): Sample | undefined {
  return series[i].findLast((x) => x.slot <= slot && x.slot >= slot - 2);
}

/** Settled up to `settled`: the first slot after a heal where every running node has the same head block. */
export function headsAgreeCheck(series: Sample[][], s: Scenario, f: FaultInterval, settled: number): Invariant | null {
  const spe = s.slotsPerEpoch;
  const lastSlot = s.epochs * spe;
  const from = f.toSlot!;
  const until = from + s.expect.headsAgreeWithinEpochs * spe;
  const name = `heads agree (one head block) within ${s.expect.headsAgreeWithinEpochs} epochs after the heal at slot ${from} (${f.label})`;
  const end = Math.min(until, lastSlot);
  for (let slot = from; slot <= end; slot++) {
    if (slot > settled) return null;
    // one head block everywhere (the same slot is not enough: the two sides of a split build rival chains)
    const ups = series.map((_, i) => sampleAt(series, i, slot)).filter((x) => x?.up && x.head !== null);
    if (ups.length > 0 && new Set(ups.map((x) => x!.headRoot)).size === 1) {
      return { name, ok: true, detail: `one head at slot ${slot} (${slot - from} slots after)`, atSlot: slot };
    }
  }
  return { name, ok: false, detail: until > lastSlot ? "the run ended first" : "heads still apart", atSlot: end };
}

/**
 * Finality after participation returns: it is back once every node that was up before the fault answers again
 * (restarted beacon nodes take seconds to resume); from the first epoch that starts then, the finalized epoch must
 * pass the highest any node had finalized by then. `epochs`: the time it took, from the fault's end.
 */
export function finalityCheck(series: Sample[][], s: Scenario, f: FaultInterval, settled: number): (Invariant & { epochs: number | null }) | null {
  const spe = s.slotsPerEpoch;
  const lastSlot = s.epochs * spe;
  const from = f.toSlot!;
  if (settled < from) return null;
  const wasUp = series.flatMap((rows, i) => (rows.some((x) => x.slot < f.fromSlot && x.up) ? [i] : []));
  let back = from;
  for (; back < lastSlot && !wasUp.every((i) => sampleAt(series, i, back)?.up); back++) if (back + 1 > settled) return null;
  const firstFull = Math.ceil(back / spe) * spe;
  const deadline = firstFull + s.expect.finalityWithinEpochs * spe;
  const before = Math.max(-1, ...series.flatMap((rows) => rows.filter((x) => x.slot <= back).map((x) => x.finalized ?? -1)));
  const name = `finality regained within ${s.expect.finalityWithinEpochs} epochs of participation returning at slot ${from} (${f.label})`;
  const nodesBack = back > from ? `; every node answering again at slot ${back}` : "";
  const end = Math.min(deadline, lastSlot);
  for (let slot = back; slot <= end; slot++) {
    if (slot > settled) return null;
    if (series.some((_, i) => (sampleAt(series, i, slot)?.finalized ?? -1) > before)) {
      const epochs = (slot - from) / spe;
      return { name, ok: true, detail: `finalized epoch passed ${before} at slot ${slot}, ${epochs.toFixed(2)} epochs after${nodesBack}`, atSlot: slot, epochs };
    }
  }
  if (end > settled) return null;
  const detail = deadline > lastSlot ? `the run ended before the deadline (slot ${deadline})${nodesBack}` : `finalized epoch still ${before} at slot ${deadline}${nodesBack}`;
  return { name, ok: false, detail, atSlot: end, epochs: null };
}

/** The faults whose end is followed by checks: heads (after a heal) and finality (after any recovery). */
export function recoveries(faults: FaultInterval[]): FaultInterval[] {
  return faults.filter((f) => f.recovery !== null && f.toSlot !== null);
}

type BoundKey = "rssMb" | "regenQueue" | "forkChoiceNodes";
export const BOUNDS: { key: BoundKey; name: string; unit: string; max: (s: Scenario) => number }[] = [
  { key: "rssMb", name: "peak RSS (VmHWM) of every beacon node", unit: " MB", max: (s) => s.expect.maxRssMb },
  { key: "regenQueue", name: "regen queue length (cairn_regen_queue_length)", unit: "", max: (s) => s.expect.maxRegenQueue },
  { key: "forkChoiceNodes", name: "fork-choice size (cairn_fork_choice_nodes)", unit: "", max: (s) => s.expect.maxForkChoiceNodes },
];

/** A sample over a bound: the failed line printed when it is taken (the bound's final line names every node). */
export function boundBreach(s: Scenario, node: number, x: Sample): { name: string; detail: string }[] {
  return BOUNDS.flatMap((b) => {
    const v = x[b.key];
    const max = b.max(s);
    return v !== null && v > max ? [{ name: `${b.name} at most ${max}${b.unit}`, detail: `node ${node}: ${Math.round(v)}${b.unit} at slot ${x.slot}` }] : [];
  });
}

/**
 * Every invariant at the end, in a fixed order (exported for tests: it reads only the report, the crashes and the
 * final views). The time-bound checks give what they gave live, from the complete series.
 */
export function judge(r: SimReport, s: Scenario, crashes: Crash[], finalViews: NodeView[]): void {
  const spe = s.slotsPerEpoch;
  const e = s.expect;
  const lastSlot = s.epochs * spe;
  const inv = (name: string, ok: boolean, detail: string, atSlot: number) => r.invariants.push({ name, ok, detail, atSlot });
  inv(
    "no slashable messages (network-wide audit)",
    r.slashable.length === 0,
    `${r.figures.audited.blocks} block and ${r.figures.audited.votes} vote records audited; ${r.slashable.length} slashable pair(s)`,
    lastSlot,
  );
  inv(
    "no node crashed unless the scenario killed it",
    crashes.length === 0,
    crashes.length === 0 ? "every exit was the simulator's" : crashes.map((c) => c.what).join("; "),
    crashes[0]?.slot ?? lastSlot,
  );
  const settled = Number.MAX_SAFE_INTEGER; // every sample is in
  for (const f of recoveries(r.faults)) {
    if (f.recovery === "heal") r.invariants.push(headsAgreeCheck(r.series, s, f, settled)!);
    const { epochs, ...fin } = finalityCheck(r.series, s, f, settled)!;
    r.figures.timeToFinalityEpochs.push(epochs);
    r.invariants.push(fin);
  }
  // the end: every node up (late joiners too) agrees on the finalized checkpoint and is near the best head
  const final = finalViews.map((v) => ({ up: v.up, head: v.headSlot, finalized: v.finalizedEpoch, finalizedRoot: v.finalizedRoot }));
  const ups = final.filter((x) => x.up);
  const roots = new Set(ups.map((x) => `${x.finalized}:${x.finalizedRoot}`));
  const best = Math.max(...ups.map((x) => x.head ?? 0));
  const behind = final.flatMap((x, i) => (x.up && (x.head ?? 0) >= best - e.headsAgreeSlots ? [] : [i]));
  inv(
    "at the end every node is up, synced and agrees on the finalized checkpoint",
    behind.length === 0 && roots.size === 1,
    `finalized ${[...roots].map((x) => x.split(":")[0]).join("/")}${roots.size > 1 ? " (disagree)" : ""}; ${behind.length === 0 ? "all within " + e.headsAgreeSlots + " slots of head " + best : "behind or down: node " + behind.join(",")}`,
    lastSlot,
  );
  if (e.finalFinalizedEpoch !== null) {
    const min = Math.min(...final.map((x) => x.finalized ?? -1));
    inv(`every node finalized epoch ${e.finalFinalizedEpoch} or later by the end`, min >= e.finalFinalizedEpoch, `lowest finalized epoch ${min}`, lastSlot);
  }
  for (const b of BOUNDS) {
    const values = r.series.map((rows) => rows.reduce<number | null>((m, x) => (x[b.key] === null ? m : Math.max(m ?? 0, x[b.key]!)), null));
    if (b.key === "rssMb") r.figures.peakRssMb = values.map((x) => (x === null ? null : Math.round(x)));
    const max = b.max(s);
    const worst = Math.max(0, ...values.map((x) => x ?? 0));
    // when it failed: the first sample over the bound, on any node
    const breach = Math.min(...r.series.flatMap((rows) => rows.filter((x) => (x[b.key] ?? 0) > max).map((x) => x.slot)));
    inv(`${b.name} at most ${max}${b.unit}`, worst <= max, `per node: ${values.map((x) => (x === null ? "-" : Math.round(x))).join(", ")}`, worst <= max ? lastSlot : breach);
  }
}
