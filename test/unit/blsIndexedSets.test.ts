// Signature sets that name their signers by index (attestations): the main thread aggregates their keys itself, the
// worker pool aggregates them in the workers from its copy of the chain's keys. Both must agree on valid and invalid
// blocks, the copy must follow the table as it grows, and a bad index is an error, not a pass.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BlsWorkerPool, splitByCost } from "../../src/chain/bls/pool.js";
import { BlockError } from "../../src/chain/blocks/errors.js";
import { BeaconChain } from "../../src/chain/chain.js";
import { InteropSigner } from "../../src/chain/harness/signer.js";
import { produceBlock } from "../../src/chain/produceBlock.js";
import { getNamedConfig } from "../../src/config/index.js";
import { aggregateSignatures, publicKeyFromBytes, sign, type IndexedSignatureSet, type PubkeyTable, type PublicKey, type SignatureSet } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { BeaconDb } from "../../src/db/index.js";
import {
  createCachedBeaconState,
  createInteropGenesisStateFast,
  getBlockSignatureSets,
  processSlots,
  stateTransition,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { getAttestingIndices } from "../../src/state-transition/util/attestation.js";
import type { Attestation, SignedBeaconBlock } from "../../src/types/index.js";
import { makeSignedEmptyBlock } from "../utils/chain.js";

const config = getNamedConfig("minimal");
const GENESIS_TIME = config.MIN_GENESIS_TIME;

let genesis: CachedBeaconState;
/** state at slot 2 (after processSlots) and a valid block there carrying every committee's attestation of slot 1 */
let pre: CachedBeaconState;
let block1: SignedBeaconBlock;
let block2: SignedBeaconBlock;
let atts: Attestation[];
const signer = new InteropSigner(config, true);
const pool = new BlsWorkerPool(2);
const mainThread = new MainThreadBlsVerifier();
after(() => pool.close());

before(() => {
  genesis = createCachedBeaconState(config, createInteropGenesisStateFast(config, 64, GENESIS_TIME, { signDeposits: false }));
  block1 = makeSignedEmptyBlock(genesis, 1);
  const post1 = stateTransition(genesis.clone(), block1, { verifySignatures: false });
  atts = signer.attest(post1, config.types.BeaconBlock.hashTreeRoot(block1.message), 1, () => true);
  pre = post1.clone();
  processSlots(pre, 2);
  const { block } = produceBlock(pre, { randaoReveal: signer.randaoReveal(pre, pre.epochCtx.getBeaconProposer(2), 0), attestations: atts });
  block2 = signer.signBlock(pre, block);
});

const indexed = (sets: SignatureSet[]) => sets.filter((s): s is IndexedSignatureSet => "indices" in s);

/** both verifiers' verdicts on the same sets */
async function verdicts(sets: SignatureSet[]): Promise<[boolean, boolean]> {
  return [await mainThread.verifySignatureSets(sets), await pool.verifySignatureSets(sets)];
}

describe("a block's signature sets with the signers by index", () => {
  it("attestations name their attesters; the other sets carry their key", () => {
    const sets = getBlockSignatureSets(pre, block2);
    assert.equal(block2.message.body.attestations.length, atts.length);
    assert.ok(atts.length >= 2, "at least two attestations");
    assert.equal(sets.length, 2 + atts.length, "proposer, randao, one per attestation");
    assert.ok("pubkey" in sets[0] && "pubkey" in sets[1]);
    const sigSets = indexed(sets);
    assert.equal(sigSets.length, atts.length);
    sigSets.forEach((s, i) => {
      assert.equal(s.pubkeys, pre.epochCtx.pubkeyCache, "the chain's pubkey cache");
      assert.deepEqual(Array.from(s.indices), getAttestingIndices(pre.epochCtx, atts[i].data, atts[i].aggregationBits));
    });
  });

  it("a valid block's sets verify on the main thread and on the workers", async () => {
    assert.deepEqual(await verdicts(getBlockSignatureSets(pre, block2)), [true, true]);
  });

  it("one wrong signature or one wrong signer fails the whole batch, wherever it is", async () => {
    const sets = getBlockSignatureSets(pre, block2);
    for (const at of [2, sets.length - 1]) {
      const target = sets[at] as IndexedSignatureSet;
      // another attestation's (valid) signature: a valid point over another message
      const swapped = sets.map((s, i) => (i === at ? { ...target, signature: sets[at === 2 ? 3 : 2].signature } : s));
      assert.deepEqual(await verdicts(swapped), [false, false], `swapped signature in set ${at}`);
      // one byte of the signature flipped
      const flipped = Uint8Array.from(target.signature);
      flipped[40] ^= 1;
      assert.deepEqual(await verdicts(sets.map((s, i) => (i === at ? { ...target, signature: flipped } : s))), [false, false], `flipped byte in set ${at}`);
      // one attester replaced by a validator outside the committee
      const outsider = [...Array(64).keys()].find((v) => !Array.from(target.indices).includes(v))!;
      const wrongIndex = [outsider, ...Array.from(target.indices).slice(1)];
      assert.deepEqual(await verdicts(sets.map((s, i) => (i === at ? { ...target, indices: wrongIndex } : s))), [false, false], `wrong signer in set ${at}`);
    }
  });

  it("an index beyond the keys is an error on both, not a verdict", async () => {
    const sets = getBlockSignatureSets(pre, block2);
    const target = sets[2] as IndexedSignatureSet;
    const bad = sets.map((s, i) => (i === 2 ? { ...target, indices: [...Array.from(target.indices), 1000] } : s));
    await assert.rejects(mainThread.verifySignatureSets(bad), /1000/);
    await assert.rejects(pool.verifySignatureSets(bad), /1000/);
  });

  it("building the sets refuses signers outside the state's registry", () => {
    const att = block2.message.body.attestations[0];
    // a slashing holds its attestation data exactly (bigint); the schema is the same, so the bytes carry over
    const data = config.types.SlashingAttestationData.deserialize(config.types.AttestationData.serialize(att.data));
    const slashing = {
      attestation1: { attestingIndices: [1, 64], data, signature: att.signature },
      attestation2: { attestingIndices: [1], data, signature: att.signature },
    };
    const withSlashing = { ...block2, message: { ...block2.message, body: { ...block2.message.body, attesterSlashings: [slashing] } } };
    assert.throws(() => getBlockSignatureSets(pre, withSlashing), /index 64 out of range/);
  });
});

/** A growing key table of interop keys, as the chain's pubkey cache grows with deposits. */
class TestTable implements PubkeyTable {
  private readonly bytes: Uint8Array[] = [];
  private readonly keys: (PublicKey | null)[] = [];
  get size(): number {
    return this.bytes.length;
  }
  grow(n: number): void {
    for (let i = 0; i < n; i++) {
      const pk = interopSecretKey(this.bytes.length).toPublicKey();
      this.bytes.push(pk.toBytes(true));
      this.keys.push(publicKeyFromBytes(pk.toBytes(true)));
    }
  }
  /** 48 bytes that are not a key (not on the curve), as a registry could hold after a bad deposit */
  growInvalid(): void {
    this.bytes.push(new Uint8Array(48).fill(0xab));
    this.keys.push(null);
  }
  getPubkey(index: number): PublicKey | null {
    if (!(index < this.keys.length)) throw new Error(`validator index ${index} not in the table`);
    return this.keys[index];
  }
  getPubkeyBytes(index: number): Uint8Array {
    return this.bytes[index];
  }
}

/** `n` sets, each signed by validators `signers(k)` (one signature per signer, aggregated as an attestation's are) */
function signedSets(table: PubkeyTable, n: number, signers: (k: number) => number[]): IndexedSignatureSet[] {
  return Array.from({ length: n }, (_, k) => {
    const signingRoot = new Uint8Array(32).fill(k + 1);
    const indices = signers(k);
    const sks = indices.map((i) => interopSecretKey(i));
    const sk = sks.length === 1 ? sks[0] : null;
    const signature = sk ? sign(sk, signingRoot) : aggregateSignatures(indices.map((i) => sign(interopSecretKey(i), signingRoot)));
    return { pubkeys: table, indices, signingRoot, signature };
  });
}

describe("the workers' copy of the keys", () => {
  it("follows the table as it grows: keys added after the pool started reach the workers before a set naming them", async () => {
    const table = new TestTable();
    table.grow(4);
    assert.equal(await pool.verifySignatureSets(signedSets(table, 20, (k) => [k % 4, (k + 1) % 4])), true);
    table.grow(4);
    // 40 sets: split across both workers, each needs the new keys
    const grown = signedSets(table, 40, (k) => [4 + (k % 4), k % 8]);
    assert.equal(await pool.verifySignatureSets(grown), true);
    assert.equal(await pool.verifySignatureSets(grown.map((s, k) => (k === 39 ? { ...s, indices: [3, 7] } : s))), false);
    await assert.rejects(pool.verifySignatureSets(signedSets(table, 1, () => [8]).map((s) => ({ ...s, indices: [8] }))), /index 8/);
  });

  it("another table replaces the copy; one batch may not mix two tables", async () => {
    const a = new TestTable();
    a.grow(3);
    const b = new TestTable();
    b.grow(6);
    assert.equal(await pool.verifySignatureSets(signedSets(b, 20, (k) => [5 - (k % 3)])), true);
    assert.equal(await pool.verifySignatureSets(signedSets(a, 20, (k) => [k % 3])), true);
    // back to b: the workers must not keep a's keys for it (a has no key 5, and a's keys 0..2 are b's too)
    assert.equal(await pool.verifySignatureSets(signedSets(b, 20, (k) => [5, k % 3])), true);
    await assert.rejects(pool.verifySignatureSets(signedSets(a, 20, () => [1]).map((s) => ({ ...s, indices: [5] }))), /index 5 is not among the 3 keys/);
    await assert.rejects(pool.verifySignatureSets([...signedSets(a, 1, () => [0]), ...signedSets(b, 1, () => [0])]), /two different tables/);
  });

  it("each key is decompressed and validated once per process: what one worker validated reaches the others", async () => {
    const two = new BlsWorkerPool(2);
    try {
      const table = new TestTable();
      table.grow(12);
      table.growInvalid(); // index 12
      table.grow(3);
      two.preloadKeys(table);
      await two.keysPreloaded();
      assert.equal(two.keysValidated, 15, "every valid key once, the invalid one not");
      // 48 sets naming every valid key, cut into jobs for both workers, twice: no key is decompressed again
      const sets = signedSets(table, 48, (k) => [k % 12, 13 + (k % 3)]);
      assert.equal(await two.verifySignatureSets(sets), true);
      assert.equal(await two.verifySignatureSets(sets.slice().reverse()), true);
      assert.equal(two.keysValidated, 15);
      // the invalid key fails a set naming it on whichever worker gets it
      for (const at of [0, 47]) {
        const bad = sets.map((s, k) => (k === at ? { ...s, indices: [12] } : s));
        assert.equal(await two.verifySignatureSets(bad), false, `invalid key in set ${at}`);
      }
    } finally {
      await two.close();
    }
  });

  it("a crashed worker fails the batch in flight and is replaced", async () => {
    const one = new BlsWorkerPool(1);
    try {
      const table = new TestTable();
      table.grow(2);
      const sets = signedSets(table, 3, (k) => [k % 2]);
      assert.equal(await one.verifySignatureSets(sets), true);
      // a gap in the keys makes the worker throw outside any job: the thread dies
      (one as unknown as { slots: { worker: { postMessage(m: unknown): void } }[] }).slots[0].worker.postMessage({ kind: "keys", from: 99, bytes: new Uint8Array(48) });
      await assert.rejects(one.verifySignatureSets(sets), /keys from 99/);
      assert.equal(await one.verifySignatureSets(sets), true, "the new worker gets the keys again");
    } finally {
      await one.close();
    }
  });
});

describe("cutting a batch into jobs", () => {
  it("keeps every set once, in order, in parts of about equal cost (pairings plus keys to aggregate)", () => {
    const table = new TestTable();
    // a block's shape: two single-key sets, then attestations of 64 to 191 signers
    const sets: SignatureSet[] = [
      ...signedSets(table, 2, () => [0]).map((s) => ({ pubkey: interopSecretKey(0).toPublicKey(), signingRoot: s.signingRoot, signature: s.signature })),
      ...Array.from({ length: 128 }, (_, k) => ({ pubkeys: table, indices: Array.from({ length: 64 + ((k * 37) % 128) }, (_, i) => i), signingRoot: new Uint8Array(32), signature: new Uint8Array(96) })),
    ];
    const cost = (part: SignatureSet[]) => part.reduce((n, s) => n + 300 + ("indices" in s ? s.indices.length : 0), 0);
    for (const parts of [2, 4]) {
      const out = splitByCost(sets, parts);
      assert.equal(out.length, parts);
      assert.deepEqual(out.flat(), sets, "every set once, in order");
      const costs = out.map(cost);
      const mean = cost(sets) / parts;
      for (const c of costs) assert.ok(Math.abs(c - mean) <= 300 + 191, `part cost ${c} within one set of ${mean}`);
    }
    assert.deepEqual(splitByCost(sets, 1), [sets]);
  });
});

describe("block import with the worker pool", () => {
  it("imports the valid block and refuses it with one bad attestation signature", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-blsimport-"));
    const db = await BeaconDb.open(dir, { config });
    const nowMs = (GENESIS_TIME + 3 * config.SECONDS_PER_SLOT) * 1000;
    const chain = await BeaconChain.fromAnchorState(config, db, pool, genesis.clone(true), { now: () => nowMs, gcEveryEpoch: false });
    try {
      assert.equal((await chain.processBlock({ signed: block1, source: "test" })).status, "imported");
      // the last attestation with another's signature; the block itself built and signed correctly around it
      const badAtts = atts.map((a, i) => (i === atts.length - 1 ? { ...a, signature: atts[0].signature } : a));
      const randaoReveal = signer.randaoReveal(pre, pre.epochCtx.getBeaconProposer(2), 0);
      const bad = signer.signBlock(pre, produceBlock(pre, { randaoReveal, attestations: badAtts }).block);
      assert.equal(bad.message.body.attestations.length, atts.length);
      const refused = await chain.processBlock({ signed: bad, source: "api" }).then(
        () => "imported",
        (e: unknown) => (e instanceof BlockError ? e.data.code : String(e)),
      );
      assert.equal(refused, "INVALID_SIGNATURE");
      assert.equal((await chain.processBlock({ signed: block2, source: "api" })).status, "imported");
    } finally {
      await chain.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
