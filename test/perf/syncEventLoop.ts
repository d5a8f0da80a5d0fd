// The event loop while a node range-syncs: a source chain built by the harness (every signature real), two nodes
// in this process over real libp2p on 127.0.0.1, the syncing one serving the REST API. While it syncs, the API is
// asked for /eth/v1/node/syncing and /eth/v1/beacon/headers/head every 20 ms and the event-loop delay is sampled.
// Prints one JSON line: blocks, blocks/s, event-loop p50/p99/max, API p50/p99/max.
//   node dist/test/perf/syncEventLoop.js [--slots 320] [--validators 64]
// The source node shares this process (it only reads and encodes blocks), so the figures are an upper bound.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { createBeaconApiServer } from "../../src/api/server/index.js";
import { BlsWorkerPool } from "../../src/chain/bls/pool.js";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { runHarness } from "../../src/chain/harness/harness.js";
import { OpPools } from "../../src/chain/opPools/index.js";
import { getNamedConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { Network } from "../../src/network/network.js";
import { createCachedBeaconState, createInteropGenesisStateFast } from "../../src/state-transition/index.js";
import { EventLoopDelayMonitor } from "../../src/util/eventLoop.js";
import { SlotClock } from "../../src/util/slotClock.js";

const { values } = parseArgs({ options: { slots: { type: "string", default: "320" }, validators: { type: "string", default: "64" } } });
const slots = Number(values.slots);
const validators = Number(values.validators);
const config = getNamedConfig("minimal");
const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "cairn-syncloop-"));
  dirs.push(d);
  return d;
};

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function node(chain: BeaconChain, db: BeaconDb, staticPeers: string[] = []) {
  const genesisTime = chain.anchorState.state.genesisTime;
  const offsetMs = Date.now() - (genesisTime + slots * config.SECONDS_PER_SLOT) * 1000;
  const clock = new SlotClock({ genesisTime, secondsPerSlot: config.SECONDS_PER_SLOT, slotsPerEpoch: config.SLOTS_PER_EPOCH, now: () => Date.now() - offsetMs });
  const pools = new OpPools(chain, { currentSlot: () => clock.currentSlot() });
  const network = await Network.create({ config, chain, db, pools, clock, privateKey: await generateKeyPair("secp256k1"), p2pPort: 0, discoveryPort: null, staticPeers, targetPeers: 4 });
  await network.start();
  return { network, clock, pools };
}

const sourceDir = tmp();
process.stderr.write(`building a ${slots}-slot chain with ${validators} validators...\n`);
await runHarness(config, { validators, slots, participation: 1, datadir: sourceDir, forkRate: 0, skipRate: 0.05, restartEvery: 0, signatures: true, seed: 11, checkHeadEvery: 0 });
const sourceDb = await BeaconDb.open(sourceDir, { config });
const source = await BeaconChain.fromDb(config, sourceDb, new MainThreadBlsVerifier());
const genesis = createInteropGenesisStateFast(config, validators, config.MIN_GENESIS_TIME, { signDeposits: true });
const targetDb = await BeaconDb.open(tmp(), { config });
const bls = new BlsWorkerPool();
const target = await BeaconChain.fromAnchorState(config, targetDb, bls, createCachedBeaconState(config, genesis), { now: () => (genesis.genesisTime + slots * config.SECONDS_PER_SLOT) * 1000 });
const b = await node(target, targetDb);
const api = await createBeaconApiServer({ chain: target, pools: b.pools, clock: b.clock, node: { version: "Cairn/perf", syncing: () => b.network.syncStatus() } });
const { port } = await api.listen("127.0.0.1", 0);
const base = `http://127.0.0.1:${port}`;

const loop = new EventLoopDelayMonitor(5);
const apiMs: number[] = [];
let polling = true;
const poller = (async () => {
  while (polling) {
    for (const path of ["/eth/v1/node/syncing", "/eth/v1/beacon/headers/head"]) {
      const t = performance.now();
      const res = await fetch(base + path);
      await res.arrayBuffer();
      apiMs.push(performance.now() - t);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
})();

const started = performance.now();
const a = await node(source, sourceDb, [b.network.libp2p.getMultiaddrs()[0].toString()]);
loop.reset();
while (target.headRoot !== source.headRoot) {
  if (performance.now() - started > 600_000) throw new Error(`not synced: target head ${target.query.headSlot}`);
  await new Promise((r) => setTimeout(r, 50));
}
const seconds = (performance.now() - started) / 1000;
const result = {
  blocks: b.network.rangeSync.blocksImported,
  headSlot: target.query.headSlot,
  seconds: Number(seconds.toFixed(1)),
  blocksPerSecond: Number((b.network.rangeSync.blocksImported / seconds).toFixed(1)),
  eventLoopP50Ms: Number(loop.percentileMs(50).toFixed(1)),
  eventLoopP99Ms: Number(loop.percentileMs(99).toFixed(1)),
  eventLoopMaxMs: Number(loop.maxMs().toFixed(1)),
  apiRequests: apiMs.length,
  apiP50Ms: Number(quantile(apiMs, 0.5).toFixed(1)),
  apiP99Ms: Number(quantile(apiMs, 0.99).toFixed(1)),
  apiMaxMs: Number(quantile(apiMs, 1).toFixed(1)),
};
polling = false;
await poller;
loop.close();
await api.close();
await b.network.stop();
await a.network.stop();
await target.close();
await source.close();
await bls.close();
await targetDb.close();
await sourceDb.close();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
console.log(JSON.stringify(result));
