import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { runHarness } from "../../src/chain/harness/harness.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { createCachedBeaconState, createInteropGenesisStateFast } from "../../src/state-transition/index.js";
import { RangeSync, type PeerAction, type SyncFetcher, type SyncPeers } from "../../src/sync/rangeSync.js";
import type { Status } from "../../src/types/index.js";
import { createLogger, nullLogger } from "../../src/util/logger.js";
import { makeSignedEmptyBlock } from "../utils/chain.js";
import { canonicalRange } from "../utils/network.js";

const config = getNamedConfig("minimal");
const tmp = () => mkdtempSync(join(tmpdir(), "cairn-sync-"));
const SLOTS = 48;
let source: BeaconChain;
let sourceDb: BeaconDb;

before(async () => {
  const datadir = tmp();
  await runHarness(config, { validators: 64, slots: SLOTS, participation: 1, datadir, forkRate: 0, skipRate: 0.1, restartEvery: 0, signatures: true, seed: 5, checkHeadEvery: 0 });
  sourceDb = await BeaconDb.open(datadir, { config });
  source = await BeaconChain.fromDb(config, sourceDb, new MainThreadBlsVerifier());
});
after(async () => {
  await source.close();
  await sourceDb.close();
});

async function freshChain(): Promise<{ chain: BeaconChain; close(): Promise<void> }> {
  const genesis = createInteropGenesisStateFast(config, 64, config.MIN_GENESIS_TIME, { signDeposits: true });
  const db = await BeaconDb.open(tmp(), { config });
  const chain = await BeaconChain.fromAnchorState(config, db, new MainThreadBlsVerifier(), createCachedBeaconState(config, genesis));
  return { chain, close: async () => (await chain.close(), await db.close()) };
}

function sourceStatus(): Status {
  const head = source.forkChoice.getBlock(source.headRoot)!;
  const fin = source.forkChoice.getFinalizedCheckpoint();
  return {
    forkDigest: new Uint8Array(4),
    finalizedRoot: Buffer.from(fin.root.slice(2), "hex"),
    finalizedEpoch: fin.epoch,
    headRoot: Buffer.from(head.root.slice(2), "hex"),
    headSlot: head.slot,
  };
}

class FakePeers implements SyncPeers {
  statuses = new Map<string, Status>();
  reports: { peer: string; action: PeerAction }[] = [];
  getPeerStatuses() {
    return this.statuses;
  }
  reportPeer(peer: string, action: PeerAction) {
    this.reports.push({ peer, action });
  }
}

async function syncUntil(sync: RangeSync, chain: BeaconChain, slot: number, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while ((chain.forkChoice.getBlock(chain.headRoot)?.slot ?? 0) < slot) {
    if (Date.now() > end) throw new Error(`sync did not reach slot ${slot} (head ${chain.forkChoice.getBlock(chain.headRoot)?.slot})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dbg = process.env["CAIRN_TEST_DEBUG"] === "1" ? createLogger({ level: "debug", module: "sync" }) : nullLogger;
const headSlot = () => source.forkChoice.getBlock(source.headRoot)!.slot;

test("range sync reaches the peers' head; a peer that drops mid-way costs a batch, not a restart", async () => {
  const { chain, close } = await freshChain();
  const peers = new FakePeers();
  peers.statuses.set("a", sourceStatus()).set("b", sourceStatus());
  const requests: { peer: string; startSlot: number; ok: boolean }[] = [];
  let aCalls = 0;
  const fetcher: SyncFetcher = {
    async beaconBlocksByRange(peer, req) {
      if (peer === "a" && ++aCalls > 2) {
        peers.statuses.delete("a"); // disconnected
        requests.push({ peer, startSlot: req.startSlot, ok: false });
        throw new Error("peer a went away");
      }
      requests.push({ peer, startSlot: req.startSlot, ok: true });
      return canonicalRange(source, req.startSlot, req.count);
    },
    beaconBlocksByRoot: async () => [],
  };
  const sync = new RangeSync({ config, chain, peers, fetcher, currentSlot: () => headSlot(), idleMs: 50, maxBatchesAhead: 2, batchSlots: 8 });
  sync.start();
  try {
    await syncUntil(sync, chain, headSlot());
    assert.equal(chain.headRoot, source.headRoot);
    assert.ok(requests.some((r) => !r.ok), "peer a failed at least once");
    // every batch start was downloaded successfully once: nothing re-fetched from genesis or finality
    const okStarts = requests.filter((r) => r.ok).map((r) => r.startSlot);
    assert.equal(new Set(okStarts).size, okStarts.length, `starts fetched twice: ${okStarts}`);
    assert.deepEqual([...okStarts].sort((x, y) => x - y), okStarts.slice().sort((x, y) => x - y));
    assert.ok(sync.blocksImported > 0);
  } finally {
    await sync.stop();
    await close();
  }
});

test("a peer serving bad signatures or invalid blocks is reported, invalid roots remembered, and sync completes from another peer", async () => {
  const { chain, close } = await freshChain();
  const peers = new FakePeers();
  peers.statuses.set("bad", sourceStatus()).set("good", sourceStatus());
  let badCalls = 0;
  const fetcher: SyncFetcher = {
    async beaconBlocksByRange(peer, req) {
      const blocks = await canonicalRange(source, req.startSlot, req.count);
      if (peer === "bad" && blocks.length > 0) {
        // one batch with a forged signature, the next with a message that fails the state transition
        if (++badCalls % 2 === 1) blocks[0] = { message: blocks[0].message, signature: new Uint8Array(96).fill(0x11) };
        else blocks[0] = { message: { ...blocks[0].message, stateRoot: new Uint8Array(32).fill(7) }, signature: blocks[0].signature };
      }
      return blocks;
    },
    beaconBlocksByRoot: async () => [],
  };
  const sync = new RangeSync({ config, chain, peers, fetcher, currentSlot: () => headSlot(), idleMs: 50, maxBatchesAhead: 1, logger: dbg });
  sync.start();
  try {
    await syncUntil(sync, chain, headSlot());
    assert.equal(chain.headRoot, source.headRoot);
    assert.ok(peers.reports.some((r) => r.peer === "bad"), "bad peer reported");
    assert.ok(!peers.reports.some((r) => r.peer === "good"), "good peer not reported");
    assert.ok(badCalls >= 2 && chain.invalidBlocks.size >= 1, `invalid roots remembered: ${chain.invalidBlocks.size}`);
  } finally {
    await sync.stop();
    await close();
  }
});

test("when the local head is on another fork, sync finds the common ancestor and switches", async () => {
  const { chain, close } = await freshChain();
  // a local block at the source's first block slot, which the peers never saw
  let first = 1;
  while (!(await source.query.getCanonicalBlockRootAtSlot(first))) first++;
  const fork = makeSignedEmptyBlock(chain.anchorState, first, { graffiti: new Uint8Array(32).fill(0x66) });
  await chain.processBlock({ signed: fork, source: "test" });
  assert.notEqual(chain.headRoot, await source.query.getCanonicalBlockRootAtSlot(first), "the local block differs from the peers'");
  const peers = new FakePeers();
  peers.statuses.set("a", sourceStatus());
  const starts: number[] = [];
  const fetcher: SyncFetcher = {
    async beaconBlocksByRange(_peer, req) {
      starts.push(req.startSlot);
      return canonicalRange(source, req.startSlot, req.count);
    },
    beaconBlocksByRoot: async () => [],
  };
  const sync = new RangeSync({ config, chain, peers, fetcher, currentSlot: () => headSlot(), idleMs: 50, logger: dbg });
  sync.start();
  try {
    await syncUntil(sync, chain, headSlot());
    assert.equal(chain.headRoot, source.headRoot);
    assert.equal(starts[0], first + 1, `first try continues from the local head: ${starts}`);
    assert.ok(starts.includes(1), `then steps back to the common ancestor: ${starts}`);
  } finally {
    await sync.stop();
    await close();
  }
});
