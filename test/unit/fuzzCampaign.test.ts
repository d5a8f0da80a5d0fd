// The fuzz campaign's ledger: chunks add up, findings are kept with their input, the least-done target goes next,
// the ledger is replaced whole, and the generated part of docs/fuzzing.md is the only part rewritten.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { addChunk, campaignTable, emptyLedger, goalMinutes, nextTargets, readLedger, recordSession, spliceDoc, writeLedger } from "../fuzz/campaign.js";
import type { ChildRunReport, TargetReport } from "../fuzz/cli.js";

function result(target: string, cpuSeconds: number, extra: Partial<TargetReport> = {}): TargetReport {
  return { target, execs: 1000, seconds: cpuSeconds * 2, cpuSeconds, seeds: 3, seed: 7, finding: null, peakRssMb: 100, outcomes: { accepted: 600, rejected: 400 }, ...extra };
}

describe("fuzz campaign ledger", () => {
  it("adds chunks up and keeps findings with their input", () => {
    const l = emptyLedger();
    const saved: string[] = [];
    const save = (t: string, hex: string) => {
      saved.push(hex);
      return `campaign-findings/${t}.bin`;
    };
    addChunk(l, { results: [result("a", 30)], failure: null }, save);
    addChunk(l, { results: [result("a", 45, { peakRssMb: 300, finding: { message: "TypeError: x", input: "abcd" } })], failure: null }, save);
    const crash: ChildRunReport = { results: [], failure: { kind: "memory", target: "b", input: "ff", detail: "RSS above 2048 MB", peakRssMb: 2100 } };
    addChunk(l, crash, save);
    assert.equal(l.targets.a!.cpuSeconds, 75);
    assert.equal(l.targets.a!.wallSeconds, 150);
    assert.equal(l.targets.a!.execs, 2000);
    assert.equal(l.targets.a!.chunks, 2);
    assert.equal(l.targets.a!.peakRssMb, 300);
    assert.deepEqual(l.targets.a!.outcomes, { accepted: 1200, rejected: 800 });
    assert.equal(l.targets.a!.findings.length, 1);
    assert.equal(l.targets.b!.findings[0]!.kind, "memory");
    assert.equal(l.targets.b!.peakRssMb, 2100);
    assert.deepEqual(saved, ["abcd", "ff"]);
  });

  it("a run's line is replaced after each chunk, not added again; another run gets its own", () => {
    const l = emptyLedger();
    const line = (started: string, chunks: number) => ({ started, ended: started, commit: "abc", jobs: 2, chunks, cpuSeconds: chunks * 240, node: "v20", loadavg: [1, 1, 1] });
    recordSession(l, line("2026-12-04T12:00:00.000Z", 1));
    recordSession(l, line("2026-12-04T12:00:00.000Z", 2));
    recordSession(l, line("2026-12-04T13:00:00.000Z", 1));
    assert.deepEqual(l.sessions.map((x) => [x.started, x.chunks]), [["2026-12-04T12:00:00.000Z", 2], ["2026-12-04T13:00:00.000Z", 1]]);
  });

  it("a skipped target is marked, not counted", () => {
    const l = emptyLedger();
    addChunk(l, { results: [result("diff-x", 1, { skipped: "Lodestar is not installed" })], failure: null }, () => "");
    assert.equal(l.targets["diff-x"]!.cpuSeconds, 0);
    assert.equal(l.targets["diff-x"]!.skipped, "Lodestar is not installed");
    assert.deepEqual(nextTargets(l, ["diff-x", "y"]), ["y"]);
  });

  it("picks the least done share of the goal first and drops targets at their goal", () => {
    const l = emptyLedger();
    addChunk(l, { results: [result("a", 300)], failure: null }, () => "");
    addChunk(l, { results: [result("b", 600)], failure: null }, () => "");
    addChunk(l, { results: [result("diff-block", 600)], failure: null }, () => "");
    assert.equal(goalMinutes("diff-block"), 60);
    // c has nothing, diff-block has 1/6 of its hour, a has half of its 10 minutes, b is done
    assert.deepEqual(nextTargets(l, ["a", "b", "c", "diff-block"]), ["c", "diff-block", "a"]);
    assert.deepEqual(nextTargets(l, ["a", "b", "c", "diff-block"], /^diff/), ["diff-block"]);
  });

  it("is written whole and read back; a foreign file is refused", () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-campaign-"));
    try {
      const f = join(dir, "sub", "campaign.json");
      const l = emptyLedger();
      addChunk(l, { results: [result("a", 12.34)], failure: null }, () => "");
      writeLedger(f, l);
      assert.deepEqual(readLedger(f), l);
      assert.deepEqual(readdirSync(join(dir, "sub")), ["campaign.json"], "no temporary file left behind");
      writeLedger(f, { version: 2 } as never);
      assert.throws(() => readLedger(f), /not a fuzz campaign ledger/);
      assert.deepEqual(readLedger(join(dir, "missing.json")), emptyLedger());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the table lists every target and the document keeps everything outside the markers", () => {
    const l = emptyLedger();
    addChunk(l, { results: [result("a", 600)], failure: null }, () => "");
    const table = campaignTable(l, ["a", "b"]);
    assert.match(table, /\| `a` \| 10\.0 \(10\) \|/);
    assert.match(table, /\| `b` \| 0 \(10\) \|/);
    assert.match(table, /1 of 2 targets at their goal/);
    const doc = "# T\nbefore\n<!-- campaign:start (old) -->\nold table\n<!-- campaign:end -->\nafter\n";
    const out = spliceDoc(doc, table);
    assert.ok(out.startsWith("# T\nbefore\n<!-- campaign:start"));
    assert.ok(out.endsWith("<!-- campaign:end -->\nafter\n"));
    assert.ok(!out.includes("old table"));
    assert.ok(out.includes(table));
    assert.throws(() => spliceDoc("no markers", table), /no campaign markers/);
  });
});

describe("fuzz coverage", () => {
  it("counts functions of src/ reached in any of the processes, not the module top level, nothing outside src/", async () => {
    const { summarizeCoverage } = await import("../fuzz/coverage.js");
    const { writeFileSync, mkdirSync } = await import("node:fs");
    const { pathToFileURL } = await import("node:url");
    const dir = mkdtempSync(join(tmpdir(), "cairn-cov-"));
    try {
      const src = join(dir, "src");
      const url = (p: string) => pathToFileURL(join(dir, p)).href;
      const fn = (name: string, start: number, count: number) => ({ functionName: name, isBlockCoverage: true, ranges: [{ startOffset: start, endOffset: start + 10, count }] });
      mkdirSync(join(dir, "cov"));
      const file = (name: string, result: unknown) => writeFileSync(join(dir, "cov", name), JSON.stringify({ result }));
      file("a.json", [
        { url: url("src/a.js"), functions: [fn("", 0, 1), fn("f", 20, 3), fn("g", 40, 0)] },
        { url: url("node_modules/x.js"), functions: [fn("h", 20, 5)] },
        { url: "node:fs", functions: [fn("i", 20, 5)] },
      ]);
      file("b.json", [
        { url: url("src/a.js"), functions: [fn("", 0, 1), fn("f", 20, 0), fn("g", 40, 2)] },
        { url: url("src/b.js"), functions: [fn("", 0, 1), fn("k", 20, 0)] },
      ]);
      writeFileSync(join(dir, "cov", "not-coverage.txt"), "x");
      assert.deepEqual(summarizeCoverage(join(dir, "cov"), src), { modules: 2, functions: 3, functionsReached: 2 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the ledger keeps the chunk that reached the most", () => {
    const l = emptyLedger();
    const cov = (n: number) => ({ modules: 5, functions: 100, functionsReached: n });
    addChunk(l, { results: [result("a", 1)], failure: null, coverage: cov(40) }, () => "");
    addChunk(l, { results: [result("a", 1)], failure: null, coverage: cov(30) }, () => "");
    assert.equal(l.targets.a!.coverage!.functionsReached, 40);
    addChunk(l, { results: [result("a", 1)], failure: null, coverage: cov(55) }, () => "");
    assert.equal(l.targets.a!.coverage!.functionsReached, 55);
    assert.match(campaignTable(l, ["a"]), /\| 55 of 100 \|/);
  });
});
