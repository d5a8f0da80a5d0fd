// The harness's participation timeline (long non-finality, then finality back) and its per-epoch series.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { participationAt, parseParticipationTimeline, runHarness, type EpochRow } from "../../src/chain/harness/harness.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { runCairnSync } from "../utils/cli.js";

const config = getNamedConfig("minimal");
const tmp = () => mkdtempSync(join(tmpdir(), "cairn-timeline-"));

test("a timeline parses into steps, and each slot gets the share of the last step at or before it", () => {
  const steps = parseParticipationTimeline("0:0.55, 32000:1,32100:.5");
  assert.deepEqual(steps, [
    { fromSlot: 0, participation: 0.55 },
    { fromSlot: 32000, participation: 1 },
    { fromSlot: 32100, participation: 0.5 },
  ]);
  assert.equal(participationAt(steps, 0), 0.55);
  assert.equal(participationAt(steps, 31999), 0.55);
  assert.equal(participationAt(steps, 32000), 1);
  assert.equal(participationAt(steps, 32099), 1);
  assert.equal(participationAt(steps, 99999), 0.5);
  assert.deepEqual(parseParticipationTimeline("0:0"), [{ fromSlot: 0, participation: 0 }]);
});

test("a malformed timeline is refused with the reason", () => {
  const cases: [string, RegExp][] = [
    ["", /expected SLOT:SHARE/],
    ["0:0.5,", /expected SLOT:SHARE.*""/],
    ["0:0.5,,8:1", /expected SLOT:SHARE/],
    ["0:abc", /expected SLOT:SHARE.*"0:abc"/],
    ["x:1", /expected SLOT:SHARE/],
    ["0:-0.5", /expected SLOT:SHARE/],
    ["0:0.5:1", /expected SLOT:SHARE/],
    ["0:1e-1", /expected SLOT:SHARE/],
    ["0:1.5", /share 1.5 at slot 0 is above 1/],
    ["8:1", /first step must be at slot 0, got 8/],
    ["0:0.5,64:1,64:0.9", /slot 64 does not come after slot 64/],
    ["0:0.5,64:1,32:0.9", /slot 32 does not come after slot 64/],
    ["0:1,99999999999999999999:1", /too large/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseParticipationTimeline(text), re, JSON.stringify(text));
});

test("the harness applies the timeline: no finality at half participation, finality and archiving once it is full", async () => {
  const base = { validators: 64, slots: 320, skipRate: 0, forkRate: 0, restartEvery: 0, signatures: false, seed: 4, checkHeadEvery: 0 };
  const rows: EpochRow[] = [];
  const datadir = tmp();
  // 35 epochs without finality: more blocks than the archiver copies to the cold store per write batch
  const r = await runHarness(config, {
    ...base,
    participation: 1,
    participationTimeline: parseParticipationTimeline("0:0.5,280:1"),
    datadir,
    onEpoch: (row) => rows.push(row),
  });
  assert.deepEqual(
    rows.map((row) => row.epoch),
    Array.from({ length: 40 }, (_, i) => i + 1),
  );
  assert.deepEqual(
    rows.map((row) => row.participation),
    rows.map((row) => (row.slot < 280 ? 0.5 : 1)),
  );
  for (const row of rows.filter((x) => x.slot <= 280)) assert.equal(row.finalizedEpoch, 0, `finalized at slot ${row.slot}`);
  assert.ok(r.finalizedEpoch >= 36, `finalized ${r.finalizedEpoch} after participation returned`);
  // the first finalization archives the whole gap: the blocks from genesis to the finalized checkpoint
  assert.ok(r.archiveRuns >= 1 && r.longestArchive !== null);
  const first = rows.find((row) => row.archived !== null)?.archived;
  assert.ok(first && first.runs === 1 && first.blocksMoved >= 35 * config.SLOTS_PER_EPOCH && first.blocksDeleted === 0, JSON.stringify(first));
  assert.ok(r.whileArchiving.slots > 0 && r.whileArchiving.imports > 0, JSON.stringify(r.whileArchiving));
  // the finalized state comes from a hot state kept near it, not from replaying the gap from genesis (296 blocks
  // when pruning dropped that state before the archiver had moved the anchor)
  assert.ok(r.regen.blocksReplayed <= 3 * config.SLOTS_PER_EPOCH, `replayed ${r.regen.blocksReplayed} blocks`);
  assert.ok(rows.every((row) => row.imports === config.SLOTS_PER_EPOCH && row.rssMb > 0 && row.forkChoiceNodes > 0));
  // every block below the anchor is in the cold store, by slot, and gone from the hot one
  const db = await BeaconDb.open(datadir, { config });
  try {
    const anchor = await db.getMeta("anchor");
    assert.ok(anchor && anchor.slot >= 36 * config.SLOTS_PER_EPOCH, JSON.stringify(anchor?.slot));
    const cold = await db.getFinalizedBlockBytesByRange(1, anchor.slot);
    assert.deepEqual(
      cold.map((b) => b.slot),
      Array.from({ length: anchor.slot }, (_, i) => i + 1),
    );
    assert.equal(await db.getBlockBytes(anchor.blockRoot), null);
  } finally {
    await db.close();
  }

  // the same run at a constant half never finalizes: the finality above came from the timeline
  const flatDir = tmp();
  const flatRows: EpochRow[] = [];
  const flat = await runHarness(config, { ...base, slots: 160, participation: 0.5, datadir: flatDir, onEpoch: (row) => flatRows.push(row) });
  assert.equal(flat.finalizedEpoch, 0);
  // the chain prunes hot states by itself through non-finality (one is written every 2 epochs: 10 by now)
  assert.ok(Math.max(...flatRows.map((row) => row.hotStates)) <= 5, JSON.stringify(flatRows.map((row) => row.hotStates)));
  assert.equal(flat.archiveRuns, 0);
  assert.equal(flat.longestArchive, null);
  assert.equal(flat.resumed, null);

  // a long run in steps: the next one continues the chain, its opening timed as a restart
  const next = await runHarness(config, { ...base, slots: 8, participation: 1, datadir: flatDir });
  assert.equal(next.resumed?.headSlot, 160);
  assert.equal(next.resumed?.forkChoiceNodes, 161);
  assert.equal(next.headSlot, 168);
});

test("cairn harness: --participation-timeline errors name the flag, exclude --participation, and write nothing", () => {
  const dir = tmp();
  const series = join(dir, "series.jsonl");
  const args = ["harness", "--config", "minimal", "--validators", "64", "--slots", "8", "--datadir", join(dir, "db"), "--series", series];
  let r = runCairnSync([...args, "--participation-timeline", "0:0.5,0:1"]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--participation-timeline: slot 0 does not come after slot 0/);
  r = runCairnSync([...args, "--participation-timeline", "0:0.5", "--participation", "0.5"]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--participation and --participation-timeline exclude each other/);
  assert.equal(existsSync(series), false);
  assert.equal(existsSync(join(dir, "db")), false);

  r = runCairnSync([...args, "--no-signatures", "--quiet", "--participation-timeline", "0:0.5,4:1"]);
  assert.equal(r.status, 0, r.stderr);
  const rows = readFileSync(series, "utf8").trim().split("\n").map((l) => JSON.parse(l) as EpochRow);
  assert.deepEqual(
    rows.map((row) => [row.epoch, row.participation]),
    [[1, 1]],
  );
});

test("the series' event-loop stall of an epoch includes its forced GC (read after the monitor's timer ran)", async () => {
  // a large live heap makes the harness's per-epoch full GC (gcMinIntervalMs 0) a long stall of its own
  const ballast = Array.from({ length: 2_000_000 }, (_, i) => ({ i, s: `x${i}` }));
  const rows: EpochRow[] = [];
  await runHarness(config, {
    validators: 64,
    slots: 8 * config.SLOTS_PER_EPOCH,
    participation: 1,
    skipRate: 0,
    forkRate: 0,
    restartEvery: 0,
    signatures: false,
    seed: 5,
    checkHeadEvery: 0,
    datadir: tmp(),
    onEpoch: (row) => rows.push(row),
  });
  assert.ok(ballast.length > 0);
  const withGc = rows.filter((row) => row.gcMsMax >= 30);
  assert.ok(withGc.length >= 3, `epochs with a forced GC of 30 ms or more: ${JSON.stringify(rows.map((r) => r.gcMsMax))}`);
  // the monitor samples every 10 ms: a stall shows as at least its length less one interval
  for (const row of withGc) assert.ok(row.loopStallMsMax >= row.gcMsMax - 10, `epoch ${row.epoch}: stall ${row.loopStallMsMax} ms, GC ${row.gcMsMax} ms`);
});
