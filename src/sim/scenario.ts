// A `cairn sim` scenario: a YAML file naming the nodes (and their validators), the preset and slot time, a timeline
// of faults and the bounds the run must stay within. Parsed strictly: an unknown key, a wrong type or a node that
// does not exist is an error naming where it is. expandScenario() turns the timeline into concrete events using a
// seeded generator, so the same seed replays the same run (fault times, nodes, validators).
import { parse as parseYaml } from "yaml";
import { createPrng } from "../util/prng.js";

export type ProcessKind = "beacon" | "validator" | "both";

export interface NodeSpec {
  validators: number;
  /** started at this epoch (a late joiner, syncing from genesis) */
  startEpoch: number;
  /** runs a roughtime-like clock: with the scenario's `clock: mean` its beacon node and validator client follow the
   * MEAN of the time sources (UNSAFE, the Medalla bug); with `clock: median` (Cairn's) they only check and warn */
  roughtime: boolean;
}

interface FaultBase {
  atSlot: number;
  /** slots until the fault is undone (null: never) */
  forSlots: number | null;
}

export type FaultSpec = FaultBase &
  (
    | { kind: "partition"; groups: number[][] | null }
    | { kind: "isolate"; node: number | null }
    | { kind: "degrade"; groups: number[][] | null; node: number | null; latencyMs: number; jitterMs: number; loss: number }
    | { kind: "kill"; process: ProcessKind; nodes: number[] | null; count: number; everySlots: number | null; untilSlot: number | null }
    | { kind: "restart_all" }
    | { kind: "offline"; nodes: number[] | null; share: number | null }
    | { kind: "clock"; process: ProcessKind; nodes: number[] | null; count: number; offsetMs: number }
    | { kind: "time_source"; server: number; offsetMs: number }
    | { kind: "reset_protection"; nodes: number[] }
  );

export interface Expectations {
  /** after a heal, every running node's head within this many slots of the others' */
  headsAgreeSlots: number;
  /** ... within this many epochs of the heal */
  headsAgreeWithinEpochs: number;
  /** finality regained within this many epochs of participation returning */
  finalityWithinEpochs: number;
  /** every node finalized at least this epoch at the end (null: not checked) */
  finalFinalizedEpoch: number | null;
  maxRssMb: number;
  maxRegenQueue: number;
  maxForkChoiceNodes: number;
}

export interface Scenario {
  name: string;
  description: string;
  preset: "minimal" | "mainnet";
  secondsPerSlot: number;
  slotsPerEpoch: number;
  epochs: number;
  nodes: NodeSpec[];
  timeServers: number;
  /** how roughtime nodes treat their time sources: median (Cairn's check, warns only) or mean (follows it: UNSAFE) */
  clock: "median" | "mean";
  faults: FaultSpec[];
  expect: Expectations;
}

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScenarioError";
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function keys(o: Obj, path: string, allowed: string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ScenarioError(`${path}: unknown key ${JSON.stringify(k)} (expected one of ${allowed.join(", ")})`);
  }
}

function int(v: unknown, path: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) throw new ScenarioError(`${path}: expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function num(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max) throw new ScenarioError(`${path}: expected a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") throw new ScenarioError(`${path}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

function str(v: unknown, path: string): string {
  if (typeof v !== "string") throw new ScenarioError(`${path}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function list(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new ScenarioError(`${path}: expected a list, got ${JSON.stringify(v)}`);
  return v;
}

const PRESET_SLOTS_PER_EPOCH = { minimal: 8, mainnet: 32 } as const;
const FAULT_KEYS: Record<FaultSpec["kind"], string[]> = {
  partition: ["groups"],
  isolate: ["node"],
  degrade: ["groups", "node", "latency_ms", "jitter_ms", "loss"],
  kill: ["process", "nodes", "count", "every_slots", "until_epoch"],
  restart_all: [],
  offline: ["nodes", "share"],
  clock: ["process", "nodes", "count", "offset_ms"],
  time_source: ["server", "offset_ms"],
  reset_protection: ["nodes"],
};
const COMMON_FAULT_KEYS = ["kind", "at_epoch", "at_slot", "for_epochs", "for_slots", "note"];

export function parseScenario(text: string, source = "scenario"): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ScenarioError(`${source}: not YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  if (!isObj(doc)) throw new ScenarioError(`${source}: expected a mapping at the top`);
  keys(doc, source, ["name", "description", "preset", "seconds_per_slot", "epochs", "nodes", "time_servers", "clock", "faults", "expect"]);
  const name = str(doc.name, `${source}: name`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new ScenarioError(`${source}: name: lower-case letters, digits and dashes, got ${JSON.stringify(name)}`);
  const preset = doc.preset === undefined ? "minimal" : str(doc.preset, `${source}: preset`);
  if (preset !== "minimal" && preset !== "mainnet") throw new ScenarioError(`${source}: preset: minimal or mainnet, got ${JSON.stringify(preset)}`);
  const slotsPerEpoch = PRESET_SLOTS_PER_EPOCH[preset];
  const secondsPerSlot = int(doc.seconds_per_slot ?? 1, `${source}: seconds_per_slot`, 1, 60);
  const epochs = int(doc.epochs, `${source}: epochs`, 1, 10_000);
  const nodes = list(doc.nodes, `${source}: nodes`).map((n, i): NodeSpec => {
    const path = `${source}: nodes[${i}]`;
    if (!isObj(n)) throw new ScenarioError(`${path}: expected a mapping`);
    keys(n, path, ["validators", "start_epoch", "roughtime", "note"]);
    if (n.note !== undefined) str(n.note, `${path}.note`);
    return {
      validators: int(n.validators ?? 0, `${path}.validators`, 0, 100_000),
      startEpoch: int(n.start_epoch ?? 0, `${path}.start_epoch`, 0, epochs),
      roughtime: n.roughtime === undefined ? false : bool(n.roughtime, `${path}.roughtime`),
    };
  });
  if (nodes.length < 1 || nodes.length > 16) throw new ScenarioError(`${source}: nodes: from 1 to 16 nodes`);
  const total = nodes.reduce((a, n) => a + n.validators, 0);
  if (total < slotsPerEpoch) throw new ScenarioError(`${source}: nodes: ${total} validators in all, at least SLOTS_PER_EPOCH (${slotsPerEpoch}) needed`);
  if (nodes.some((n) => n.validators > 0 && n.startEpoch > 0)) throw new ScenarioError(`${source}: nodes: a late node (start_epoch) has no validators`);
  const timeServers = int(doc.time_servers ?? 0, `${source}: time_servers`, 0, 16);
  if (nodes.some((n) => n.roughtime) && timeServers === 0) throw new ScenarioError(`${source}: roughtime nodes need time_servers`);
  const clock = doc.clock === undefined ? "median" : str(doc.clock, `${source}: clock`);
  if (clock !== "median" && clock !== "mean") throw new ScenarioError(`${source}: clock: median or mean, got ${JSON.stringify(clock)}`);
  const nodeIndex = (v: unknown, path: string) => int(v, path, 0, nodes.length - 1);
  const nodeList = (v: unknown, path: string) => list(v, path).map((x, k) => nodeIndex(x, `${path}[${k}]`));
  const processKind = (v: unknown, path: string): ProcessKind => {
    const p = v === undefined ? "both" : str(v, path);
    if (p !== "beacon" && p !== "validator" && p !== "both") throw new ScenarioError(`${path}: beacon, validator or both, got ${JSON.stringify(p)}`);
    return p;
  };
  const groupsOf = (v: unknown, path: string): number[][] | null => {
    if (v === undefined) return null;
    const groups = list(v, path).map((g, gi) => nodeList(g, `${path}[${gi}]`));
    const all = groups.flat();
    if (new Set(all).size !== all.length) throw new ScenarioError(`${path}: a node is in two groups`);
    if (groups.length < 2) throw new ScenarioError(`${path}: at least two groups`);
    return groups;
  };
  const endSlot = epochs * slotsPerEpoch;
  const faults = list(doc.faults ?? [], `${source}: faults`).map((f, i): FaultSpec => {
    const path = `${source}: faults[${i}]`;
    if (!isObj(f)) throw new ScenarioError(`${path}: expected a mapping`);
    const kind = str(f.kind, `${path}.kind`);
    if (!Object.hasOwn(FAULT_KEYS, kind)) throw new ScenarioError(`${path}.kind: unknown fault ${JSON.stringify(kind)} (expected one of ${Object.keys(FAULT_KEYS).join(", ")})`);
    const k = kind as FaultSpec["kind"];
    keys(f, path, [...COMMON_FAULT_KEYS, ...FAULT_KEYS[k]]);
    if (f.note !== undefined) str(f.note, `${path}.note`);
    if ((f.at_epoch === undefined) === (f.at_slot === undefined)) throw new ScenarioError(`${path}: give at_epoch or at_slot (one of them)`);
    const atSlot = f.at_slot !== undefined ? int(f.at_slot, `${path}.at_slot`, 0, endSlot) : int(f.at_epoch, `${path}.at_epoch`, 0, epochs) * slotsPerEpoch;
    if (f.for_epochs !== undefined && f.for_slots !== undefined) throw new ScenarioError(`${path}: give for_epochs or for_slots, not both`);
    const forSlots = f.for_slots !== undefined ? int(f.for_slots, `${path}.for_slots`, 1, endSlot) : f.for_epochs !== undefined ? int(f.for_epochs, `${path}.for_epochs`, 1, epochs) * slotsPerEpoch : null;
    const base = { atSlot, forSlots };
    const count = (dflt: number) => int(f.count ?? dflt, `${path}.count`, 1, nodes.length);
    switch (k) {
      case "partition":
        return { ...base, kind: k, groups: groupsOf(f.groups, `${path}.groups`) };
      case "degrade": {
        if (f.groups !== undefined && f.node !== undefined) throw new ScenarioError(`${path}: give groups or node, not both`);
        if (forSlots === null) throw new ScenarioError(`${path}: degrade needs for_slots or for_epochs (healed then)`);
        const latencyMs = int(f.latency_ms ?? 0, `${path}.latency_ms`, 0, 10_000);
        const jitterMs = int(f.jitter_ms ?? 0, `${path}.jitter_ms`, 0, latencyMs);
        const loss = num(f.loss ?? 0, `${path}.loss`, 0, 1);
        if (latencyMs === 0 && loss === 0) throw new ScenarioError(`${path}: a degrade needs latency_ms or loss`);
        const node = f.node === undefined ? null : nodeIndex(f.node, `${path}.node`);
        return { ...base, kind: k, groups: groupsOf(f.groups, `${path}.groups`), node, latencyMs, jitterMs, loss };
      }
      case "isolate":
        return { ...base, kind: k, node: f.node === undefined ? null : nodeIndex(f.node, `${path}.node`) };
      case "kill": {
        const everySlots = f.every_slots === undefined ? null : int(f.every_slots, `${path}.every_slots`, 1, endSlot);
        const untilSlot = f.until_epoch === undefined ? null : int(f.until_epoch, `${path}.until_epoch`, 0, epochs) * slotsPerEpoch;
        if (untilSlot !== null && everySlots === null) throw new ScenarioError(`${path}.until_epoch: only with every_slots`);
        return { ...base, kind: k, process: processKind(f.process, `${path}.process`), nodes: f.nodes === undefined ? null : nodeList(f.nodes, `${path}.nodes`), count: count(1), everySlots, untilSlot };
      }
      case "restart_all":
        if (forSlots === null) throw new ScenarioError(`${path}: restart_all needs for_slots or for_epochs (the time the nodes stay down)`);
        return { ...base, kind: k };
      case "offline": {
        if ((f.nodes === undefined) === (f.share === undefined)) throw new ScenarioError(`${path}: give nodes or share (one of them)`);
        return { ...base, kind: k, nodes: f.nodes === undefined ? null : nodeList(f.nodes, `${path}.nodes`), share: f.share === undefined ? null : num(f.share, `${path}.share`, 0, 1) };
      }
      case "clock":
        return {
          ...base,
          kind: k,
          process: processKind(f.process, `${path}.process`),
          nodes: f.nodes === undefined ? null : nodeList(f.nodes, `${path}.nodes`),
          count: count(1),
          offsetMs: int(f.offset_ms, `${path}.offset_ms`, -7 * 86_400_000, 7 * 86_400_000),
        };
      case "time_source":
        if (timeServers === 0) throw new ScenarioError(`${path}: a time_source fault needs time_servers`);
        return { ...base, kind: k, server: int(f.server, `${path}.server`, 0, timeServers - 1), offsetMs: int(f.offset_ms, `${path}.offset_ms`, -7 * 86_400_000, 7 * 86_400_000) };
      case "reset_protection":
        if (forSlots === null) throw new ScenarioError(`${path}: reset_protection needs for_slots or for_epochs (the time the client stays down)`);
        return { ...base, kind: k, nodes: nodeList(f.nodes, `${path}.nodes`) };
    }
  });
  const e = doc.expect === undefined ? {} : doc.expect;
  if (!isObj(e)) throw new ScenarioError(`${source}: expect: expected a mapping`);
  keys(e, `${source}: expect`, ["heads_agree_slots", "heads_agree_within_epochs", "finality_within_epochs", "final_finalized_epoch", "max_rss_mb", "max_regen_queue", "max_fork_choice_nodes"]);
  const expect: Expectations = {
    headsAgreeSlots: int(e.heads_agree_slots ?? 2, `${source}: expect.heads_agree_slots`),
    headsAgreeWithinEpochs: int(e.heads_agree_within_epochs ?? 2, `${source}: expect.heads_agree_within_epochs`, 1),
    finalityWithinEpochs: int(e.finality_within_epochs ?? 3, `${source}: expect.finality_within_epochs`, 1),
    finalFinalizedEpoch: e.final_finalized_epoch === undefined ? null : int(e.final_finalized_epoch, `${source}: expect.final_finalized_epoch`),
    maxRssMb: int(e.max_rss_mb ?? 1024, `${source}: expect.max_rss_mb`, 1),
    maxRegenQueue: int(e.max_regen_queue ?? 64, `${source}: expect.max_regen_queue`),
    maxForkChoiceNodes: int(e.max_fork_choice_nodes ?? 4096, `${source}: expect.max_fork_choice_nodes`, 1),
  };
  return {
    name,
    description: doc.description === undefined ? "" : str(doc.description, `${source}: description`),
    preset,
    secondsPerSlot,
    slotsPerEpoch,
    epochs,
    nodes,
    timeServers,
    clock,
    faults,
    expect,
  };
}

/** +24 h, -3 s, +1500 ms: an offset as a person reads it. */
export function formatOffset(ms: number): string {
  const sign = ms >= 0 ? "+" : "-";
  const a = Math.abs(ms);
  if (a >= 3_600_000 && a % 360_000 === 0) return `${sign}${a / 3_600_000} h`;
  if (a >= 1000 && a % 1000 === 0) return `${sign}${a / 1000} s`;
  return `${sign}${a} ms`;
}

/** "degrade 300±100 ms, 5% loss": a degraded link as a person reads it. */
export function degradeLabel(d: { latencyMs: number; jitterMs: number; loss: number }): string {
  const parts = [];
  if (d.latencyMs > 0) parts.push(`${d.latencyMs}${d.jitterMs > 0 ? `±${d.jitterMs}` : ""} ms`);
  if (d.loss > 0) parts.push(`${Number((d.loss * 100).toFixed(2))}% loss`);
  return `degrade ${parts.join(", ")}`;
}

export type SimAction =
  | { type: "cut"; groups: number[][] }
  | { type: "heal"; groups: number[][] }
  /** links between the groups degraded (each directed link's generator seeded from `seed` and its two nodes) */
  | { type: "degrade"; groups: number[][]; latencyMs: number; jitterMs: number; loss: number; seed: number }
  | { type: "restore"; groups: number[][] }
  | { type: "kill"; node: number; process: "beacon" | "validator" }
  | { type: "start"; node: number; process: "beacon" | "validator" }
  | { type: "clock"; node: number; process: "beacon" | "validator"; offsetMs: number }
  | { type: "source"; server: number; offsetMs: number }
  | { type: "reset_protection"; node: number };

export interface SimEvent {
  slot: number;
  action: SimAction;
  /** the fault (index in the timeline) it comes from */
  fault: number;
}

/** A fault as it happened: drawn on the report's plots. */
export interface FaultInterval {
  fault: number;
  kind: FaultSpec["kind"];
  label: string;
  fromSlot: number;
  toSlot: number | null;
  nodes: number[];
  /** participation comes back (or the network heals) at toSlot: finality and head checks start there */
  recovery: "heal" | "participation" | null;
}

export interface Plan {
  events: SimEvent[];
  intervals: FaultInterval[];
}

function pick<T>(rand: () => number, xs: T[], n: number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a.slice(0, n);
}

const both = (p: ProcessKind): ("beacon" | "validator")[] => (p === "both" ? ["beacon", "validator"] : [p]);

/** The timeline as concrete events, sorted by slot; every random choice comes from `seed`. */
export function expandScenario(s: Scenario, seed: number): Plan {
  const rand = createPrng(seed); // the run's only source of randomness
  const events: SimEvent[] = [];
  const intervals: FaultInterval[] = [];
  const all = s.nodes.map((_, i) => i);
  const withValidators = all.filter((i) => s.nodes[i].validators > 0);
  const total = s.nodes.reduce((a, n) => a + n.validators, 0);
  const add = (slot: number, action: SimAction, fault: number) => events.push({ slot, action, fault });
  const halves = () => {
    const shuffled = pick(rand, all, all.length);
    return [shuffled.slice(0, Math.ceil(all.length / 2)), shuffled.slice(Math.ceil(all.length / 2))];
  };
  const alone = (node: number) => [[node], all.filter((i) => i !== node)];
  s.faults.forEach((f, fi) => {
    const end = f.forSlots === null ? null : f.atSlot + f.forSlots;
    const interval = (label: string, nodes: number[], recovery: FaultInterval["recovery"], from = f.atSlot, to = end) =>
      intervals.push({ fault: fi, kind: f.kind, label, fromSlot: from, toSlot: to, nodes, recovery });
    switch (f.kind) {
      case "partition":
      case "isolate": {
        const groups = f.kind === "partition" ? (f.groups ?? halves()) : alone(f.node ?? pick(rand, all, 1)[0]);
        add(f.atSlot, { type: "cut", groups }, fi);
        if (end !== null) add(end, { type: "heal", groups }, fi);
        interval(`${f.kind} ${groups.map((g) => g.join(",")).join(" | ")}`, all, "heal");
        break;
      }
      case "degrade": {
        const groups = f.groups ?? (f.node !== null ? alone(f.node) : halves());
        const seed = Math.floor(rand() * 2 ** 32);
        add(f.atSlot, { type: "degrade", groups, latencyMs: f.latencyMs, jitterMs: f.jitterMs, loss: f.loss, seed }, fi);
        add(end!, { type: "restore", groups }, fi);
        interval(`${degradeLabel(f)} ${groups.map((g) => g.join(",")).join(" | ")}`, all, "heal");
        break;
      }
      case "kill": {
        const times: number[] = [];
        if (f.everySlots === null) times.push(f.atSlot);
        else for (let t = f.atSlot; t < (f.untilSlot ?? s.epochs * s.slotsPerEpoch); t += f.everySlots) times.push(t);
        // a storm kills nodes that are up: one still down from its last kill is not picked again
        const downUntil = new Map<number, number>();
        for (const t of times) {
          const pool = (f.nodes ?? all.filter((i) => s.nodes[i].startEpoch * s.slotsPerEpoch < t)).filter((i) => (downUntil.get(i) ?? -1) <= t);
          const victims = pick(rand, pool, Math.min(f.count, pool.length));
          const back = f.forSlots === null ? null : t + f.forSlots;
          for (const v of victims) downUntil.set(v, back ?? Number.MAX_SAFE_INTEGER);
          for (const node of victims) {
            for (const p of both(f.process)) {
              if (p === "validator" && s.nodes[node].validators === 0) continue;
              add(t, { type: "kill", node, process: p }, fi);
              if (back !== null) add(back, { type: "start", node, process: p }, fi);
            }
          }
          interval(`kill -9 ${f.process} ${victims.join(",")}`, victims, null, t, back);
        }
        break;
      }
      case "restart_all": {
        for (const node of all) {
          for (const p of both("both")) {
            if (p === "validator" && s.nodes[node].validators === 0) continue;
            add(f.atSlot, { type: "kill", node, process: p }, fi);
            add(end!, { type: "start", node, process: p }, fi);
          }
        }
        interval("all nodes kill -9 and restart", all, "participation");
        break;
      }
      case "offline": {
        let nodes: number[];
        if (f.nodes) nodes = f.nodes.filter((i) => s.nodes[i].validators > 0);
        else {
          // a random set of validator clients holding at most `share` of the validators, as close to it as they allow
          nodes = [];
          let sum = 0;
          for (const i of pick(rand, withValidators, withValidators.length)) {
            if (sum + s.nodes[i].validators <= f.share! * total + 1e-9) {
              nodes.push(i);
              sum += s.nodes[i].validators;
            }
          }
        }
        for (const node of nodes) {
          add(f.atSlot, { type: "kill", node, process: "validator" }, fi);
          if (end !== null) add(end, { type: "start", node, process: "validator" }, fi);
        }
        const share = nodes.reduce((a, i) => a + s.nodes[i].validators, 0) / total;
        interval(`${Math.round(share * 100)}% of validators offline (clients ${nodes.join(",")})`, nodes, "participation");
        break;
      }
      case "clock": {
        const nodes = f.nodes ?? pick(rand, all, f.count);
        for (const node of nodes) {
          for (const p of both(f.process)) {
            add(f.atSlot, { type: "clock", node, process: p, offsetMs: f.offsetMs }, fi);
            if (end !== null) add(end, { type: "clock", node, process: p, offsetMs: 0 }, fi);
          }
        }
        interval(`clock ${formatOffset(f.offsetMs)} (${f.process}) on node ${nodes.join(",")}`, nodes, null);
        break;
      }
      case "time_source":
        add(f.atSlot, { type: "source", server: f.server, offsetMs: f.offsetMs }, fi);
        if (end !== null) add(end, { type: "source", server: f.server, offsetMs: 0 }, fi);
        interval(`time source ${f.server} reports ${formatOffset(f.offsetMs)}`, [], null);
        break;
      case "reset_protection":
        for (const node of f.nodes) {
          add(f.atSlot, { type: "reset_protection", node }, fi);
          add(end!, { type: "start", node, process: "validator" }, fi);
        }
        interval(`slashing protection wiped, client reinstalled on ${f.nodes.join(",")}`, f.nodes, null);
        break;
    }
  });
  // a stable order: by slot, then kills before starts at the same slot (a restart never precedes its kill)
  const rank = (a: SimAction) => (a.type === "start" || a.type === "heal" || a.type === "restore" ? 1 : 0);
  events.sort((a, b) => a.slot - b.slot || rank(a.action) - rank(b.action) || a.fault - b.fault);
  return { events, intervals };
}
