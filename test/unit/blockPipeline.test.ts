// The block import pipeline stage by stage (src/chain/blocks), on a real chain with real signatures: each stage's
// refusals carry their facts, the cheap checks come before any state work, what gossip proved is not redone, and a
// block is stored before fork choice makes it the head.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { BlsVerifier } from "../../src/chain/bls/interface.js";
import { BlockError, blockErrorOutcome, type BlockErrorData } from "../../src/chain/blocks/errors.js";
import { verifyProposer } from "../../src/chain/blocks/proposer.js";
import { checkBlockSanity } from "../../src/chain/blocks/sanity.js";
import { verifyBlockStateTransition } from "../../src/chain/blocks/stateTransition.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { LruCache } from "../../src/chain/stateCache.js";
import { getNamedConfig } from "../../src/config/index.js";
import { verifySignatureSets, type SignatureSet } from "../../src/crypto/bls.js";
import { BeaconDb } from "../../src/db/index.js";
import { createCachedBeaconState, createInteropGenesisStateFast, type CachedBeaconState } from "../../src/state-transition/index.js";
import { toHex } from "../../src/state-transition/util/math.js";
import type { SignedBeaconBlock } from "../../src/types/index.js";
import { BitArray } from "@chainsafe/ssz";
import { InteropSigner } from "../../src/chain/harness/signer.js";
import { selectAttestations } from "../../src/chain/opPools/blockProduction.js";
import { VerifiedAttestations } from "../../src/chain/verifiedAttestations.js";
import { produceBlock } from "../../src/chain/produceBlock.js";
import { fromHex } from "../../src/util/bytes.js";
import { makeSignedEmptyBlock } from "../utils/chain.js";

const config = getNamedConfig("minimal");
const GENESIS_TIME = config.MIN_GENESIS_TIME;
const slotMs = config.SECONDS_PER_SLOT * 1000;

/** Counts signature sets, and which signatures they carried. */
class CountingBls implements BlsVerifier {
  sets: SignatureSet[] = [];
  async verifySignatureSets(sets: SignatureSet[]): Promise<boolean> {
    this.sets.push(...sets);
    return verifySignatureSets(sets);
  }
  async close(): Promise<void> {}
  count(signature: Uint8Array): number {
    return this.sets.filter((s) => toHex(s.signature) === toHex(signature)).length;
  }
}

interface TestChain {
  chain: BeaconChain;
  db: BeaconDb;
  bls: CountingBls;
  genesis: CachedBeaconState;
  setClockSlot(slot: number): void;
  close(): Promise<void>;
}

let genesisState: CachedBeaconState;
before(() => {
  genesisState = createCachedBeaconState(config, createInteropGenesisStateFast(config, 64, GENESIS_TIME, { signDeposits: false }));
});

async function testChain(): Promise<TestChain> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-pipeline-"));
  const db = await BeaconDb.open(dir, { config });
  const bls = new CountingBls();
  let nowMs = GENESIS_TIME * 1000 + 10 * slotMs;
  const chain = await BeaconChain.fromAnchorState(config, db, bls, genesisState.clone(true), { now: () => nowMs, gcEveryEpoch: false });
  return {
    chain,
    db,
    bls,
    genesis: genesisState,
    setClockSlot: (slot) => (nowMs = GENESIS_TIME * 1000 + slot * slotMs),
    async close() {
      await chain.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function refusal(p: Promise<unknown> | (() => unknown)): Promise<BlockErrorData> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    assert.ok(e instanceof BlockError, `expected a BlockError, got ${String(e)}`);
    return e.data;
  }
  assert.fail("expected a refusal");
}

const withSlot = (b: SignedBeaconBlock, slot: number): SignedBeaconBlock => ({ message: { ...b.message, slot }, signature: b.signature });

describe("block pipeline", () => {
  let t: TestChain;
  before(async () => {
    t = await testChain();
  });
  after(async () => t.close());

  it("sanity: the clock, finality, known and invalid blocks, the parent, all before any state work", async () => {
    const { chain } = t;
    const ctx = { config, forkChoice: chain.forkChoice, invalidBlocks: new LruCache<true>(16), latestSlot: () => 10 };
    const b1 = makeSignedEmptyBlock(genesisState, 1);
    const requestsBefore = chain.regen.counters.requests;
    for (const slot of [Number.MAX_SAFE_INTEGER, Infinity, 10 + 20_000, 12]) {
      const d = await refusal(() => checkBlockSanity(ctx, { signed: withSlot(b1, slot), source: "api" }));
      assert.equal(d.code, "FUTURE_SLOT");
      assert.equal(d.code === "FUTURE_SLOT" && d.latestSlot, 10);
    }
    const sane = checkBlockSanity(ctx, { signed: b1, source: "gossip" });
    assert.equal(sane.root, toHex(config.types.BeaconBlock.hashTreeRoot(b1.message)));
    assert.equal(sane.parentSlot, 0);
    assert.equal(sane.verifySignatures, true);
    // an unknown parent
    const orphan: SignedBeaconBlock = { message: { ...b1.message, parentRoot: new Uint8Array(32).fill(9) }, signature: b1.signature };
    const d1 = await refusal(() => checkBlockSanity(ctx, { signed: orphan, source: "api" }));
    assert.deepEqual(d1, { code: "PARENT_UNKNOWN", root: toHex(config.types.BeaconBlock.hashTreeRoot(orphan.message)), parentRoot: `0x${"09".repeat(32)}` });
    // a known-invalid parent taints the child
    ctx.invalidBlocks.set(toHex(b1.message.parentRoot), true);
    const d2 = await refusal(() => checkBlockSanity(ctx, { signed: b1, source: "api" }));
    assert.equal(d2.code, "KNOWN_INVALID");
    assert.ok(ctx.invalidBlocks.has(sane.root), "the child is remembered too");
    // the genesis block is at slot 0: a block at slot 0 is not after the finalized slot
    const d3 = await refusal(() => checkBlockSanity({ ...ctx, invalidBlocks: new LruCache<true>(4) }, { signed: withSlot(b1, 0), source: "api" }));
    assert.equal(d3.code, "WOULD_REVERT_FINALIZED");
    assert.equal(chain.regen.counters.requests, requestsBefore, "no state was asked for");
  });

  it("proposer: the expected proposer and its signature against the shuffling of the block's branch", async () => {
    const { chain } = t;
    const ctx = { config, forkChoice: chain.forkChoice, invalidBlocks: new LruCache<true>(16), latestSlot: () => 10 };
    const b1 = makeSignedEmptyBlock(genesisState, 1);
    const other = makeSignedEmptyBlock(genesisState, 2);
    // proposer of slot 2 claiming slot 1 (signature over its own message)
    const wrongProposer: SignedBeaconBlock = { message: { ...b1.message, proposerIndex: other.message.proposerIndex === b1.message.proposerIndex ? (b1.message.proposerIndex + 1) % 64 : other.message.proposerIndex }, signature: b1.signature };
    const d1 = await refusal(verifyProposer(chain, checkBlockSanity(ctx, { signed: wrongProposer, source: "api" }), { verifySignature: true }));
    assert.equal(d1.code, "INCORRECT_PROPOSER");
    assert.equal(d1.code === "INCORRECT_PROPOSER" && d1.expected, b1.message.proposerIndex);
    const forged: SignedBeaconBlock = { message: b1.message, signature: other.signature };
    const d2 = await refusal(verifyProposer(chain, checkBlockSanity(ctx, { signed: forged, source: "api" }), { verifySignature: true }));
    assert.equal(d2.code, "PROPOSAL_SIGNATURE_INVALID");
    const gv = await verifyProposer(chain, checkBlockSanity(ctx, { signed: b1, source: "api" }), { verifySignature: true });
    assert.equal(gv.proposerSignatureVerified, true);
    assert.equal(gv.proposerState.epochCtx.getBeaconProposer(1), b1.message.proposerIndex);
  });

  it("state transition: a wrong state root and a bad RANDAO signature are refused, a good block verifies", async () => {
    const { chain } = t;
    const ctx = { config, forkChoice: chain.forkChoice, invalidBlocks: new LruCache<true>(16), latestSlot: () => 10 };
    const b1 = makeSignedEmptyBlock(genesisState, 1);
    const gv = await verifyProposer(chain, checkBlockSanity(ctx, { signed: b1, source: "api" }), { verifySignature: true });
    const badRoot = { ...gv, signed: { message: { ...b1.message, stateRoot: new Uint8Array(32).fill(3) }, signature: b1.signature } };
    const d1 = await refusal(verifyBlockStateTransition(chain, badRoot));
    assert.equal(d1.code, "INVALID_STATE_ROOT");
    const other = makeSignedEmptyBlock(genesisState, 2);
    const badRandao = { ...gv, signed: { message: { ...b1.message, body: { ...b1.message.body, randaoReveal: other.signature } }, signature: b1.signature } };
    const d2 = await refusal(verifyBlockStateTransition(chain, badRandao));
    assert.ok(d2.code === "INVALID_SIGNATURE" || d2.code === "INVALID_STATE_ROOT", d2.code);
    const before = t.bls.count(b1.signature);
    const fv = await verifyBlockStateTransition(chain, gv);
    assert.equal(toHex(fv.postState.state.hashTreeRoot()), toHex(b1.message.stateRoot));
    assert.equal(t.bls.count(b1.signature), before, "the proposer signature verified by the proposer stage is not verified again");
    assert.equal(fv.summary.slot, 1);
  });

  it("who is at fault: one mapping for gossip, the API, sync and lookup", () => {
    const peer = blockErrorOutcome({ code: "INVALID_STATE_ROOT", root: "r", expected: "a", actual: "b" });
    assert.deepEqual(peer, { fault: "peer", gossip: "reject", markInvalid: true, httpStatus: 400 });
    const sig = blockErrorOutcome({ code: "PROPOSAL_SIGNATURE_INVALID", root: "r" });
    assert.equal(sig.markInvalid, false, "the root covers the message only: the same block may come with a valid signature");
    assert.equal(blockErrorOutcome({ code: "FUTURE_SLOT", slot: 5, latestSlot: 4 }).fault, "nobody");
    assert.equal(blockErrorOutcome({ code: "FUTURE_SLOT", slot: 5, latestSlot: 4 }).gossip, "ignore");
    assert.equal(blockErrorOutcome({ code: "QUEUE_FULL", queueLength: 3 }).httpStatus, 503);
    assert.equal(blockErrorOutcome({ code: "STORE_FAILED", root: "r", reason: "x" }).fault, "us");
    assert.equal(blockErrorOutcome({ code: "PARENT_UNKNOWN", root: "r", parentRoot: "p" }).httpStatus, 202);
  });
});

describe("through the one door", () => {
  it("a block from beyond the clock is refused with no state work, however far its slot", async () => {
    const t = await testChain();
    try {
      t.setClockSlot(3);
      const b1 = makeSignedEmptyBlock(genesisState, 1);
      const before = { ...t.chain.regen.counters, byCaller: undefined };
      for (const slot of [2 ** 64 - 1, 3 + 20_000, 3 + 2]) {
        const d = await refusal(t.chain.processBlock({ signed: withSlot(b1, slot), source: "api" }));
        assert.equal(d.code, "FUTURE_SLOT", `slot ${slot}`);
      }
      assert.equal(t.chain.regen.counters.requests, before.requests, "no regen was asked for");
      assert.equal(t.chain.regen.counters.blocksReplayed, before.blocksReplayed);
      // the chain goes on
      const r = await t.chain.processBlock({ signed: b1, source: "api" });
      assert.equal(r.status, "imported");
    } finally {
      await t.close();
    }
  });

  it("a gossip block is hashed once and its proposer signature verified once", async () => {
    const t = await testChain();
    const hashType = config.types.BeaconBlock;
    const original = hashType.hashTreeRoot.bind(hashType);
    let hashes = 0;
    try {
      const b1 = makeSignedEmptyBlock(genesisState, 1);
      (hashType as { hashTreeRoot: (v: unknown) => Uint8Array }).hashTreeRoot = (v: unknown) => {
        hashes++;
        return original(v as never);
      };
      const seen = new Set<string>();
      const gv = await t.chain.validateGossipBlock(b1, { has: (s, p) => seen.has(`${s}:${p}`), add: (s, p) => void seen.add(`${s}:${p}`) });
      const r = await t.chain.processBlock(gv);
      assert.equal(r.status, "imported");
      assert.equal(hashes, 1, "BeaconBlock hash_tree_root computed once");
      assert.equal(t.bls.count(b1.signature), 1, "proposer signature verified once");
      assert.ok(seen.has(`1:${b1.message.proposerIndex}`));
    } finally {
      (hashType as { hashTreeRoot: unknown }).hashTreeRoot = original;
      await t.close();
    }
  });

  it("stored before head: a failed commit leaves fork choice unchanged, and the head always has its block stored", async () => {
    const t = await testChain();
    try {
      const { chain, db } = t;
      const b1 = makeSignedEmptyBlock(genesisState, 1);
      const root1 = toHex(config.types.BeaconBlock.hashTreeRoot(b1.message));
      // a commit that fails on purpose
      const newBatch = db.newBatch.bind(db);
      db.newBatch = () => {
        const batch = newBatch();
        batch.commit = async () => {
          throw new Error("disk full (test)");
        };
        return batch;
      };
      const headBefore = chain.headRoot;
      const d = await refusal(chain.processBlock({ signed: b1, source: "api" }));
      assert.equal(d.code, "STORE_FAILED");
      assert.equal(chain.forkChoice.hasBlock(root1), false, "fork choice does not hold a block the database lacks");
      assert.equal(chain.headRoot, headBefore);
      db.newBatch = newBatch;

      // a reader polling the head while blocks are imported never finds the head's block missing
      let polls = 0;
      let missing = 0;
      let stop = false;
      const reader = (async () => {
        while (!stop) {
          const head = chain.headRoot;
          if (head !== chain.anchorSummary.root && !(await chain.query.getSignedBlock(head))) missing++;
          polls++;
          await new Promise((r) => setImmediate(r));
        }
      })();
      let pre = genesisState;
      t.setClockSlot(12);
      try {
        for (let slot = 1; slot <= 12; slot++) {
          const block = makeSignedEmptyBlock(pre, slot);
          await chain.processBlock({ signed: block, source: "api" });
          pre = await chain.getHeadState("test");
        }
      } finally {
        stop = true;
        await reader;
      }
      assert.ok(polls > 12, `reader polled ${polls} times`);
      assert.equal(missing, 0);
      assert.equal(chain.query.headSlot, 12);
    } finally {
      await t.close();
    }
  });
});

describe("attestations verified before", () => {
  it("a block's attestation seen (and verified) on gossip is not verified again; a forged twin still is", async () => {
    const t = await testChain();
    try {
      const { chain } = t;
      const signer = new InteropSigner(config, true);
      const b1 = makeSignedEmptyBlock(genesisState, 1);
      t.setClockSlot(3);
      await chain.processBlock({ signed: b1, source: "test" });
      const head = await chain.getHeadState("test");
      const atts = signer.attest(head, fromHex(chain.headRoot), 1, () => true);
      assert.ok(atts.length >= 2, "at least two committees' attestations");
      // the first was verified on gossip; the others were not seen
      chain.onAttestation(atts[0], head);
      const pre = await chain.regen.getPreState({ slot: 2, parentRoot: fromHex(chain.headRoot) } as never, "test");
      const randaoReveal = signer.randaoReveal(pre, pre.epochCtx.getBeaconProposer(2), 0);
      const { block } = produceBlock(pre, { randaoReveal, attestations: atts });
      assert.equal(block.body.attestations.length, atts.length);
      const hitsBefore = chain.verifiedAttestations.hits;
      const r = await chain.processBlock({ signed: signer.signBlock(pre, block), source: "api" });
      assert.equal(r.status, "imported");
      assert.equal(t.bls.count(atts[0].signature), 0, "the gossip-verified aggregate is not verified again");
      for (const a of atts.slice(1)) assert.equal(t.bls.count(a.signature), 1, "the unseen ones are verified");
      assert.equal(chain.verifiedAttestations.hits, hitsBefore + 1);

      // same data and bits as a verified attestation, another signature: not in the cache, verified, refused
      const forged = { ...atts[1], signature: atts[0].signature };
      chain.onAttestation(atts[1], head);
      const pre3 = await chain.regen.getPreState({ slot: 3, parentRoot: fromHex(chain.headRoot) } as never, "test");
      const b3 = produceBlock(pre3, { randaoReveal: signer.randaoReveal(pre3, pre3.epochCtx.getBeaconProposer(3), 0), attestations: [forged] }).block;
      const d = await refusal(chain.processBlock({ signed: signer.signBlock(pre3, b3), source: "api" }));
      assert.equal(d.code, "INVALID_SIGNATURE");
    } finally {
      await t.close();
    }
  });
});

describe("votes of another branch", () => {
  it("the verified cache skips a set only when the block's branch names the same attesters", () => {
    const cache = new VerifiedAttestations(config);
    const att = config.types.Attestation.defaultValue();
    att.aggregationBits = BitArray.fromBoolArray([true, false, true]);
    att.signature = new Uint8Array(96).fill(5);
    cache.add(att, [7, 3]);
    assert.equal(cache.has(att, () => [3, 7]), true, "same attesters, any order");
    assert.equal(cache.has(att, () => [3, 8]), false, "same data and bits, other attesters (another branch's committee)");
    assert.equal(cache.has(att, () => {
      throw new Error("bits length != committee size");
    }), false);
    const other = { ...att, signature: new Uint8Array(96).fill(6) };
    assert.equal(cache.has(other, () => [3, 7]), false, "another signature");
  });

  it("block production leaves out attestations whose target is not on the block's branch", async () => {
    const t = await testChain();
    try {
      const { chain } = t;
      const signer = new InteropSigner(config, true);
      t.setClockSlot(3);
      await chain.processBlock({ signed: makeSignedEmptyBlock(genesisState, 1), source: "test" });
      const head = await chain.getHeadState("test");
      const atts = signer.attest(head, fromHex(chain.headRoot), 1, () => true);
      const pre = await chain.regen.getPreState({ slot: 2, parentRoot: fromHex(chain.headRoot) } as never, "test");
      const dataRoot = (a: (typeof atts)[number]) => toHex(config.types.AttestationData.hashTreeRoot(a.data));
      const ours = selectAttestations(pre, atts.map((a) => ({ dataRoot: dataRoot(a), attestation: a })));
      assert.equal(ours.length, atts.length);
      // the same votes with a target on another branch: process_attestation alone would take them
      const foreign = atts.map((a) => ({ ...a, data: { ...a.data, target: { ...a.data.target, root: new Uint8Array(32).fill(0xab) } } }));
      const theirs = selectAttestations(pre, foreign.map((a) => ({ dataRoot: dataRoot(a), attestation: a })));
      assert.equal(theirs.length, 0);
    } finally {
      await t.close();
    }
  });
});
