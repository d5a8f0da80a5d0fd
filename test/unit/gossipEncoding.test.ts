// Gossip without a network: topic strings, payload encoding, v1.0 message ids (expected values computed here with
// node:crypto, independently of the code under test), compute_subnet_for_attestation, the scoring parameters
// (accepted by gossipsub's own validation) and the subnet service's subscriptions.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import type { BitArray } from "@chainsafe/ssz";
import { createPeerScoreParams, createPeerScoreThresholds, validatePeerScoreParams, validatePeerScoreThresholds } from "@libp2p/gossipsub/score";
import snappy from "snappy";
import { createBeaconConfig, getNamedConfig } from "../../src/config/index.js";
import {
  computeMessageId,
  computePeerScoreParams,
  computeSubnetForAttestation,
  computeTopicScoreParams,
  createGossipsubOptions,
  decodeGossipPayload,
  encodeGossipPayload,
  forkDigestHex,
  formatTopic,
  gossipFastMsgIdFn,
  GossipDecodeError,
  GossipTopicError,
  MAX_POSITIVE_SCORE,
  parseTopic,
  SubnetService,
  type GossipTopic,
} from "../../src/network/gossip/index.js";
import { GOSSIP_MAX_SIZE, minimalConfig } from "../../src/params/index.js";
import { computeForkDigest } from "../../src/state-transition/util/domain.js";
import { plainHex as hex } from "../utils/bytes.js";

const minimal = getNamedConfig("minimal");
const mainnet = getNamedConfig("mainnet");

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** A raw snappy block of literals only (valid, but not what the compressor emits for compressible input). */
function literalBlock(payload: Uint8Array): Uint8Array {
  assert.ok(payload.length >= 1 && payload.length <= 60);
  return Uint8Array.from([payload.length, (payload.length - 1) << 2, ...payload]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

describe("gossip topics", () => {
  it("formats the spec's example and every phase 0 topic, and parses them back", () => {
    assert.equal(formatTopic({ name: "beacon_aggregate_and_proof", forkDigest: "446a7232" }), "/eth2/446a7232/beacon_aggregate_and_proof/ssz_snappy");
    assert.equal(formatTopic({ name: "beacon_attestation", subnet: 63, forkDigest: "0x446A7232" }), "/eth2/446a7232/beacon_attestation_63/ssz_snappy");
    const topics: GossipTopic[] = [
      { name: "beacon_block", forkDigest: "446a7232" },
      { name: "voluntary_exit", forkDigest: "446a7232" },
      { name: "proposer_slashing", forkDigest: "446a7232" },
      { name: "attester_slashing", forkDigest: "446a7232" },
      ...Array.from({ length: 64 }, (_, subnet): GossipTopic => ({ name: "beacon_attestation", subnet, forkDigest: "446a7232" })),
    ];
    for (const t of topics) assert.deepEqual(parseTopic(formatTopic(t)), t);
  });

  it("uses the fork digest of the genesis validators root as lowercase hex", () => {
    const gvr = new Uint8Array(32).fill(0xab);
    const digest = computeForkDigest(minimal, minimal.GENESIS_FORK_VERSION, gvr);
    // compute_fork_data_root: both fields are 32-byte chunks (the version right-padded), hashed together
    const version = new Uint8Array(32);
    version.set(minimal.GENESIS_FORK_VERSION);
    const expected = hex(sha256(version, gvr).subarray(0, 4));
    assert.equal(forkDigestHex(digest), expected);
    assert.equal(formatTopic({ name: "beacon_block", forkDigest: forkDigestHex(digest) }), `/eth2/${expected}/beacon_block/ssz_snappy`);
  });

  it("refuses malformed topics and digests with a one-line error", () => {
    for (const bad of [
      "/eth2/446a7232/beacon_attestation_64/ssz_snappy",
      "/eth2/446a7232/beacon_attestation_01/ssz_snappy",
      "/eth2/446a7232/beacon_block/ssz",
      "/eth2/446A7232/beacon_block/ssz_snappy",
      "/eth2/446a72/beacon_block/ssz_snappy",
      "/eth1/446a7232/beacon_block/ssz_snappy",
      "/eth2/446a7232/blocks/ssz_snappy",
      "eth2/446a7232/beacon_block/ssz_snappy",
    ]) {
      assert.throws(() => parseTopic(bad), (e: unknown) => e instanceof GossipTopicError && !e.message.includes("\n"), bad);
    }
    assert.throws(() => forkDigestHex(new Uint8Array(5)), GossipTopicError);
    assert.throws(() => formatTopic({ name: "beacon_attestation", subnet: -1, forkDigest: "446a7232" }), GossipTopicError);
  });
});

describe("gossip encoding and v1.0 message ids", () => {
  it("round-trips SSZ through a raw snappy block", () => {
    const ssz = new Uint8Array(5000).map((_, i) => i % 7);
    const data = encodeGossipPayload(ssz);
    assert.ok(data.length < ssz.length);
    assert.deepEqual(new Uint8Array(snappy.uncompressSync(data, { asBuffer: true }) as Buffer), ssz);
    assert.deepEqual(new Uint8Array(decodeGossipPayload(data)), ssz);
  });

  it("valid snappy: SHA-256(01000000 ‖ uncompressed)[:20], the same for any compression of the same bytes", () => {
    const payload = new TextEncoder().encode("abcabcabcabcabcabcabcabcabcabc");
    const compressed = new Uint8Array(snappy.compressSync(payload));
    const literal = literalBlock(payload);
    assert.notDeepEqual(compressed, literal);
    const expected = sha256(Uint8Array.of(1, 0, 0, 0), payload).subarray(0, 20);
    assert.equal(hex(computeMessageId(compressed)), hex(expected));
    assert.equal(hex(computeMessageId(literal)), hex(expected));
    // the fast id is over the raw bytes: different encodings differ there
    assert.notEqual(gossipFastMsgIdFn({ data: compressed }), gossipFastMsgIdFn({ data: literal }));
    assert.equal(gossipFastMsgIdFn({ data: compressed }), gossipFastMsgIdFn({ data: new Uint8Array(compressed) }));
  });

  it("invalid snappy: SHA-256(00000000 ‖ raw)[:20]", () => {
    const garbage = Uint8Array.from([5, 1, 2, 3]);
    assert.throws(() => decodeGossipPayload(garbage), GossipDecodeError);
    assert.equal(hex(computeMessageId(garbage)), hex(sha256(Uint8Array.of(0, 0, 0, 0), garbage).subarray(0, 20)));
    const empty = new Uint8Array(0);
    assert.equal(hex(computeMessageId(empty)), hex(sha256(Uint8Array.of(0, 0, 0, 0)).subarray(0, 20)));
  });

  it("checks GOSSIP_MAX_SIZE on the declared length before decompressing", () => {
    const oversized = Uint8Array.from([...varint(GOSSIP_MAX_SIZE + 1), 0x00, 0x41]);
    assert.throws(() => decodeGossipPayload(oversized), (e: unknown) => e instanceof GossipDecodeError && /declares/.test(e.message));
    assert.equal(hex(computeMessageId(oversized)), hex(sha256(Uint8Array.of(0, 0, 0, 0), oversized).subarray(0, 20)));
    // exactly the limit is fine
    const atLimit = new Uint8Array(GOSSIP_MAX_SIZE);
    assert.equal(decodeGossipPayload(new Uint8Array(snappy.compressSync(atLimit))).length, GOSSIP_MAX_SIZE);
    assert.throws(() => encodeGossipPayload(new Uint8Array(GOSSIP_MAX_SIZE + 1)), GossipDecodeError);
    // a header that lies about the length
    const lying = Uint8Array.from([10, 0x0c, 1, 2, 3, 4]);
    assert.throws(() => decodeGossipPayload(lying), GossipDecodeError);
    // random junk never decodes to something else than an error or bytes within the limit
    for (let i = 0; i < 200; i++) {
      const junk = randomBytes(1 + (i % 40));
      try {
        assert.ok(decodeGossipPayload(junk).length <= GOSSIP_MAX_SIZE);
      } catch (e) {
        assert.ok(e instanceof GossipDecodeError);
      }
    }
  });
});

describe("compute_subnet_for_attestation", () => {
  it("rotates through committees_per_slot subnets per slot, modulo ATTESTATION_SUBNET_COUNT", () => {
    // (committees_per_slot * (slot % SLOTS_PER_EPOCH) + index) % 64
    assert.equal(computeSubnetForAttestation(minimal, 2, 4, 0), 8);
    assert.equal(computeSubnetForAttestation(minimal, 4, 10, 3), 11);
    assert.equal(computeSubnetForAttestation(mainnet, 64, 33, 5), 5);
    assert.equal(computeSubnetForAttestation(mainnet, 3, 31, 2), 31);
    for (let slot = 0; slot < 64; slot++) {
      for (let index = 0; index < 4; index++) {
        const s = computeSubnetForAttestation(mainnet, 4, slot, index);
        assert.equal(s, (4 * (slot % 32) + index) % 64);
      }
    }
  });
});

describe("gossipsub scoring parameters", () => {
  const digest = "446a7232";
  for (const [name, config] of [
    ["minimal", minimal],
    ["mainnet", mainnet],
    ["3-second slots", createBeaconConfig({ ...minimalConfig, SECONDS_PER_SLOT: 3 })],
  ] as const) {
    it(`pass gossipsub's validation (${name})`, () => {
      for (const activeValidatorCount of [0, 64, 16_384, 400_000]) {
        for (const currentSlot of [0, 100_000]) {
          const topics = computeTopicScoreParams(config, digest, { activeValidatorCount, currentSlot });
          assert.equal(Object.keys(topics).length, 5 + 64);
          validatePeerScoreParams(createPeerScoreParams({ ...computePeerScoreParams(config), topics }));
          for (const [topic, p] of Object.entries(topics)) {
            // one invalid message costs all a peer can earn
            assert.ok(Math.abs(p.invalidMessageDeliveriesWeight * p.topicWeight + MAX_POSITIVE_SCORE) < 1e-9, topic);
            assert.equal(p.timeInMeshQuantum, config.SECONDS_PER_SLOT * 1000);
          }
          const block = topics[`/eth2/${digest}/beacon_block/ssz_snappy`];
          // P3 only once the chain is older than the decay window
          if (currentSlot === 0) assert.equal(block.meshMessageDeliveriesWeight, 0);
          else assert.ok(block.meshMessageDeliveriesWeight < 0 && block.meshMessageDeliveriesThreshold > 0);
        }
      }
    });
  }

  it("mesh delivery scoring can be turned off; thresholds and mesh parameters are the spec's", () => {
    const topics = computeTopicScoreParams(minimal, digest, { activeValidatorCount: 64, currentSlot: 100_000, meshMessageDeliveries: false });
    for (const p of Object.values(topics)) assert.equal(p.meshMessageDeliveriesWeight, 0);
    const opts = createGossipsubOptions(minimal, { forkDigest: "0x" + digest, activeValidatorCount: 64, ipColocationWhitelist: ["127.0.0.1"] });
    assert.deepEqual(
      [opts.D, opts.Dlo, opts.Dhi, opts.Dlazy, opts.heartbeatInterval, opts.fanoutTTL, opts.mcacheLength, opts.mcacheGossip, opts.seenTTL],
      [8, 6, 12, 6, 700, 60_000, 6, 3, 550 * 700],
    );
    assert.equal(opts.globalSignaturePolicy, "StrictNoSign");
    assert.equal(Object.keys(opts.scoreParams?.topics ?? {}).length, 69);
    assert.ok(opts.scoreParams?.IPColocationFactorWhitelist?.has("127.0.0.1"));
    const thresholds = createPeerScoreThresholds(opts.scoreThresholds);
    validatePeerScoreThresholds(thresholds);
    assert.deepEqual(
      [thresholds.gossipThreshold, thresholds.publishThreshold, thresholds.graylistThreshold, thresholds.acceptPXThreshold, thresholds.opportunisticGraftThreshold],
      [-4000, -8000, -16000, 100, 5],
    );
    // decay intervals follow SECONDS_PER_SLOT
    assert.equal(computePeerScoreParams(mainnet).decayInterval, 12_000);
    assert.equal(computePeerScoreParams(minimal).decayInterval, 6_000);
  });
});

describe("subnet service", () => {
  const config = createBeaconConfig({ ...minimalConfig, EPOCHS_PER_RANDOM_SUBNET_SUBSCRIPTION: 4 });
  const spe = config.SLOTS_PER_EPOCH;

  function setup(startSlot = 0) {
    let slot = startSlot;
    const joined = new Set<number>();
    const calls: string[] = [];
    const changes: BitArray[] = [];
    let seed = 12345;
    const svc = new SubnetService({
      config,
      clock: { currentSlot: () => slot },
      gossip: {
        subscribeAttnets: (s) => {
          for (const x of s) {
            assert.ok(!joined.has(x), `subnet ${x} joined twice`);
            joined.add(x);
          }
          calls.push(`+${s.join(",")}`);
        },
        unsubscribeAttnets: (s) => {
          for (const x of s) assert.ok(joined.delete(x), `subnet ${x} left without being joined`);
          calls.push(`-${s.join(",")}`);
        },
      },
      onChange: (a) => changes.push(a),
      // a small LCG: reproducible draws
      randomInt: (n) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      },
    });
    return { svc, joined, calls, changes, setSlot: (s: number) => (slot = s) };
  }

  it("keeps no subnet without validators, one random subnet per validator otherwise, advertised in attnets", () => {
    const { svc, joined, changes } = setup();
    svc.onSlot(0);
    assert.equal(joined.size, 0);
    assert.equal(changes.length, 0);
    assert.equal(svc.getAttnets().getTrueBitIndexes().length, 0);
    svc.setLocalValidators([3, 9, 17]);
    const subnets = svc.getLongLivedSubnets();
    assert.equal(subnets.length, 3 * config.RANDOM_SUBNETS_PER_VALIDATOR);
    assert.deepEqual([...joined].sort((a, b) => a - b), subnets);
    assert.equal(changes.length, 1);
    assert.deepEqual(changes[0].getTrueBitIndexes(), subnets);
    // the same validators again: nothing changes
    svc.setLocalValidators([3, 9, 17]);
    assert.equal(changes.length, 1);
    // one leaves: its subnet goes
    svc.setLocalValidators([3, 9]);
    assert.equal(svc.getLongLivedSubnets().length, 2);
    assert.equal(joined.size, 2);
    assert.equal(changes.length, 2);
  });

  it("redraws each subnet after a lifetime of E to 2E epochs", () => {
    const { svc, joined, changes, setSlot } = setup();
    svc.onSlot(0);
    svc.setLocalValidators([0, 1, 2, 3, 4, 5, 6, 7]);
    const first = svc.getLongLivedSubnets();
    const E = config.EPOCHS_PER_RANDOM_SUBNET_SUBSCRIPTION;
    // nothing expires before E epochs
    for (let slot = 0; slot < E * spe; slot++) {
      setSlot(slot);
      svc.onSlot(slot);
    }
    assert.deepEqual(svc.getLongLivedSubnets(), first);
    assert.equal(changes.length, 1);
    // every subscription has expired by epoch 2E + 1, and subscriptions follow the new draw
    let redraws = 0;
    for (let slot = E * spe; slot <= (2 * E + 1) * spe; slot++) {
      setSlot(slot);
      const before = changes.length;
      svc.onSlot(slot);
      redraws += changes.length - before;
    }
    assert.ok(redraws >= 1, "subnets were redrawn");
    assert.deepEqual([...joined].sort((a, b) => a - b), svc.getLongLivedSubnets());
    assert.ok(svc.getLongLivedSubnets().length <= 8);
  });

  it("joins an aggregator's subnet two slots ahead and leaves after its slot, without advertising it", () => {
    const { svc, joined, changes, setSlot } = setup(10);
    svc.addDutySubscription(40, 20, true);
    svc.addDutySubscription(41, 20, false);
    assert.equal(joined.size, 0);
    for (const [slot, inside] of [
      [17, false],
      [18, true],
      [20, true],
      [21, false],
    ] as const) {
      setSlot(slot);
      svc.onSlot(slot);
      assert.equal(joined.has(40), inside, `slot ${slot}`);
      assert.equal(joined.has(41), false, "a non-aggregator only needs peers");
    }
    assert.equal(changes.length, 0);
    assert.equal(svc.getAttnets().getTrueBitIndexes().length, 0);
    assert.deepEqual(svc.getDutySubscriptions(), []);
  });

  it("refuses bad duties with a one-line error and keeps its state", () => {
    const { svc, joined } = setup(100);
    svc.onSlot(100);
    for (const [subnet, slot] of [
      [64, 101],
      [-1, 101],
      [1.5, 101],
      [3, 99],
      [3, 100 + 2 * spe + 1],
    ]) {
      assert.throws(() => svc.addDutySubscription(subnet, slot, true), (e: unknown) => e instanceof GossipTopicError && !e.message.includes("\n"));
    }
    assert.deepEqual(svc.getDutySubscriptions(), []);
    assert.equal(joined.size, 0);
  });

  it("stop() leaves every subnet it joined", () => {
    const { svc, joined } = setup(5);
    svc.start();
    svc.setLocalValidators([1, 2]);
    svc.addDutySubscription(50, 6, true);
    assert.ok(joined.size >= 2);
    svc.stop();
    assert.equal(joined.size, 0);
  });
});
