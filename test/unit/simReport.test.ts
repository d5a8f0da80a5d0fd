// cairn sim's report.html opened in headless Chromium: it must render, offline, the six plots with a line per node,
// the faults as shaded intervals and the invariant table, with no script error. Skipped, with the reason printed,
// only when no Chromium binary is installed (.ci/run installs the Debian package `chromium`).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import type { SimReport, Sample } from "../../src/sim/engine.js";
import { renderHtml } from "../../src/sim/report.js";
import { fileTempDir } from "../utils/tempDir.js";

const tmp = fileTempDir("cairn-sim-report-");

function findChromium(): string | null {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
      if (dir !== "" && existsSync(join(dir, name))) return join(dir, name);
    }
  }
  return null;
}

function report(): SimReport {
  const series: Sample[][] = [0, 1, 2].map((n) =>
    Array.from({ length: 49 }, (_, slot) => ({
      slot,
      up: !(n === 1 && slot >= 20 && slot < 24),
      head: slot,
      headRoot: `0x${slot}`,
      justified: Math.max(0, Math.floor(slot / 8) - 1),
      finalized: Math.max(0, Math.floor(slot / 8) - 2),
      finalizedRoot: "0x00",
      participation: slot < 8 ? null : 0.9,
      peers: 2,
      rssMb: 150 + slot,
      regenQueue: 0,
      forkChoiceNodes: 20 + slot,
    })),
  );
  return {
    scenario: "render-test",
    description: "a made-up run <with> markup & quotes\"",
    seed: 1,
    clock: "median",
    secondsPerSlot: 1,
    slotsPerEpoch: 8,
    epochs: 6,
    nodes: [0, 1, 2].map((index) => ({ index, validators: 8, startEpoch: 0, followsMean: false })),
    faults: [
      { fault: 0, kind: "partition", label: "partition 0 | 1,2", fromSlot: 8, toSlot: 16, nodes: [0, 1, 2], recovery: "heal" },
      { fault: 1, kind: "kill", label: "kill -9 beacon 1", fromSlot: 20, toSlot: 24, nodes: [1], recovery: null },
    ],
    events: [],
    invariants: [
      { name: "no slashable messages", ok: true, detail: "0 pairs", atSlot: 48 },
      { name: "finality regained", ok: false, detail: "still 0", atSlot: 40 },
    ],
    slashable: [],
    series,
    figures: { timeToFinalityEpochs: [1], peakRssMb: [198, 198, 198], slashableMessages: 0, audited: { blocks: 1, votes: 2 } },
  };
}

it("report.html renders its plots in headless Chromium without script errors", (t) => {
  const chromium = findChromium();
  if (chromium === null) {
    t.skip("no chromium binary on PATH (apt-get install -y chromium)");
    console.log("# skipped: no chromium binary on PATH (apt-get install -y chromium)");
    return;
  }
  const file = join(tmp, "report.html");
  writeFileSync(file, renderHtml(report()));
  const r = spawnSync(
    chromium,
    ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0", `--user-data-dir=${join(tmp, "profile")}`, "--dump-dom", `file://${file}`],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const dom = r.stdout;
  // six plots, a line per node in each (node 1's broken where it was down), the two faults shaded in each
  assert.equal((dom.match(/<svg class="plot"/g) ?? []).length, 6);
  assert.equal((dom.match(/<path class="series"/g) ?? []).length, 18);
  assert.equal((dom.match(/<rect class="fault"/g) ?? []).length, 12);
  assert.match(dom, /1 invariants met, 1 failed, slashable 0/);
  assert.match(dom, /<tr class="fail"><td>FAIL<\/td><td>finality regained.*<td>slot 40 \(epoch 5\.00\)<\/td><\/tr>/);
  assert.match(dom, /a made-up run &lt;with&gt; markup &amp; quotes/);
  assert.doesNotMatch(r.stderr, /Uncaught|SyntaxError|CONSOLE\(\d+\).*error/i);
});
