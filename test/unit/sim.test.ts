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
import type { Sample, SimReport } from "../../src/sim/engine.js";
import { boundBreach, finalityCheck, headsAgreeCheck, judge } from "../../src/sim/invariants.js";
import { DelayLine, LinkProxy, RTO_MAX_MS, RTO_MS, type LinkShape } from "../../src/sim/proxy.js";
import { degradeLabel, expandScenario, parseScenario, ScenarioError, type Scenario } from "../../src/sim/scenario.js";
import { createPrng } from "../../src/util/prng.js";
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
    judge(bad, scenario, [{ slot: 30, what: "node 1 beacon exited by itself" }], [0, 1].map((index) => ({ index, up: true, headSlot: 64, headRoot: "0x64", finalizedEpoch: 2, finalizedRoot: "0x2", justifiedEpoch: 3, peers: 1, syncing: false })));
    assert.deepEqual(bad.invariants.filter((x) => !x.ok).map((x) => x.name), ["no slashable messages (network-wide audit)", "no node crashed unless the scenario killed it"]);
    assert.equal(bad.invariants.find((x) => /crashed/.test(x.name))!.atSlot, 30);
  });
});

describe("degraded links: the scenario", () => {
  const fault = (f: string) => parseScenario(`${BASE}faults:\n  - { kind: degrade, at_epoch: 1, for_epochs: 2, ${f} }\n`);

  it("parses groups or one node, latency, jitter and loss, and expands to a degrade and a restore", () => {
    const s = fault("groups: [[0, 1], [2, 3]], latency_ms: 300, jitter_ms: 100, loss: 0.05");
    assert.deepEqual(s.faults[0], { atSlot: 8, forSlots: 16, kind: "degrade", groups: [[0, 1], [2, 3]], node: null, latencyMs: 300, jitterMs: 100, loss: 0.05 });
    const plan = expandScenario(s, 5);
    assert.deepEqual(
      plan.events.map((e) => [e.slot, e.action.type]),
      [
        [8, "degrade"],
        [24, "restore"],
      ],
    );
    const act = plan.events[0].action as { groups: number[][]; seed: number };
    assert.deepEqual(act.groups, [[0, 1], [2, 3]]);
    // the links' generators come from the run's seed: the same seed, the same draws
    assert.equal((expandScenario(s, 5).events[0].action as { seed: number }).seed, act.seed);
    assert.notEqual((expandScenario(s, 6).events[0].action as { seed: number }).seed, act.seed);
    assert.deepEqual(plan.intervals[0], { fault: 0, kind: "degrade", label: "degrade 300±100 ms, 5% loss 0,1 | 2,3", fromSlot: 8, toSlot: 24, nodes: [0, 1, 2, 3], recovery: "heal" });
    const one = expandScenario(fault("node: 2, loss: 0.1"), 1).events[0].action as { groups: number[][] };
    assert.deepEqual(one.groups, [[2], [0, 1, 3]]);
    assert.equal(degradeLabel({ latencyMs: 50, jitterMs: 0, loss: 0 }), "degrade 50 ms");
  });

  it("refuses an unknown key, a wrong type, loss outside 0..1, jitter over latency, a degrade of nothing, no duration", () => {
    assert.throws(() => fault("latency_ms: 10, delay: 5"), /faults\[0\]: unknown key "delay"/);
    assert.throws(() => fault("latency_ms: fast"), /faults\[0\]\.latency_ms: expected an integer/);
    assert.throws(() => fault("loss: 1.5"), /faults\[0\]\.loss: expected a number from 0 to 1, got 1.5/);
    assert.throws(() => fault("loss: -0.1"), /faults\[0\]\.loss: expected a number from 0 to 1/);
    assert.throws(() => fault("loss: '5%'"), /faults\[0\]\.loss: expected a number/);
    assert.throws(() => fault("latency_ms: 100, jitter_ms: 200"), /faults\[0\]\.jitter_ms: expected an integer from 0 to 100/);
    assert.throws(() => fault("jitter_ms: 0"), /a degrade needs latency_ms or loss/);
    assert.throws(() => fault("loss: 0.1, node: 1, groups: [[0], [1]]"), /give groups or node, not both/);
    assert.throws(() => fault("loss: 0.1, groups: [[0, 1], [1]]"), /faults\[0\]\.groups: a node is in two groups/);
    assert.throws(() => fault("loss: 0.1, node: 9"), /faults\[0\]\.node: expected an integer from 0 to 3/);
    assert.throws(() => parseScenario(`${BASE}faults:\n  - { kind: degrade, at_epoch: 1, loss: 0.1 }\n`), /degrade needs for_slots or for_epochs/);
  });
});

describe("degraded links: the delay line", () => {
  const shape = (o: Partial<LinkShape>, seed = 1): LinkShape => ({ latencyMs: 0, jitterMs: 0, loss: 0, rand: createPrng(seed), ...o });

  it("delays each chunk by latency ± jitter and never lets one overtake an earlier one", () => {
    const line = new DelayLine();
    const s = shape({ latencyMs: 300, jitterMs: 100 });
    let last = 0;
    for (let now = 0; now < 2000; now += 7) {
      const due = line.due(now, s);
      assert.ok(due >= now + 200, `${due} at ${now}`);
      assert.ok(due >= last, "in order");
      last = due;
    }
    // healthy again: nothing added, but still behind what is held
    assert.equal(line.due(last - 50, null), last);
    assert.equal(line.due(last + 10, null), last + 10);
  });

  it("turns a loss into a retransmission wait, doubled while losses follow each other, capped; seeded", () => {
    const waits = (seed: number) => {
      const line = new DelayLine();
      const s = shape({ loss: 0.5 }, seed);
      // chunks far apart: each one's extra delay is only its own retransmission wait
      return Array.from({ length: 200 }, (_, k) => line.due(k * 100_000, s) - k * 100_000);
    };
    const a = waits(3);
    assert.deepEqual(waits(3), a, "the same seed, the same losses");
    assert.notDeepEqual(waits(4), a);
    const allowed = new Set([0, 200, 400, 800, 1600, 3200]);
    assert.ok(a.every((w) => allowed.has(w)), a.join(","));
    assert.ok(a.filter((w) => w === RTO_MS).length > 20, "about a quarter are single losses");
    assert.ok(a.some((w) => w >= 2 * RTO_MS), "consecutive losses double the wait");
    // every loss: the wait doubles up to the cap
    const line = new DelayLine();
    const always = shape({ loss: 1 });
    const got = Array.from({ length: 7 }, (_, k) => line.due(k * 100_000, always) - k * 100_000);
    assert.deepEqual(got, [200, 400, 800, 1600, 3200, RTO_MAX_MS, RTO_MAX_MS]);
    // a chunk right behind a lost one waits for it (head-of-line blocking)
    const hol = new DelayLine();
    assert.equal(hol.due(0, always), 200);
    assert.equal(hol.due(1, null), 200);
  });
});

describe("degraded links: the proxy", () => {
  const servers: { close(): void }[] = [];
  after(() => servers.forEach((s) => s.close()));

  /** A sink that records what it receives through a proxy, with the time each byte count was reached. */
  async function sinkAndProxy(queueCap?: number) {
    const got: Buffer[] = [];
    let received = 0;
    const sink = createServer((c) => c.on("data", (d: Buffer) => (got.push(d), (received += d.length))));
    servers.push(sink);
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", () => r()));
    const proxy = await LinkProxy.start((sink.address() as AddressInfo).port, { queueCap });
    servers.push({ close: () => void proxy.close() });
    const client = createConnection({ host: "127.0.0.1", port: proxy.port });
    client.on("error", () => {});
    await new Promise<void>((r) => client.once("connect", () => r()));
    await until("the proxied connection", () => proxy.accepted === 1);
    return { proxy, client, got, received: () => received };
  }

  it("keeps the order, adds at least the latency, and forwards directly again once restored", async () => {
    const { proxy, client, got, received } = await sinkAndProxy();
    proxy.setShape({ latencyMs: 150, jitterMs: 100, loss: 0.2, rand: createPrng(9) });
    const parts = Array.from({ length: 50 }, (_, k) => `<${k}>`);
    const sent = Date.now();
    for (const p of parts) {
      client.write(p);
      await new Promise((r) => setImmediate(r));
    }
    const total = parts.join("").length;
    await until("every byte", () => received() === total, 30_000);
    assert.equal(Buffer.concat(got).toString(), parts.join(""), "in order");
    assert.ok(Date.now() - sent >= 50, "at least the smallest delay");
    assert.ok(proxy.stats.delayed > 0);
    assert.equal(proxy.stats.direct, 0);
    proxy.setShape(null);
    client.write("after");
    await until("the bytes after the heal", () => received() === total + 5);
    assert.ok(proxy.stats.direct > 0, "forwarded directly once healthy and nothing held");
    assert.equal(Buffer.concat(got).toString(), parts.join("") + "after");
    client.destroy();
  });

  it("pauses the sender instead of holding more than its cap, and delivers everything in order", async () => {
    const cap = 64 * 1024;
    const { proxy, client, got, received } = await sinkAndProxy(cap);
    proxy.setShape({ latencyMs: 400, jitterMs: 0, loss: 0, rand: createPrng(1) });
    const data = Buffer.alloc(2 * 1024 * 1024);
    for (let k = 0; k < data.length; k++) data[k] = (k * 7 + (k >> 10)) & 0xff;
    client.write(data);
    await until("the sender paused", () => proxy.stats.pauses > 0);
    // held back: at most the cap plus the chunk that crossed it (a socket read is at most 64 KiB)
    assert.ok(proxy.stats.maxQueued <= cap + 64 * 1024, `${proxy.stats.maxQueued}`);
    assert.ok(received() < data.length);
    proxy.setShape(null);
    await until("every byte", () => received() === data.length, 30_000);
    assert.ok(proxy.stats.maxQueued <= cap + 64 * 1024, `${proxy.stats.maxQueued}`);
    assert.ok(Buffer.concat(got).equals(data), "in order, nothing lost");
    client.destroy();
  });
});

describe("invariants decided while the run goes on", () => {
  // four nodes, 8-slot epochs, a partition from slot 16 healed at slot 32; heads agree from `agreeAt`, finalized 1
  // becomes 2 at `finalAt`
  const scenario: Scenario = parseScenario(`${BASE.replace("epochs: 6", "epochs: 10")}faults:\n  - { kind: partition, groups: [[0, 1], [2, 3]], at_epoch: 2, for_epochs: 2 }\nexpect: { heads_agree_within_epochs: 2, finality_within_epochs: 3, max_rss_mb: 500 }\n`);
  const fault = expandScenario(scenario, 1).intervals[0];
  function series(agreeAt: number, finalAt: number, until = 80): Sample[][] {
    return [0, 1, 2, 3].map((i) =>
      Array.from({ length: until + 1 }, (_, slot) => {
        const apart = slot >= 16 && slot < agreeAt;
        const fin = slot >= finalAt ? 2 : 1;
        return { slot, up: true, head: slot, headRoot: apart && i >= 2 ? `0xb${slot}` : `0x${slot}`, justified: fin + 1, finalized: fin, finalizedRoot: `0x${fin}`, participation: 1, peers: 3, rssMb: 100 + slot, regenQueue: 0, forkChoiceNodes: 10 };
      }),
    );
  }

  it("heads: undecided until the samples are in, met at the first slot with one head, failed at the deadline", () => {
    const ok = series(37, 40);
    assert.equal(headsAgreeCheck(ok, scenario, fault, 36), null, "slot 36 is not enough to decide");
    const met = headsAgreeCheck(ok, scenario, fault, 37)!;
    assert.deepEqual([met.ok, met.atSlot, met.detail], [true, 37, "one head at slot 37 (5 slots after)"]);
    assert.deepEqual(headsAgreeCheck(ok, scenario, fault, Number.MAX_SAFE_INTEGER), met, "the same verdict at the end");
    const apart = series(60, 40);
    assert.equal(headsAgreeCheck(apart, scenario, fault, 47), null);
    const failed = headsAgreeCheck(apart, scenario, fault, 48)!;
    assert.deepEqual([failed.ok, failed.atSlot, failed.detail], [false, 48, "heads still apart"]);
  });

  it("finality: met when the finalized epoch passes, failed at the third epoch from the return", () => {
    const ok = series(33, 50);
    assert.equal(finalityCheck(ok, scenario, fault, 49), null);
    const met = finalityCheck(ok, scenario, fault, 50)!;
    assert.deepEqual([met.ok, met.atSlot, met.epochs], [true, 50, 2.25]);
    const late = series(33, 57);
    assert.equal(finalityCheck(late, scenario, fault, 55), null);
    const failed = finalityCheck(late, scenario, fault, 56)!;
    assert.deepEqual([failed.ok, failed.atSlot, failed.detail], [false, 56, "finalized epoch still 1 at slot 56"]);
    // the series cut short as it is mid-run: the same verdict as with every sample
    assert.deepEqual(finalityCheck(series(33, 57, 56), scenario, fault, 56), failed);
  });

  it("bounds: a sample over one is a failure at its slot; judge gives the same verdicts and slots", () => {
    const rows = series(37, 50);
    assert.deepEqual(boundBreach(scenario, 2, rows[2][60]), []);
    for (const x of rows[2]) if (x.slot >= 70) x.rssMb = 600;
    assert.deepEqual(boundBreach(scenario, 2, rows[2][70]), [{ name: "peak RSS (VmHWM) of every beacon node at most 500 MB", detail: "node 2: 600 MB at slot 70" }]);
    const r = { series: rows, slashable: [], invariants: [], faults: [fault], slotsPerEpoch: 8, figures: { timeToFinalityEpochs: [], peakRssMb: [], slashableMessages: 0, audited: { blocks: 0, votes: 0 } } } as unknown as SimReport;
    const view = { up: true, headSlot: 80, headRoot: "0x80", finalizedEpoch: 2, finalizedRoot: "0x2", justifiedEpoch: 3, peers: 3, syncing: false };
    judge(r, scenario, [], [0, 1, 2, 3].map((index) => ({ ...view, index })));
    const by = (re: RegExp) => r.invariants.find((x) => re.test(x.name))!;
    assert.deepEqual([by(/heads agree/).ok, by(/heads agree/).atSlot], [true, 37]);
    assert.deepEqual([by(/finality regained/).ok, by(/finality regained/).atSlot], [true, 50]);
    assert.deepEqual([by(/peak RSS/).ok, by(/peak RSS/).atSlot], [false, 70]);
    assert.deepEqual([by(/regen queue/).ok, by(/regen queue/).atSlot], [true, 80]);
    assert.deepEqual(r.figures.timeToFinalityEpochs, [2.25]);
  });
});
