// The simulator: runs a scenario on a local testnet (real `cairn beacon` and `cairn validator` processes, see
// src/testnet), applies its faults at their slots (links cut at per-link TCP proxies, processes killed with SIGKILL
// and restarted, clocks moved through each process's clock-offset file, fake SNTP servers lying), samples every node
// each slot (REST API, metrics, /proc), and judges the invariants (src/sim/invariants.ts), the time-bound ones while
// the run goes on: a network-wide slashing audit, heads agreeing after a heal, finality regained after participation
// returns, no crash it did not cause, resource bounds.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { getNamedConfig } from "../config/index.js";
import { interopSecretKey } from "../crypto/interop.js";
import { Testnet, type NodeView } from "../testnet/testnet.js";
import { toHex } from "../util/bytes.js";
import { createPrng } from "../util/prng.js";
import { SlashingProtection } from "../validator/slashingProtection/index.js";
import { findSlashable, recordsFromInterchange, type BlockRecord, type SlashablePair, type VoteRecord } from "./audit.js";
import { boundBreach, finalityCheck, headsAgreeCheck, judge, recoveries, type Crash } from "./invariants.js";
import { LinkProxy } from "./proxy.js";
import { degradeLabel, expandScenario, type FaultInterval, type Scenario, type SimEvent } from "./scenario.js";
import { FakeSntpServer } from "./sntp.js";

export interface SimOptions {
  scenario: Scenario;
  seed: number;
  outDir: string;
  basePort: number;
  log: (line: string) => void;
  /** where an invariant's PASS/FAIL line goes when it is decided during the run (default: log) */
  live?: (line: string) => void;
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
  /** the slot it was decided at (met, or failed: its deadline, the first sample over a bound, the first crash) */
  atSlot: number;
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
  const crashes: Crash[] = [];
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
      crashes.push({ slot: currentSlot, what });
      o.log(`  ! ${what}\n`);
      verdict(currentSlot, { name: "no node crashed unless the scenario killed it", ok: false, detail: what });
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
  const across = (groups: number[][], f: (i: number, j: number) => void) => {
    for (let a = 0; a < groups.length; a++) for (let b = 0; b < groups.length; b++) if (a !== b) for (const i of groups[a]) for (const j of groups[b]) f(i, j);
  };
  const setCut = (groups: number[][], cut: boolean) => across(groups, (i, j) => proxies[i][j]?.setCut(cut));
  const apply = async (e: SimEvent): Promise<string> => {
    const a = e.action;
    switch (a.type) {
      case "cut":
        setCut(a.groups, true);
        return `links cut: ${a.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`;
      case "heal":
        setCut(a.groups, false);
        return `links healed: ${a.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`;
      case "degrade":
        // one generator per directed link, from the event's seed: the same --seed draws the same delays and losses
        across(a.groups, (i, j) => proxies[i][j]?.setShape({ latencyMs: a.latencyMs, jitterMs: a.jitterMs, loss: a.loss, rand: createPrng(a.seed + i * 64 + j) }));
        return `links degraded (${degradeLabel(a).slice("degrade ".length)} each way): ${a.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`;
      case "restore":
        across(a.groups, (i, j) => proxies[i][j]?.setShape(null));
        return `links restored: ${a.groups.map((g) => `{${g.join(",")}}`).join(" | ")}`;
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

  // the invariants decided while the run goes on: each time-bound check as soon as the samples it needs are in
  const live = o.live ?? o.log;
  const verdict = (slot: number, x: { name: string; ok: boolean; detail: string }) =>
    live(`slot ${String(slot).padStart(4)}  ${x.ok ? "PASS" : "FAIL"}  ${x.name}: ${x.detail}\n`);
  const open = recoveries(plan.intervals).flatMap((f) => [
    ...(f.recovery === "heal" ? [(settled: number) => headsAgreeCheck(report.series, s, f, settled)] : []),
    (settled: number) => finalityCheck(report.series, s, f, settled),
  ]);
  const breached = new Set<string>();
  const evaluate = (node: number, row: Sample) => {
    for (const b of boundBreach(s, node, row)) {
      if (breached.has(b.name)) continue; // the first breach of each bound; the final line names every node
      breached.add(b.name);
      verdict(row.slot, { ...b, ok: false });
    }
    // every sample up to this slot is in: none in flight for it or an earlier one
    const settled = Math.min(lastSampled, ...[...inFlight.values()].map((x) => x - 1));
    for (let k = 0; k < open.length; k++) {
      const v = open[k](settled);
      if (v === null) continue;
      verdict(v.atSlot, v);
      open.splice(k--, 1);
    }
  };

  // one sample per node and slot, taken without holding up the timeline: a node that answers slowly (a loaded
  // machine) misses samples instead of delaying the faults (one in flight per node, so each node's rows stay in
  // slot order)
  const inFlight = new Map<number, number>();
  let lastSampled = -1;
  const sample = (slot: number): void => {
    lastSampled = slot;
    net.nodes.forEach((node, i) => {
      if (inFlight.has(i)) return;
      inFlight.set(i, slot);
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
        evaluate(i, row);
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
