// PeerManager over real libp2p hosts on 127.0.0.1 (TCP, noise, yamux). Req/resp is an in-process stand-in that
// answers for the remote node (and routes inbound Status/Ping/Goodbye to its peer manager, as the node's handlers
// do), and refuses to answer unless a libp2p connection between the two exists. "Passive" nodes have no peer
// manager: they only answer, so the node under test is the only one deciding.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { createCairnLibp2p, type CairnLibp2p } from "../../src/network/libp2p.js";
import { GoodbyeReasonCode, PeerManager, type PeerManagerOpts, type PeerManagerReqResp } from "../../src/network/peers/index.js";
import type { Metadata, Status } from "../../src/types/index.js";
import { until as waitFor } from "../utils/poll.js";

const DIGEST = Uint8Array.from([1, 2, 3, 4]);

interface TestNode {
  id: string;
  addr: string;
  libp2p: CairnLibp2p;
  pm: PeerManager | null;
  status: Status;
  metadata: Metadata;
  /** Status requests this node sent */
  statusRequestsSent: number;
  failStatus: boolean;
}

class FakeNet {
  readonly nodes = new Map<string, TestNode>();
  readonly goodbyes: { from: string; to: string; reason: bigint }[] = [];

  remote(self: TestNode, peer: string): TestNode {
    const r = this.nodes.get(peer);
    if (!r || self.libp2p.getConnections(peerIdFromString(peer)).length === 0) throw new Error("not connected");
    return r;
  }

  reqResp(self: TestNode): PeerManagerReqResp {
    return {
      status: async (peer, ours) => {
        self.statusRequestsSent++;
        const r = this.remote(self, peer);
        if (r.failStatus) throw new Error("stream reset");
        void r.pm?.onStatusReceived(self.id, ours);
        return r.status;
      },
      goodbye: async (peer, reason) => {
        this.goodbyes.push({ from: self.id, to: peer, reason });
        await this.remote(self, peer).pm?.onGoodbyeReceived(self.id, reason);
      },
      ping: async (peer, seq) => {
        const r = this.remote(self, peer);
        r.pm?.onPingReceived(self.id, seq);
        return r.metadata.seqNumber;
      },
      metadata: async (peer) => this.remote(self, peer).metadata,
    };
  }

  async stopAll(): Promise<void> {
    for (const n of this.nodes.values()) await n.pm?.stop();
    await Promise.all([...this.nodes.values()].map((n) => n.libp2p.stop()));
  }
}

function makeStatus(over: Partial<Status> = {}): Status {
  return {
    forkDigest: DIGEST,
    finalizedRoot: new Uint8Array(32),
    finalizedEpoch: 0,
    headRoot: new Uint8Array(32).fill(9),
    headSlot: 10,
    ...over,
  };
}

function root(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

interface NodeOpts {
  status?: Partial<Status>;
  passive?: boolean;
  canonicalRoots?: Map<number, Uint8Array>;
  pm?: Partial<PeerManagerOpts>;
}

async function makeNode(net: FakeNet, opts: NodeOpts = {}): Promise<TestNode> {
  const libp2p = await createCairnLibp2p({ privateKey: await generateKeyPair("secp256k1"), listen: ["/ip4/127.0.0.1/tcp/0"] });
  await libp2p.start();
  const node: TestNode = {
    id: libp2p.peerId.toString(),
    addr: libp2p.getMultiaddrs()[0]!.toString(),
    libp2p,
    pm: null,
    status: makeStatus(opts.status),
    metadata: { seqNumber: 1n, attnets: BitArray.fromBitLen(64) },
    statusRequestsSent: 0,
    failStatus: false,
  };
  net.nodes.set(node.id, node);
  if (!opts.passive) {
    node.pm = new PeerManager({
      libp2p,
      reqResp: net.reqResp(node),
      getStatus: () => node.status,
      getMetadataSeq: () => node.metadata.seqNumber,
      getCanonicalRootAtEpoch: async (epoch) => opts.canonicalRoots?.get(epoch) ?? null,
      heartbeatIntervalMs: 100,
      inboundStatusGraceMs: 30_000,
      ...opts.pm,
    });
    node.pm.start();
  }
  return node;
}

function connected(a: TestNode, b: TestNode): boolean {
  return a.libp2p.getConnections(peerIdFromString(b.id)).length > 0;
}

function connectedEvents(pm: PeerManager): string[] {
  const seen: string[] = [];
  pm.emitter.on("peerConnected", (peer) => seen.push(peer));
  return seen;
}

test("handshake both ways: the dialer requests Status, the listener gets it inbound; both keep the Status and MetaData", async () => {
  const net = new FakeNet();
  try {
    const a = await makeNode(net, { status: { headSlot: 11 } });
    const b = await makeNode(net, { status: { headSlot: 22 } });
    const aConnected = connectedEvents(a.pm!);
    const bStatuses: string[] = [];
    b.pm!.emitter.on("peerStatus", (peer) => bStatuses.push(peer));
    a.pm!.addDiscoveredPeer({ peerId: b.id, multiaddr: b.addr });
    await waitFor("both handshakes", () => a.pm!.getPeerStatuses().has(b.id) && b.pm!.getPeerStatuses().has(a.id));
    assert.equal(a.pm!.getPeerStatuses().get(b.id)?.headSlot, 22);
    assert.equal(b.pm!.getPeerStatuses().get(a.id)?.headSlot, 11);
    assert.deepEqual(aConnected, [b.id]);
    assert.deepEqual(bStatuses, [a.id]);
    // the listener learnt the dialer's Status from the dialer's request, it did not ask
    assert.equal(a.statusRequestsSent, 1);
    assert.equal(b.statusRequestsSent, 0);
    await waitFor("metadata", () => a.pm!.getPeerMetadata(b.id) !== null && b.pm!.getPeerMetadata(a.id) !== null);
    assert.equal(a.pm!.getPeerMetadata(b.id)?.seqNumber, 1n);
    assert.deepEqual(a.pm!.getConnectedPeers(), [b.id]);
  } finally {
    await net.stopAll();
  }
});

test("a peer with another fork digest gets Goodbye(irrelevant network) and is disconnected; so is one that cannot give a Status", async () => {
  const net = new FakeNet();
  try {
    const a = await makeNode(net);
    const foreign = await makeNode(net, { passive: true, status: { forkDigest: Uint8Array.from([9, 9, 9, 9]) } });
    const mute = await makeNode(net, { passive: true });
    mute.failStatus = true;
    const aConnected = connectedEvents(a.pm!);
    a.pm!.addDiscoveredPeer({ peerId: foreign.id, multiaddr: foreign.addr });
    a.pm!.addDiscoveredPeer({ peerId: mute.id, multiaddr: mute.addr });
    await waitFor("goodbyes", () => net.goodbyes.length === 2);
    await waitFor("disconnects", () => !connected(a, foreign) && !connected(a, mute));
    assert.deepEqual(net.goodbyes.find((g) => g.to === foreign.id), { from: a.id, to: foreign.id, reason: GoodbyeReasonCode.irrelevantNetwork });
    assert.deepEqual(net.goodbyes.find((g) => g.to === mute.id), { from: a.id, to: mute.id, reason: GoodbyeReasonCode.unableToVerifyNetwork });
    assert.deepEqual(aConnected, []);
    assert.equal(a.pm!.getPeerStatuses().size, 0);
  } finally {
    await net.stopAll();
  }
});

test("a finalized checkpoint that conflicts with our chain disconnects the peer; consistent ones are kept", async () => {
  const net = new FakeNet();
  try {
    const canonicalRoots = new Map([[3, root(3)]]);
    const a = await makeNode(net, { status: { finalizedEpoch: 5, finalizedRoot: root(5) }, canonicalRoots });
    const behindBad = await makeNode(net, { passive: true, status: { finalizedEpoch: 3, finalizedRoot: root(0xbb) } });
    const sameEpochBad = await makeNode(net, { passive: true, status: { finalizedEpoch: 5, finalizedRoot: root(0xcc) } });
    const behindGood = await makeNode(net, { passive: true, status: { finalizedEpoch: 3, finalizedRoot: root(3) } });
    const sameEpochGood = await makeNode(net, { passive: true, status: { finalizedEpoch: 5, finalizedRoot: root(5) } });
    const ahead = await makeNode(net, { passive: true, status: { finalizedEpoch: 7, finalizedRoot: root(7) } });
    const genesis = await makeNode(net, { passive: true, status: { finalizedEpoch: 0, finalizedRoot: new Uint8Array(32) } });
    for (const n of [behindBad, sameEpochBad, behindGood, sameEpochGood, ahead, genesis]) {
      a.pm!.addDiscoveredPeer({ peerId: n.id, multiaddr: n.addr });
    }
    await waitFor("4 handshakes", () => a.pm!.getPeerStatuses().size === 4);
    await waitFor("2 goodbyes", () => net.goodbyes.length === 2);
    await waitFor("disconnects", () => !connected(a, behindBad) && !connected(a, sameEpochBad));
    assert.deepEqual(new Set(a.pm!.getPeerStatuses().keys()), new Set([behindGood.id, sameEpochGood.id, ahead.id, genesis.id]));
    for (const g of net.goodbyes) assert.equal(g.reason, GoodbyeReasonCode.irrelevantNetwork);
    assert.deepEqual(new Set(net.goodbyes.map((g) => g.to)), new Set([behindBad.id, sameEpochBad.id]));
  } finally {
    await net.stopAll();
  }
});

test("a peer reported fatal is banned: Goodbye(banned), disconnected, its reconnection refused and not redialed", async () => {
  const net = new FakeNet();
  try {
    const a = await makeNode(net);
    const b = await makeNode(net);
    const aConnected = connectedEvents(a.pm!);
    const aDisconnected: string[] = [];
    a.pm!.emitter.on("peerDisconnected", (p) => aDisconnected.push(p));
    a.pm!.addDiscoveredPeer({ peerId: b.id, multiaddr: b.addr });
    await waitFor("handshake", () => a.pm!.getPeerStatuses().has(b.id));

    a.pm!.reportPeer(b.id, "fatal", "invalid batch");
    await waitFor("disconnect", () => !connected(a, b) && !connected(b, a));
    assert.ok(a.pm!.isBanned(b.id));
    assert.deepEqual(net.goodbyes, [{ from: a.id, to: b.id, reason: GoodbyeReasonCode.banned }]);
    assert.deepEqual(aDisconnected, [b.id]);

    // b dials a again directly: a closes the connection at once
    await b.libp2p.dial(multiaddr(a.addr)).catch(() => undefined);
    await waitFor("refusal", () => a.pm!.stats.refusedBanned >= 1);
    await waitFor("closed", () => !connected(a, b) && !connected(b, a));
    // nor does a dial b on its own
    const dials = a.pm!.stats.dials;
    a.pm!.addDiscoveredPeer({ peerId: b.id, multiaddr: b.addr });
    await a.pm!.heartbeat();
    assert.equal(a.pm!.stats.dials, dials);
    assert.deepEqual(aConnected, [b.id]);
    assert.ok(!a.pm!.getPeerStatuses().has(b.id));
  } finally {
    await net.stopAll();
  }
});

test("req/resp faults lower the score until the peer is dropped with Goodbye(bad score)", async () => {
  const net = new FakeNet();
  try {
    const a = await makeNode(net);
    const b = await makeNode(net, { passive: true });
    a.pm!.addDiscoveredPeer({ peerId: b.id, multiaddr: b.addr });
    await waitFor("handshake", () => a.pm!.getPeerStatuses().has(b.id));
    a.pm!.onPeerFault(b.id, "INVALID_RESPONSE");
    await a.pm!.heartbeat();
    assert.ok(connected(a, b), "one fault is tolerated");
    // (the first penalty has decayed a little by now: two more take the score past the threshold, not to a ban)
    a.pm!.onPeerFault(b.id, "INVALID_RESPONSE");
    a.pm!.onPeerFault(b.id, "INVALID_RESPONSE");
    await waitFor("disconnect", () => !connected(a, b));
    assert.deepEqual(net.goodbyes, [{ from: a.id, to: b.id, reason: GoodbyeReasonCode.badScore }]);
    assert.ok(!a.pm!.isBanned(b.id));
  } finally {
    await net.stopAll();
  }
});

test("a peer whose gossipsub score falls to the graylist level is dropped at the next heartbeat", async () => {
  const net = new FakeNet();
  try {
    let gossipScore = 0;
    const a = await makeNode(net, { pm: { getGossipScore: () => gossipScore, score: { gossipDisconnectScore: -16000 } } });
    const b = await makeNode(net, { passive: true });
    a.pm!.addDiscoveredPeer({ peerId: b.id, multiaddr: b.addr });
    await waitFor("handshake", () => a.pm!.getPeerStatuses().has(b.id));
    gossipScore = -15000;
    await a.pm!.heartbeat();
    assert.ok(connected(a, b), "above the threshold the peer stays");
    gossipScore = -16000;
    await waitFor("disconnect", () => !connected(a, b));
    assert.deepEqual(net.goodbyes, [{ from: a.id, to: b.id, reason: GoodbyeReasonCode.badScore }]);
  } finally {
    await net.stopAll();
  }
});

test("the peer count settles at the target: dials stop there and an inbound surplus is shed", async () => {
  const net = new FakeNet();
  try {
    // outbound: 4 candidates, target 2
    const a = await makeNode(net, { pm: { targetPeers: 2 } });
    const candidates = await Promise.all([1, 2, 3, 4].map(() => makeNode(net, { passive: true })));
    for (const c of candidates) a.pm!.addDiscoveredPeer({ peerId: c.id, multiaddr: c.addr });
    await waitFor("2 handshakes", () => a.pm!.getPeerStatuses().size === 2);
    for (let i = 0; i < 5; i++) await a.pm!.heartbeat();
    assert.equal(a.pm!.peerCount, 2);
    assert.equal(a.pm!.stats.dials, 2);
    assert.equal(a.pm!.needsPeers(), false);

    // inbound: 4 nodes dial h (target 2); h sheds 2 with Goodbye(too many peers), and they do not come back
    const h = await makeNode(net, { pm: { targetPeers: 2 } });
    const dialers = await Promise.all([1, 2, 3, 4].map(() => makeNode(net, { pm: { targetPeers: 5 } })));
    for (const d of dialers) d.pm!.addDiscoveredPeer({ peerId: h.id, multiaddr: h.addr });
    const shedByH = () => net.goodbyes.filter((g) => g.from === h.id);
    await waitFor("h shed its surplus", () => shedByH().length === 2);
    await waitFor("h at its target", () => h.libp2p.getConnections().length === 2);
    for (let i = 0; i < 5; i++) {
      await h.pm!.heartbeat();
      for (const d of dialers) await d.pm!.heartbeat();
    }
    assert.equal(h.pm!.peerCount, 2);
    assert.equal(h.libp2p.getConnections().length, 2);
    assert.equal(h.pm!.getPeerStatuses().size, 2);
    // the shed peers back off instead of dialing again at once
    assert.equal(shedByH().length, 2);
    for (const g of shedByH()) assert.equal(g.reason, GoodbyeReasonCode.tooManyPeers);
    const shedIds = new Set(shedByH().map((g) => g.to));
    for (const d of dialers) assert.equal(d.libp2p.getConnections().length, shedIds.has(d.id) ? 0 : 1);
  } finally {
    await net.stopAll();
  }
});

test("static peers are never shed and are redialed when lost", async () => {
  const net = new FakeNet();
  try {
    const s = await makeNode(net, { passive: true });
    const a = await makeNode(net, { pm: { targetPeers: 1, staticPeers: [s.addr] } });
    await waitFor("static handshake", () => a.pm!.getPeerStatuses().has(s.id));
    const other = await makeNode(net, { pm: { targetPeers: 5 } });
    other.pm!.addDiscoveredPeer({ peerId: a.id, multiaddr: a.addr });
    await waitFor("surplus shed", () => net.goodbyes.some((g) => g.from === a.id && g.to === other.id));
    assert.ok(connected(a, s));

    // the static peer hangs up; a dials it again
    const events: string[] = [];
    a.pm!.emitter.on("peerDisconnected", (p) => p === s.id && events.push("disconnected"));
    a.pm!.emitter.on("peerConnected", (p) => p === s.id && events.push("connected"));
    const dials = a.pm!.stats.dials;
    await s.libp2p.hangUp(peerIdFromString(a.id));
    await waitFor("redialed", () => events.length === 2);
    assert.deepEqual(events, ["disconnected", "connected"]);
    assert.equal(a.pm!.stats.dials, dials + 1);
    assert.ok(connected(a, s));
    assert.throws(() => new PeerManager({ ...baseOpts(a), staticPeers: ["/ip4/127.0.0.1/tcp/1"] }), /has no \/p2p\/<peerId>/);
    assert.throws(() => new PeerManager({ ...baseOpts(a), staticPeers: ["not a multiaddr"] }), /^Error: invalid peer multiaddr/);
  } finally {
    await net.stopAll();
  }
});

test("pings learn a changed MetaData seq number and fetch the new MetaData", async () => {
  const net = new FakeNet();
  try {
    const a = await makeNode(net, { pm: { pingIntervalMs: 100 } });
    const b = await makeNode(net, { passive: true });
    const seen: bigint[] = [];
    a.pm!.emitter.on("peerMetadata", (_peer, md) => seen.push(md.seqNumber));
    a.pm!.addDiscoveredPeer({ peerId: b.id, multiaddr: b.addr });
    await waitFor("first metadata", () => seen.length === 1);
    const attnets = BitArray.fromBitLen(64);
    attnets.set(7, true);
    b.metadata = { seqNumber: 2n, attnets };
    await waitFor("new metadata", () => seen.includes(2n));
    assert.deepEqual(a.pm!.getPeerMetadata(b.id)?.attnets.getTrueBitIndexes(), [7]);
    assert.deepEqual(seen, [1n, 2n]);
  } finally {
    await net.stopAll();
  }
});

function baseOpts(n: TestNode): PeerManagerOpts {
  return {
    libp2p: n.libp2p,
    reqResp: { status: async () => n.status, goodbye: async () => {}, ping: async () => 0n, metadata: async () => n.metadata },
    getStatus: () => n.status,
    getMetadataSeq: () => 0n,
    getCanonicalRootAtEpoch: async () => null,
  };
}
