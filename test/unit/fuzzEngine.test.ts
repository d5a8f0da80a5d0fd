// The fuzz harness itself: byte mutations stay well-formed, a broken property is found and shrunk, and a child
// that outgrows its memory cap, hangs or dies is reported with the input it was running.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { runInChild } from "../fuzz/cli.js";
import { FuzzFinding, applyByteMutation, byteMutationArb, runTarget, type FuzzTarget } from "../fuzz/engine.js";
import { allTargets } from "../fuzz/targets/index.js";

describe("fuzz engine", () => {
  it("byte mutations never throw and stay within a bounded growth", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), byteMutationArb, (b, m) => {
        const out = applyByteMutation(b, m, [Uint8Array.of(1, 2, 3)]);
        assert.ok(out.length <= b.length + 512);
      }),
      { seed: 1, numRuns: 2000 },
    );
  });

  it("finds a planted bug and shrinks the input", async () => {
    const t: FuzzTarget = {
      name: "planted",
      description: "fails on any input holding 0xff at or after byte 2",
      seeds: () => [new Uint8Array(8)],
      run(input) {
        if (input.subarray(2).includes(0xff)) throw new FuzzFinding("0xff");
      },
    };
    const r = await runTarget(t, { seconds: 5, seed: 3 });
    assert.ok(r.finding, "no finding");
    assert.match(r.finding.message, /0xff/);
    // shrunk: one mutation of the seed, so at most a few bytes differ from it
    const input = Buffer.from(r.finding.input, "hex");
    assert.ok(input.subarray(2).includes(0xff));
    assert.ok(input.length <= 24, `not shrunk: ${input.length} bytes`);
  });

  it("every target has a unique name and a description", () => {
    const names = allTargets().map((t) => t.name);
    assert.equal(new Set(names).size, names.length);
    for (const t of allTargets()) assert.ok(t.description.length > 10, t.name);
  });

  it("reports memory exhaustion, a hang and a crash with the input that caused it", { timeout: 60_000 }, async () => {
    const mem = await runInChild({ targets: ["selftest-memory"], seconds: [5], heapMb: 128, rssCapMb: 400 });
    assert.equal(mem.failure?.kind, "memory");
    assert.equal(mem.failure?.target, "selftest-memory");
    assert.equal(mem.failure?.input, "01");
    assert.ok(mem.failure!.peakRssMb > 400);

    const hang = await runInChild({ targets: ["selftest-hang"], seconds: [1], timeoutMs: 3000 });
    assert.equal(hang.failure?.kind, "hang");
    assert.equal(hang.failure?.input, "02");

    const crash = await runInChild({ targets: ["selftest-crash"], seconds: [1] });
    assert.equal(crash.failure?.kind, "crash");
    assert.match(crash.failure!.detail, /exit code 70/);
    assert.equal(crash.failure?.input, "03");
  });
});

describe("fuzz JSON mutations stay bounded", () => {
  it("a second repeat inside the first one's copies is skipped (the campaign's interchange memory finding)", async () => {
    const { applyJsonEdits } = await import("../fuzz/targets/files.js");
    const seed = () => ({ data: [{ a: [{ b: [1, 2] }] }] });
    // path 2 is data[0]: its list gets 5000 copies of it; path 4 is then data[0].a[0], inside every copy
    const once = applyJsonEdits(seed(), [{ at: 2, value: "__repeat__", drop: false }]) as { data: { a: unknown[] }[] };
    assert.equal(once.data.length, 5001);
    const twice = applyJsonEdits(seed(), [
      { at: 2, value: "__repeat__", drop: false },
      { at: 4, value: "__repeat__", drop: false },
    ]) as { data: { a: unknown[] }[] };
    assert.equal(twice.data.length, 5001);
    assert.equal(twice.data[0]!.a.length, 1, "the nested repeat would have made 5001 x 5001 entries");
    // other edits still apply after a repeat
    const edited = applyJsonEdits(seed(), [
      { at: 2, value: "__repeat__", drop: false },
      { at: 1, value: "0x", drop: false },
    ]) as { data: unknown };
    assert.equal(edited.data, "0x");
  });
});
