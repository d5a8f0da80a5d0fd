// The validator's slot clock (injected time, jumps noticed while waiting) and the SNTP time check against fake
// servers on 127.0.0.1: median of the sources, outliers dropped, a warning and a metric past the threshold.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { Registry } from "prom-client";
import { SlotClock } from "../../src/util/slotClock.js";
import { createLogger } from "../../src/util/logger.js";
import { createValidatorMetrics } from "../../src/validator/metrics.js";
import { combineOffsets, parseTimeSources, sntpQuery, TimeCheck } from "../../src/validator/timeCheck.js";
import { FakeSntpServer } from "../utils/fakeSntp.js";

const DAY_MS = 24 * 3600 * 1000;
const servers: FakeSntpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
async function sntpServer(offsetMs: number | null): Promise<FakeSntpServer> {
  const s = await FakeSntpServer.start(offsetMs);
  servers.push(s);
  return s;
}

describe("SlotClock", () => {
  it("counts slots and epochs from genesis with the injected time", () => {
    let now = 1_000_000_000;
    const clock = new SlotClock({ genesisTime: 1_000_000, secondsPerSlot: 6, slotsPerEpoch: 8, now: () => now });
    assert.equal(clock.currentSlot(), 0);
    now += 5_999;
    assert.equal(clock.currentSlot(), 0);
    now += 1;
    assert.equal(clock.currentSlot(), 1);
    assert.equal(clock.msIntoSlot(), 0);
    now = 1_000_000_000 + 6_000 * 8 * 3 + 2_500;
    assert.equal(clock.currentSlot(), 24);
    assert.equal(clock.currentEpoch(), 3);
    assert.equal(clock.msIntoSlot(), 2_500);
    now = 1_000_000_000 - 1;
    assert.equal(clock.currentSlot(), -1, "before genesis");
    assert.equal(clock.currentEpoch(), 0);
    assert.throws(() => new SlotClock({ genesisTime: 0, secondsPerSlot: 0, slotsPerEpoch: 8 }), /secondsPerSlot/);
  });

  it("waits for a fraction of a slot, and gives up when the clock jumps away", async () => {
    const signal = new AbortController().signal;
    const start = Date.now();
    const clock = new SlotClock({ genesisTime: Math.floor(start / 1000), secondsPerSlot: 0.3, slotsPerEpoch: 8 });
    const slot = clock.currentSlot() + 1;
    assert.equal(await clock.waitForSlotFraction(slot, 1 / 3, signal), true);
    assert.ok(Date.now() >= clock.slotStartMs(slot) + 100, "not before one third of the slot");

    let shift = 0;
    const jumpy = new SlotClock({ genesisTime: Math.floor(start / 1000), secondsPerSlot: 1, slotsPerEpoch: 8, now: () => Date.now() + shift });
    const target = jumpy.currentSlot() + 2;
    const waiting = jumpy.waitForSlotFraction(target, 0.5, signal);
    setTimeout(() => (shift = -4 * 3600 * 1000), 50);
    assert.equal(await waiting, false, "a clock that went 4 hours back abandons the wait");

    shift = 0;
    const from = jumpy.currentSlot();
    const change = jumpy.waitForSlotChange(from, signal);
    setTimeout(() => (shift = -4 * 3600 * 1000), 50);
    assert.ok((await change) < from - 1000, "a backwards jump counts as a slot change");
  });

  it("ends waits when aborted", async () => {
    const clock = new SlotClock({ genesisTime: Math.floor(Date.now() / 1000), secondsPerSlot: 60, slotsPerEpoch: 8 });
    const ac = new AbortController();
    const waiting = clock.waitForSlotChange(clock.currentSlot(), ac.signal);
    ac.abort();
    await waiting;
  });
});

describe("time check", () => {
  it("parses time sources", () => {
    assert.deepEqual(parseTimeSources("127.0.0.1:1230, time.example:123,[::1]:99,pool.ntp.org"), [
      { host: "127.0.0.1", port: 1230 },
      { host: "time.example", port: 123 },
      { host: "::1", port: 99 },
      { host: "pool.ntp.org", port: 123 },
    ]);
    assert.throws(() => parseTimeSources("host:99999"), /invalid port/);
    assert.throws(() => parseTimeSources("a:b:c"), /invalid time source/);
    assert.throws(() => parseTimeSources(" , "), /no time source/);
  });

  it("drops outliers and takes the median", () => {
    assert.deepEqual(combineOffsets([10, 0, DAY_MS]), { offsetMs: 5, kept: [10, 0], outliers: [DAY_MS] });
    assert.deepEqual(combineOffsets([-20, 40, 10, 30, 5]).outliers, []);
    assert.equal(combineOffsets([]).offsetMs, null);
  });

  it("measures one server's offset over SNTP", async () => {
    const s = await sntpServer(1500);
    const sample = await sntpQuery(s.source, { timeoutMs: 1000 });
    assert.ok(Math.abs(sample.offsetMs - 1500) < 100, `offset ${sample.offsetMs}`);
    assert.ok(sample.roundTripMs >= 0 && sample.roundTripMs < 1000);
  });

  it("ignores a source 24 h off, uses the median, and stays quiet under the threshold", async () => {
    const sources = await Promise.all([sntpServer(20), sntpServer(30), sntpServer(40), sntpServer(DAY_MS)]);
    const lines: string[] = [];
    const registry = new Registry();
    const metrics = createValidatorMetrics(registry);
    const check = new TimeCheck({
      sources: sources.map((s) => s.source),
      warnThresholdMs: 500,
      timeoutMs: 1000,
      logger: createLogger({ level: "warn", write: (l) => lines.push(l) }),
      metrics,
    });
    const r = await check.check();
    assert.equal(r.kept.length, 3);
    assert.equal(r.outliers.length, 1);
    assert.ok(Math.abs(r.outliers[0] - DAY_MS) < 1000);
    assert.ok(r.offsetMs !== null && Math.abs(r.offsetMs - 30) < 100, `median ${r.offsetMs}`);
    assert.equal(r.exceeded, false);
    assert.deepEqual(lines.filter((l) => /clock is off/.test(l)), []);
    assert.equal(lines.filter((l) => /outliers ignored/.test(l)).length, 1);
    assert.match(await registry.metrics(), /cairn_validator_clock_offset_exceeded 0/);
  });

  it("warns and sets the metric when the offset passes the threshold, with a silent source left out", async () => {
    const sources = await Promise.all([sntpServer(800), sntpServer(900), sntpServer(1000), sntpServer(-DAY_MS), sntpServer(null)]);
    const lines: string[] = [];
    const registry = new Registry();
    const check = new TimeCheck({
      sources: sources.map((s) => s.source),
      warnThresholdMs: 500,
      timeoutMs: 300,
      logger: createLogger({ level: "warn", write: (l) => lines.push(l) }),
      metrics: createValidatorMetrics(registry),
    });
    const r = await check.check();
    assert.ok(r.offsetMs !== null && Math.abs(r.offsetMs - 900) < 100, `median ${r.offsetMs}`);
    assert.equal(r.exceeded, true);
    assert.equal(r.samples.filter((s) => s.error !== undefined).length, 1, "the silent source");
    assert.equal(sources[4].queries, 1);
    assert.equal(lines.filter((l) => /^\S+ warn  local clock is off/.test(l)).length, 1);
    const text = await registry.metrics();
    assert.match(text, /cairn_validator_clock_offset_exceeded 1/);
    const m = /^cairn_validator_clock_offset_ms (\S+)$/m.exec(text);
    assert.ok(m && Math.abs(Number(m[1]) - 900) < 100);
  });

  it("checks the validator's own (injected) clock, and never changes it", async () => {
    const sources = await Promise.all([sntpServer(0), sntpServer(0), sntpServer(0)]);
    const now = (): number => Date.now() + 3000; // the validator's clock runs 3 s ahead
    const clock = new SlotClock({ genesisTime: 0, secondsPerSlot: 12, slotsPerEpoch: 32, now });
    const check = new TimeCheck({ sources: sources.map((s) => s.source), warnThresholdMs: 500, timeoutMs: 1000, now: clock.now });
    const before = clock.now() - Date.now();
    const r = await check.check();
    assert.ok(r.offsetMs !== null && Math.abs(r.offsetMs + 3000) < 100, `offset ${r.offsetMs}`);
    assert.equal(r.exceeded, true);
    assert.ok(Math.abs(clock.now() - Date.now() - before) < 50, "the clock is left as it was");
  });
});
