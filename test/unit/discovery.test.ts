// Discovery and the peer manager together, on 127.0.0.1: real discv5 (UDP), real libp2p hosts (TCP) and the real
// ReqResp (ssz_snappy over yamux streams), wired as the node wires them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromString } from "@libp2p/peer-id";
import { getNamedConfig } from "../../src/config/index.js";
import { decodeEnr, Discovery, readEnrAttnets, readEnrForkId } from "../../src/network/discovery/index.js";
import { createCairnLibp2p, type CairnLibp2p } from "../../src/network/libp2p.js";
import { GoodbyeReasonCode, PeerManager } from "../../src/network/peers/index.js";
import { ReqResp } from "../../src/network/reqresp/index.js";
import type { Metadata, Status } from "../../src/types/index.js";
import { until as waitFor } from "../utils/poll.js";

const config = getNamedConfig("minimal");
const DIGEST = Uint8Array.from([0xca, 0x1f, 0x00, 0x01]);
const OTHER_DIGEST = Uint8Array.from([0xde, 0xad, 0xbe, 0xef]);

interface Node {
  id: string;
  libp2p: CairnLibp2p;
  reqResp: ReqResp;
  pm: PeerManager;
  discovery: Discovery | null;
  status: Status;
  goodbyesReceived: bigint[];
}

function statusOf(forkDigest: Uint8Array): Status {
  return { forkDigest, finalizedRoot: new Uint8Array(32), finalizedEpoch: 0, headRoot: new Uint8Array(32).fill(1), headSlot: 0 };
}

async function makeNode(opts: { forkDigest?: Uint8Array; bootEnrs?: string[]; discovery?: boolean; targetPeers?: number }): Promise<Node> {
  const privateKey = await generateKeyPair("secp256k1");
  const libp2p = await createCairnLibp2p({ privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] });
  const status = statusOf(opts.forkDigest ?? DIGEST);
  const metadata: Metadata = { seqNumber: 1n, attnets: BitArray.fromBitLen(64) };
  const goodbyesReceived: bigint[] = [];
  // the handlers route inbound Status/Goodbye/Ping to the peer manager, created just below
  let pm!: PeerManager;
  const reqResp = new ReqResp({
    libp2p,
    config,
    handlers: {
      onStatus: (peer, theirs) => {
        void pm.onStatusReceived(peer, theirs);
        return status;
      },
      onGoodbye: (peer, reason) => {
        goodbyesReceived.push(reason);
        void pm.onGoodbyeReceived(peer, reason);
      },
      onPing: (peer, seq) => pm.onPingReceived(peer, seq),
      getMetadata: () => metadata,
      onBeaconBlocksByRange: async function* () {},
      onBeaconBlocksByRoot: async function* () {},
    },
    onPeerFault: (peer, fault, detail) => pm.onPeerFault(peer, fault, detail),
  });
  pm = new PeerManager({
    libp2p,
    reqResp,
    getStatus: () => status,
    getMetadataSeq: () => metadata.seqNumber,
    getCanonicalRootAtEpoch: async () => null,
    targetPeers: opts.targetPeers ?? 10,
    heartbeatIntervalMs: 200,
  });
  await reqResp.start();
  await libp2p.start();
  pm.start();
  let discovery: Discovery | null = null;
  if (opts.discovery !== false) {
    const tcpPort = Number(libp2p.getMultiaddrs()[0]!.getComponents().find((c) => c.name === "tcp")!.value);
    discovery = await Discovery.create({
      config,
      privateKey,
      forkDigest: status.forkDigest,
      udpPort: 0,
      tcpPort,
      bootEnrs: opts.bootEnrs,
      lookupIntervalMs: 200,
      wantMorePeers: () => pm.needsPeers(),
      onPeerDiscovered: (peer) => pm.addDiscoveredPeer(peer),
      // short lookups: discv5 keeps a finished lookup's timer alive until lookupTimeout, delaying the test's exit
      discv5Config: { requestTimeout: 500, lookupTimeout: 1000 },
    });
    await discovery.start();
  }
  return { id: libp2p.peerId.toString(), libp2p, reqResp, pm, discovery, status, goodbyesReceived };
}

async function stopAll(nodes: Node[]): Promise<void> {
  for (const n of nodes) await n.discovery?.stop();
  for (const n of nodes) await n.pm.stop();
  for (const n of nodes) await n.reqResp.stop();
  await Promise.all(nodes.map((n) => n.libp2p.stop()));
}

test("three nodes find each other through one bootnode and the peer manager connects them over TCP", async () => {
  const nodes: Node[] = [];
  try {
    const boot = await makeNode({});
    nodes.push(boot);
    // a node of another network that the bootnode knows: its ENR is ignored, never dialed
    const foreign = await makeNode({ forkDigest: OTHER_DIGEST });
    nodes.push(foreign);
    const bootEnrs = [boot.discovery!.enr, foreign.discovery!.enr];
    const a = await makeNode({ bootEnrs });
    nodes.push(a);
    const b = await makeNode({ bootEnrs });
    nodes.push(b);
    const ours = [boot, a, b];
    await waitFor("a full mesh of handshakes", () =>
      ours.every((n) => ours.every((m) => m === n || n.pm.getPeerStatuses().has(m.id))),
    );
    // a and b only knew the bootnode: each found the other by discv5
    assert.ok(a.pm.getPeerStatuses().has(b.id) && b.pm.getPeerStatuses().has(a.id));
    for (const n of [a, b]) {
      assert.ok(n.discovery!.stats.ignoredOtherFork >= 1);
      assert.ok(!n.pm.getPeerStatuses().has(foreign.id));
      assert.equal(n.libp2p.getConnections(peerIdFromString(foreign.id)).length, 0);
    }
    assert.deepEqual(foreign.pm.getConnectedPeers(), []);
    // the Status received is the peer's own, and its MetaData follows from the first ping
    assert.deepEqual([...(a.pm.getPeerStatuses().get(b.id)?.forkDigest ?? [])], [...DIGEST]);
    await waitFor("metadata", () => a.pm.getPeerMetadata(b.id)?.seqNumber === 1n);
    // every known ENR is on our fork
    for (const p of a.discovery!.knownPeers()) assert.notEqual(p.peerId, foreign.id);
  } finally {
    await stopAll(nodes);
  }
});

test("with the real ReqResp, a peer on another fork digest receives Goodbye(irrelevant network) and is dropped", async () => {
  const nodes: Node[] = [];
  try {
    const a = await makeNode({ discovery: false });
    nodes.push(a);
    const other = await makeNode({ discovery: false, forkDigest: OTHER_DIGEST });
    nodes.push(other);
    const addr = other.libp2p.getMultiaddrs()[0]!.toString();
    a.pm.addDiscoveredPeer({ peerId: other.id, multiaddr: addr });
    await waitFor("goodbye", () => other.goodbyesReceived.length + a.goodbyesReceived.length > 0);
    await waitFor("disconnect", () => a.libp2p.getConnections().length === 0 && other.libp2p.getConnections().length === 0);
    // both sides judge the other foreign; whichever spoke first, the reason is irrelevant network
    for (const r of [...other.goodbyesReceived, ...a.goodbyesReceived]) assert.equal(r, GoodbyeReasonCode.irrelevantNetwork);
    assert.equal(a.pm.getPeerStatuses().size, 0);
    assert.equal(other.pm.getPeerStatuses().size, 0);
  } finally {
    await stopAll(nodes);
  }
});

test("attnets, tcp port and fork digest updates reach the ENR; bad options are clear errors", async () => {
  const privateKey = await generateKeyPair("secp256k1");
  const d = await Discovery.create({ config, privateKey, forkDigest: DIGEST, udpPort: 0, tcpPort: 9000 });
  const seq = BigInt(d.discv5.enr.seq);
  const bits = BitArray.fromBitLen(64);
  bits.set(42, true);
  d.setAttnets(bits);
  assert.ok(d.discv5.enr.seq > seq);
  assert.deepEqual(readEnrAttnets(config, decodeEnr(d.enr))?.getTrueBitIndexes(), [42]);
  d.setTcpPort(9100);
  assert.equal(decodeEnr(d.enr).tcp, 9100);
  d.setForkDigest(OTHER_DIGEST);
  assert.deepEqual([...(readEnrForkId(config, decodeEnr(d.enr))?.forkDigest ?? [])], [...OTHER_DIGEST]);
  assert.ok(d.udpPort > 0);
  assert.equal(decodeEnr(d.enr).udp, d.udpPort);
  assert.throws(() => d.setTcpPort(-1), /invalid tcp port -1/);
  await assert.rejects(
    Discovery.create({ config, privateKey, forkDigest: DIGEST, udpPort: 0, tcpPort: 9000, bootEnrs: ["enr:bogus"] }),
    /^Error: invalid ENR "enr:bogus"/,
  );
  await assert.rejects(Discovery.create({ config, privateKey, forkDigest: DIGEST, udpPort: 70000, tcpPort: 9000 }), /invalid udp port 70000/);
  await assert.rejects(Discovery.create({ config, privateKey, forkDigest: DIGEST, udpPort: 0, tcpPort: 1, ip: "localhost" }), /invalid discovery ip/);
  const ed = await generateKeyPair("Ed25519");
  await assert.rejects(Discovery.create({ config, privateKey: ed, forkDigest: DIGEST, udpPort: 0, tcpPort: 1 }), /secp256k1/);
});

/** discv5's (private) setting: whether peers' views of our address may update the ENR */
const enrUpdate = (d: Discovery): boolean => (d.discv5 as unknown as { config: { enrUpdate: boolean } }).config.enrUpdate;

test("the ENR advertises --enr.* values; bound to all interfaces without one, it carries no address and learns it", async () => {
  const privateKey = await generateKeyPair("secp256k1");
  const pub = await Discovery.create({
    config,
    privateKey,
    forkDigest: DIGEST,
    ip: "0.0.0.0",
    udpPort: 0,
    tcpPort: 9000,
    enrIp: "203.0.113.7",
    enrUdpPort: 30303,
  });
  const enr = decodeEnr(pub.enr);
  assert.equal(enr.ip, "203.0.113.7");
  assert.equal(enr.tcp, 9000);
  assert.equal(enr.udp, 30303);
  assert.ok(pub.udpPort > 0 && pub.udpPort !== 30303, "the socket is bound to the picked port, not the advertised one");
  assert.equal(enrUpdate(pub), false, "a configured address is kept");

  const open = await Discovery.create({ config, privateKey, forkDigest: DIGEST, ip: "0.0.0.0", udpPort: 0, tcpPort: 9000 });
  assert.equal(decodeEnr(open.enr).ip, undefined, "0.0.0.0 is not an address to advertise");
  assert.equal(enrUpdate(open), true);

  const v6 = await Discovery.create({ config, privateKey, forkDigest: DIGEST, udpPort: 0, tcpPort: 9000, enrIp: "2001:db8::7", enrUdpPort: 9001 });
  assert.equal(decodeEnr(v6.enr).ip6, "2001:db8::7");
  assert.equal(decodeEnr(v6.enr).tcp6, 9000);
  assert.equal(decodeEnr(v6.enr).udp6, 9001);

  await assert.rejects(Discovery.create({ config, privateKey, forkDigest: DIGEST, udpPort: 0, tcpPort: 1, enrIp: "example.org" }), /invalid ENR ip "example.org"/);
  await assert.rejects(Discovery.create({ config, privateKey, forkDigest: DIGEST, udpPort: 0, tcpPort: 1, enrUdpPort: 65536 }), /invalid ENR udp port 65536/);
});
