import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { runHarness } from "../../src/chain/harness/harness.js";
import { CheckpointStateCache } from "../../src/chain/stateCache.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { toHex } from "../../src/util/bytes.js";
import { runKillCampaign } from "../utils/killCampaign.js";

const config = getNamedConfig("minimal");
const here = dirname(fileURLToPath(import.meta.url));
const tmp = () => mkdtempSync(join(tmpdir(), "cairn-chain-"));

const base = { validators: 64, skipRate: 0, restartEvery: 0, signatures: true, seed: 3, checkHeadEvery: 0 };

test("full participation finalizes every epoch; fork choice stays within 3 epochs of blocks", async () => {
  const r = await runHarness(config, { ...base, slots: 64, participation: 1, datadir: tmp(), forkRate: 0 });
  assert.equal(r.headSlot, 64);
  assert.ok(r.finalizedEpoch >= 6, `finalized ${r.finalizedEpoch}`);
  assert.ok(r.forkChoiceNodes <= 3 * config.SLOTS_PER_EPOCH, `fork choice has ${r.forkChoiceNodes} nodes`);
});

test("finalized states kept as history only every coldStateEveryEpochs epochs, besides genesis and the anchor", async () => {
  const datadir = tmp();
  const r = await runHarness(config, { ...base, slots: 96, participation: 1, datadir, forkRate: 0, signatures: false, chain: { coldStateEveryEpochs: 4 } });
  assert.ok(r.finalizedEpoch >= 9, `finalized ${r.finalizedEpoch}`);
  const db = await BeaconDb.open(datadir, { config });
  try {
    const slots = await db.listColdStateSlots();
    const anchor = (await db.getMeta("anchor"))!;
    const every = 4 * config.SLOTS_PER_EPOCH;
    assert.equal(slots[0], 0, "genesis kept");
    assert.equal(slots[slots.length - 1], anchor.slot, "the anchor's state is stored");
    for (const s of slots.slice(1, -1)) assert.equal(s % every, 0, `cold state at slot ${s} is not an archive point (${slots.join(", ")})`);
    // one a finalization before: 10 or more
    assert.ok(slots.length <= 2 + Math.floor(anchor.slot / every), `cold states: ${slots.join(", ")}`);
    // and history stays readable: a state between two archive points is replayed from the one below it
    const chain = await BeaconChain.fromDb(config, db, new MainThreadBlsVerifier());
    try {
      const state = await chain.query.getStateAtSlot(every + 3);
      assert.equal(state?.state.slot, every + 3);
    } finally {
      await chain.close();
    }
  } finally {
    await db.close();
  }
});

test("with forks, the head equals the spec's get_head at every slot, across restarts", async () => {
  const r = await runHarness(config, {
    ...base,
    slots: 60,
    participation: 0.9,
    forkRate: 0.2,
    skipRate: 0.05,
    restartEvery: 25,
    checkHeadEvery: 1,
    datadir: tmp(),
  });
  assert.equal(r.headChecks, 60);
  assert.equal(r.restarts, 2);
  assert.ok(r.restartBlocksReplayed !== null && r.restartBlocksReplayed <= 2 * config.SLOTS_PER_EPOCH, `replayed ${r.restartBlocksReplayed}`);
});

test("justified and finalized checkpoints of a linear chain need no state replay, however small the block state cache", async () => {
  // as when syncing: the checkpoint block's state has left the block state cache when its epoch is justified
  const r = await runHarness(config, { ...base, slots: 48, participation: 1, datadir: tmp(), forkRate: 0, signatures: false, chain: { blockStateCacheSize: 2 } });
  assert.ok(r.finalizedEpoch >= 4, `finalized ${r.finalizedEpoch}`);
  assert.equal(r.regen.blocksReplayed, 0);
});

test("identical concurrent regen requests share one replay", async () => {
  const datadir = tmp();
  await runHarness(config, { ...base, slots: 12, participation: 1, datadir, forkRate: 0, signatures: false });
  const db = await BeaconDb.open(datadir, { config });
  const chain = await BeaconChain.fromDb(config, db, new MainThreadBlsVerifier());
  try {
    const head = chain.headRoot;
    chain.blockStates.prune(() => true);
    const before = { ...chain.regen.counters };
    const states = await Promise.all(Array.from({ length: 5 }, () => chain.regen.getBlockState(head, "test")));
    assert.ok(states.every((s) => s === states[0]), "all callers get the same state");
    assert.equal(chain.regen.counters.shared - before.shared, 4);
    const replayed = chain.regen.counters.blocksReplayed - before.blocksReplayed;
    assert.ok(replayed > 0 && replayed <= 2 * config.SLOTS_PER_EPOCH, `replayed ${replayed} blocks once`);
    assert.equal(toHex(states[0].state.hashTreeRoot()), chain.forkChoice.getBlock(head)?.stateRoot);
  } finally {
    await chain.close();
    await db.close();
  }
});

test("with finality every epoch, justified and finalized checkpoint states come from the caches, not from replays", async () => {
  // a block-state cache smaller than an epoch, as at mainnet size (16 states, 32 slots an epoch)
  const r = await runHarness(config, { ...base, slots: 64, participation: 1, datadir: tmp(), forkRate: 0, signatures: false, chain: { blockStateCacheSize: 4 } });
  assert.ok(r.finalizedEpoch >= 6, `finalized ${r.finalizedEpoch}`);
  // 24 (a replay every epoch) when they were rebuilt from hot-state files; an archiver that lags behind a busy machine
  // may still miss the cache once
  assert.ok(r.regen.blocksReplayed <= config.SLOTS_PER_EPOCH, `replayed ${r.regen.blocksReplayed}`);
});

test("after a restart, the head state loaded from its hot-state file is also its epoch's checkpoint state", async () => {
  const datadir = tmp();
  // 16 slots: the head is the block at the first slot of epoch 2, whose state is written to a hot-state file
  await runHarness(config, { ...base, slots: 2 * config.SLOTS_PER_EPOCH, participation: 0.5, datadir, forkRate: 0, signatures: false });
  const db = await BeaconDb.open(datadir, { config });
  const chain = await BeaconChain.fromDb(config, db, new MainThreadBlsVerifier());
  try {
    assert.equal(chain.forkChoice.getBlock(chain.headRoot)?.slot, 2 * config.SLOTS_PER_EPOCH);
    const cached = chain.checkpointStates.get(CheckpointStateCache.key(2, chain.headRoot));
    assert.ok(cached !== undefined, "cached under the checkpoint");
    assert.equal(cached, await chain.regen.getBlockState(chain.headRoot, "test"));
  } finally {
    await chain.close();
    await db.close();
  }
});

test("a checkpoint state that is its block's state stays cached under the checkpoint once the block state is dropped", async () => {
  const datadir = tmp();
  await runHarness(config, { ...base, slots: 20, participation: 0.5, datadir, forkRate: 0, signatures: false });
  const db = await BeaconDb.open(datadir, { config });
  const chain = await BeaconChain.fromDb(config, db, new MainThreadBlsVerifier());
  try {
    // the block at the first slot of epoch 2 (no skipped slots): the checkpoint (2, root) is its post-state
    const root = chain.forkChoice.getNodes().find((n) => n.slot === 2 * config.SLOTS_PER_EPOCH)!.root;
    const first = await chain.regen.getCheckpointState(2, root, "test");
    assert.equal(first.state.slot, 2 * config.SLOTS_PER_EPOCH);
    chain.blockStates.prune(() => true);
    const before = chain.regen.counters.blocksReplayed;
    assert.equal(await chain.regen.getCheckpointState(2, root, "test"), first);
    assert.equal(chain.regen.counters.blocksReplayed, before);
  } finally {
    await chain.close();
    await db.close();
  }
});

test("kill -9 in the middle of imports, then a clean restart at a consistent head", async () => {
  const datadir = tmp();
  const child = spawn(process.execPath, [resolve(here, "../utils/harnessChild.js"), datadir], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((res, rej) => {
    let lines = 0;
    child.stdout.on("data", (d: Buffer) => {
      lines += d.toString().split("\n").filter(Boolean).length;
      // past a few epochs, kill at an arbitrary point inside the import loop
      if (lines >= 6) setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 30));
    });
    child.on("exit", () => res());
    child.on("error", rej);
  });
  const db = await BeaconDb.open(datadir, { config });
  const chain = await BeaconChain.fromDb(config, db, new MainThreadBlsVerifier());
  try {
    const head = chain.forkChoice.getBlock(chain.headRoot);
    assert.ok(head && head.slot >= 40, `head after restart at slot ${head?.slot}`);
    const state = await chain.getHeadState("test");
    assert.equal(toHex(state.state.hashTreeRoot()), head.stateRoot, "the regenerated head state matches its block");
    assert.ok(chain.regen.counters.blocksReplayed <= 2 * config.SLOTS_PER_EPOCH + 1);
  } finally {
    await chain.close();
    await db.close();
  }
});

test("kill -9 at random moments with forks: the datadir always reopens, no stored block is lost", async () => {
  const r = await runKillCampaign({ kills: 4 });
  assert.equal(r.kills, 4);
  assert.ok(r.blocksReported > 0, "blocks were imported between kills");
  assert.deepEqual(r.lost, []);
  assert.ok(r.headSlots[r.headSlots.length - 1] > r.headSlots[0], `the chain grew across restarts: ${r.headSlots}`);
});
