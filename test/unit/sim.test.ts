// cairn sim's pieces without a network: the scenario parser (strict: unknown keys are errors naming them), the
// seeded expansion (the same seed, the same events), the slashing audit's three offences, the link proxy (a cut link
// resets connections and refuses new ones) and the simulation clock (an offset file, the unsafe mean-following).
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findSlashable, type BlockRecord, type VoteRecord } from "../../src/sim/audit.js";
import { judge, type Sample, type SimReport } from "../../src/sim/engine.js";
import { LinkProxy } from "../../src/sim/proxy.js";
import { expandScenario, parseScenario, ScenarioError } from "../../src/sim/scenario.js";
import { FakeSntpServer } from "../../src/sim/sntp.js";
import { createProcessClock, meanOffset } from "../../src/sim/processClock.js";
import { fileTempDir } from "../utils/tempDir.js";
import { until } from "../utils/poll.js";

const scenariosDir = fileURLToPath(new URL("../../../scenarios/", import.meta.url));
const tmp = fileTempDir("cairn-sim-unit-");

const BASE = `
name: t
epochs: 6
nodes:
  - validators: 8
  - validators: 8
  - validators: 8
  - validators: 8
`;

describe("scenario YAML", () => {
  it("parses every built-in scenario", () => {
    const files = readdirSync(scenariosDir).filter((f) => f.endsWith(".yaml"));
    assert.ok(files.length >= 5);
    for (const f of files) {
      const s = parseScenario(readFileSync(join(scenariosDir, f), "utf8"), f);
      assert.equal(`${s.name}.yaml`, f);
    }
  });

  it("names an unknown key, at the top, in a node, in a fault and in expect", () => {
    assert.throws(() => parseScenario(`${BASE}colour: red\n`), (e: Error) => e instanceof ScenarioError && /unknown key "colour"/.test(e.message));
    assert.throws(() => parseScenario(BASE.replace("- validators: 8\n  - validators: 8\n  - validators: 8\n  - validators: 8", "- { validators: 32, vc: 2 }")), /nodes\[0\]: unknown key "vc"/);
    assert.throws(() => parseScenario(`${BASE}faults:\n  - { kind: isolate, at_epoch: 1, nodes: [1] }\n`), /faults\[0\]: unknown key "nodes"/);
    assert.throws(() => parseScenario(`${BASE}expect: { max_rss: 5 }\n`), /expect: unknown key "max_rss"/);
    assert.throws(() => parseScenario(`${BASE}faults:\n  - { kind: flood, at_epoch: 1 }\n`), /unknown fault "flood"/);
  });

  it("refuses nodes that do not exist, missing times and wrong types", () => {
    assert.throws(() => parseScenario(`${BASE}faults:\n  - { kind: isolate, at_epoch: 1, node: 4 }\n`), /faults\[0\]\.node: expected an integer from 0 to 3/);
    assert.throws(() => parseScenario(`${BASE}faults:\n  - { kind: isolate, node: 1 }\n`), /give at_epoch or at_slot/);
    assert.throws(() => parseScenario(`${BASE}faults:\n  - { kind: restart_all, at_slot: 3 }\n`), /needs for_slots or for_epochs/);
    assert.throws(() => parseScenario(BASE.replace("epochs: 6", "epochs: six")), /epochs: expected an integer/);
    assert.throws(() => parseScenario(`${BASE}faults:\n  - { kind: time_source, server: 0, offset_ms: 5, at_slot: 1 }\n`), /needs time_servers/);
  });

  it("replays the same events for the same seed, and other choices for another", () => {
    const s = parseScenario(`${BASE}faults:\n  - { kind: kill, at_epoch: 1, every_slots: 2, until_epoch: 5, for_slots: 1 }\n  - { kind: partition, at_epoch: 2, for_epochs: 1 }\n`);
    const a = expandScenario(s, 7);
    assert.deepEqual(expandScenario(s, 7), a);
    assert.notDeepEqual(expandScenario(s, 8).events, a.events);
    // every restart comes after its kill
    for (const e of a.events.filter((x) => x.action.type === "start")) {
      const act = e.action as { node: number; process: string };
      assert.ok(a.events.some((k) => k.action.type === "kill" && k.slot < e.slot && (k.action as { node: number }).node === act.node));
    }
  });

  it("takes at most the share asked for offline", () => {
    const s = parseScenario(`${BASE}faults:\n  - { kind: offline, share: 0.5, at_epoch: 1, for_epochs: 1 }\n`);
    const kills = expandScenario(s, 3).events.filter((e) => e.action.type === "kill");
    assert.equal(kills.length, 2);
  });
});

describe("slashing audit", () => {
  const vote = (source: number, target: number, root: string | null, from = "export"): VoteRecord => ({ validator: "v1", from, source, target, root });
  const block = (slot: number, root: string | null, from = "export"): BlockRecord => ({ validator: "v1", from, slot, root });

  it("finds a double proposal, a double vote and a surround vote", () => {
    assert.deepEqual(findSlashable([block(5, "0xaa"), block(5, "0xbb")], []).map((p) => p.offence), ["double proposal"]);
    assert.deepEqual(findSlashable([], [vote(1, 3, "0xaa"), vote(2, 3, "0xbb")]).map((p) => p.offence), ["double vote"]);
    assert.deepEqual(findSlashable([], [vote(1, 6, "0xaa"), vote(2, 5, "0xbb")]).map((p) => p.offence), ["surround vote"]);
  });

  it("finds nothing in an honest history, repeated exports or unknown roots", () => {
    const honest = [vote(0, 1, "0x01"), vote(1, 2, "0x02"), vote(2, 3, "0x03"), vote(2, 3, "0x03", "a later export")];
    assert.deepEqual(findSlashable([block(5, "0xaa"), block(5, "0xaa"), block(6, null), block(6, "0xcc")], honest), []);
    // a chain's block root and an export's signing root are different things: never compared
    assert.deepEqual(findSlashable([block(5, "0xaa", "node0 chain"), block(5, "0xbb")], []), []);
  });
});

describe("link proxy", () => {
  const servers: { close(): void }[] = [];
  after(() => servers.forEach((s) => s.close()));

  it("forwards, resets its connections when cut, refuses while cut and forwards again when healed", async () => {
    const echo = createServer((c) => c.pipe(c));
    servers.push(echo);
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    const proxy = await LinkProxy.start((echo.address() as AddressInfo).port);
    servers.push({ close: () => void proxy.close() });
    const roundTrip = () =>
      new Promise<string>((resolve) => {
        const c = createConnection({ host: "127.0.0.1", port: proxy.port });
        let got = "";
        c.on("data", (d) => {
          got += d.toString();
          c.end();
        });
        c.on("close", () => resolve(got));
        c.on("error", () => resolve(got));
        c.write("ping");
      });
    assert.equal(await roundTrip(), "ping");
    const open = createConnection({ host: "127.0.0.1", port: proxy.port });
    let closed = false;
    open.on("close", () => (closed = true));
    open.on("error", () => {});
    await until("connection through the proxy", () => proxy.accepted === 2);
    proxy.setCut(true);
    await until("the open connection reset", () => closed);
    assert.equal(await roundTrip(), "");
    assert.equal(proxy.refused, 1);
    proxy.setCut(false);
    assert.equal(await roundTrip(), "ping");
  });
});

describe("simulation clock", () => {
  it("adds the offset written in its file, and follows a change", async () => {
    const file = join(tmp, "offset");
    writeFileSync(file, "60000");
    const clock = createProcessClock({ offsetFile: file });
    try {
      assert.ok(Math.abs(clock.now() - Date.now() - 60_000) < 1000);
      writeFileSync(file, "-5000");
      await until("the new offset", () => Math.abs(clock.now() - Date.now() + 5000) < 1000, 5000);
    } finally {
      clock.close();
    }
  });

  it("UNSAFE mode follows the mean: one source 24 h ahead among six moves it 4 h", async () => {
    assert.equal(meanOffset([0, 0, 0, 0, 0, 24 * 3_600_000]), 4 * 3_600_000);
    const sources = await Promise.all([0, 0, 0, 0, 0, 24 * 3_600_000].map((o) => FakeSntpServer.start(o)));
    const clock = createProcessClock({ followMeanOf: sources.map((s) => s.source), followIntervalMs: 100 });
    try {
      await until("the clock moved", () => clock.offsets.followed > 3.9 * 3_600_000, 10_000);
      assert.ok(Math.abs(clock.offsets.followed - 4 * 3_600_000) < 60_000);
    } finally {
      clock.close();
      for (const s of sources) await s.close();
    }
  });
});

describe("invariants", () => {
  // two nodes, 8-slot epochs: finalized 1 until `finalAt`, then 2; both down (restarting) from slot 16 to 22
  function run(finalAt: number): SimReport {
    const scenario = parseScenario(`name: t\nepochs: 8\nnodes:\n  - validators: 8\n  - validators: 8\nfaults:\n  - { kind: restart_all, at_slot: 16, for_slots: 4 }\n`);
    const series: Sample[][] = [0, 1].map(() =>
      Array.from({ length: 65 }, (_, slot) => {
        const up = slot < 16 || slot > 22;
        const fin = slot >= finalAt ? 2 : 1;
        return { slot, up, head: up ? slot : null, headRoot: up ? `0x${slot}` : null, justified: up ? fin + 1 : null, finalized: up ? fin : null, finalizedRoot: up ? `0x${fin}` : null, participation: null, peers: 1, rssMb: 100, regenQueue: 0, forkChoiceNodes: 10 };
      }),
    );
    const r = { series, slashable: [], invariants: [], faults: expandScenario(scenario, 1).intervals, slotsPerEpoch: 8, figures: { timeToFinalityEpochs: [], peakRssMb: [], slashableMessages: 0, audited: { blocks: 0, votes: 0 } } } as unknown as SimReport;
    const last = { up: true, headSlot: 64, headRoot: "0x64", finalizedEpoch: 2, finalizedRoot: "0x2", justifiedEpoch: 3, peers: 1, syncing: false };
    judge(r, scenario, [], [0, 1].map((index) => ({ ...last, index })));
    return r;
  }
  const finality = (r: SimReport) => r.invariants.find((x) => /finality regained/.test(x.name))!;

  it("counts finality from when the restarted nodes answer again, past what they had finalized before", () => {
    // back at slot 23: the first full epoch starts at 24, three epochs later is slot 48
    const ok = finality(run(47));
    assert.equal(ok.ok, true, ok.detail);
    assert.match(ok.detail, /passed 1 at slot 47.*answering again at slot 23/);
    const late = finality(run(50));
    assert.equal(late.ok, false, late.detail);
    assert.match(late.detail, /finalized epoch still 1 at slot 48/);
  });

  it("fails the run on a crash and on a slashable pair", () => {
    const r = run(40);
    assert.ok(r.invariants.every((x) => x.ok), JSON.stringify(r.invariants));
    const scenario = parseScenario(BASE);
    const bad = { ...r, invariants: [], slashable: [{ offence: "double vote", validator: "v", a: "x", b: "y" }], faults: [] } as SimReport;
    judge(bad, scenario, ["node 1 beacon exited by itself"], [0, 1].map((index) => ({ index, up: true, headSlot: 64, headRoot: "0x64", finalizedEpoch: 2, finalizedRoot: "0x2", justifiedEpoch: 3, peers: 1, syncing: false })));
    assert.deepEqual(bad.invariants.filter((x) => !x.ok).map((x) => x.name), ["no slashable messages (network-wide audit)", "no node crashed unless the scenario killed it"]);
  });
});
