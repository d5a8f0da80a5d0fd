// Two in-process nodes over real libp2p on 127.0.0.1: one holds a finalized chain, the other starts from genesis and
// range-syncs it through beacon_blocks_by_range (finalized part from the cold store, the rest from fork choice);
// then a peer reported "fatal" is banned and cannot connect again.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { runHarness } from "../../src/chain/harness/harness.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { createCachedBeaconState, createInteropGenesisStateFast } from "../../src/state-transition/index.js";
import { startTestNetwork } from "../utils/network.js";

const config = getNamedConfig("minimal");
const tmp = () => mkdtempSync(join(tmpdir(), "cairn-net-"));
const SLOTS = 40;

test("a node from genesis range-syncs a finalized chain from a peer; a fatal report bans the peer", { timeout: 120_000 }, async () => {
  const sourceDir = tmp();
  await runHarness(config, { validators: 64, slots: SLOTS, participation: 1, datadir: sourceDir, forkRate: 0, skipRate: 0.1, restartEvery: 0, signatures: true, seed: 9, checkHeadEvery: 0 });
  const sourceDb = await BeaconDb.open(sourceDir, { config });
  const source = await BeaconChain.fromDb(config, sourceDb, new MainThreadBlsVerifier());
  assert.ok(source.forkChoice.getFinalizedCheckpoint().epoch >= 2, "the source chain has a finalized (cold) part");

  const genesis = createInteropGenesisStateFast(config, 64, config.MIN_GENESIS_TIME, { signDeposits: true });
  const targetDb = await BeaconDb.open(tmp(), { config });
  const target = await BeaconChain.fromAnchorState(config, targetDb, new MainThreadBlsVerifier(), createCachedBeaconState(config, genesis));

  // b (syncing) has no static peers: a dials it (static peers are exempt from scoring, so the ban below needs an
  // ordinary peer)
  const b = await startTestNetwork(target, targetDb, { clockSlot: SLOTS });
  const a = await startTestNetwork(source, sourceDb, { clockSlot: SLOTS, staticPeers: [b.libp2p.getMultiaddrs()[0].toString()] });
  try {
    const end = Date.now() + 60_000;
    while (target.headRoot !== source.headRoot) {
      if (Date.now() > end) throw new Error(`not synced: target head ${target.forkChoice.getBlock(target.headRoot)?.slot}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(b.rangeSync.blocksImported > 0);
    assert.equal(target.forkChoice.getFinalizedCheckpoint().epoch, source.forkChoice.getFinalizedCheckpoint().epoch);

    // a fatal report: disconnected, banned, and the gater refuses the next connection either way (a keeps redialing b)
    const peerA = a.peerId;
    b.peerManager.reportPeer(peerA, "fatal", "test");
    const until = Date.now() + 10_000;
    while (b.libp2p.getConnections().some((c) => c.remotePeer.toString() === peerA)) {
      if (Date.now() > until) throw new Error("banned peer still connected");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(b.peerManager.isBanned(peerA));
    await assert.rejects(b.libp2p.dial(a.libp2p.getMultiaddrs()[0]), "dialing a banned peer is refused");
  } finally {
    await b.stop();
    await a.stop();
    await target.close();
    await source.close();
    await targetDb.close();
    await sourceDb.close();
  }
});
