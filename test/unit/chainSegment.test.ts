// processChainSegment: range sync's door. Blocks are transitioned ahead of their signature verdicts and committed in
// order; what these tests pin down is that nothing is committed before its signatures are valid, that the first
// failure stops the segment exactly there (the blocks before it imported, none after), and that the answer is the
// same with the BLS worker pool (verdicts arriving out of step with the transitions) as on the main thread.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { BlsVerifier } from "../../src/chain/bls/interface.js";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BlsWorkerPool } from "../../src/chain/bls/pool.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { runHarness } from "../../src/chain/harness/harness.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { createCachedBeaconState, createInteropGenesisStateFast } from "../../src/state-transition/index.js";
import type { SignedBeaconBlock } from "../../src/types/index.js";
import { canonicalRange } from "../utils/network.js";

const config = getNamedConfig("minimal");
const tmp = () => mkdtempSync(join(tmpdir(), "cairn-segment-"));
const SLOTS = 40;
let source: BeaconChain;
let sourceDb: BeaconDb;
let blocks: SignedBeaconBlock[];
const pool = new BlsWorkerPool(2);

before(async () => {
  const datadir = tmp();
  // skipped slots, so that some segment blocks cross an epoch with empty slots before them
  await runHarness(config, { validators: 64, slots: SLOTS, participation: 1, datadir, forkRate: 0, skipRate: 0.15, restartEvery: 0, signatures: true, seed: 11, checkHeadEvery: 0 });
  sourceDb = await BeaconDb.open(datadir, { config });
  source = await BeaconChain.fromDb(config, sourceDb, new MainThreadBlsVerifier());
  blocks = await canonicalRange(source, 1, SLOTS);
});
after(async () => {
  await source.close();
  await sourceDb.close();
  await pool.close();
});

async function freshChain(bls: BlsVerifier): Promise<{ chain: BeaconChain; close(): Promise<void> }> {
  const genesis = createInteropGenesisStateFast(config, 64, config.MIN_GENESIS_TIME, { signDeposits: true });
  const db = await BeaconDb.open(tmp(), { config });
  const chain = await BeaconChain.fromAnchorState(config, db, bls, createCachedBeaconState(config, genesis), {
    // every block in the past for this chain's clock
    now: () => (config.MIN_GENESIS_TIME + (SLOTS + 1) * config.SECONDS_PER_SLOT) * 1000,
  });
  return { chain, close: async () => (await chain.close(), await db.close()) };
}

const rootOf = (b: SignedBeaconBlock) => "0x" + Buffer.from(config.types.BeaconBlock.hashTreeRoot(b.message)).toString("hex");

for (const [name, bls] of [
  ["main thread", new MainThreadBlsVerifier()],
  ["worker pool", pool],
] as const) {
  test(`${name}: a segment imports in order, to the peer's head; again, it is skipped as known`, async () => {
    const { chain, close } = await freshChain(bls);
    try {
      const slots: number[] = [];
      const r = await chain.processChainSegment(blocks, { onImported: (slot) => slots.push(slot) });
      assert.deepEqual(r, { imported: blocks.length, skipped: 0, stop: null });
      assert.deepEqual(slots, blocks.map((b) => b.message.slot));
      assert.equal(chain.headRoot, source.headRoot);
      // every block is stored: a restart would find them
      for (const b of blocks) assert.ok(await chain.query.getBlockBytesByRoot(Buffer.from(rootOf(b).slice(2), "hex")), `block ${b.message.slot} stored`);
      // the last imported blocks that fork choice holds are also kept decoded for the API, the same objects; a
      // finalized one has left fork choice and comes from the database
      assert.equal(chain.recentBlock(rootOf(blocks.at(-1)!)), blocks.at(-1));
      assert.ok(chain.forkChoice.getFinalizedCheckpoint().epoch >= 2);
      assert.equal(chain.recentBlock(rootOf(blocks[0]!)), null);
      assert.deepEqual(await chain.query.getSignedBlock(rootOf(blocks[0]!)), blocks[0]);
      const again = await chain.processChainSegment(blocks);
      assert.deepEqual(again, { imported: 0, skipped: blocks.length, stop: null });
    } finally {
      await close();
    }
  });

  test(`${name}: a valid signature of the wrong message stops the segment at that block, the blocks before it imported`, async () => {
    const { chain, close } = await freshChain(bls);
    try {
      const k = 13;
      const tampered = blocks.slice();
      // a valid G2 point (another block's signature): only the pairing can tell
      tampered[k] = { message: blocks[k].message, signature: blocks[k + 1].signature };
      const r = await chain.processChainSegment(tampered);
      assert.equal(r.imported, k);
      assert.ok(r.stop && "error" in r.stop, "stopped on an error");
      assert.equal(r.stop.index, k);
      assert.equal(r.stop.error.code, "INVALID_SIGNATURE");
      assert.equal(chain.headRoot, rootOf(blocks[k - 1]));
      assert.equal(chain.forkChoice.hasBlock(rootOf(blocks[k])), false);
      assert.equal(await chain.query.getSignedBlock(rootOf(blocks[k])), null, "the block with the bad signature is not stored");
      // the root covers the message only: the same block with its real signature is still welcome
      assert.equal(chain.invalidBlocks.has(rootOf(blocks[k])), false);
      const rest = await chain.processChainSegment(blocks.slice(k));
      assert.deepEqual(rest, { imported: blocks.length - k, skipped: 0, stop: null });
      assert.equal(chain.headRoot, source.headRoot);
    } finally {
      await close();
    }
  });
}

test("a producer held back by its lead bound still imports everything in order, and stops at a bad block", async () => {
  const { chain, close } = await freshChain(pool);
  try {
    // batches far larger than the lead: the producer waits for the committer, which waits for verdicts
    const r = await chain.processChainSegment(blocks.slice(0, 20), { maxLead: 2, maxSetsPerBatch: 10_000 });
    assert.deepEqual(r, { imported: 20, skipped: 0, stop: null });
    const k = 25;
    const tampered = blocks.slice(20);
    tampered[k - 20] = { message: blocks[k].message, signature: blocks[k + 1].signature };
    const bad = await chain.processChainSegment(tampered, { maxLead: 3, maxSetsPerBatch: 10_000 });
    assert.equal(bad.imported, k - 20);
    assert.ok(bad.stop && "error" in bad.stop && bad.stop.error.code === "INVALID_SIGNATURE" && bad.stop.index === k - 20);
    assert.equal(chain.headRoot, rootOf(blocks[k - 1]));
  } finally {
    await close();
  }
});

test("a block failing the state transition stops the segment there and is remembered as invalid", async () => {
  const { chain, close } = await freshChain(pool);
  try {
    const k = 20;
    const tampered = blocks.slice(0, k + 1);
    tampered[k] = { message: { ...blocks[k].message, stateRoot: new Uint8Array(32).fill(7) }, signature: blocks[k].signature };
    const r = await chain.processChainSegment(tampered);
    assert.equal(r.imported, k);
    assert.ok(r.stop && "error" in r.stop);
    assert.equal(r.stop.index, k);
    assert.equal(r.stop.error.code, "INVALID_STATE_ROOT");
    assert.equal(chain.headRoot, rootOf(blocks[k - 1]));
    assert.equal(chain.invalidBlocks.has(rootOf(tampered[k])), true);
  } finally {
    await close();
  }
});

test("an unknown parent: at the start the segment says so (a fork), in the middle (a gap) it stops there", async () => {
  const { chain, close } = await freshChain(pool);
  try {
    const start = await chain.processChainSegment(blocks.slice(5));
    assert.deepEqual(start.stop && { ...start.stop }, { index: 0, parentUnknown: true, root: rootOf(blocks[5]) });
    assert.equal(start.imported, 0);
    assert.equal(chain.pending.size, 0, "range sync handles it: nothing left in the pending pool");

    const gap = [...blocks.slice(0, 8), ...blocks.slice(9)];
    const r = await chain.processChainSegment(gap);
    assert.equal(r.imported, 8);
    assert.deepEqual(r.stop && { ...r.stop }, { index: 8, parentUnknown: true, root: rootOf(blocks[9]) });
    assert.equal(chain.headRoot, rootOf(blocks[7]));
  } finally {
    await close();
  }
});

test("already-known leading blocks are skipped and the rest imported", async () => {
  const { chain, close } = await freshChain(pool);
  try {
    assert.equal((await chain.processChainSegment(blocks.slice(0, 10))).imported, 10);
    const r = await chain.processChainSegment(blocks.slice(4, 30));
    assert.deepEqual(r, { imported: 20, skipped: 6, stop: null });
    assert.equal(chain.headRoot, rootOf(blocks[29]));
  } finally {
    await close();
  }
});
