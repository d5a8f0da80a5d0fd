import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { runHarness } from "../../src/chain/harness/harness.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { loadCheckpoint } from "../../src/node/checkpointSync.js";
import { BackfillSync } from "../../src/sync/backfill.js";
import type { PeerAction, SyncPeers } from "../../src/sync/rangeSync.js";
import type { Status } from "../../src/types/index.js";
import { toHex } from "../../src/util/bytes.js";
import { createLogger } from "../../src/util/logger.js";
import { fileTempDir } from "../utils/tempDir.js";
import { canonicalRange, startTestNetwork } from "../utils/network.js";

const config = getNamedConfig("minimal");
const dir = fileTempDir("cairn-backfill-");
const SLOTS = 40;
let source: BeaconChain;
let sourceDb: BeaconDb;
let files: { stateFile: string; blockFile: string };
let anchorSlot: number;
let dbCount = 0;

before(async () => {
  await runHarness(config, { validators: 64, slots: SLOTS, participation: 1, datadir: join(dir, "source"), forkRate: 0, skipRate: 0.15, restartEvery: 0, signatures: true, seed: 3, checkHeadEvery: 0 });
  sourceDb = await BeaconDb.open(join(dir, "source"), { config });
  source = await BeaconChain.fromDb(config, sourceDb, new MainThreadBlsVerifier());
  const fin = source.forkChoice.getFinalizedCheckpoint();
  assert.ok(fin.epoch >= 2);
  const state = await source.regen.getCheckpointState(fin.epoch, fin.root, "test");
  const block = (await source.query.getSignedBlock(fin.root))!;
  anchorSlot = block.message.slot;
  files = { stateFile: join(dir, "state.ssz"), blockFile: join(dir, "block.ssz") };
  writeFileSync(files.stateFile, state.state.serialize());
  writeFileSync(files.blockFile, config.types.SignedBeaconBlock.serialize(block));
});
after(async () => {
  await source.close();
  await sourceDb.close();
});

/** A checkpoint-synced chain (from the source's finalized checkpoint) in a fresh database. */
async function checkpointChain(opts: { genesisUnknown?: boolean } = {}): Promise<{ db: BeaconDb; path: string; chain: BeaconChain; close(): Promise<void> }> {
  const anchor = await loadCheckpoint(files, { config, now: () => (config.MIN_GENESIS_TIME + SLOTS * config.SECONDS_PER_SLOT) * 1000 });
  const path = join(dir, `b${dbCount++}`);
  const db = await BeaconDb.open(path, { config });
  const chain = await BeaconChain.fromAnchorState(config, db, new MainThreadBlsVerifier(), anchor.state, {}, { block: anchor.block, genesisBlockRoot: opts.genesisUnknown ? null : anchor.genesisBlockRoot });
  return { db, path, chain, close: async () => (await chain.close(), await db.close()) };
}

class FakePeers implements SyncPeers {
  statuses = new Map<string, Status>();
  reports: { peer: string; action: PeerAction; reason: string }[] = [];
  constructor(names: string[]) {
    for (const n of names) this.statuses.set(n, {} as Status);
  }
  getPeerStatuses() {
    return this.statuses;
  }
  reportPeer(peer: string, action: PeerAction, reason: string) {
    this.reports.push({ peer, action, reason });
  }
}

/** Every canonical block below the anchor is in `db`'s cold store, by slot and by root. */
async function assertHistoryComplete(db: BeaconDb): Promise<void> {
  const expected = await canonicalRange(source, 0, anchorSlot);
  assert.ok(expected.length > 10);
  for (const b of expected) {
    const root = config.types.BeaconBlock.hashTreeRoot(b.message);
    assert.equal(await db.getFinalizedSlotByRoot(root), b.message.slot, `block at slot ${b.message.slot}`);
  }
  const stored = await db.getFinalizedBlocksByRange(0, anchorSlot + 1);
  assert.deepEqual(
    stored.map((s) => s.slot),
    [...expected.map((b) => b.message.slot), anchorSlot],
  );
}

test("backfill fills the history from the anchor back to genesis, linked block by block", async () => {
  const b = await checkpointChain();
  try {
    assert.equal((await b.db.getFinalizedBlocksByRange(0, anchorSlot)).length, 0, "no history before backfill");
    const requests: { startSlot: number; count: number }[] = [];
    const sync = new BackfillSync({
      config,
      db: b.db,
      peers: new FakePeers(["a", "b"]),
      fetcher: { beaconBlocksByRange: async (_p, req) => (requests.push(req), canonicalRange(source, req.startSlot, req.count)) },
      batchSlots: 8,
      idleMs: 10,
    });
    sync.start();
    await sync.done();
    assert.equal(sync.complete, true);
    assert.ok(requests.length >= Math.floor(anchorSlot / 8), `batches: ${JSON.stringify(requests)}`);
    await assertHistoryComplete(b.db);
    const pos = (await b.db.getMeta("backfill"))!;
    assert.equal(pos.complete, true);
    assert.equal(toHex(pos.parentRoot), toHex(pos.genesisBlockRoot!), "the last parent is the genesis block");
  } finally {
    await b.close();
  }
});

test("a peer serving unlinked blocks is reported and its batch refused; the history comes from another peer", async () => {
  const b = await checkpointChain();
  try {
    const peers = new FakePeers(["bad", "good"]);
    const sync = new BackfillSync({
      config,
      db: b.db,
      peers,
      fetcher: {
        async beaconBlocksByRange(peer, req) {
          const blocks = await canonicalRange(source, req.startSlot, req.count);
          if (peer === "bad" && blocks.length > 1) {
            // a block altered below the first one: its root no longer is what its child names
            const i = blocks.length - 2;
            blocks[i] = { ...blocks[i], message: { ...blocks[i].message, body: { ...blocks[i].message.body, graffiti: new Uint8Array(32).fill(1) } } };
          }
          return blocks;
        },
      },
      batchSlots: 8,
      idleMs: 10,
    });
    sync.start();
    await sync.done();
    assert.ok(peers.reports.length > 0, "the bad peer was reported");
    assert.ok(peers.reports.every((r) => r.peer === "bad" && r.action === "lowTolerance"), JSON.stringify(peers.reports));
    assert.match(peers.reports[0].reason, /backfill: block at slot \d+ has root 0x[0-9a-f]+, the chain needs/);
    await assertHistoryComplete(b.db);
  } finally {
    await b.close();
  }
});

test("peers without the history (empty answers) are passed over without blame; with the genesis root unknown, slot 0 ends it", async () => {
  const b = await checkpointChain({ genesisUnknown: true });
  try {
    const peers = new FakePeers(["empty", "good"]);
    const lines: string[] = [];
    const sync = new BackfillSync({
      config,
      db: b.db,
      peers,
      fetcher: { beaconBlocksByRange: async (peer, req) => (peer === "empty" ? [] : canonicalRange(source, req.startSlot, req.count)) },
      batchSlots: 8,
      idleMs: 10,
      logger: createLogger({ level: "info", write: (l) => void lines.push(l) }),
    });
    sync.start();
    await sync.done();
    assert.deepEqual(peers.reports, []);
    assert.equal(sync.complete, true);
    assert.ok(lines.some((l) => l.includes("the genesis block root is unknown")));
    await assertHistoryComplete(b.db);
  } finally {
    await b.close();
  }
});

test("backfill resumes after a restart from the stored position, not from the anchor", async () => {
  let b = await checkpointChain();
  const peers = new FakePeers(["a"]);
  let first: BackfillSync;
  let served = 0;
  first = new BackfillSync({
    config,
    db: b.db,
    peers,
    fetcher: {
      async beaconBlocksByRange(_p, req) {
        // one batch, then the node stops (mid-way)
        if (served++ > 0) {
          void first.stop();
          throw new Error("shutting down");
        }
        return canonicalRange(source, req.startSlot, req.count);
      },
    },
    batchSlots: 8,
    idleMs: 10,
  });
  first.start();
  await first.done();
  const stored = (await b.db.getMeta("backfill"))!;
  assert.equal(stored.complete, false);
  assert.ok(stored.slot < anchorSlot && stored.slot > 0, `position ${stored.slot}`);
  await b.close();

  const db = await BeaconDb.open(b.path, { config });
  b = { ...b, db, close: () => db.close() };
  try {
    const requests: { startSlot: number; count: number }[] = [];
    const second = new BackfillSync({
      config,
      db,
      peers,
      fetcher: { beaconBlocksByRange: async (_p, req) => (requests.push(req), canonicalRange(source, req.startSlot, req.count)) },
      batchSlots: 8,
      idleMs: 10,
    });
    second.start();
    await second.done();
    assert.equal(requests[0].startSlot + requests[0].count, stored.slot, "the first request ends at the stored position");
    assert.equal(second.complete, true);
    await assertHistoryComplete(db);
  } finally {
    await b.close();
  }
});

test("over libp2p: a checkpoint-synced node range-syncs forward from its anchor and backfills to genesis from a Cairn peer", { timeout: 120_000 }, async () => {
  const b = await checkpointChain();
  const target = await startTestNetwork(b.chain, b.db, { clockSlot: SLOTS });
  const peer = await startTestNetwork(source, sourceDb, { clockSlot: SLOTS, staticPeers: [target.libp2p.getMultiaddrs()[0].toString()] });
  try {
    const end = Date.now() + 60_000;
    while (b.chain.headRoot !== source.headRoot || target.backfill.complete !== true) {
      if (Date.now() > end) throw new Error(`not synced: head ${b.chain.query.headSlot}, backfill ${JSON.stringify(target.backfill.progress())}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(target.rangeSync.blocksImported > 0, "synced forward from the anchor");
    await assertHistoryComplete(b.db);
    // the backfilled node serves the whole history by range, as the source does
    const served = async (chain: BeaconChain) => {
      const out: string[] = [];
      for await (const bytes of chain.query.getBlockBytesByRange(1, anchorSlot, 1)) out.push(toHex(bytes));
      return out;
    };
    assert.deepEqual(await served(b.chain), await served(source));
  } finally {
    await peer.stop();
    await target.stop();
    await b.close();
  }
});
