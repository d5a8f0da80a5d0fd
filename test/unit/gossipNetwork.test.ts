// Gossip between real libp2p hosts on 127.0.0.1, each honest node with its own in-process chain (the same interop
// genesis and first blocks): a valid block published by A is imported by B; junk from a third host C (garbage,
// bad snappy, an oversized declared length, bad SSZ, a block with a bad signature) is REJECTed and C's gossipsub
// score on B drops while B keeps importing; duplicates are IGNOREd; attestations are checked against their subnet.
import "../../src/network/polyfill.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fromHexString } from "@chainsafe/ssz";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { BlsVerifier } from "../../src/chain/bls/interface.js";
import { OpPools } from "../../src/chain/opPools/index.js";
import { computeSigningRoot, computeForkDigest, getDomain } from "../../src/state-transition/util/domain.js";
import { toHex } from "../../src/util/bytes.js";
import { createCairnLibp2p, type CairnLibp2p } from "../../src/network/libp2p.js";
import { createGossipsubOptions, formatTopic, Gossip, computeSubnetForAttestation } from "../../src/network/gossip/index.js";
import { GOSSIP_MAX_SIZE } from "../../src/params/index.js";
import { sign, verifySignatureSets, type SignatureSet } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import type { Attestation, SignedBeaconBlock } from "../../src/types/index.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";
import { makeSignedEmptyBlock } from "../utils/chain.js";
import { until } from "../utils/poll.js";
import snappy from "snappy";

interface Node {
  tc: ApiTestChain;
  host: CairnLibp2p;
  gossip: Gossip;
  pools: OpPools;
  penalties: string[];
  unknownParents: string[];
}

describe("gossip between libp2p hosts", () => {
  let clockSlot = 3;
  const clock = { currentSlot: () => clockSlot };
  let a: Node;
  let b: Node;
  let c: CairnLibp2p;
  let forkDigest: string;
  let blockTopic: string;
  let bScore: (peer: CairnLibp2p) => number;
  /** how many signature batches B's verifier saw (shows what B actually checked) */
  let bVerified = 0;

  async function host(config: ApiTestChain["config"]): Promise<CairnLibp2p> {
    const h = await createCairnLibp2p({
      privateKey: await generateKeyPair("secp256k1"),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      gossip: createGossipsubOptions(config, { ipColocationWhitelist: ["127.0.0.1"] }),
    });
    await h.start();
    return h;
  }

  async function node(bls?: BlsVerifier): Promise<Node> {
    const tc = await buildApiTestChain({ validators: 64, slots: 2, bls });
    const h = await host(tc.config);
    const pools = new OpPools(tc.chain, { currentSlot: () => clockSlot });
    const penalties: string[] = [];
    const unknownParents: string[] = [];
    const gossip = new Gossip({
      libp2p: h,
      config: tc.config,
      chain: tc.chain,
      pools,
      clock,
      forkDigest: computeForkDigest(tc.config, tc.config.GENESIS_FORK_VERSION, tc.genesis.state.genesisValidatorsRoot),
      bls,
      onPeerPenalty: (peer, reason) => penalties.push(`${peer} ${reason}`),
      onUnknownParent: (blk) => unknownParents.push(toHex(tc.config.types.BeaconBlock.hashTreeRoot(blk.message))),
    });
    gossip.start();
    gossip.subscribeCoreTopics();
    return { tc, host: h, gossip, pools, penalties, unknownParents };
  }

  /** C publishes raw gossip data, bypassing any encoding or validation of its own. */
  async function cPublish(topic: string, data: Uint8Array): Promise<void> {
    const res = await c.services.pubsub.publish(topic, data);
    assert.ok(res.recipients.length >= 1, "C reached B");
  }

  before(async () => {
    a = await node();
    const counting: BlsVerifier = {
      async verifySignatureSets(sets: SignatureSet[]) {
        bVerified++;
        return verifySignatureSets(sets);
      },
      async close() {},
    };
    b = await node(counting);
    c = await host(a.tc.config);
    forkDigest = a.gossip.forkDigest;
    assert.equal(b.gossip.forkDigest, forkDigest);
    blockTopic = formatTopic({ name: "beacon_block", forkDigest });
    bScore = (peer) => b.gossip.getPeerScore(peer.peerId);
    await a.host.dial(b.host.getMultiaddrs()[0]);
    await c.dial(b.host.getMultiaddrs()[0]);
    await until("A and C to see B's subscriptions", () =>
      [a.host, c].every((h) => h.services.pubsub.getSubscribers(blockTopic).some((p) => p.equals(b.host.peerId))),
    );
  });

  after(async () => {
    for (const n of [a, b]) {
      if (!n) continue;
      n.gossip.stop();
      await n.host.stop();
      await n.tc.close();
    }
    await c?.stop();
  });

  it("a valid block published by A is imported by B's chain", async () => {
    const block = makeSignedEmptyBlock(await a.tc.chain.getHeadState("test"), 3);
    const root = toHex(a.tc.config.types.BeaconBlock.hashTreeRoot(block.message));
    await a.tc.chain.processBlock({ signed: block, source: "test" });
    assert.ok((await a.gossip.publishBlock(block)) >= 1);
    await until("B to import the block", () => b.tc.chain.forkChoice.hasBlock(root));
    assert.equal(b.tc.chain.headRoot, root);
    assert.deepEqual(b.gossip.getCounters().beacon_block, { accept: 1, ignore: 0, reject: 0 });
    assert.deepEqual(b.penalties, []);
    // its proposer counts as live in the block's epoch (what doppelganger protection asks about)
    assert.equal(b.pools.isLive(0, block.message.proposerIndex), true);
    assert.equal(b.pools.isLive(0, (block.message.proposerIndex + 1) % 64), false);
  });

  it("junk from C is rejected, C's score drops, and B goes on importing", async () => {
    const t = a.tc.config.types;
    const prev = b.gossip.getCounters().beacon_block;
    const verifiedBefore = bVerified;
    const head = await a.tc.chain.getHeadState("test");
    const good4 = makeSignedEmptyBlock(head, 4);
    // the same block, signed by another key: a valid signature point over the right message, of the wrong validator
    const c4 = a.tc.config;
    const domain = getDomain(c4, head.state, c4.DOMAIN_BEACON_PROPOSER, 0);
    const badSig: SignedBeaconBlock = {
      message: good4.message,
      signature: sign(interopSecretKey(good4.message.proposerIndex + 1), computeSigningRoot(c4, t.BeaconBlock, good4.message, domain)),
    };
    const junk: [string, Uint8Array][] = [
      ["garbage", Uint8Array.from([5, 1, 2, 3, 4, 5, 6])],
      ["oversized declared length", Uint8Array.from([0x81, 0x80, 0x40, 0x00, 0x41])],
      ["bad SSZ", new Uint8Array(snappy.compressSync(new Uint8Array(17).fill(7)))],
      ["bad signature", new Uint8Array(snappy.compressSync(t.SignedBeaconBlock.serialize(badSig)))],
    ];
    // 0x81 0x80 0x40 declares 2^20 + 1 bytes
    assert.equal(1 + (0 << 7) + (0x40 << 14), GOSSIP_MAX_SIZE + 1);
    clockSlot = 4;
    for (const [, data] of junk) await cPublish(blockTopic, data);
    await until("B to reject all four", () => b.gossip.getCounters().beacon_block.reject === prev.reject + junk.length);
    assert.equal(bVerified, verifiedBefore + 1, "only the well-formed block reached signature verification");
    await until("C's score on B to go negative", () => bScore(c) < 0);
    assert.ok(bScore(a.host) >= 0, `A's score ${bScore(a.host)}`);
    assert.ok(b.penalties.length >= junk.length && b.penalties.every((p) => p.startsWith(c.peerId.toString())));
    assert.ok(!b.tc.chain.forkChoice.hasBlock(toHex(t.BeaconBlock.hashTreeRoot(badSig.message))));

    // B still works: the valid block of slot 4 (same message as the rejected one, but a new message id) is imported
    await a.tc.chain.processBlock({ signed: good4, source: "test" });
    await a.gossip.publishBlock(good4);
    const root4 = toHex(t.BeaconBlock.hashTreeRoot(good4.message));
    await until("B to import the slot 4 block", () => b.tc.chain.forkChoice.hasBlock(root4));
    assert.equal(b.gossip.getCounters().beacon_block.accept, prev.accept + 1);
  });

  it("duplicates are ignored without penalty", async () => {
    const t = a.tc.config.types;
    const prev = b.gossip.getCounters().beacon_block;
    const scoreBefore = bScore(c);
    const penaltiesBefore = b.penalties.length;
    // a second block of the same proposer for slot 4 (other graffiti, so another root and message id)
    const head = await b.tc.chain.getHeadState("test");
    const root4 = b.tc.chain.headRoot;
    const original = (await b.tc.chain.query.getSignedBlock(root4))!;
    assert.equal(original.message.slot, 4);
    const twin: SignedBeaconBlock = {
      message: { ...original.message, body: { ...original.message.body, graffiti: new Uint8Array(32).fill(1) } },
      signature: original.signature,
    };
    await cPublish(blockTopic, new Uint8Array(snappy.compressSync(t.SignedBeaconBlock.serialize(twin))));
    // a block B already has, from elsewhere than gossip (imported directly, e.g. by sync)
    clockSlot = 5;
    const block5 = makeSignedEmptyBlock(head, 5);
    await b.tc.chain.processBlock({ signed: block5, source: "test" });
    await cPublish(blockTopic, new Uint8Array(snappy.compressSync(t.SignedBeaconBlock.serialize(block5))));
    await until("B to ignore both", () => b.gossip.getCounters().beacon_block.ignore === prev.ignore + 2);
    const now = b.gossip.getCounters().beacon_block;
    assert.equal(now.reject, prev.reject);
    assert.equal(now.accept, prev.accept);
    assert.equal(b.penalties.length, penaltiesBefore);
    // IGNORE costs nothing (the score only recovers as the earlier penalties decay)
    assert.ok(bScore(c) >= scoreBefore, `${bScore(c)} < ${scoreBefore}`);
    assert.ok(!b.tc.chain.forkChoice.hasBlock(toHex(t.BeaconBlock.hashTreeRoot(twin.message))));
  });

  it("a block with an unknown parent is ignored and handed over for parent lookup", async () => {
    const t = a.tc.config.types;
    // A builds slots 6 and 7; B hears only of 7
    clockSlot = 7;
    await a.tc.chain.processBlock({ signed: (await b.tc.chain.query.getSignedBlock(b.tc.chain.headRoot))!, source: "test" }); // A learns block 5
    const b6 = makeSignedEmptyBlock(await a.tc.chain.getHeadState("test"), 6);
    await a.tc.chain.processBlock({ signed: b6, source: "test" });
    const b7 = makeSignedEmptyBlock(await a.tc.chain.getHeadState("test"), 7);
    const prev = b.gossip.getCounters().beacon_block;
    await cPublish(blockTopic, new Uint8Array(snappy.compressSync(t.SignedBeaconBlock.serialize(b7))));
    const root7 = toHex(t.BeaconBlock.hashTreeRoot(b7.message));
    await until("B to hand block 7 over", () => b.unknownParents.includes(root7));
    assert.equal(b.gossip.getCounters().beacon_block.ignore, prev.ignore + 1);
    assert.ok(!b.tc.chain.forkChoice.hasBlock(root7));
    // the parent itself is accepted and imported
    await a.gossip.publishBlock(b6);
    const root6 = toHex(t.BeaconBlock.hashTreeRoot(b6.message));
    await until("B to import block 6", () => b.tc.chain.forkChoice.hasBlock(root6));
  });

  it("B relays what it accepts to its mesh, and only that", async () => {
    const t = a.tc.config.types;
    await until("A and B to be mesh peers on beacon_block", () =>
      b.gossip.getMeshPeers({ name: "beacon_block", forkDigest }).includes(a.host.peerId.toString()),
    );
    // C (connected to B only) publishes a valid block A does not have: B accepts it and forwards it to A
    clockSlot = 8;
    const b8 = makeSignedEmptyBlock(await b.tc.chain.getHeadState("test"), 8);
    const root8 = toHex(t.BeaconBlock.hashTreeRoot(b8.message));
    const zero = { accept: 0, ignore: 0, reject: 0 };
    const aPrev = a.gossip.getCounters().beacon_block ?? zero;
    await cPublish(blockTopic, new Uint8Array(snappy.compressSync(t.SignedBeaconBlock.serialize(b8))));
    await until("A to import the block relayed by B", () => a.tc.chain.forkChoice.hasBlock(root8));
    await until("B to import it too", () => b.tc.chain.forkChoice.hasBlock(root8));
    // the one message A validated; everything B rejected or ignored earlier stayed with B
    assert.deepEqual(a.gossip.getCounters().beacon_block, { ...aPrev, accept: aPrev.accept + 1 });
    assert.deepEqual(aPrev, zero);
  });

  it("attestations are accepted on their subnet only, once per validator and epoch", async () => {
    const t = a.tc.config.types;
    const state = await b.tc.chain.getHeadState("test");
    const slot = state.state.slot;
    // fork choice counts a vote from the slot after it
    clockSlot = slot + 1;
    await b.tc.chain.onClockSlot(slot + 1);
    const headRoot = fromHexString(b.tc.chain.headRoot);
    const committee = state.epochCtx.getBeaconCommittee(slot, 0);
    const single = (v: number): Attestation => {
      const [att] = a.tc.signer.attest(state, headRoot, slot, (i) => i === v);
      assert.equal(att.aggregationBits.getTrueBitIndexes().length, 1);
      return att;
    };
    const subnet = computeSubnetForAttestation(a.tc.config, state.epochCtx.getCommitteeCountPerSlot(state.epochCtx.epoch), slot, 0);
    const wrong = (subnet + 1) % 64;
    b.gossip.subscribeAttnets([subnet, wrong]);
    const topic = formatTopic({ name: "beacon_attestation", subnet, forkDigest });
    const wrongTopic = formatTopic({ name: "beacon_attestation", subnet: wrong, forkDigest });
    await until("A and C to see B on both subnets", () =>
      [a.host, c].every((h) => [topic, wrongTopic].every((tp) => h.services.pubsub.getSubscribers(tp).some((p) => p.equals(b.host.peerId)))),
    );
    const good = single(committee[0]);
    const name = `beacon_attestation_${subnet}`;
    assert.ok((await a.gossip.publishAttestation(good, subnet)) >= 1);
    await until("B to accept the attestation", () => b.gossip.getCounters()[name]?.accept === 1);
    // another validator's attestation, on the wrong subnet
    await cPublish(wrongTopic, new Uint8Array(snappy.compressSync(t.Attestation.serialize(single(committee[1])))));
    await until("B to reject the wrong subnet", () => b.gossip.getCounters()[`beacon_attestation_${wrong}`]?.reject === 1);
    // the first validator again, validly signed but voting for the parent: not the first vote of this epoch
    const parentRoot = fromHexString(b.tc.chain.forkChoice.getBlock(b.tc.chain.headRoot)!.parentRoot);
    const [other] = a.tc.signer.attest(state, parentRoot, slot, (i) => i === committee[0]);
    await cPublish(topic, new Uint8Array(snappy.compressSync(t.Attestation.serialize(other))));
    await until("B to ignore the second vote", () => b.gossip.getCounters()[name]?.ignore === 1);
    assert.equal(b.gossip.getCounters()[name].reject, 0);
    const dataRoot = toHex(t.AttestationData.hashTreeRoot(good.data));
    assert.deepEqual(b.pools.getAggregate(slot, dataRoot)?.aggregationBits.getTrueBitIndexes(), good.aggregationBits.getTrueBitIndexes());
    assert.ok(b.tc.chain.forkChoice.getLatestMessage(committee[0]), "the vote reached fork choice");
  });

  it("while syncing (unsubscribed) subnets are remembered and rejoined with the core topics", () => {
    const g = b.gossip;
    g.unsubscribeAll();
    assert.deepEqual(g.getSubscribedTopics(), []);
    assert.deepEqual(b.host.services.pubsub.getTopics(), []);
    g.subscribeAttnets([33]);
    assert.deepEqual(g.getSubscribedTopics(), []);
    g.subscribeCoreTopics();
    const topics = g.getSubscribedTopics();
    assert.ok(topics.includes(formatTopic({ name: "beacon_attestation", subnet: 33, forkDigest })));
    assert.ok(topics.includes(blockTopic));
    assert.equal(topics.length, 5 + 3);
    assert.deepEqual(new Set(b.host.services.pubsub.getTopics()), new Set(topics));
    assert.throws(() => g.subscribeAttnets([34, 64]), /subnet/);
    assert.deepEqual(new Set(g.getSubscribedTopics()), new Set(topics), "a bad subnet in the list changes nothing");
  });
});
