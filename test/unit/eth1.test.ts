// Eth1: deposit log decoding, the JSON-RPC client against local fake endpoints, the deposit follower on a fake
// eth1 chain (follow distance, restart, gaps), get_eth1_vote, and block production with deposits and proofs.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { join } from "node:path";
import { createBeaconConfig, getNamedConfig } from "../../src/config/index.js";
import { nullLogger } from "../../src/util/logger.js";
import { BeaconDb } from "../../src/db/index.js";
import { sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { produceBlock } from "../../src/chain/produceBlock.js";
import {
  DEPOSIT_EVENT_TOPIC,
  decodeDepositLog,
  encodeDepositLogData,
  DbEth1Store,
  depositDataJson,
  parseDepositDataJson,
  waitForEth1Genesis,
  Eth1Follower,
  Eth1Rpc,
  MemoryEth1Store,
  type Eth1Block,
  type Eth1Store,
  type Eth1Log,
} from "../../src/eth1/index.js";
import {
  createCachedBeaconState,
  createInteropGenesisState,
  DepositTree,
  getEth1Vote,
  interopDepositData,
  processBlock,
  processSlots,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { computeDomain, computeSigningRoot } from "../../src/state-transition/util/domain.js";
import type { DepositData, Eth1Data } from "../../src/types/index.js";
import { fromHex, toHex } from "../../src/util/bytes.js";
import { fileTempDir } from "../utils/tempDir.js";

const c = getNamedConfig("minimal");
const CONTRACT = "0x1234567890123456789012345678901234567890";
const GENESIS_VALIDATORS = 16;
const tmp = fileTempDir("cairn-eth1-");

function log(blockNumber: number, logIndex: number, data: Uint8Array): Eth1Log {
  const h = new Uint8Array(32);
  h[0] = blockNumber;
  return { blockNumber, blockHash: h, transactionHash: h, logIndex, data, topics: [fromHex(DEPOSIT_EVENT_TOPIC)], removed: false };
}

/** A new validator's deposit, signed (or not) with interop key `index`. */
function newDeposit(index: number, goodSignature = true): DepositData {
  const sk = interopSecretKey(index);
  const pubkey = sk.toPublicKey().toBytes();
  const withdrawalCredentials = new Uint8Array(32);
  const message = { pubkey, withdrawalCredentials, amount: c.MAX_EFFECTIVE_BALANCE };
  const root = computeSigningRoot(c, c.types.DepositMessage, message, computeDomain(c, c.DOMAIN_DEPOSIT));
  // a bad signature: a valid one, over another message
  return { ...message, signature: sign(sk, goodSignature ? root : new Uint8Array(32)) };
}

/** An eth1 chain in memory: blocks every 14 s from `t0`, deposit logs at chosen blocks. */
class FakeEth1 {
  head = 60;
  maxLogsRange = 7;
  logs: Eth1Log[] = [];
  logRequests: [number, number][] = [];
  constructor(readonly t0: number) {}
  block(n: number): Eth1Block {
    const hash = (k: number) => Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? k & 0xff : i === 1 ? k >> 8 : 0x11));
    return { number: n, hash: hash(n), parentHash: hash(n - 1), timestamp: this.t0 + 14 * n };
  }
  addDeposits(blockNumber: number, datas: DepositData[]): void {
    for (const d of datas) this.logs.push(log(blockNumber, this.logs.length, encodeDepositLogData(d, this.logs.length)));
  }
  async blockNumber() {
    return this.head;
  }
  async getBlockByNumber(n: number | "latest") {
    const k = n === "latest" ? this.head : n;
    return k <= this.head ? this.block(k) : null;
  }
  async getLogs(_address: string, _topic: string, from: number, to: number) {
    assert.ok(to - from + 1 <= this.maxLogsRange, "bounded log range");
    this.logRequests.push([from, to]);
    return this.logs.filter((l) => l.blockNumber >= from && l.blockNumber <= to);
  }
}

describe("deposit logs", () => {
  const data = newDeposit(3);
  test("decode what the contract emits, field for field", () => {
    const ev = decodeDepositLog(log(9, 0, encodeDepositLogData(data, 77)));
    assert.equal(ev.index, 77);
    assert.equal(ev.blockNumber, 9);
    assert.equal(ev.data.amount, c.MAX_EFFECTIVE_BALANCE);
    assert.equal(toHex(ev.data.pubkey), toHex(data.pubkey));
    assert.equal(toHex(ev.data.signature), toHex(data.signature));
    assert.equal(encodeDepositLogData(data, 0).length, 576);
  });
  test("refuse anything but the canonical layout with a one-line error", () => {
    const bytes = encodeDepositLogData(data, 1);
    const bad = (mutate: (b: Uint8Array) => Uint8Array, re: RegExp) => {
      const b = mutate(Uint8Array.from(bytes));
      assert.throws(() => decodeDepositLog(log(9, 2, b)), (e: Error) => re.test(e.message) && /deposit log 2 of block 9/.test(e.message) && !e.message.includes("\n"));
    };
    bad((b) => b.subarray(0, 575), /575 bytes, expected 576/);
    bad((b) => ((b[31] = 0xa1), b), /field 0 at offset 161/);
    bad((b) => ((b[160 + 31] = 47), b), /field 0 is 47 bytes/);
    bad((b) => ((b[160 + 32 + 50] = 1), b), /nonzero padding/);
    const other = log(9, 2, bytes);
    other.topics = [new Uint8Array(32)];
    assert.throws(() => decodeDepositLog(other), /not a DepositEvent/);
  });
});

describe("Eth1Rpc", () => {
  let servers: Server[] = [];
  const answers: Record<string, (method: string) => unknown> = {};
  const listen = (name: string) =>
    new Promise<string>((resolve) => {
      const s = createServer((req, res) => {
        let body = "";
        req.on("data", (d) => (body += d));
        req.on("end", () => {
          const { id, method } = JSON.parse(body);
          const answer = answers[name](method);
          const raw = (answer as { raw?: string } | null)?.raw;
          res.end(raw ?? JSON.stringify({ jsonrpc: "2.0", id, result: answer }));
        });
      });
      servers.push(s);
      s.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}`));
    });
  let good: string, wrongChain: string, garbage: string;
  before(async () => {
    answers.good = (m) => (m === "eth_chainId" ? "0x5" : m === "eth_blockNumber" ? "0x2a" : null);
    answers.wrongChain = (m) => (m === "eth_chainId" ? "0x1" : "0x1");
    answers.garbage = (m) => (m === "eth_chainId" ? "0x5" : { raw: "<html>busy</html>" });
    [good, wrongChain, garbage] = [await listen("good"), await listen("wrongChain"), await listen("garbage")];
  });
  after(() => servers.forEach((s) => s.close()));

  test("falls back from a dead endpoint to the next one", async () => {
    const rpc = new Eth1Rpc({ endpoints: ["http://127.0.0.1:1", good], chainId: 5, retries: 1, timeoutMs: 2000 });
    assert.equal(await rpc.blockNumber(), 42);
  });
  test("a wrong chain id is a one-line error naming the endpoint", async () => {
    const rpc = new Eth1Rpc({ endpoints: [wrongChain], chainId: 5, retries: 1 });
    await assert.rejects(rpc.blockNumber(), (e: Error) => e.message === `eth1 endpoint ${wrongChain}: chain id 1, expected 5 (DEPOSIT_CHAIN_ID)`);
  });
  test("an endpoint on the wrong chain is skipped for the good one, and not asked again in the same call", async () => {
    const rpc = new Eth1Rpc({ endpoints: [wrongChain, good], chainId: 5, retries: 3, backoffMs: 1 });
    assert.equal(await rpc.blockNumber(), 42);
  });
  test("garbage answers are one-line errors naming the endpoint and the call", async () => {
    const rpc = new Eth1Rpc({ endpoints: [garbage], chainId: 5, retries: 2, backoffMs: 1 });
    await assert.rejects(rpc.blockNumber(), (e: Error) => e.message.startsWith(`eth1 endpoint ${garbage}: eth_blockNumber: the answer is not JSON`));
    answers.garbage = (m) => (m === "eth_chainId" ? "0x5" : "0x01");
    await assert.rejects(rpc.blockNumber(), /eth_blockNumber: malformed answer \("0x01" is not a quantity\)/);
  });
  test("bad endpoints are refused at construction", () => {
    assert.throws(() => new Eth1Rpc({ endpoints: [] }), /no eth1 endpoint/);
    assert.throws(() => new Eth1Rpc({ endpoints: ["ws://x"] }), /only http/);
  });
});

describe("deposit follower", () => {
  const t0 = 1_600_000_000;
  const genesisData = Array.from({ length: GENESIS_VALIDATORS }, (_, i) => interopDepositData(c, i));
  const follower = (eth1: FakeEth1, store: Eth1Store = new MemoryEth1Store()) =>
    new Eth1Follower({ config: c, rpc: eth1, depositContract: CONTRACT, depositBlock: 1, store });

  test("follows only to head - ETH1_FOLLOW_DISTANCE, in bounded ranges, and resumes after a restart", async () => {
    const eth1 = new FakeEth1(t0);
    eth1.addDeposits(2, genesisData);
    eth1.addDeposits(50, [newDeposit(20)]); // beyond the follow distance at head 60
    const store = new MemoryEth1Store();
    const f = follower(eth1, store);
    await f.init();
    assert.equal(await f.update(), 60 - c.ETH1_FOLLOW_DISTANCE);
    assert.equal(f.depositCount, GENESIS_VALIDATORS);
    assert.equal(eth1.logRequests[0][0], 1);
    assert.equal(f.blocks.at(-1)?.number, 44);
    assert.equal(f.blocks.find((b) => b.number === 1)?.depositCount, 0);
    assert.equal(f.blocks.find((b) => b.number === 2)?.depositCount, GENESIS_VALIDATORS);

    // a restart: the store's deposits, then on from block 45
    eth1.head = 70;
    eth1.logRequests = [];
    const g = follower(eth1, store);
    await g.init();
    assert.equal(g.depositCount, GENESIS_VALIDATORS);
    assert.equal(g.followedBlock, 44);
    await g.update();
    assert.equal(eth1.logRequests[0][0], 45);
    assert.equal(g.depositCount, GENESIS_VALIDATORS + 1);
    const expected = new DepositTree();
    for (const d of [...genesisData, newDeposit(20)]) expected.push(c.types.DepositData.hashTreeRoot(d));
    assert.equal(toHex(g.tree.getRoot()), toHex(expected.getRoot()));
    // the store refuses another contract
    const other = new Eth1Follower({ config: c, rpc: eth1, depositContract: "0x" + "ab".repeat(20), depositBlock: 1, store });
    await assert.rejects(other.init(), /followed deposit contract 0x1234.*not 0xabab/);
  });

  test("the beacon database keeps the deposits and the followed block across a reopen", async () => {
    const eth1 = new FakeEth1(t0);
    eth1.addDeposits(2, genesisData.slice(0, 5));
    eth1.addDeposits(9, genesisData.slice(5, 7));
    const dir = join(tmp, "db");
    let db = await BeaconDb.open(dir, { config: c });
    const f = follower(eth1, new DbEth1Store(db));
    await f.init();
    await f.update();
    await db.close();
    db = await BeaconDb.open(dir, { config: c });
    const g = follower(eth1, new DbEth1Store(db));
    await g.init();
    assert.equal(g.depositCount, 7);
    assert.equal(g.followedBlock, 44);
    assert.equal(g.getDeposit(6).blockNumber, 9);
    assert.equal(toHex(g.tree.getRoot()), toHex(f.tree.getRoot()));
    await db.close();
  });

  test("a gap in deposit indices is an error and nothing of that range is kept", async () => {
    const eth1 = new FakeEth1(t0);
    eth1.addDeposits(2, genesisData.slice(0, 3));
    eth1.logs.splice(1, 1); // index 1 missing
    const store = new MemoryEth1Store();
    const f = follower(eth1, store);
    await f.init();
    await assert.rejects(f.update(), /index 2 where 1 was expected/);
    assert.equal(f.depositCount, 0);
    assert.equal(store.deposits.length, 0);
    assert.equal(f.followedBlock, 0);
    // a log the endpoint reports as removed by a reorg is refused too
    eth1.logs.splice(1, 0, { ...log(2, 1, encodeDepositLogData(genesisData[1], 1)), removed: true });
    await assert.rejects(f.update(), /removed by a reorg deeper than ETH1_FOLLOW_DISTANCE/);
    assert.equal(store.deposits.length, 0);
  });
});

describe("eth1 vote and deposits in block production", () => {
  // genesis at t0 + 600: eth1 block n (t0 + 14n) is a candidate for the first voting period when
  // t0 + 14n in [genesis - 2 * 16 * 14, genesis - 16 * 14], i.e. blocks 11..26
  const t0 = 1_600_000_000;
  const genesisTime = t0 + 600;
  let eth1: FakeEth1;
  let f: Eth1Follower;
  let pre: CachedBeaconState;
  const dataOf = (n: number): Eth1Data => {
    const b = f.blocks.find((x) => x.number === n)!;
    return { depositRoot: b.depositRoot, depositCount: BigInt(b.depositCount), blockHash: b.blockHash };
  };
  const withVotes = (votes: Eth1Data[]): CachedBeaconState => {
    const s = pre.clone();
    for (const v of votes) s.state.eth1DataVotes.push(c.types.Eth1Data.toViewDU(v));
    s.state.commit();
    return s;
  };

  before(async () => {
    eth1 = new FakeEth1(t0);
    eth1.addDeposits(2, Array.from({ length: GENESIS_VALIDATORS }, (_, i) => interopDepositData(c, i)));
    eth1.addDeposits(20, [newDeposit(GENESIS_VALIDATORS), newDeposit(GENESIS_VALIDATORS + 1, false)]);
    eth1.addDeposits(30, [newDeposit(GENESIS_VALIDATORS + 2)]);
    f = new Eth1Follower({ config: c, rpc: eth1, depositContract: CONTRACT, depositBlock: 1, store: new MemoryEth1Store() });
    await f.init();
    await f.update();
    pre = createCachedBeaconState(c, createInteropGenesisState(c, GENESIS_VALIDATORS, genesisTime));
    processSlots(pre, 1);
    // the interop genesis' deposit root is the contract's after the same 16 deposits
    assert.equal(toHex(pre.state.eth1Data.depositRoot), toHex(f.tree.getRoot(GENESIS_VALIDATORS)));
  });

  test("default vote: the newest candidate block; the state's eth1_data when none", () => {
    assert.deepEqual(getEth1Vote(c, pre.state, f.blocks), dataOf(26));
    assert.equal(dataOf(26).depositCount, BigInt(GENESIS_VALIDATORS + 2));
    assert.deepEqual(getEth1Vote(c, pre.state, []), pre.state.eth1Data.toValue());
    // blocks too new for this period are no candidates
    assert.deepEqual(getEth1Vote(c, pre.state, f.blocks.filter((b) => b.number > 26)), pre.state.eth1Data.toValue());
  });

  test("the most voted valid vote wins, ties to the earliest, invalid votes ignored", () => {
    const [a, b, tooNew, tooOld] = [dataOf(12), dataOf(21), dataOf(40), dataOf(5)];
    assert.deepEqual(getEth1Vote(c, withVotes([b, a, a, b]).state, f.blocks), b);
    assert.deepEqual(getEth1Vote(c, withVotes([b, a, a]).state, f.blocks), a);
    assert.deepEqual(getEth1Vote(c, withVotes([tooNew, tooNew, tooOld, tooOld, tooOld, a]).state, f.blocks), a);
    // a candidate with fewer deposits than the state's eth1_data is not valid
    const fewer = { ...dataOf(15), depositCount: BigInt(GENESIS_VALIDATORS - 1) };
    assert.deepEqual(getEth1Vote(c, withVotes([fewer, fewer]).state, f.blocks), dataOf(26));
  });

  test("without a majority the block repeats no deposits; with it, the pending ones with proofs", () => {
    const none = f.getEth1DataAndDeposits(pre);
    assert.equal(none.deposits.length, 0, "eth1_data does not change with one vote");

    const target = dataOf(26);
    const half = (c.EPOCHS_PER_ETH1_VOTING_PERIOD * c.SLOTS_PER_EPOCH) / 2;
    const voted = withVotes(Array.from({ length: half }, () => target));
    const { eth1Data, deposits } = f.getEth1DataAndDeposits(voted);
    assert.deepEqual(eth1Data, target);
    assert.equal(deposits.length, 2);
    const { block, post } = produceBlock(voted, { randaoReveal: new Uint8Array(96), eth1Data, deposits });
    assert.equal(block.body.deposits.length, 2);
    assert.equal(post.state.eth1DepositIndex, GENESIS_VALIDATORS + 2);
    // the good deposit became a validator (pending activation); the badly signed one was consumed, not added
    assert.equal(post.state.validators.length, GENESIS_VALIDATORS + 1);
    assert.equal(toHex(post.state.validators.get(GENESIS_VALIDATORS).pubkey), toHex(newDeposit(GENESIS_VALIDATORS).pubkey));
    assert.equal(post.state.validators.get(GENESIS_VALIDATORS).activationEpoch, Infinity);

    // the state transition checks the proofs: the same block on a fresh copy passes, a damaged proof fails
    processBlock(voted.clone(), block, false);
    const damaged = structuredClone(block);
    damaged.body.deposits[1].proof[3] = new Uint8Array(32);
    assert.throws(() => processBlock(voted.clone(), damaged, false), /invalid merkle proof/);
  });

  test("a follower behind the state's eth1_data refuses to build a block that cannot be valid", () => {
    const behind = new Eth1Follower({ config: c, rpc: eth1, depositContract: CONTRACT, depositBlock: 1, store: new MemoryEth1Store() });
    const s = pre.clone();
    s.state.eth1Data = c.types.Eth1Data.toViewDU(dataOf(26));
    s.state.commit();
    assert.throws(() => behind.getEth1DataAndDeposits(s), /the deposit tree only 0: the eth1 follower is behind/);
  });
});

describe("genesis from eth1", () => {
  const t0 = 1_600_000_000;
  // 8 validators are enough here; MIN_GENESIS_TIME lands between eth1 blocks 30 and 31
  const gc = createBeaconConfig({ ...c, MIN_GENESIS_ACTIVE_VALIDATOR_COUNT: 8, MIN_GENESIS_TIME: t0 + 14 * 30 + 1 + c.GENESIS_DELAY });

  test("the first block with enough valid validators and late enough; a bad signature does not count", async () => {
    const eth1 = new FakeEth1(t0);
    eth1.head = 80;
    const data = (i: number) => interopDepositData(gc, i);
    eth1.addDeposits(3, Array.from({ length: 7 }, (_, i) => data(i)));
    eth1.addDeposits(10, [newDeposit(7, false)]); // the 8th pubkey, badly signed: not yet 8 validators
    eth1.addDeposits(40, [data(8)]);
    const f = new Eth1Follower({ config: gc, rpc: eth1, depositContract: CONTRACT, depositBlock: 1, store: new MemoryEth1Store() });
    await f.init();
    const state = await waitForEth1Genesis({ config: gc, follower: f, rpc: eth1, now: () => t0 + 10_000, pollMs: 1 });
    // block 31 is late enough but still has 7 valid validators: genesis waits for the deposit in block 40
    assert.equal(toHex(state.eth1Data.blockHash), toHex(eth1.block(40).hash));
    assert.equal(state.genesisTime, eth1.block(40).timestamp + gc.GENESIS_DELAY);
    assert.equal(state.validators.length, 8);
    assert.equal(state.eth1Data.depositCount, 9n);
    assert.equal(toHex(state.eth1Data.depositRoot), toHex(f.tree.getRoot(9)));
  });

  test("without enough deposits it keeps waiting (until stopped), with a progress line", async () => {
    const eth1 = new FakeEth1(t0);
    eth1.addDeposits(3, [interopDepositData(gc, 0)]);
    const f = new Eth1Follower({ config: gc, rpc: eth1, depositContract: CONTRACT, depositBlock: 1, store: new MemoryEth1Store() });
    await f.init();
    const lines: string[] = [];
    const logger = { ...nullLogger, info: (m: string) => lines.push(m) };
    const abort = new AbortController();
    const waiting = waitForEth1Genesis({ config: gc, follower: f, rpc: eth1, logger, signal: abort.signal, pollMs: 5 });
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    await assert.rejects(waiting, /stopped while waiting for genesis/);
    assert.match(lines[0], /^waiting for genesis: deposits 1, full validators 1\/8, eth1 followed to block 44/);
  });
});

describe("deposit data files", () => {
  const good = depositDataJson(c, newDeposit(5));
  test("a deposit CLI entry parses and its roots check out", () => {
    const [d] = parseDepositDataJson(c, JSON.stringify([good]));
    assert.equal(toHex(d.data.pubkey).slice(2), good.pubkey);
    assert.equal(toHex(d.root).slice(2), good.deposit_data_root);
  });
  test("a bad signature, another fork, a wrong root or amount is refused before anything is sent", () => {
    const bad = (entry: object, re: RegExp) => assert.throws(() => parseDepositDataJson(c, JSON.stringify([entry])), re);
    bad(depositDataJson(c, newDeposit(5, false)), /deposit 0: the signature is not valid/);
    bad({ ...good, fork_version: "00000000" }, /fork_version 00000000 is not this network's GENESIS_FORK_VERSION 0x00000001/);
    bad({ ...good, deposit_data_root: "00".repeat(32) }, /deposit_data_root does not match/);
    bad({ ...good, amount: 1 }, /at least MIN_DEPOSIT_AMOUNT/);
    bad({ ...good, pubkey: "zz" }, /pubkey is not hex/);
    assert.throws(() => parseDepositDataJson(c, "[]"), /non-empty JSON array/);
  });
});
