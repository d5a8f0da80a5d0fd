// The archiver on its own, with a real database and fork choice and a context that records what is asked of it.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Archiver, type ArchiverContext } from "../../src/chain/archiver.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { ForkChoice, type BlockSummary } from "../../src/fork-choice/index.js";
import { createCachedBeaconState, createInteropGenesisStateFast } from "../../src/state-transition/index.js";
import { fromHex } from "../../src/util/bytes.js";
import { makeBlock } from "../utils/dbFixtures.js";
import { cp, root } from "../utils/forkChoice.js";
import { fileTempDir } from "../utils/tempDir.js";

const config = getNamedConfig("minimal");
const dir = fileTempDir("cairn-archiver-");

test("the new anchor's state is taken before the finalized blocks are copied, while the caches still hold it", async () => {
  const db = await BeaconDb.open(join(dir, "order"), { config });
  try {
    const S = config.SLOTS_PER_EPOCH;
    // a chain of blocks at slots 0..2S, finalized at epoch 1 (the block at slot S)
    const hotBlocks = new Map<string, { slot: number; parent: string }>();
    for (let slot = 0; slot <= 2 * S; slot++) {
      hotBlocks.set(root(slot), { slot, parent: root(slot - 1) });
      await db.putBlock(fromHex(root(slot)), makeBlock(config, slot));
    }
    const summary = (slot: number): BlockSummary => ({
      slot,
      root: root(slot),
      parentRoot: root(slot - 1),
      stateRoot: root(slot),
      targetRoot: root(slot - (slot % S)),
      justifiedCheckpoint: cp(0, 0),
      finalizedCheckpoint: cp(0, 0),
    });
    const forkChoice = new ForkChoice(config, { block: summary(0) }, () => []);
    const state = createCachedBeaconState(config, createInteropGenesisStateFast(config, 16, config.MIN_GENESIS_TIME, { signDeposits: false }));

    const calls: string[] = [];
    const loggedDb = new Proxy(db, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const ctx: ArchiverContext = {
      config,
      db: loggedDb,
      forkChoice,
      hotStatesKept: 2,
      coldStateEveryEpochs: 1,
      headRoot: () => root(2 * S),
      getCheckpointState: async () => {
        calls.push("getCheckpointState");
        return state;
      },
      anchorSlot: () => 0,
      setAnchor: () => calls.push("setAnchor"),
      pruneCaches: () => {},
    };
    const archiver = new Archiver(ctx);
    await archiver.onFinalized({ epoch: 1, root: root(S) }, summary(S), hotBlocks);

    assert.equal(archiver.stats.last?.blocksMoved, S + 1, "the blocks up to the finalized one were copied");
    const stateAt = calls.indexOf("getCheckpointState");
    const copyAt = calls.indexOf("getBlocksBytes");
    assert.ok(stateAt >= 0 && copyAt >= 0, calls.join(", "));
    assert.ok(stateAt < copyAt, `the state was asked for after the copy began: ${calls.join(", ")}`);
    assert.ok(calls.indexOf("setAnchor") > copyAt, "the anchor moves once the blocks are in the cold store");
    assert.equal((await db.getFinalizedBlockByRoot(fromHex(root(S))))?.message.slot, S);
  } finally {
    await db.close();
  }
});
