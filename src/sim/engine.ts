// The simulator: runs a scenario on a local testnet (real `cairn beacon` and `cairn validator` processes, see
// src/testnet), applies its faults at their slots (links cut at per-link TCP proxies, processes killed with SIGKILL
// and restarted, clocks moved through each process's clock-offset file, fake SNTP servers lying), samples every node
// each slot (REST API, metrics, /proc), and judges the invariants: a network-wide slashing audit, heads agreeing
// after a heal, finality regained after participation returns, no crash it did not cause, resource bounds.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { getNamedConfig } from "../config/index.js";
import { interopSecretKey } from "../crypto/interop.js";
import { Testnet, type NodeView } from "../testnet/testnet.js";
import { toHex } from "../util/bytes.js";
import { SlashingProtection } from "../validator/slashingProtection/index.js";
import { findSlashable, recordsFromInterchange, type BlockRecord, type SlashablePair, type VoteRecord } from "./audit.js";
import { LinkProxy } from "./proxy.js";
import { expandScenario, type FaultInterval, type Scenario, type SimEvent } from "./scenario.js";
import { FakeSntpServer } from "./sntp.js";

export interface SimOptions {
  scenario: Scenario;
  seed: number;
  outDir: string;
  basePort: number;
  log: (line: string) => void;
  logLevel?: string;
  signal?: AbortSignal;
}

export interface Sample {
  slot: number;
  up: boolean;
  head: number | null;
  headRoot: string | null;
  justified: number | null;
  finalized: number | null;
  finalizedRoot: string | null;
  participation: number | null;
  peers: number | null;
  rssMb: number | null;
  regenQueue: number | null;
  forkChoiceNodes: number | null;
}

export interface Invariant {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SimReport {
  scenario: string;
  description: string;
  seed: number;
  secondsPerSlot: number;
  slotsPerEpoch: number;
  epochs: number;
  clock: "median" | "mean";
  nodes: { index: number; validators: number; startEpoch: number; followsMean: boolean }[];
  faults: FaultInterval[];
  events: (SimEvent & { done: string })[];
  invariants: Invariant[];
  slashable: SlashablePair[];
  /** per node, one sample a slot */
  series: Sample[][];
  figures: { timeToFinalityEpochs: (number | null)[]; peakRssMb: (number | null)[]; slashableMessages: number; audited: { blocks: number; votes: number } };
}

type Proc = "beacon" | "validator";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function metricsOf(port: number): Promise<Record<string, number>> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(1500) });
  const out: Record<string, number> = {};
  for (const line of (await r.text()).split("\n")) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? ([-0-9.e+]+|NaN)$/.exec(line);
    if (m && !(m[1] in out)) out[m[1]] = Number(m[2]);
  }
  return out;
}

function rssMb(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

export async function runSimulation(o: SimOptions): Promise<SimReport> {
  const s = o.scenario;
  const spe = s.slotsPerEpoch;
  const endSlot = s.epochs * spe;
  const plan = expandScenario(s, o.seed);
  mkdirSync(o.outDir, { recursive: true });
  const config = getNamedConfig(s.preset);
  const n = s.nodes.length;
  const totalValidators = s.nodes.reduce((a, x) => a + x.validators, 0);
  const servers: FakeSntpServer[] = [];
  for (let k = 0; k < s.timeServers; k++) servers.push(await FakeSntpServer.start(0));
  const sources = servers.map((x) => `127.0.0.1:${x.port}`).join(",");
  const followsMean = (i: number) => s.clock === "mean" && s.nodes[i].roughtime;
  // proxy[i][j]: node i's way to node j
  const proxies: (LinkProxy | null)[][] = [];
  const clockFile = (i: number, p: Proc) => join(o.outDir, `node${i}`, `${p}.clock-offset`);
  const net = new Testnet({
    config,
    nodes: n,
    validators: totalValidators,
    split: s.nodes.map((x) => x.validators),
    datadir: o.outDir,
    secondsPerSlot: s.secondsPerSlot,
    // keystores are written after the genesis time is fixed, and every process must be up by then (a busy machine)
    genesisDelaySeconds: 12 + 3 * n,
    basePort: o.basePort,
    logLevel: o.logLevel ?? "info",
    noDiscovery: true,
    peersFor: (i) => proxies[i].flatMap((p, j) => (p ? [net.peerAddress(j, p.port)] : [])),
    extraArgs: (i, p) => [
      "--clock-offset-file",
      clockFile(i, p),
      ...(followsMean(i) && p === "beacon" ? ["--unsafe-time-follow-mean", sources] : []),
      ...(p === "validator" && servers.length > 0 ? ["--time-sources", sources, "--time-offset-warn-ms", "500"] : []),
      ...(followsMean(i) && p === "validator" ? ["--unsafe-time-follow-mean"] : []),
    ],
  });
  const stops: (() => Promise<void>)[] = [];
  const report: SimReport = {
    scenario: s.name,
    description: s.description,
    seed: o.seed,
    secondsPerSlot: s.secondsPerSlot,
    slotsPerEpoch: spe,
    epochs: s.epochs,
    clock: s.clock,
    nodes: s.nodes.map((x, index) => ({ index, validators: x.validators, startEpoch: x.startEpoch, followsMean: followsMean(index) })),
    faults: plan.intervals,
    events: [],
    invariants: [],
    slashable: [],
    series: s.nodes.map(() => []),
    figures: { timeToFinalityEpochs: [], peakRssMb: s.nodes.map(() => null), slashableMessages: 0, audited: { blocks: 0, votes: 0 } },
  };
  const crashes: string[] = [];
  const expectedExit = new WeakSet<ChildProcess>();
  const blocks: BlockRecord[] = [];
  const votes: VoteRecord[] = [];
  const pubkeyName = new Map<string, string>();
  for (let v = 0; v < totalValidators; v++) pubkeyName.set(toHex(interopSecretKey(v).toPublicKey().toBytes()), `validator ${v}`);
  const nameOf = (pk: string) => pubkeyName.get(pk) ?? pk;
  let currentSlot = -1;
  let stopping = false;
  let finalViews: NodeView[] = [];

  const watch = (i: number, p: Proc): void => {
    const child = p === "beacon" ? net.nodes[i].beacon : net.nodes[i].validator;
    if (!child) return;
    child.once("exit", (code, sig) => {
      if (expectedExit.has(child) || stopping) return;
      const what = `node ${i} ${p} exited by itself (code ${code}, signal ${sig}) at slot ${currentSlot}`;
      crashes.push(what);
      o.log(`  ! ${what}\n`);
    });
  };
  const running = (i: number, p: Proc) => {
    const c = p === "beacon" ? net.nodes[i].beacon : net.nodes[i].validator;
    return c !== null && c.exitCode === null && c.signalCode === null;
  };
  const start = (i: number, p: Proc): string => {
    if (running(i, p)) return "already running";
    if (p === "validator" && s.nodes[i].validators === 0) return "no validators";
    if (p === "beacon") net.startBeacon(i);
    else net.startValidator(i);
    watch(i, p);
    return "started";
  };
  const kill = async (i: number, p: Proc): Promise<string> => {
    const c = p === "beacon" ? net.nodes[i].beacon : net.nodes[i].validator;
    if (!c || !running(i, p)) return "not running";
    expectedExit.add(c);
    if (p === "beacon") await net.stopBeacon(i, "SIGKILL");
    else {
      await net.stopValidator(i, "SIGKILL");
      await exportProtection(i, `node${i} vc export after kill @slot ${currentSlot}`);
    }
    return "killed (SIGKILL)";
  };
  const exportProtection = async (i: number, from: string): Promise<void> => {
    const dir = join(net.nodes[i].dir, "validator", "slashing-protection");
    if (!existsSync(dir)) return;
    let store: SlashingProtection | undefined;
    try {
      store = await SlashingProtection.open(dir);
      const ic = await store.exportInterchange();
      writeFileSync(join(o.outDir, `node${i}`, `slashing-protection-${Math.max(0, currentSlot)}.json`), JSON.stringify(ic, null, 1));
      const r = recordsFromInterchange(ic, from, nameOf);
      blocks.push(...r.blocks);
      votes.push(...r.votes);
    } catch (e) {
      o.log(`  ! node ${i}: cannot export slashing protection: ${(e as Error).message}\n`);
    } finally {
      await store?.close();
    }
  };
  const setCut = (groups: number[][], cut: boolean) => {
    for (let a = 0; a < groups.length; a++)
      for (let b = 0; b < groups.length; b++)
        if (a !== b) for (const i of groups[a]) for (const j of groups[b]) proxies[i][j]?.setCut(cut);
  };
  const apply = async (e: SimEvent): Promise<string> => {
    const a = e.action;
    switch (a.type) {
      case "cut":
        setCut(a.groups, true);
        return `links cut: ${a.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`;
      case "heal":
        setCut(a.groups, false);
        return `links healed: ${a.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`;
      case "kill":
        return `node ${a.node} ${a.process} ${await kill(a.node, a.process)}`;
      case "start":
        return `node ${a.node} ${a.process} ${start(a.node, a.process)}`;
      case "clock":
        writeFileSync(clockFile(a.node, a.process), String(a.offsetMs));
        return `node ${a.node} ${a.process} clock offset ${a.offsetMs} ms`;
      case "source":
        servers[a.server].offsetMs = a.offsetMs;
        return `time source ${a.server} now reports ${a.offsetMs >= 0 ? "+" : ""}${a.offsetMs} ms`;
      case "reset_protection": {
        const r = await kill(a.node, "validator");
        // the operator's reinstall: the client's slashing protection is gone (exported above for the audit)
        rmSync(join(net.nodes[a.node].dir, "validator", "slashing-protection"), { recursive: true, force: true });
        return `node ${a.node} validator ${r}; its slashing protection database deleted (reinstall)`;
      }
    }
  };

  // one sample per node and slot, taken without holding up the timeline: a node that answers slowly (a loaded
  // machine) misses samples instead of delaying the faults
  const inFlight = new Set<number>();
  const sample = (slot: number): void => {
    net.nodes.forEach((node, i) => {
      if (inFlight.has(i)) return;
      inFlight.add(i);
      const row: Sample = { slot, up: false, head: null, headRoot: null, justified: null, finalized: null, finalizedRoot: null, participation: null, peers: null, rssMb: null, regenQueue: null, forkChoiceNodes: null };
      const take = async () => {
        if (!running(i, "beacon")) return;
        const v = await net.view(i);
        Object.assign(row, { up: v.up, head: v.headSlot, headRoot: v.headRoot, justified: v.justifiedEpoch, finalized: v.finalizedEpoch, finalizedRoot: v.finalizedRoot, peers: v.peers });
        row.rssMb = rssMb(node.beacon?.pid);
        try {
          const m = await metricsOf(node.metricsPort);
          row.participation = m["cairn_previous_epoch_target_participation"] ?? null;
          row.regenQueue = m["cairn_regen_queue_length"] ?? null;
          row.forkChoiceNodes = m["cairn_fork_choice_nodes"] ?? null;
        } catch {
          // metrics not up yet
        }
      };
      const done = take().finally(() => {
        inFlight.delete(i);
        report.series[i].push(row);
      });
      pending.add(done);
      void done.finally(() => pending.delete(done));
    });
  };
  const pending = new Set<Promise<void>>();

  try {
    for (let i = 0; i < n; i++) {
      proxies.push([]);
      for (let j = 0; j < n; j++) proxies[i].push(null);
    }
    await net.prepare();
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) if (i !== j) proxies[i][j] = await LinkProxy.start(net.nodes[j].p2pPort);
      for (const p of ["beacon", "validator"] as const) writeFileSync(clockFile(i, p), "0");
    }
    stops.push(async () => {
      for (const row of proxies) for (const p of row) await p?.close();
      for (const x of servers) await x.close();
    });
    o.log(
      `sim ${s.name}: seed ${o.seed}, ${n} nodes, ${totalValidators} validators, ${s.preset} preset, ${s.secondsPerSlot} s slots, ` +
        `${s.epochs} epochs, ${s.clock} clock; genesis in ${net.genesisTime - Math.floor(Date.now() / 1000)} s; out ${o.outDir}\n`,
    );
    for (let i = 0; i < n; i++) {
      if (s.nodes[i].startEpoch === 0) {
        start(i, "beacon");
        start(i, "validator");
      }
    }
    const events = [...plan.events];
    for (let i = 0; i < n; i++) {
      if (s.nodes[i].startEpoch > 0) events.push({ slot: s.nodes[i].startEpoch * spe, action: { type: "start", node: i, process: "beacon" }, fault: -1 });
    }
    events.sort((a, b) => a.slot - b.slot);
    const slotMs = s.secondsPerSlot * 1000;
    const slotStart = (slot: number) => net.genesisTime * 1000 + slot * slotMs;
    let next = 0;
    for (let slot = 0; slot <= endSlot && !o.signal?.aborted; slot = Math.max(slot + 1, Math.floor((Date.now() - slotStart(0)) / slotMs))) {
      await sleep(slotStart(slot) - Date.now());
      currentSlot = slot;
      while (next < events.length && events[next].slot <= slot) {
        const e = events[next++];
        const done = await apply(e);
        report.events.push({ ...e, done });
        o.log(`slot ${String(slot).padStart(4)}  ${done}\n`);
      }
      // half a slot in: the slot's block has reached every connected node
      await sleep(slotStart(slot) + slotMs / 2 - Date.now());
      if (slot % spe === 0) o.log(statusLine(slot / spe, report.series));
      sample(slot);
    }
    await Promise.all(pending);
    report.series.forEach((rows) => rows.sort((a, b) => a.slot - b.slot));
    // the last epoch's first block and transition may still be on their way to some nodes (a busy machine): give
    // them two slots to agree before calling it a disagreement, as cairn testnet does
    const agree = (vs: NodeView[]) => new Set(vs.map((v) => `${v.up}:${v.finalizedEpoch}:${v.finalizedRoot}`)).size === 1;
    for (const deadline = Date.now() + 2 * slotMs; ; ) {
      finalViews = await net.views();
      if (agree(finalViews) || Date.now() > deadline || o.signal?.aborted) break;
      await sleep(250);
    }
    // the audit: what each validator client signed (its export, after a stop) and what each node's chain holds
    await collectChains(net, report.series, blocks);
    stopping = true;
    await net.stopAll();
    for (let i = 0; i < n; i++) await exportProtection(i, `node${i} vc export at the end`);
  } finally {
    stopping = true;
    await net.stopAll();
    for (const f of stops) await f();
  }
  report.slashable = findSlashable(blocks, votes);
  report.figures.audited = { blocks: blocks.length, votes: votes.length };
  report.figures.slashableMessages = report.slashable.length;
  judge(report, s, crashes, finalViews);
  return report;
}

function statusLine(epoch: number, series: Sample[][]): string {
  const parts = series.map((rows, i) => {
    const r = rows.at(-1);
    if (!r || !r.up) return `n${i} down`;
    return `n${i} h${r.head} j${r.justified} f${r.finalized} p${r.peers}`;
  });
  return `epoch ${String(epoch).padStart(3)}  ${parts.join("  ")}\n`;
}

/** Every block each running node knows (canonical or not), by proposer: the nodes' side of the audit. */
async function collectChains(net: Testnet, series: Sample[][], blocks: BlockRecord[]): Promise<void> {
  for (const node of net.nodes) {
    const last = series[node.index].at(-1);
    if (!last?.up || last.head === null) continue;
    const base = `http://127.0.0.1:${node.restPort}`;
    const slots = Array.from({ length: last.head }, (_, k) => k + 1);
    for (let k = 0; k < slots.length; k += 16) {
      await Promise.all(
        slots.slice(k, k + 16).map(async (slot) => {
          try {
            const r = await fetch(`${base}/eth/v1/beacon/headers?slot=${slot}`, { signal: AbortSignal.timeout(3000) });
            if (!r.ok) return;
            const data = ((await r.json()) as { data: { root: string; header: { message: { slot: string; proposer_index: string } } }[] }).data;
            for (const h of data) blocks.push({ validator: `validator ${h.header.message.proposer_index}`, from: `node${node.index} chain`, slot: Number(h.header.message.slot), root: h.root });
          } catch {
            // a node that stops answering: its blocks are left out (the export side still counts)
          }
        }),
      );
    }
  }
}

/** The invariants, each a pass/fail line (exported for tests: it reads only the report and the final views). */
export function judge(r: SimReport, s: Scenario, crashes: string[], finalViews: NodeView[]): void {
  const spe = s.slotsPerEpoch;
  const e = s.expect;
  const inv = (name: string, ok: boolean, detail: string) => r.invariants.push({ name, ok, detail });
  inv(
    "no slashable messages (network-wide audit)",
    r.slashable.length === 0,
    `${r.figures.audited.blocks} block and ${r.figures.audited.votes} vote records audited; ${r.slashable.length} slashable pair(s)`,
  );
  inv("no node crashed unless the scenario killed it", crashes.length === 0, crashes.length === 0 ? "every exit was the simulator's" : crashes.join("; "));
  // a node's latest sample at `slot` (up to two slots old: a slow node misses some)
  const at = (i: number, slot: number) => r.series[i].findLast((x) => x.slot <= slot && x.slot >= slot - 2);
  const lastSlot = s.epochs * spe;
  for (const f of r.faults) {
    if (f.recovery === null || f.toSlot === null) continue;
    const from = f.toSlot;
    if (f.recovery === "heal") {
      const until = from + e.headsAgreeWithinEpochs * spe;
      let agreedAt: number | null = null;
      for (let slot = from; slot <= Math.min(until, lastSlot) && agreedAt === null; slot++) {
        // one head block everywhere (the same slot is not enough: the two sides of a split build rival chains)
        const ups = r.series.map((_, i) => at(i, slot)).filter((x) => x?.up && x.head !== null);
        if (ups.length > 0 && new Set(ups.map((x) => x!.headRoot)).size === 1) agreedAt = slot;
      }
      inv(
        `heads agree (one head block) within ${e.headsAgreeWithinEpochs} epochs after the heal at slot ${from} (${f.label})`,
        agreedAt !== null,
        agreedAt !== null ? `one head at slot ${agreedAt} (${agreedAt - from} slots after)` : until > lastSlot ? "the run ended first" : "heads still apart",
      );
    }
    // finality: participation is back once every node that was up before the fault answers again (restarted beacon
    // nodes take seconds to resume); from the first epoch after that, finalized must move past the highest epoch
    // any node had finalized by then
    const wasUp = r.series.flatMap((rows, i) => (rows.some((x) => x.slot < f.fromSlot && x.up) ? [i] : []));
    let back = from;
    while (back < lastSlot && !wasUp.every((i) => at(i, back)?.up)) back++;
    const firstFull = Math.ceil(back / spe) * spe;
    const deadline = firstFull + e.finalityWithinEpochs * spe;
    const before = Math.max(-1, ...r.series.flatMap((rows) => rows.filter((x) => x.slot <= back).map((x) => x.finalized ?? -1)));
    let regained: number | null = null;
    for (let slot = back; slot <= Math.min(deadline, lastSlot) && regained === null; slot++) {
      if (r.series.some((_, i) => (at(i, slot)?.finalized ?? -1) > before)) regained = slot;
    }
    r.figures.timeToFinalityEpochs.push(regained === null ? null : (regained - from) / spe);
    const nodesBack = back > from ? `; every node answering again at slot ${back}` : "";
    inv(
      `finality regained within ${e.finalityWithinEpochs} epochs of participation returning at slot ${from} (${f.label})`,
      regained !== null,
      regained !== null
        ? `finalized epoch passed ${before} at slot ${regained}, ${((regained - from) / spe).toFixed(2)} epochs after${nodesBack}`
        : deadline > lastSlot
          ? `the run ended before the deadline (slot ${deadline})${nodesBack}`
          : `finalized epoch still ${before} at slot ${deadline}${nodesBack}`,
    );
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
  );
  if (e.finalFinalizedEpoch !== null) {
    const min = Math.min(...final.map((x) => x.finalized ?? -1));
    inv(`every node finalized epoch ${e.finalFinalizedEpoch} or later by the end`, min >= e.finalFinalizedEpoch, `lowest finalized epoch ${min}`);
  }
  const peak = (key: "rssMb" | "regenQueue" | "forkChoiceNodes") => r.series.map((rows) => rows.reduce<number | null>((m, x) => (x[key] === null ? m : Math.max(m ?? 0, x[key]!)), null));
  const rss = peak("rssMb");
  r.figures.peakRssMb = rss.map((x) => (x === null ? null : Math.round(x)));
  const bound = (name: string, values: (number | null)[], max: number, unit: string) => {
    const worst = Math.max(0, ...values.map((x) => x ?? 0));
    inv(`${name} at most ${max}${unit}`, worst <= max, `per node: ${values.map((x) => (x === null ? "-" : Math.round(x))).join(", ")}`);
  };
  bound("peak RSS (VmHWM) of every beacon node", rss, e.maxRssMb, " MB");
  bound("regen queue length (cairn_regen_queue_length)", peak("regenQueue"), e.maxRegenQueue, "");
  bound("fork-choice size (cairn_fork_choice_nodes)", peak("forkChoiceNodes"), e.maxForkChoiceNodes, "");
}
