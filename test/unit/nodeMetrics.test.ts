// Metrics that dashboards know: a beacon node started in-process serves the phase 0 interop list of
// ethereum/beacon-metrics (metrics.md, "Interop Metrics"), Node's process metrics under their usual names, and
// every metric that the Grafana dashboard in dashboards/cairn.json queries.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBeaconConfig } from "../../src/config/index.js";
import { BeaconNode } from "../../src/node/node.js";
import { minimalConfig } from "../../src/params/index.js";
import { createInteropGenesisState } from "../../src/state-transition/index.js";

/** ethereum/beacon-metrics metrics.md, Interop Metrics (phase 0). */
const INTEROP = [
  "libp2p_peers",
  "beacon_head_slot",
  "beacon_finalized_epoch",
  "beacon_current_justified_epoch",
  "beacon_previous_justified_epoch",
  "beacon_current_active_validators",
  "beacon_reorgs_total",
  "beacon_processed_deposits_total",
];
const PROCESS = ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "nodejs_heap_size_used_bytes", "nodejs_eventloop_lag_seconds"];

// PromQL words that are not metric names
const PROMQL = new Set(["rate", "irate", "increase", "sum", "avg", "max", "min", "by", "without", "histogram_quantile", "le", "on", "ignoring", "offset"]);

let dir: string;
let node: BeaconNode;
let served: Map<string, string>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-metrics-"));
  const config = createBeaconConfig({ ...minimalConfig, SECONDS_PER_SLOT: 1 });
  node = await BeaconNode.start({
    config,
    datadir: join(dir, "node"),
    genesisState: createInteropGenesisState(config, 8, Math.floor(Date.now() / 1000) - 20).serialize(),
    rest: null,
    metrics: { address: "127.0.0.1", port: 0 },
    blsWorkers: 1,
  });
  const text = await (await fetch(`http://127.0.0.1:${node.metricsPort}/metrics`)).text();
  // name -> sample lines' names, from the # TYPE lines (a histogram's samples are name_bucket, _sum, _count)
  served = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) served.set(m[1]!, m[2]!);
});

after(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** True when `name` is a served metric or one of a served histogram's or summary's series. */
function isServed(name: string): boolean {
  if (served.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return base !== name && (served.get(base) === "histogram" || served.get(base) === "summary");
}

describe("beacon node metrics", () => {
  it("serve the beacon-metrics interop list and Node's process metrics by their usual names", () => {
    for (const name of [...INTEROP, ...PROCESS]) assert.ok(isServed(name), `${name} is not served`);
    assert.equal([...served.keys()].filter((n) => n.startsWith("cairn_process_")).length, 0);
    assert.equal(served.get("beacon_reorgs_total"), "counter");
  });

  it("include every metric the Grafana dashboard queries", () => {
    const dashboard = JSON.parse(readFileSync(new URL("../../../dashboards/cairn.json", import.meta.url), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const queried = new Set<string>();
    for (const p of dashboard.panels) {
      assert.ok(p.targets.length > 0, `panel ${p.title} has no query`);
      for (const t of p.targets) {
        // identifiers outside [...] ranges and label matchers
        const expr = t.expr.replace(/\[[^\]]*\]/g, "").replace(/\{[^}]*\}/g, "");
        for (const id of expr.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []) if (!PROMQL.has(id)) queried.add(id);
      }
    }
    assert.ok(queried.size >= 20, `only ${queried.size} metrics queried`);
    const missing = [...queried].filter((n) => !isServed(n));
    assert.deepEqual(missing, []);
    for (const name of INTEROP) assert.ok(queried.has(name), `the dashboard does not show ${name}`);
  });
});
