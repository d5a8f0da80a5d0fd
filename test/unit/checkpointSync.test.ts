import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runHarness } from "../../src/chain/harness/harness.js";
import { BEACON_OPTIONS, parseCheckpointArgs } from "../../src/cli/commands/beacon.js";
import { optionsHelp } from "../../src/cli/options.js";
import { getNamedConfig } from "../../src/config/index.js";
import { loadCheckpoint, CheckpointSyncError } from "../../src/node/checkpointSync.js";
import { BeaconNode } from "../../src/node/node.js";
import { mainnetConfig } from "../../src/params/index.js";
import { computeWeakSubjectivityPeriod } from "../../src/state-transition/util/weakSubjectivity.js";
import { createLogger } from "../../src/util/logger.js";
import { fileTempDir } from "../utils/tempDir.js";

const config = getNamedConfig("minimal");
const dir = fileTempDir("cairn-ckpt-");
const SLOTS = 40;
let nodeA: BeaconNode;
let urlA: string;
/** the wall clock of both nodes: just after A's head */
let nowMs: number;

before(async () => {
  await runHarness(config, { validators: 64, slots: SLOTS, participation: 1, datadir: join(dir, "a", "chain"), forkRate: 0, skipRate: 0.1, restartEvery: 0, signatures: false, seed: 11, checkHeadEvery: 0 });
  nowMs = (config.MIN_GENESIS_TIME + (SLOTS + 2) * config.SECONDS_PER_SLOT) * 1000;
  nodeA = await BeaconNode.start({ config, datadir: join(dir, "a"), rest: { address: "127.0.0.1", port: 0 }, network: null, blsWorkers: 1, now: () => nowMs });
  urlA = `http://127.0.0.1:${nodeA.restPort}`;
  assert.ok(nodeA.chain.query.getFinalizedCheckpoint().epoch >= 2, "the source chain finalized");
});
after(async () => {
  await nodeA?.close();
});

async function getSsz(url: string): Promise<{ type: string | null; bytes: Uint8Array }> {
  const res = await fetch(url, { headers: { accept: "application/octet-stream" } });
  assert.equal(res.status, 200, url);
  return { type: res.headers.get("content-type"), bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** A server answering fixed paths with SSZ bodies (a string body: JSON). */
async function fakeServer(routes: Record<string, Uint8Array | string>): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = routes[req.url ?? ""];
    if (!body) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"code":404,"message":"not found"}');
      return;
    }
    if (typeof body === "string") {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(body);
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, server };
}

function lines(): { logger: ReturnType<typeof createLogger>; out: string[] } {
  const out: string[] = [];
  return { logger: createLogger({ level: "info", write: (l) => void out.push(l) }), out };
}

test("compute_weak_subjectivity_period matches the spec's table (mainnet)", () => {
  const table: [number, number][] = [[1024, 268], [4096, 307], [32768, 665], [65536, 1075], [131072, 1894], [262144, 3532], [524288, 3532]];
  for (const [n, period] of table) assert.equal(computeWeakSubjectivityPeriod(mainnetConfig, n), period, `${n} validators`);
});

describe("checkpoint sync from a node's REST API", () => {
  test("node B starts at node A's finalized checkpoint, serves the anchor block and state, 404s older blocks, and ignores the flags on restart", async () => {
    const finalized = nodeA.chain.query.getFinalizedCheckpoint();
    const { logger, out } = lines();
    const datadir = join(dir, "b");
    let nodeB = await BeaconNode.start({ config, datadir, checkpoint: { urls: [urlA, `${urlA}/`] }, rest: { address: "127.0.0.1", port: 0 }, network: null, blsWorkers: 1, now: () => nowMs, logger });
    try {
      assert.equal(nodeB.chain.anchorSummary.root, finalized.root);
      assert.deepEqual(nodeB.chain.query.getFinalizedCheckpoint(), finalized);
      assert.ok(out.some((l) => l.includes("downloaded the finalized state") && / bytes=\d+/.test(l)), "the download size is logged");
      const urlB = `http://127.0.0.1:${nodeB.restPort}`;
      // validator clients read the genesis facts: the same as A's
      assert.deepEqual(await (await fetch(`${urlB}/eth/v1/beacon/genesis`)).json(), await (await fetch(`${urlA}/eth/v1/beacon/genesis`)).json());
      // the anchor block, by root, as JSON and SSZ
      assert.equal((await fetch(`${urlB}/eth/v1/beacon/blocks/${finalized.root}`)).status, 200);
      const block = await getSsz(`${urlB}/eth/v2/beacon/blocks/${finalized.root}`);
      assert.deepEqual(block.bytes, (await getSsz(`${urlA}/eth/v2/beacon/blocks/${finalized.root}`)).bytes);
      // history before the anchor is not there (yet): 404
      const anchorSlot = nodeB.chain.anchorSummary.slot;
      const older = await nodeA.chain.query.getCanonicalBlockRootAtSlot(anchorSlot - 1) ?? (await nodeA.chain.query.getCanonicalBlockRootAtSlot(anchorSlot - 2))!;
      assert.equal((await fetch(`${urlA}/eth/v1/beacon/blocks/${older}`)).status, 200);
      assert.equal((await fetch(`${urlB}/eth/v1/beacon/blocks/${older}`)).status, 404);
      // B serves its finalized state as SSZ: the same state as A's, so a third node could start from B
      const stateB = await getSsz(`${urlB}/eth/v1/debug/beacon/states/finalized`);
      assert.equal(stateB.type, "application/octet-stream");
      assert.deepEqual(stateB.bytes, (await getSsz(`${urlA}/eth/v1/debug/beacon/states/finalized`)).bytes);
      // Lodestar asks for the head state's finality checkpoints (A's: B's head is still its anchor state, which
      // records an older finalized checkpoint), then the state at the checkpoint epoch's first slot
      const cp = (await (await fetch(`${urlA}/eth/v1/beacon/states/head/finality_checkpoints`)).json()) as { data: { finalized: { epoch: string; root: string } } };
      assert.deepEqual(cp.data.finalized, { epoch: String(finalized.epoch), root: finalized.root });
      assert.deepEqual((await getSsz(`${urlB}/eth/v2/debug/beacon/states/${finalized.epoch * config.SLOTS_PER_EPOCH}`)).bytes, stateB.bytes);
      // the backfill position starts at the anchor block, the genesis block root known from block_roots
      const pos = (await nodeB.db.getMeta("backfill"))!;
      assert.equal(pos.slot, anchorSlot);
      assert.equal(pos.complete, false);
      assert.ok(pos.genesisBlockRoot, "genesis block root known");
    } finally {
      await nodeB.close();
    }
    // a datadir that holds a chain: the flags are ignored, with one line
    const second = lines();
    nodeB = await BeaconNode.start({ config, datadir, checkpoint: { urls: ["http://127.0.0.1:9/unreachable"] }, rest: null, network: null, blsWorkers: 1, now: () => nowMs, logger: second.logger });
    try {
      assert.equal(nodeB.chain.anchorSummary.root, finalized.root);
      assert.equal(second.out.filter((l) => l.includes("checkpoint sync options ignored")).length, 1);
    } finally {
      await nodeB.close();
    }
  });

  test("two sources naming different checkpoints: refused, and nothing is written", async () => {
    const head = await getSsz(`${urlA}/eth/v1/debug/beacon/states/head`);
    const fake = await fakeServer({ "/eth/v1/debug/beacon/states/finalized": head.bytes });
    try {
      const datadir = join(dir, "c");
      await assert.rejects(
        BeaconNode.start({ config, datadir, checkpoint: { urls: [urlA, fake.url] }, rest: null, network: null, blsWorkers: 1, now: () => nowMs }),
        (e: Error) => e instanceof CheckpointSyncError && /sources disagree/.test(e.message) && e.message.includes(fake.url),
      );
      assert.equal(existsSync(join(datadir, "chain")), false, "nothing written");
    } finally {
      fake.server.close();
    }
  });

  test("a source that serves states only under /eth/v2/debug (v1 is deprecated since Altair) is used through that path", async () => {
    const finalized = nodeA.chain.query.getFinalizedCheckpoint();
    const state = await getSsz(`${urlA}/eth/v1/debug/beacon/states/finalized`);
    const block = await getSsz(`${urlA}/eth/v2/beacon/blocks/${finalized.root}`);
    const fake = await fakeServer({ "/eth/v2/debug/beacon/states/finalized": state.bytes, [`/eth/v2/beacon/blocks/${finalized.root}`]: block.bytes });
    try {
      const anchor = await loadCheckpoint({ urls: [fake.url] }, { config, now: () => nowMs });
      assert.equal(anchor.root, finalized.root);
      assert.equal(anchor.epoch, finalized.epoch);
    } finally {
      fake.server.close();
    }
  });

  test("a source that answers the block only in JSON (as Lodestar 1.5 does) is used; a JSON non-block is refused", async () => {
    const finalized = nodeA.chain.query.getFinalizedCheckpoint();
    const state = await getSsz(`${urlA}/eth/v1/debug/beacon/states/finalized`);
    const json = await (await fetch(`${urlA}/eth/v2/beacon/blocks/${finalized.root}`, { headers: { accept: "application/json" } })).text();
    const path = `/eth/v2/beacon/blocks/${finalized.root}`;
    const fake = await fakeServer({ "/eth/v1/debug/beacon/states/finalized": state.bytes, [path]: json });
    const bad = await fakeServer({ "/eth/v1/debug/beacon/states/finalized": state.bytes, [path]: '{"data":{"message":{}}}' });
    try {
      const anchor = await loadCheckpoint({ urls: [fake.url] }, { config, now: () => nowMs });
      assert.equal(anchor.root, finalized.root);
      await assert.rejects(loadCheckpoint({ urls: [bad.url] }, { config, now: () => nowMs }), /answered JSON that is not a phase 0 SignedBeaconBlock/);
    } finally {
      fake.server.close();
      bad.server.close();
    }
  });

  test("a block that is not the state's latest block is refused, over HTTP and from files", async () => {
    const finalized = nodeA.chain.query.getFinalizedCheckpoint();
    const state = await getSsz(`${urlA}/eth/v1/debug/beacon/states/finalized`);
    const headBlock = await getSsz(`${urlA}/eth/v2/beacon/blocks/head`);
    const fake = await fakeServer({
      "/eth/v1/debug/beacon/states/finalized": state.bytes,
      [`/eth/v1/beacon/blocks/${finalized.root}`]: headBlock.bytes,
    });
    try {
      await assert.rejects(loadCheckpoint({ urls: [fake.url] }, { config, now: () => nowMs }), /do not match: the state's latest block header/);
    } finally {
      fake.server.close();
    }
    // a state at its block's slot: the block's state_root must be the state's root
    const headRoot = nodeA.chain.headRoot;
    const headState = await getSsz(`${urlA}/eth/v1/debug/beacon/states/${nodeA.chain.query.getBlockSummary(headRoot)!.stateRoot}`);
    const signed = config.types.SignedBeaconBlock.deserialize(headBlock.bytes);
    const files = { stateFile: join(dir, "head-state.ssz"), blockFile: join(dir, "head-block.ssz") };
    writeFileSync(files.stateFile, headState.bytes);
    writeFileSync(files.blockFile, headBlock.bytes);
    const ok = await loadCheckpoint(files, { config, now: () => nowMs });
    assert.equal(ok.root, headRoot);
    assert.equal(ok.state.state.slot % config.SLOTS_PER_EPOCH, 0, "advanced to its epoch's first slot");
    signed.message.stateRoot = new Uint8Array(32).fill(7);
    writeFileSync(files.blockFile, config.types.SignedBeaconBlock.serialize(signed));
    await assert.rejects(loadCheckpoint(files, { config, now: () => nowMs }), /the block's state_root 0x0707.* is not the state's hash_tree_root/);
  });

  test("a state the chain cannot be in (fewer balances than validators, checkpoints out of order) is refused before any cache is built", async () => {
    const state = await getSsz(`${urlA}/eth/v1/debug/beacon/states/finalized`);
    const block = await getSsz(`${urlA}/eth/v1/beacon/blocks/${nodeA.chain.query.getFinalizedCheckpoint().root}`);
    const files = { stateFile: join(dir, "broken-state.ssz"), blockFile: join(dir, "broken-block.ssz") };
    writeFileSync(files.blockFile, block.bytes);
    const v = config.types.BeaconState.deserialize(state.bytes);
    v.balances.pop();
    writeFileSync(files.stateFile, config.types.BeaconState.serialize(v));
    await assert.rejects(loadCheckpoint(files, { config, now: () => nowMs }), (e: Error) => e instanceof CheckpointSyncError && /is refused: .*63 balances for 64 validators/.test(e.message));
    const w = config.types.BeaconState.deserialize(state.bytes);
    w.finalizedCheckpoint.epoch = w.currentJustifiedCheckpoint.epoch + 1;
    writeFileSync(files.stateFile, config.types.BeaconState.serialize(w));
    await assert.rejects(loadCheckpoint(files, { config, now: () => nowMs }), /checkpoints out of order: finalized/);
    // and a genesis state handed in as bytes, through the node
    const g = config.types.BeaconState.deserialize(state.bytes);
    g.latestBlockHeader.slot = g.slot + 1;
    await assert.rejects(
      BeaconNode.start({ config, datadir: join(dir, "never"), rest: null, network: null, blsWorkers: 1, genesisState: config.types.BeaconState.serialize(g) }),
      /the genesis state is refused: .*latest block header is at slot/,
    );
    assert.ok(!existsSync(join(dir, "never", "chain")), "nothing written");
  });

  test("a checkpoint older than the weak subjectivity period is refused, and accepted with force", async () => {
    const finalized = nodeA.chain.query.getFinalizedCheckpoint();
    const files = { stateFile: join(dir, "fin-state.ssz"), blockFile: join(dir, "fin-block.ssz") };
    writeFileSync(files.stateFile, (await getSsz(`${urlA}/eth/v1/debug/beacon/states/finalized`)).bytes);
    writeFileSync(files.blockFile, (await getSsz(`${urlA}/eth/v2/beacon/blocks/${finalized.root}`)).bytes);
    // 64 validators: the period is MIN_VALIDATOR_WITHDRAWABILITY_DELAY (256 epochs); 300 epochs later is too late
    const epochMs = config.SLOTS_PER_EPOCH * config.SECONDS_PER_SLOT * 1000;
    const later = (config.MIN_GENESIS_TIME * 1000) + (finalized.epoch + 300) * epochMs;
    await assert.rejects(
      loadCheckpoint(files, { config, now: () => later }),
      (e: Error) => /is 300 epochs old .*weak subjectivity period of 256 epochs.*--force/.test(e.message),
    );
    const { logger, out } = lines();
    const anchor = await loadCheckpoint({ ...files, force: true }, { config, now: () => later, logger });
    assert.equal(anchor.root, finalized.root);
    assert.ok(out.some((l) => l.includes("warn") && l.includes("--force")));
    // within the period: accepted without force
    const inTime = (config.MIN_GENESIS_TIME * 1000) + (finalized.epoch + 256) * epochMs;
    assert.equal((await loadCheckpoint(files, { config, now: () => inTime })).root, finalized.root);
  });

  test("a state of another network is refused", async () => {
    const files = { stateFile: join(dir, "fin-state.ssz"), blockFile: join(dir, "fin-block.ssz") };
    await assert.rejects(
      loadCheckpoint(files, { config, now: () => nowMs, network: { name: "pyrmont", genesisValidatorsRoot: `0x${"ab".repeat(32)}` } }),
      /not of pyrmont: its genesis_validators_root/,
    );
    await assert.rejects(loadCheckpoint(files, { config: getNamedConfig("mainnet"), now: () => nowMs }), /not a BeaconState for the mainnet config/);
  });

  test("oversized and non-SSZ responses are refused", async () => {
    const big = await fakeServer({ "/eth/v1/debug/beacon/states/finalized": new Uint8Array(4096) });
    try {
      await assert.rejects(loadCheckpoint({ urls: [big.url] }, { config, maxBytes: 1000 }), /would send 4096 bytes, more than the 1000 accepted/);
    } finally {
      big.server.close();
    }
    const json = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
    await new Promise<void>((r) => json.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(json.address() as { port: number }).port}`;
      await assert.rejects(loadCheckpoint({ urls: [url] }, { config }), /content-type "application\/json", not SSZ/);
    } finally {
      json.close();
    }
  });
});

test("cairn beacon's checkpoint flags: one source kind, state and block together, http(s) URLs, --force only with a checkpoint", () => {
  const base = { "checkpoint-sync-url": [] as string[], force: false };
  assert.equal(parseCheckpointArgs(base), undefined);
  assert.deepEqual(parseCheckpointArgs({ ...base, "checkpoint-sync-url": ["http://a:5052", "https://b"] }), { urls: ["http://a:5052", "https://b"], force: false });
  assert.deepEqual(parseCheckpointArgs({ ...base, "checkpoint-state": "s", "checkpoint-block": "b", force: true }), { stateFile: "s", blockFile: "b", force: true });
  assert.throws(() => parseCheckpointArgs({ ...base, "checkpoint-sync-url": ["http://a"], "checkpoint-state": "s", "checkpoint-block": "b" }), /not both/);
  assert.throws(() => parseCheckpointArgs({ ...base, "checkpoint-state": "s" }), /go together/);
  assert.throws(() => parseCheckpointArgs({ ...base, "checkpoint-sync-url": ["ftp://a"] }), /not an http\(s\) URL/);
  assert.throws(() => parseCheckpointArgs({ ...base, "checkpoint-sync-url": ["a b"] }), /is not a URL/);
  assert.throws(() => parseCheckpointArgs({ ...base, force: true }), /--force applies to checkpoint sync/);
  assert.throws(() => parseCheckpointArgs({ ...base, "checkpoint-sync-url": ["http://a"], "interop-validators": "64" }), /not both/);
  for (const f of ["--checkpoint-sync-url", "--checkpoint-state", "--checkpoint-block", "--force"]) assert.match(optionsHelp(BEACON_OPTIONS), new RegExp(`${f} `));
});
