// Every fuzz target for a moment on the committed corpus (test/fuzz/corpus), in two capped child processes side by
// side: any finding, crash, hang or memory blow-up fails. Longer runs: `npm run fuzz -- --target NAME`.
// The differential target runs only if Lodestar is already installed in test/perf/lodestar (no install here).
import assert from "node:assert/strict";
import { it } from "node:test";
import { runInChild, type ChildRunReport } from "../fuzz/cli.js";
import { allTargets } from "../fuzz/targets/index.js";

/** Seconds per target: the many small SSZ types get less. Total ~50 s of fuzzing over two processes. */
function budget(name: string): number {
  return name.startsWith("ssz-") ? 0.4 : 1.5;
}

function describeReport(r: ChildRunReport): string {
  const lines = r.results.filter((x) => x.finding).map((x) => `${x.target}: ${x.finding!.message} (input ${x.finding!.input.slice(0, 200)})`);
  if (r.failure) lines.push(`${r.failure.target}: ${r.failure.kind} (${r.failure.detail}) input ${r.failure.input.slice(0, 200)}`);
  return lines.join("\n");
}

it("every fuzz target runs on the committed corpus without a finding", { timeout: 150_000 }, async () => {
  const names = allTargets().map((t) => t.name);
  const groups = [names.filter((_, i) => i % 2 === 0), names.filter((_, i) => i % 2 === 1)];
  const reports = await Promise.all(
    groups.map((g) =>
      runInChild({ targets: g, seconds: g.map(budget), seed: 42, heapMb: 1024, env: { ...process.env, CAIRN_FUZZ_NO_INSTALL: "1" } }),
    ),
  );
  for (const r of reports) assert.equal(describeReport(r), "", describeReport(r));
  const ran = reports.flatMap((r) => r.results);
  assert.deepEqual(ran.map((r) => r.target).sort(), [...names].sort());
  for (const r of ran) if (!r.skipped) assert.ok(r.execs > 0, `${r.target} ran no input`);
});
