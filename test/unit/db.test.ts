import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { getNamedConfig } from "../../src/config/index.js";
import {
  BeaconDb,
  Bucket,
  DbController,
  DbError,
  META,
  SCHEMA_VERSION,
  encodeSlot,
  hotStateKey,
  isDbError,
  metaKey,
  prefixEnd,
  readUint64BE,
  rootKey,
  slotKey,
  type DbErrorCode,
} from "../../src/db/index.js";
import { plainHex as hex } from "../utils/bytes.js";
import { KILL_TEST_VALIDATORS, blockRoot, killTestBatch, makeBlock, makeStateBytes } from "../utils/dbFixtures.js";
import { fileTempDir } from "../utils/tempDir.js";

const config = getNamedConfig("minimal");
const types = config.types;

const tmpRoot = fileTempDir("cairn-db-test-");
let dirCount = 0;
/** A fresh, not yet existing directory (nested, so open must create parents). */
function freshDir(): string {
  return join(tmpRoot, `db-${dirCount++}`, "chain");
}

function assertBytes(actual: Uint8Array | null | undefined, expected: Uint8Array, msg?: string): void {
  assert.ok(actual, msg ?? "expected bytes, got nothing");
  assert.equal(hex(actual), hex(expected), msg);
}
function root(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

async function rejectsWith(p: Promise<unknown>, code: DbErrorCode, message?: RegExp): Promise<DbError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, `expected a DbError ${code}, nothing was thrown`);
  assert.ok(isDbError(caught, code), `expected DbError ${code}, got ${String(caught)}`);
  if (message) assert.match((caught as Error).message, message);
  return caught as DbError;
}

async function withDb<T>(fn: (db: BeaconDb, dir: string) => Promise<T>): Promise<T> {
  const dir = freshDir();
  const db = await BeaconDb.open(dir, { config });
  try {
    return await fn(db, dir);
  } finally {
    await db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// schema

const ORDER_SLOTS = [0, 1, 2, 255, 256, 257, 65535, 65536, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40 + 5, 2 ** 53 - 1];

test("slot keys: byte order is numeric order, also past 2^32 (little-endian or decimal keys would not be)", () => {
  const shuffled = [...ORDER_SLOTS].reverse().sort((a, b) => (a * 7919) % 13 - (b * 7919) % 13);
  const byKey = shuffled
    .map((s) => ({ s, k: Buffer.from(slotKey(Bucket.finalizedBlock, s)) }))
    .sort((a, b) => Buffer.compare(a.k, b.k))
    .map((x) => x.s);
  assert.deepEqual(byKey, ORDER_SLOTS);
  // the counter-example: little-endian bytes sort 256 before 1
  const le = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  assert.equal(Buffer.compare(le(256), le(1)), -1);
  for (const s of ORDER_SLOTS) {
    assert.equal(readUint64BE(encodeSlot(s)), s);
    assert.equal(Buffer.from(encodeSlot(s)).readBigUInt64BE(), BigInt(s));
  }
});

test("slot and root keys refuse invalid input", () => {
  for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Infinity]) {
    assert.throws(() => slotKey(Bucket.coldState, bad), (e) => isDbError(e, "INVALID_ARGUMENT"), String(bad));
  }
  assert.throws(() => rootKey(Bucket.hotBlock, new Uint8Array(31)), (e) => isDbError(e, "INVALID_ARGUMENT"));
  assert.equal(hotStateKey(2 ** 32, root(9)).length, 41);
});

test("prefixEnd is the first key after a prefix", () => {
  assert.deepEqual([...prefixEnd(Uint8Array.of(1, 2))!], [1, 3]);
  assert.deepEqual([...prefixEnd(Uint8Array.of(1, 0xff))!], [2]);
  assert.equal(prefixEnd(Uint8Array.of(0xff, 0xff)), undefined);
});

test("every bucket and meta key has its own byte", () => {
  const buckets = Object.values(Bucket);
  assert.equal(new Set(buckets).size, buckets.length);
  const ids = Object.values(META).map((m) => m.id);
  assert.equal(new Set(ids).size, ids.length);
});

// ---------------------------------------------------------------------------------------------------------------
// controller

test("controller: get/put/del/has, prefix ranges ascending and descending with limit, iterate", async () => {
  const c = await DbController.open(freshDir());
  try {
    const k = (...b: number[]) => Uint8Array.from(b);
    assert.equal(await c.get(k(1, 1)), undefined);
    await c.put(k(1, 1), k(10));
    await c.put(k(1, 2), k(20), { sync: true });
    await c.put(k(1, 0xff), k(30));
    await c.put(k(2, 0), k(40));
    await c.put(k(0, 9), k(50));
    assertBytes(await c.get(k(1, 1)), k(10));
    assert.equal(await c.has(k(1, 2)), true);
    assert.deepEqual((await c.getMany([k(1, 1), k(7)])).map((v) => (v ? hex(v) : v)), ["0a", undefined]);

    const keys = async (q: Parameters<DbController["keys"]>[0]) => (await c.keys(q)).map(hex);
    assert.deepEqual(await keys({ prefix: k(1) }), ["0101", "0102", "01ff"]);
    assert.deepEqual(await keys({ prefix: k(1), reverse: true }), ["01ff", "0102", "0101"]);
    assert.deepEqual(await keys({ prefix: k(1), reverse: true, limit: 2 }), ["01ff", "0102"]);
    assert.deepEqual(await keys({ prefix: k(1), gt: k(1, 1) }), ["0102", "01ff"]);
    assert.deepEqual(await keys({ prefix: k(1), lte: k(1, 2) }), ["0101", "0102"]);
    assert.deepEqual((await c.values({ prefix: k(1) })).map(hex), ["0a", "14", "1e"]);
    assert.deepEqual((await c.entries({ prefix: k(2) })).map((e) => [hex(e.key), hex(e.value)]), [["0200", "28"]]);
    assert.deepEqual(await keys({}), ["0009", "0101", "0102", "01ff", "0200"]);

    const seen: string[] = [];
    for await (const e of c.iterate({ prefix: k(1) })) {
      seen.push(hex(e.key));
      if (seen.length === 2) break;
    }
    assert.deepEqual(seen, ["0101", "0102"]);
    assert.equal(hex((await c.first({ prefix: k(1), reverse: true }))!.key), "01ff");

    await c.del(k(1, 1));
    assert.equal(await c.has(k(1, 1)), false);
  } finally {
    await c.close();
  }
  await assert.rejects(c.get(Uint8Array.of(1)), (e) => isDbError(e, "CLOSED"));
});

test("controller: a batch is all-or-nothing; an invalid op writes nothing", async () => {
  const c = await DbController.open(freshDir());
  try {
    await c.put(Uint8Array.of(9), Uint8Array.of(1));
    await c.batch(
      [
        { type: "put", key: Uint8Array.of(1), value: Uint8Array.of(1) },
        { type: "put", key: Uint8Array.of(2), value: Uint8Array.of(2) },
        { type: "del", key: Uint8Array.of(9) },
      ],
      { sync: true },
    );
    assert.deepEqual((await c.keys({})).map(hex), ["01", "02"]);

    const invalid = [
      [{ type: "put", key: Uint8Array.of(3), value: Uint8Array.of(3) }, { type: "put", key: Uint8Array.of(4), value: undefined }],
      [{ type: "put", key: Uint8Array.of(3), value: Uint8Array.of(3) }, { type: "del", key: new Uint8Array(0) }],
      [{ type: "del", key: Uint8Array.of(1) }, { type: "merge", key: Uint8Array.of(5) }],
    ];
    for (const ops of invalid) {
      await assert.rejects(c.batch(ops as never), (e) => isDbError(e, "INVALID_ARGUMENT"));
    }
    assert.deepEqual((await c.keys({})).map(hex), ["01", "02"], "no op of an invalid batch was written");
  } finally {
    await c.close();
  }
});

test("controller: a second handle on the same directory is refused as LOCKED", async () => {
  const dir = freshDir();
  const c = await DbController.open(dir);
  try {
    await rejectsWith(DbController.open(dir), "LOCKED", /in use/);
  } finally {
    await c.close();
  }
  await rejectsWith(DbController.open(join(tmpRoot, "missing"), { createIfMissing: false }), "OPEN_FAILED");
});

// ---------------------------------------------------------------------------------------------------------------
// repositories

test("hot blocks: put/get/getBytes/has/list/iterate/delete round trip with real SSZ", async () => {
  await withDb(async (db) => {
    const blocks = [1, 2, 3].map((s) => makeBlock(config, s));
    const roots = blocks.map((b) => blockRoot(config, b));
    for (let i = 0; i < 3; i++) await db.putBlock(roots[i], blocks[i]);
    for (let i = 0; i < 3; i++) {
      const got = await db.getBlock(roots[i]);
      assert.ok(got && types.SignedBeaconBlock.equals(got, blocks[i]), `block ${i}`);
      assert.ok(types.BeaconBlock.equals(got.message, blocks[i].message));
      assertBytes(await db.getBlockBytes(roots[i]), types.SignedBeaconBlock.serialize(blocks[i]));
      assert.equal(await db.hasBlock(roots[i]), true);
    }
    assert.equal(await db.getBlock(root(0)), null);
    assert.equal(await db.getBlockBytes(root(0)), null);
    assert.equal(await db.hasBlock(root(0)), false);
    // several in one read, in the order asked, null for one not stored
    const many = await db.getBlocksBytes([roots[2], root(0), roots[0]]);
    assert.equal(many.length, 3);
    assertBytes(many[0], types.SignedBeaconBlock.serialize(blocks[2]));
    assert.equal(many[1], null);
    assertBytes(many[2], types.SignedBeaconBlock.serialize(blocks[0]));

    // bytes as received from the network
    const b4 = makeBlock(config, 4);
    const r4 = blockRoot(config, b4);
    await db.putBlockBytes(r4, types.SignedBeaconBlock.serialize(b4));
    assert.ok(types.SignedBeaconBlock.equals((await db.getBlock(r4))!, b4));
    await assert.rejects(db.putBlockBytes(r4, new Uint8Array(10)), (e) => isDbError(e, "INVALID_ARGUMENT"));

    const allRoots = [...roots, r4].map(hex).sort();
    assert.deepEqual((await db.listBlockRoots()).map(hex), allRoots);
    const streamed: string[] = [];
    for await (const { root: sr, bytes } of db.iterateBlockBytes()) {
      assert.equal(hex(types.BeaconBlock.hashTreeRoot(types.SignedBeaconBlock.deserialize(bytes).message)), hex(sr));
      streamed.push(hex(sr));
    }
    assert.deepEqual(streamed, allRoots);

    await db.deleteBlocks([roots[0], roots[2]]);
    assert.deepEqual(
      await Promise.all(roots.map((r) => db.hasBlock(r))),
      [false, true, false],
    );
  });
});

test("finalized blocks: by slot, by root, by range (with step, across 2^32), last", async () => {
  await withDb(async (db) => {
    const slots = [1, 3, 256, 257, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 2];
    const items = slots.map((slot) => {
      const block = makeBlock(config, slot);
      return { slot, root: blockRoot(config, block), block };
    });
    // stored out of order, as bytes and as values
    await db.putFinalizedBlocks(items.slice(3).reverse());
    await db.putFinalizedBlocks(items.slice(0, 3).map(({ slot, root, block }) => ({ slot, root, bytes: types.SignedBeaconBlock.serialize(block) })));

    for (const it of items) {
      assert.ok(types.SignedBeaconBlock.equals((await db.getFinalizedBlockBySlot(it.slot))!, it.block), `slot ${it.slot}`);
      assert.ok(types.SignedBeaconBlock.equals((await db.getFinalizedBlockByRoot(it.root))!, it.block));
      assert.equal(await db.getFinalizedSlotByRoot(it.root), it.slot);
      assertBytes(await db.getFinalizedBlockBytesBySlot(it.slot), types.SignedBeaconBlock.serialize(it.block));
    }
    assert.equal(await db.getFinalizedBlockBySlot(2), null);
    assert.equal(await db.getFinalizedBlockByRoot(root(0)), null);
    // hot and cold are separate repositories
    assert.equal(await db.getBlock(items[0].root), null);

    const range = await db.getFinalizedBlocksByRange(0, 2 ** 33);
    assert.deepEqual(range.map((r) => r.slot), slots);
    assert.ok(range.every((r, i) => types.SignedBeaconBlock.equals(r.block, items[i].block)));
    assert.deepEqual((await db.getFinalizedBlockBytesByRange(2, 255)).map((r) => r.slot), [3, 256]);
    assert.deepEqual((await db.getFinalizedBlockBytesByRange(2, 254)).map((r) => r.slot), [3]);
    assert.deepEqual((await db.getFinalizedBlockBytesByRange(1, 200, 2)).map((r) => r.slot), [1, 3, 257]);
    assert.deepEqual((await db.getFinalizedBlockBytesByRange(2 ** 32 - 1, 4)).map((r) => r.slot), [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 2]);
    assert.deepEqual(await db.getFinalizedBlockBytesByRange(5, 0), []);

    const last = await db.getLastFinalizedBlock();
    assert.equal(last?.slot, 2 ** 32 + 2);

    // the given slot must be the block's
    await assert.rejects(db.putFinalizedBlocks([{ ...items[0], slot: 2 }]), (e) => isDbError(e, "INVALID_ARGUMENT"));
  });
});

test("cold states: put/get and the latest at or before a slot", async () => {
  await withDb(async (db) => {
    const slots = [0, 64, 128, 2 ** 32 + 64];
    const states = new Map(slots.map((s) => [s, makeStateBytes(config, s, 8)]));
    for (const s of [...slots].reverse()) await db.putColdState(s, states.get(s)!);
    for (const s of slots) {
      const bytes = await db.getColdState(s);
      assertBytes(bytes, states.get(s)!);
      assert.equal(types.BeaconState.deserialize(bytes!).slot, s);
    }
    assert.equal(await db.getColdState(1), null);
    const at = async (slot: number) => (await db.getLatestColdStateAtOrBefore(slot))?.slot ?? null;
    assert.equal(await at(0), 0);
    assert.equal(await at(63), 0);
    assert.equal(await at(64), 64);
    assert.equal(await at(2 ** 32), 128);
    assert.equal(await at(2 ** 40), 2 ** 32 + 64);
    assertBytes((await db.getLatestColdStateAtOrBefore(100))!.bytes, states.get(64)!);
    assert.deepEqual(await db.listColdStateSlots(), slots);
    await assert.rejects(db.putColdState(5, new Uint8Array(100)), (e) => isDbError(e, "INVALID_ARGUMENT"));
  });
  await withDb(async (db) => {
    assert.equal(await db.getLatestColdStateAtOrBefore(10), null);
  });
});

test("hot states: put/get by root, latest, list, delete before a slot", async () => {
  await withDb(async (db) => {
    assert.equal(await db.getLatestHotState(), null);
    const entries = [
      { root: root(1), slot: 8 },
      { root: root(2), slot: 16 },
      { root: root(3), slot: 16 },
      { root: root(4), slot: 2 ** 32 + 8 },
      { root: root(5), slot: 24 },
    ].map((e) => ({ ...e, bytes: makeStateBytes(config, e.slot, 4, e.root[0]) }));
    for (const e of entries) await db.putHotState(e.root, e.slot, e.bytes);

    for (const e of entries) {
      const got = await db.getHotState(e.root);
      assert.equal(got?.slot, e.slot);
      assertBytes(got!.bytes, e.bytes);
      assertBytes(got!.root, e.root);
    }
    assert.equal(await db.getHotState(root(9)), null);

    const latest = await db.getLatestHotState();
    assert.equal(latest?.slot, 2 ** 32 + 8);
    assertBytes(latest!.root, root(4));
    assertBytes(latest!.bytes, entries[3].bytes);
    assert.deepEqual((await db.listHotStates()).map((s) => [s.slot, s.root[0]]), [[8, 1], [16, 2], [16, 3], [24, 5], [2 ** 32 + 8, 4]]);

    assert.equal(await db.deleteHotStatesBefore(17), 3);
    assert.deepEqual((await db.listHotStates()).map((s) => s.slot), [24, 2 ** 32 + 8]);
    assert.equal(await db.getHotState(root(1)), null);
    assert.equal(await db.getHotState(root(3)), null);
    assert.equal((await db.getHotState(root(5)))?.slot, 24);
    assert.equal(await db.deleteHotStatesBefore(17), 0);
    assert.equal(await db.deleteHotStatesBefore(2 ** 53 - 1), 2);
    assert.equal(await db.getLatestHotState(), null);
    assert.deepEqual(await db.controller.keys({ prefix: Uint8Array.of(Bucket.hotStateRoot) }), [], "no index entry left");
  });
});

test("state files: one file per stored state, removed when replaced or deleted, orphans swept at open, damage detected", async () => {
  const dir = freshDir();
  const statesDir = join(dir, "states");
  const files = () => readdirSync(statesDir).sort();
  let db = await BeaconDb.open(dir, { config });
  try {
    await db.putColdState(64, makeStateBytes(config, 64, 4));
    await db.putHotState(root(1), 8, makeStateBytes(config, 8, 4));
    assert.equal(files().length, 2);
    // replacing a state writes a new file and removes the old one
    const replacement = makeStateBytes(config, 64, 4, 99);
    await db.putColdState(64, replacement);
    assert.equal(files().length, 2);
    assertBytes(await db.getColdState(64), replacement);
    await db.newBatch().deleteHotState(root(1), 8).commit();
    assert.equal(files().length, 1, "a deleted hot state's file is removed");
    await db.putHotState(root(2), 16, makeStateBytes(config, 16, 4));
    assert.equal(await db.deleteHotStatesBefore(100), 1);
    assert.equal(files().length, 1);
  } finally {
    await db.close();
  }
  // what a crash between a file write and its batch leaves behind: removed at the next open, other files untouched
  writeFileSync(join(statesDir, "hot-5-0123456789abcdef.ssz"), new Uint8Array(10));
  writeFileSync(join(statesDir, "cold-9-0123456789abcdef.ssz.tmp"), new Uint8Array(10));
  writeFileSync(join(statesDir, "README"), "not ours");
  db = await BeaconDb.open(dir, { config });
  try {
    assert.deepEqual(files().filter((f) => f !== "README").length, 1);
    assert.ok(files().includes("README"));
    const [name] = files().filter((f) => f.endsWith(".ssz"));
    // a damaged or truncated file is a CORRUPT_VALUE naming the file, not a crash or a wrong state
    const bytes = readFileSync(join(statesDir, name));
    bytes[100] ^= 1;
    writeFileSync(join(statesDir, name), bytes);
    await rejectsWith(db.getColdState(64), "CORRUPT_VALUE", /checksum mismatch/);
    writeFileSync(join(statesDir, name), bytes.subarray(0, 50));
    await rejectsWith(db.getColdState(64), "CORRUPT_VALUE", /has 50 bytes/);
    unlinkSync(join(statesDir, name));
    await rejectsWith(db.getLatestColdStateAtOrBefore(64), "CORRUPT_VALUE", /cannot be read/);
  } finally {
    await db.close();
  }
});

test("fork-choice votes: binary round trip with shared roots; bad input refused; damage detected", async () => {
  await withDb(async (db) => {
    assert.equal(await db.getForkChoiceVotes(), null);
    const r = (n: number) => "0x" + hex(root(n));
    const votes = [
      { validatorIndex: 0, epoch: 3, root: r(1) },
      { validatorIndex: 7, epoch: 4, root: r(2) },
      { validatorIndex: 2 ** 32 - 1, epoch: 4, root: r(1) },
    ];
    await db.newBatch().putForkChoiceVotes(votes).commit();
    assert.deepEqual(await db.getForkChoiceVotes(), votes);
    // fork choice's packed form (no object per vote) stores the same bytes
    const packed = { roots: [r(1), r(2)], validatorIndices: Uint32Array.of(0, 7, 2 ** 32 - 1), epochs: Uint32Array.of(3, 4, 4), rootIndices: Uint32Array.of(0, 1, 0) };
    const before = await db.controller.get(Uint8Array.of(Bucket.forkChoiceVotes));
    await db.newBatch().putForkChoiceVotes(packed).commit();
    assert.deepEqual(await db.controller.get(Uint8Array.of(Bucket.forkChoiceVotes)), before);
    assert.throws(() => db.newBatch().putForkChoiceVotes({ ...packed, rootIndices: Uint32Array.of(0, 2, 0) }), (e) => isDbError(e, "INVALID_ARGUMENT"));
    assert.throws(() => db.newBatch().putForkChoiceVotes([{ validatorIndex: -1, epoch: 0, root: r(1) }]), (e) => isDbError(e, "INVALID_ARGUMENT"));
    assert.throws(() => db.newBatch().putForkChoiceVotes([{ validatorIndex: 1, epoch: 0, root: "0x12" }]), (e) => isDbError(e, "INVALID_ARGUMENT"));
    const key = Uint8Array.of(Bucket.forkChoiceVotes);
    const stored = (await db.controller.get(key))!;
    await db.controller.put(key, stored.subarray(0, stored.length - 1));
    await rejectsWith(db.getForkChoiceVotes(), "CORRUPT_VALUE");
  });
});

test("meta: every typed value round-trips, null when unset, and persists across reopen", async () => {
  const dir = freshDir();
  const values = {
    genesisTime: 1_606_824_023,
    genesisValidatorsRoot: root(0x4b),
    finalizedCheckpoint: { epoch: 2 ** 33, root: root(1) },
    justifiedCheckpoint: { epoch: 5, root: root(2) },
    headRoot: root(3),
    anchor: { slot: 2 ** 32 + 32, blockRoot: root(4), stateRoot: root(5) },
    backfill: { slot: 96, parentRoot: root(6), genesisBlockRoot: root(7), complete: false },
  };
  let db = await BeaconDb.open(dir, { config });
  try {
    const meta = await db.getChainMeta();
    assert.ok(Object.values(meta).every((v) => v === null), "a fresh database has no chain meta");
    assert.equal(await db.getSchemaVersion(), SCHEMA_VERSION);
    await db.putMeta("genesisTime", values.genesisTime);
    await db.putMeta("genesisValidatorsRoot", values.genesisValidatorsRoot);
    await db.putMeta("finalizedCheckpoint", values.finalizedCheckpoint);
    await db.putMeta("justifiedCheckpoint", values.justifiedCheckpoint, { sync: false });
    await db.putMeta("headRoot", values.headRoot);
    await db.putMeta("anchor", values.anchor);
    await db.putMeta("backfill", values.backfill);
  } finally {
    await db.close();
  }
  db = await BeaconDb.open(dir, { config, genesisValidatorsRoot: root(0x4b) });
  try {
    assert.equal(await db.getMeta("genesisTime"), values.genesisTime);
    assert.deepEqual(await db.getMeta("finalizedCheckpoint"), values.finalizedCheckpoint);
    assert.deepEqual(await db.getMeta("anchor"), values.anchor);
    assert.deepEqual(await db.getChainMeta(), values);
    await assert.rejects(db.putMeta("headRoot", new Uint8Array(31)), (e) => isDbError(e, "INVALID_ARGUMENT"));
    await assert.rejects(db.putMeta("finalizedCheckpoint", { epoch: -1, root: root(1) }), (e) => isDbError(e, "INVALID_ARGUMENT"));
    assert.deepEqual(await db.getMeta("headRoot"), values.headRoot, "a refused write changed nothing");
  } finally {
    await db.close();
  }
});

test("batch builder: one atomic commit of block, finalized block, hot state and fork-choice meta", async () => {
  await withDb(async (db) => {
    const block = makeBlock(config, 9);
    const r = blockRoot(config, block);
    const state = makeStateBytes(config, 9, 4);
    const old = makeBlock(config, 1);
    const oldRoot = blockRoot(config, old);
    await db.putBlock(oldRoot, old);

    const batch = db
      .newBatch()
      .putBlock(r, block)
      .putHotState(r, 9, state)
      .putFinalizedBlock({ slot: 1, root: oldRoot, block: old })
      .deleteBlock(oldRoot)
      .putColdState(0, makeStateBytes(config, 0, 4))
      .putMeta("headRoot", r)
      .putMeta("justifiedCheckpoint", { epoch: 1, root: r });
    assert.equal(batch.length, 9); // a finalized block and a hot state are two ops each (value + index)
    assert.equal(await db.hasBlock(r), false, "nothing is written before commit");
    await batch.commit();

    assert.ok(types.SignedBeaconBlock.equals((await db.getBlock(r))!, block));
    assertBytes((await db.getHotState(r))!.bytes, state);
    assert.equal(await db.hasBlock(oldRoot), false, "moved from hot");
    assert.ok(types.SignedBeaconBlock.equals((await db.getFinalizedBlockByRoot(oldRoot))!, old), "to cold");
    assert.ok(await db.getColdState(0));
    assertBytes((await db.getMeta("headRoot"))!, r);
    assert.deepEqual(await db.getMeta("justifiedCheckpoint"), { epoch: 1, root: r });

    await rejectsWith(batch.commit(), "BATCH_ALREADY_COMMITTED");
    assert.throws(() => batch.putBlock(r, block), (e) => isDbError(e, "BATCH_ALREADY_COMMITTED"));
  });
});

test("batch builder: a batch with an invalid op commits nothing", async () => {
  await withDb(async (db) => {
    const block = makeBlock(config, 9);
    const r = blockRoot(config, block);
    const batch = db.newBatch().putBlock(r, block).putMeta("headRoot", r);
    assert.throws(() => batch.putHotState(r, -1, makeStateBytes(config, 9, 1)), (e) => isDbError(e, "INVALID_ARGUMENT"));
    assert.throws(() => db.newBatch().putBlock(r, { message: block.message } as never), (e) => isDbError(e, "INVALID_ARGUMENT"));
    await rejectsWith(batch.commit(), "INVALID_ARGUMENT", /batch not committed/);
    assert.equal(await db.hasBlock(r), false);
    assert.equal(await db.getMeta("headRoot"), null);
    assert.deepEqual(await db.controller.keys({ gt: Uint8Array.of(Bucket.meta, 0xff) }), [], "no data key written");
  });
});

// ---------------------------------------------------------------------------------------------------------------
// refusals and corrupt values

test("a database of another schema version is refused, naming both versions and what to do", async () => {
  for (const found of [SCHEMA_VERSION + 1, SCHEMA_VERSION - 1]) {
    const dir = freshDir();
    await (await BeaconDb.open(dir, { config })).close();
    const c = await DbController.open(dir);
    await c.put(metaKey("schemaVersion"), META.schemaVersion.encode(found), { sync: true });
    await c.close();
    const err = await rejectsWith(
      BeaconDb.open(dir, { config }),
      "SCHEMA_VERSION_MISMATCH",
      new RegExp(`database schema version ${found}, this Cairn expects ${SCHEMA_VERSION}`),
    );
    assert.match(err.message, found < SCHEMA_VERSION ? /fresh --datadir or run a migration/ : /newer Cairn/);
    assert.deepEqual(err.type, { code: "SCHEMA_VERSION_MISMATCH", path: dir, found, expected: SCHEMA_VERSION });
    // the refused open released the lock: the directory can be opened again
    await (await DbController.open(dir)).close();
  }
});

test("a database of another network is refused (config name, genesis validators root)", async () => {
  const dir = freshDir();
  await (await BeaconDb.open(dir, { config, genesisValidatorsRoot: root(1) })).close();
  const err = await rejectsWith(BeaconDb.open(dir, { config: getNamedConfig("mainnet") }), "NETWORK_MISMATCH", /"minimal", this node runs "mainnet"/);
  assert.equal(err.type.code === "NETWORK_MISMATCH" && err.type.field, "configName");
  await rejectsWith(
    BeaconDb.open(dir, { config, genesisValidatorsRoot: root(2) }),
    "NETWORK_MISMATCH",
    new RegExp(`genesis validators root 0x${hex(root(1))}, this node's is 0x${hex(root(2))}`),
  );
  // the right network opens; without a root to check, too
  await (await BeaconDb.open(dir, { config, genesisValidatorsRoot: root(1) })).close();
  await (await BeaconDb.open(dir, { config })).close();

  // a root given to a database that has none is stored, then checked
  const dir2 = freshDir();
  await (await BeaconDb.open(dir2, { config })).close();
  await (await BeaconDb.open(dir2, { config, genesisValidatorsRoot: root(3) })).close();
  await rejectsWith(BeaconDb.open(dir2, { config, genesisValidatorsRoot: root(4) }), "NETWORK_MISMATCH");
});

test("corrupt or foreign meta is a clear error", async () => {
  // unreadable schema version
  const dir = freshDir();
  await (await BeaconDb.open(dir, { config })).close();
  let c = await DbController.open(dir);
  await c.put(metaKey("schemaVersion"), Uint8Array.of(0, 1, 2));
  await c.close();
  await rejectsWith(BeaconDb.open(dir, { config }), "CORRUPT_META", /meta "schemaVersion" is corrupt \(expected 4 bytes, got 3\)/);

  // missing config name
  const dir2 = freshDir();
  await (await BeaconDb.open(dir2, { config })).close();
  c = await DbController.open(dir2);
  await c.del(metaKey("configName"));
  await c.close();
  await rejectsWith(BeaconDb.open(dir2, { config }), "CORRUPT_META", /configName/);

  // a LevelDB database that Cairn did not write
  const dir3 = freshDir();
  c = await DbController.open(dir3);
  await c.put(Uint8Array.of(0x42), Uint8Array.of(1));
  await c.close();
  await rejectsWith(BeaconDb.open(dir3, { config }), "NOT_A_CAIRN_DB", /no Cairn schema version/);

  // a truncated checkpoint value: a typed error on read, the database stays usable
  await withDb(async (db) => {
    await db.putMeta("finalizedCheckpoint", { epoch: 3, root: root(1) });
    await db.controller.put(metaKey("finalizedCheckpoint"), new Uint8Array(39));
    await rejectsWith(db.getMeta("finalizedCheckpoint"), "CORRUPT_META", /expected 40 bytes, got 39/);
    await rejectsWith(db.getChainMeta(), "CORRUPT_META");
    await db.putMeta("headRoot", root(2));
    assertBytes((await db.getMeta("headRoot"))!, root(2));
  });
});

test("truncated or damaged values are a typed CORRUPT_VALUE error, not a crash", async () => {
  await withDb(async (db) => {
    const c = db.controller;
    const block = makeBlock(config, 5);
    const r = blockRoot(config, block);
    const good = makeBlock(config, 6);
    const goodRoot = blockRoot(config, good);
    await db.newBatch().putBlock(r, block).putBlock(goodRoot, good).putFinalizedBlock({ slot: 5, root: r, block }).commit();
    await db.putColdState(64, makeStateBytes(config, 64, 4));
    await db.putHotState(root(7), 70, makeStateBytes(config, 70, 4));

    const truncate = async (key: Uint8Array, by: number) => {
      const v = (await c.get(key))!;
      await c.put(key, v.slice(0, v.length - by));
    };
    // hot block truncated by one byte, by a whole exit (still decodable SSZ without the checksum), to its header
    const hotKey = rootKey(Bucket.hotBlock, r);
    const original = (await c.get(hotKey))!.slice();
    for (const by of [1, 112, original.length - 3]) {
      await c.put(hotKey, original);
      await truncate(hotKey, by);
      await rejectsWith(db.getBlock(r), "CORRUPT_VALUE", /corrupt hotBlock value at key 0x01/);
      await rejectsWith(db.getBlockBytes(r), "CORRUPT_VALUE");
      await rejectsWith(db.getBlocksBytes([r]), "CORRUPT_VALUE");
    }
    // a flipped bit
    const flipped = original.slice();
    flipped[flipped.length - 10] ^= 1;
    await c.put(hotKey, flipped);
    await rejectsWith(db.getBlock(r), "CORRUPT_VALUE", /checksum mismatch/);

    await truncate(slotKey(Bucket.finalizedBlock, 5), 1);
    await rejectsWith(db.getFinalizedBlockBySlot(5), "CORRUPT_VALUE", /finalizedBlock/);
    await rejectsWith(db.getFinalizedBlockByRoot(r), "CORRUPT_VALUE");
    await rejectsWith(db.getFinalizedBlocksByRange(0, 10), "CORRUPT_VALUE");
    await c.put(rootKey(Bucket.finalizedBlockRoot, r), Uint8Array.of(5));
    await rejectsWith(db.getFinalizedBlockByRoot(r), "CORRUPT_VALUE", /expected an 8-byte slot/);

    await truncate(slotKey(Bucket.coldState, 64), 1000);
    await rejectsWith(db.getColdState(64), "CORRUPT_VALUE", /coldState/);
    await rejectsWith(db.getLatestColdStateAtOrBefore(100), "CORRUPT_VALUE");
    await truncate(hotStateKey(70, root(7)), 1);
    await rejectsWith(db.getHotState(root(7)), "CORRUPT_VALUE", /hotState/);
    await rejectsWith(db.getLatestHotState(), "CORRUPT_VALUE");

    // a value with a valid checksum that is not a block
    await c.put(hotKey, Uint8Array.of(1, ...Buffer.from([0, 0, 0, 0])));
    await rejectsWith(db.getBlock(r), "CORRUPT_VALUE");

    // the rest of the database still reads
    assert.ok(types.SignedBeaconBlock.equals((await db.getBlock(goodRoot))!, good));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// kill -9

const writerScript = resolve(dirname(fileURLToPath(import.meta.url)), "../utils/dbKillWriter.js");

interface WriterRun {
  acks: number[];
  resumedAfter: number;
}

/** Runs the writer child until it has acknowledged `minAcks` batches (plus a random delay), then SIGKILLs it. */
function runWriterAndKill(dir: string, minAcks: number): Promise<WriterRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [writerScript, dir], { stdio: ["ignore", "pipe", "pipe"] });
    const acks: number[] = [];
    let resumedAfter: number | undefined;
    let buffered = "";
    let stderr = "";
    let killScheduled = false;
    const timeout = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`writer did not acknowledge ${minAcks} batches in time; stderr: ${stderr}`));
    }, 60_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const [word, n] = line.split(" ");
        if (word === "ready") resumedAfter = Number(n);
        else if (word === "ack") acks.push(Number(n));
      }
      if (!killScheduled && acks.length >= minAcks) {
        killScheduled = true;
        // kill at a random point of a later batch's write
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 15));
      }
    });
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timeout);
      if (signal !== "SIGKILL") {
        reject(new Error(`writer exited with code ${code} signal ${signal}; stderr: ${stderr}`));
        return;
      }
      if (resumedAfter === undefined) reject(new Error("writer never reported ready"));
      else resolvePromise({ acks, resumedAfter });
    });
  });
}

test("kill -9: every batch acknowledged before the kill is complete after reopening, and no batch is half written", { timeout: 180_000 }, async () => {
  const dir = freshDir();
  const template = makeStateBytes(config, 0, KILL_TEST_VALIDATORS);
  let expectedResume = -1;
  for (let round = 0; round < 3; round++) {
    const run = await runWriterAndKill(dir, 15);
    assert.equal(run.resumedAfter, expectedResume, `round ${round} resumes after the last persisted batch`);
    assert.ok(run.acks.length >= 15);
    const maxAck = run.acks[run.acks.length - 1];

    const db = await BeaconDb.open(dir, { config });
    try {
      // batches present, in order; each one whole
      let present = 0;
      for (let i = 0; ; i++) {
        const b = killTestBatch(config, template, i);
        const parts = await Promise.all([
          db.getBlockBytes(b.root),
          db.getFinalizedBlockBytesBySlot(b.slot),
          db.getFinalizedSlotByRoot(b.root),
          db.getHotState(b.root),
        ]);
        const have = parts.filter((p) => p !== null).length;
        if (have === 0) break;
        assert.equal(have, parts.length, `batch ${i} is half written (${have}/${parts.length} parts)`);
        assertBytes(parts[0] as Uint8Array, types.SignedBeaconBlock.serialize(b.block), `batch ${i} block`);
        assertBytes(parts[1] as Uint8Array, types.SignedBeaconBlock.serialize(b.block));
        assert.equal(parts[2], b.slot);
        assertBytes((parts[3] as { bytes: Uint8Array }).bytes, b.state, `batch ${i} state`);
        present = i + 1;
      }
      assert.ok(present - 1 >= maxAck, `round ${round}: acknowledged batch ${maxAck} lost (only ${present} present)`);
      // nothing after the first missing batch either
      for (let i = present; i < present + 3; i++) {
        assert.equal(await db.hasBlock(killTestBatch(config, template, i).root), false);
      }
      // the fork-choice meta came with the last batch, in the same write
      const last = killTestBatch(config, template, present - 1);
      const meta = await db.getChainMeta();
      assert.deepEqual(meta.finalizedCheckpoint, { epoch: present - 1, root: last.root });
      assertBytes(meta.headRoot, last.root);
      assert.equal((await db.getLatestHotState())?.slot, last.slot);
      expectedResume = present - 1;
    } finally {
      await db.close();
    }
  }
});
