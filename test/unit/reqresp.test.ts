// Req/resp over real libp2p hosts on 127.0.0.1: round trips, requester-side validation against a misbehaving
// responder, malformed requests against a running responder, timeouts, rate limits and stop().
import "../../src/network/polyfill.js";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Stream } from "@libp2p/interface";
import { getNamedConfig } from "../../src/config/index.js";
import { STREAM_IDENTIFIER_CHUNK, decodeSszSnappy, encodeSszSnappy, encodeVarint } from "../../src/network/encoding/index.js";
import { createCairnLibp2p, type CairnLibp2p } from "../../src/network/libp2p.js";
import {
  Method,
  RateLimiter,
  ReqResp,
  ReqRespError,
  protocolId,
  type Method as MethodName,
  type ReqRespFault,
  type ReqRespHandlers,
  type ReqRespOptions,
} from "../../src/network/reqresp/index.js";
import type { BeaconBlocksByRangeRequest, Metadata, Status } from "../../src/types/index.js";
import { cat, frameChunk as frame, plainHex as hex, u32le } from "../utils/bytes.js";
import { makeBlock } from "../utils/dbFixtures.js";

const config = getNamedConfig("minimal");
const t = config.types;

// ------------------------------------------------------------------------------------------------ helpers

const hosts: CairnLibp2p[] = [];
const services: ReqResp[] = [];

async function newHost(): Promise<CairnLibp2p> {
  const node = await createCairnLibp2p({ privateKey: await generateKeyPair("secp256k1"), listen: ["/ip4/127.0.0.1/tcp/0"] });
  await node.start();
  hosts.push(node);
  return node;
}

async function connect(a: CairnLibp2p, b: CairnLibp2p): Promise<void> {
  await a.dial(b.getMultiaddrs()[0]!);
}

interface FaultRecord {
  peer: string;
  fault: ReqRespFault;
  detail: string;
}

function makeStatus(headSlot: number): Status {
  return {
    forkDigest: Uint8Array.of(1, 2, 3, 4),
    finalizedRoot: new Uint8Array(32).fill(9),
    finalizedEpoch: 2,
    headRoot: new Uint8Array(32).fill(headSlot & 0xff),
    headSlot,
  };
}

function makeMetadata(seq: bigint, subnets: number[]): Metadata {
  const md = t.Metadata.defaultValue();
  md.seqNumber = seq;
  for (const s of subnets) md.attnets.set(s, true);
  return md;
}

/** A gate a handler waits on; `entered` resolves once the handler is waiting. */
function gate(): { wait: () => Promise<void>; entered: Promise<void>; open: () => void } {
  let open!: () => void;
  let markEntered!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const entered = new Promise<void>((r) => (markEntered = r));
  return {
    wait: () => {
      markEntered();
      return opened;
    },
    entered,
    open,
  };
}

async function rejectsWith(p: Promise<unknown>, fault: ReqRespFault, message?: RegExp): Promise<ReqRespError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ReqRespError, `expected ReqRespError ${fault}, got ${caught === undefined ? "success" : String(caught)}`);
  assert.equal(caught.fault, fault, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

/** Waits (bounded) until `faults` holds one matching record beyond the first `from`. */
async function faultAfter(faults: FaultRecord[], from: number, peer: string, fault: ReqRespFault): Promise<FaultRecord> {
  for (let i = 0; i < 200; i++) {
    const hit = faults.slice(from).find((f) => f.peer === peer && f.fault === fault);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no ${fault} fault reported for ${peer}; got ${JSON.stringify(faults.slice(from))}`);
}

/**
 * Opens a raw stream, sends `payload` (then half-closes unless told not to) and collects everything the remote
 * sends until the stream closes. `reset` tells whether it ended with an error rather than a clean close.
 */
async function rawExchange(from: CairnLibp2p, to: CairnLibp2p, method: MethodName, payload: Uint8Array, closeWrite = true): Promise<{ bytes: Uint8Array; reset: boolean }> {
  const stream = await from.dialProtocol(to.peerId, protocolId(method));
  const chunks: Uint8Array[] = [];
  const closed = new Promise<boolean>((resolve) => {
    stream.addEventListener("message", (e) => chunks.push(e.data instanceof Uint8Array ? e.data : e.data.subarray()));
    stream.addEventListener("close", (e) => resolve(e.error !== undefined));
  });
  if (payload.length > 0) stream.send(payload);
  if (closeWrite) await stream.close();
  const timer = setTimeout(() => stream.abort(new Error("test: no close within 5 s")), 5000);
  const reset = await closed;
  clearTimeout(timer);
  return { bytes: cat(...chunks), reset };
}

/** The result code and error message of an error response. */
function parseErrorResponse(bytes: Uint8Array): { code: number; message: string } {
  assert.ok(bytes.length > 0, "no response bytes");
  return { code: bytes[0]!, message: new TextDecoder().decode(decodeSszSnappy(bytes.subarray(1), { minSize: 0, maxSize: 256 })) };
}

function blockChain(slots: number[]): { bySlot: Map<number, Uint8Array>; byRoot: Map<string, Uint8Array>; roots: Map<number, Uint8Array> } {
  const bySlot = new Map<number, Uint8Array>();
  const byRoot = new Map<string, Uint8Array>();
  const roots = new Map<number, Uint8Array>();
  for (const s of slots) {
    const b = makeBlock(config, s);
    const bytes = t.SignedBeaconBlock.serialize(b);
    const root = t.BeaconBlock.hashTreeRoot(b.message);
    bySlot.set(s, bytes);
    byRoot.set(hex(root), bytes);
    roots.set(s, root);
  }
  return { bySlot, byRoot, roots };
}

function blockHandlers(chain: ReturnType<typeof blockChain>): Pick<ReqRespHandlers, "onBeaconBlocksByRange" | "onBeaconBlocksByRoot"> {
  return {
    async *onBeaconBlocksByRange(_peer: string, req: BeaconBlocksByRangeRequest) {
      for (let s = req.startSlot; s < req.startSlot + req.count * req.step; s += req.step) {
        const b = chain.bySlot.get(s);
        if (b) yield b;
      }
    },
    async *onBeaconBlocksByRoot(_peer: string, roots: Uint8Array[]) {
      for (const r of roots) {
        const b = chain.byRoot.get(hex(r));
        if (b) yield b;
      }
    },
  };
}

const quietHandlers: ReqRespHandlers = {
  onStatus: () => makeStatus(1),
  onGoodbye: () => {},
  getMetadata: () => makeMetadata(0n, []),
  async *onBeaconBlocksByRange() {},
  async *onBeaconBlocksByRoot() {},
};

async function newReqResp(host: CairnLibp2p, faults: FaultRecord[], handlers: ReqRespHandlers, extra: Partial<ReqRespOptions> = {}): Promise<ReqResp> {
  const r = new ReqResp({
    libp2p: host,
    config,
    handlers,
    onPeerFault: (peer, fault, detail) => faults.push({ peer, fault, detail }),
    ...extra,
  });
  await r.start();
  services.push(r);
  return r;
}

// ------------------------------------------------------------------------------------------------ fixtures

// Slots 1..40 with 4, 10 and 17 skipped.
const chain = blockChain(Array.from({ length: 40 }, (_, i) => i + 1).filter((s) => s !== 4 && s !== 10 && s !== 17));
const serverStatus = makeStatus(40);
const serverMetadata = makeMetadata(7n, [3, 60]);

let server: CairnLibp2p;

const serverFaults: FaultRecord[] = [];
const serverSeen = { statuses: [] as Status[], goodbyes: [] as bigint[], pings: [] as bigint[] };
let goodbyeArrived: (reason: bigint) => void = () => {};
let slowStatus: ReturnType<typeof gate> | null = null;

let client: CairnLibp2p;
let clientRR: ReqResp;
const clientFaults: FaultRecord[] = [];
let other: CairnLibp2p;
let otherRR: ReqResp;
let raw: CairnLibp2p;

before(async () => {
  [server, client, other, raw] = await Promise.all([newHost(), newHost(), newHost(), newHost()]);
  await newReqResp(
    server,
    serverFaults,
    {
      async onStatus(_peer, status) {
        serverSeen.statuses.push(status);
        if (status.headSlot === 999) throw new ReqRespError("INVALID_REQUEST", "wrong fork");
        if (status.headSlot === 998) throw new Error("database on fire");
        if (status.headSlot === 997 && slowStatus) await slowStatus.wait();
        return serverStatus;
      },
      onGoodbye: (_peer, reason) => {
        serverSeen.goodbyes.push(reason);
        goodbyeArrived(reason);
      },
      onPing: (_peer, seq) => serverSeen.pings.push(seq),
      getMetadata: () => serverMetadata,
      ...blockHandlers(chain),
    },
    // generous request quotas: the malformed-request cases below all come from one peer
    { rateLimits: { requests: Object.fromEntries(Object.values(Method).map((m) => [m, { tokens: 1000, windowMs: 10_000 }])) } },
  );
  clientRR = await newReqResp(client, clientFaults, quietHandlers);
  otherRR = await newReqResp(other, [], quietHandlers);
  await Promise.all([connect(client, server), connect(other, server), connect(raw, server)]);
});

after(async () => {
  slowStatus?.open();
  for (const s of services) await s.stop();
  await Promise.all(hosts.map((h) => h.stop()));
});

// ------------------------------------------------------------------------------------------------ round trips

test("status: both sides exchange their Status", async () => {
  const ours = makeStatus(12);
  const theirs = await clientRR.status(server.peerId.toString(), ours);
  assert.ok(t.Status.equals(theirs, serverStatus));
  assert.ok(t.Status.equals(serverSeen.statuses.at(-1)!, ours));
});

test("ping and metadata", async () => {
  assert.equal(await clientRR.ping(server.peerId.toString(), 42n), 7n);
  assert.equal(serverSeen.pings.at(-1), 42n);
  const md = await clientRR.metadata(server.peerId.toString());
  assert.ok(t.Metadata.equals(md, serverMetadata));
  assert.deepEqual(md.attnets.getTrueBitIndexes(), [3, 60]);
});

test("goodbye: delivered, no response expected", async () => {
  const arrived = new Promise<bigint>((r) => (goodbyeArrived = r));
  await otherRR.goodbye(server.peerId.toString(), 3n);
  assert.equal(await arrived, 3n);
});

test("beacon_blocks_by_range: step 1 and step 2 over skipped slots, in slot order", async () => {
  const peer = server.peerId.toString();
  const r1 = await clientRR.beaconBlocksByRange(peer, { startSlot: 8, count: 5, step: 1 });
  assert.deepEqual(r1.map((b) => b.message.slot), [8, 9, 11, 12]);
  for (const b of r1) assert.equal(hex(t.SignedBeaconBlock.serialize(b)), hex(chain.bySlot.get(b.message.slot)!));
  const r2 = await clientRR.beaconBlocksByRange(peer, { startSlot: 2, count: 5, step: 2 });
  assert.deepEqual(r2.map((b) => b.message.slot), [2, 6, 8]);
  const r3 = await clientRR.beaconBlocksByRange(peer, { startSlot: 100, count: 10, step: 1 });
  assert.equal(r3.length, 0);
  const all = await clientRR.beaconBlocksByRange(peer, { startSlot: 0, count: 64, step: 1 });
  assert.equal(all.length, chain.bySlot.size);
});

test("beacon_blocks_by_root: known roots answered, unknown skipped", async () => {
  const peer = server.peerId.toString();
  const unknown = new Uint8Array(32).fill(0xee);
  const roots = [chain.roots.get(5)!, unknown, chain.roots.get(30)!, chain.roots.get(1)!];
  const got = await clientRR.beaconBlocksByRoot(peer, roots);
  assert.deepEqual(got.map((b) => b.message.slot), [5, 30, 1]);
  assert.deepEqual(await clientRR.beaconBlocksByRoot(peer, []), []);
});

test("requests the requester itself finds invalid are refused before dialing", async () => {
  const peer = server.peerId.toString();
  await rejectsWith(clientRR.beaconBlocksByRange(peer, { startSlot: 0, count: 1025, step: 1 }), "INVALID_REQUEST");
  await rejectsWith(clientRR.beaconBlocksByRange(peer, { startSlot: 0, count: 5, step: 0 }), "INVALID_REQUEST");
  await rejectsWith(clientRR.beaconBlocksByRoot(peer, Array.from({ length: 1025 }, () => new Uint8Array(32))), "INVALID_REQUEST");
});

test("a handler's ReqRespError becomes the response code; other handler errors are ServerError", async () => {
  const peer = server.peerId.toString();
  const before = serverFaults.length;
  const e1 = await rejectsWith(clientRR.status(peer, makeStatus(999)), "INVALID_REQUEST", /wrong fork/);
  assert.equal(e1.respCode, 1);
  assert.equal(e1.peer, peer);
  // the server blames the client for an invalid request
  await faultAfter(serverFaults, before, client.peerId.toString(), "INVALID_REQUEST");
  const e2 = await rejectsWith(clientRR.status(peer, makeStatus(998)), "SERVER_ERROR", /internal error/);
  assert.equal(e2.respCode, 2);
  assert.doesNotMatch(e2.message, /database/, "internal details stay inside");
});

test("the responder cuts a handler that yields more blocks than the request's count", async () => {
  const greedy = await newHost();
  await newReqResp(greedy, [], {
    ...quietHandlers,
    async *onBeaconBlocksByRange() {
      for (const b of chain.bySlot.values()) yield b;
    },
  });
  await connect(client, greedy);
  const got = await clientRR.beaconBlocksByRange(greedy.peerId.toString(), { startSlot: 1, count: 3, step: 1 });
  assert.deepEqual(got.map((b) => b.message.slot), [1, 2, 3]);
});

test("token buckets refill continuously and are pruned once full", () => {
  let now = 0;
  const rl = new RateLimiter(() => now);
  const q = { tokens: 10, windowMs: 1000 };
  assert.equal(rl.take("a", q, 10), true);
  assert.equal(rl.take("a", q, 1), false);
  assert.equal(rl.take("b", q, 4), true, "buckets are per key");
  now = 500;
  assert.equal(rl.take("a", q, 6), false, "half a window refills half");
  assert.equal(rl.take("a", q, 5), true);
  assert.equal(rl.take("a", q, 11), false, "never more than the burst");
  now = 10_000;
  rl.prune();
  assert.equal(rl.size, 0);
  assert.equal(rl.take("a", q, 10), true);
});

// ------------------------------------------------------------------------------------------------ malformed requests

test("malformed requests over a real stream: InvalidRequest, a fault reported, and the responder keeps serving", async () => {
  const rawPeer = raw.peerId.toString();
  const statusSsz = t.Status.serialize(makeStatus(5));
  const goodStatus = encodeSszSnappy(statusSsz);
  const badCrc = Uint8Array.from(goodStatus);
  badCrc[1 + STREAM_IDENTIFIER_CHUNK.length + 4] ^= 0xff;
  const bomb = cat(encodeVarint(64), STREAM_IDENTIFIER_CHUNK, frame(0x00, cat(u32le(0), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x61))));
  const rootsNot32 = new Uint8Array(33).fill(1);
  const cases: { name: string; method: MethodName; bytes: Uint8Array }[] = [
    { name: "length prefix above the type's max", method: Method.status, bytes: encodeVarint(2 ** 20) },
    { name: "length prefix above MAX_CHUNK_SIZE", method: Method.beaconBlocksByRoot, bytes: encodeVarint(2 ** 30) },
    { name: "snappy bomb", method: Method.beaconBlocksByRoot, bytes: bomb },
    { name: "garbage", method: Method.status, bytes: cat(encodeVarint(84), new Uint8Array(90).fill(0x5a)) },
    { name: "garbage prefix", method: Method.ping, bytes: Uint8Array.from([0xde, 0xad, 0xbe, 0xef, 0x13, 0x37]) },
    { name: "truncated snappy frames", method: Method.status, bytes: goodStatus.subarray(0, goodStatus.length - 20) },
    { name: "truncated SSZ (roots not a multiple of 32)", method: Method.beaconBlocksByRoot, bytes: encodeSszSnappy(rootsNot32) },
    { name: "bad CRC", method: Method.status, bytes: badCrc },
    { name: "trailing data", method: Method.status, bytes: cat(goodStatus, Uint8Array.of(0, 1, 2, 3)) },
    { name: "varint longer than 10 bytes", method: Method.status, bytes: new Uint8Array(12).fill(0x80) },
    { name: "metadata request with a body", method: Method.metadata, bytes: Uint8Array.of(1, 2, 3) },
    { name: "by_range step 0", method: Method.beaconBlocksByRange, bytes: encodeSszSnappy(t.BeaconBlocksByRangeRequest.serialize({ startSlot: 1, count: 4, step: 0 })) },
    { name: "by_range count above MAX_REQUEST_BLOCKS", method: Method.beaconBlocksByRange, bytes: encodeSszSnappy(t.BeaconBlocksByRangeRequest.serialize({ startSlot: 1, count: 5000, step: 1 })) },
  ];
  for (const c of cases) {
    const before = serverFaults.length;
    const { bytes } = await rawExchange(raw, server, c.method, c.bytes);
    const { code, message } = parseErrorResponse(bytes);
    assert.equal(code, 1, `${c.name}: expected InvalidRequest, got code ${code} (${message})`);
    assert.ok(message.length > 0, `${c.name}: an error message`);
    const f = await faultAfter(serverFaults, before, rawPeer, "INVALID_REQUEST");
    assert.ok(f.detail.length > 0);
  }
  // still serving, the misbehaving peer included
  assert.ok(t.Status.equals(await otherRR.status(server.peerId.toString(), makeStatus(3)), serverStatus));
  const ok = await rawExchange(raw, server, Method.status, goodStatus);
  assert.equal(ok.bytes[0], 0);
  assert.ok(t.Status.equals(t.Status.deserialize(decodeSszSnappy(ok.bytes.subarray(1), { minSize: 84, maxSize: 84 })), serverStatus));
});

// ------------------------------------------------------------------------------------------------ misbehaving responder

test("requester: malformed or out-of-spec responses raise INVALID_RESPONSE and are reported", async () => {
  const evil = await newHost();
  const behaviour = new Map<string, Uint8Array>();
  await evil.handle(
    Object.values(Method).map(protocolId),
    async (stream: Stream) => {
      const bytes = behaviour.get(stream.protocol) ?? new Uint8Array(0);
      if (bytes.length > 0) stream.send(bytes);
      await stream.close();
    },
    { maxInboundStreams: 100 },
  );
  await connect(client, evil);
  const peer = evil.peerId.toString();
  const statusProto = protocolId(Method.status);
  const good = cat(Uint8Array.of(0), encodeSszSnappy(t.Status.serialize(serverStatus)));
  const badCrc = Uint8Array.from(good);
  badCrc[2 + STREAM_IDENTIFIER_CHUNK.length + 4] ^= 0xff;
  const block = (slot: number): Uint8Array => cat(Uint8Array.of(0), encodeSszSnappy(chain.bySlot.get(slot)!));
  const errorChunk = (code: number, msg: string): Uint8Array => cat(Uint8Array.of(code), encodeSszSnappy(new TextEncoder().encode(msg)));

  const statusCases: { name: string; bytes: Uint8Array; fault: ReqRespFault }[] = [
    { name: "garbage", bytes: Uint8Array.of(0, 0x54, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a), fault: "INVALID_RESPONSE" },
    { name: "bad CRC", bytes: badCrc, fault: "INVALID_RESPONSE" },
    {
      name: "snappy bomb",
      bytes: cat(Uint8Array.of(0), encodeVarint(84), STREAM_IDENTIFIER_CHUNK, frame(0x00, cat(u32le(0), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07, 0, 0x61)))),
      fault: "INVALID_RESPONSE",
    },
    { name: "length above max", bytes: cat(Uint8Array.of(0), encodeVarint(1 << 24)), fault: "INVALID_RESPONSE" },
    { name: "truncated", bytes: good.subarray(0, good.length - 10), fault: "INVALID_RESPONSE" },
    { name: "wrong SSZ size (below min)", bytes: cat(Uint8Array.of(0), encodeSszSnappy(new Uint8Array(10))), fault: "INVALID_RESPONSE" },
    { name: "no response at all", bytes: new Uint8Array(0), fault: "INVALID_RESPONSE" },
    { name: "reserved result code", bytes: errorChunk(7, "?"), fault: "INVALID_RESPONSE" },
    { name: "ResourceUnavailable", bytes: errorChunk(3, "not now"), fault: "RESOURCE_UNAVAILABLE" },
    { name: "ServerError rate limited", bytes: errorChunk(2, "rate limited: slow down"), fault: "RATE_LIMITED" },
    { name: "ServerError", bytes: errorChunk(2, "oops\u0000\u0007"), fault: "SERVER_ERROR" },
  ];
  for (const c of statusCases) {
    behaviour.set(statusProto, c.bytes);
    const before = clientFaults.length;
    await rejectsWith(clientRR.status(peer, makeStatus(1)), c.fault);
    const f = await faultAfter(clientFaults, before, peer, c.fault);
    assert.doesNotMatch(f.detail, /[\u0000-\u0008]/, `${c.name}: control characters masked`);
  }
  // a well-formed answer still works
  behaviour.set(statusProto, good);
  assert.ok(t.Status.equals(await clientRR.status(peer, makeStatus(1)), serverStatus));

  const rangeProto = protocolId(Method.beaconBlocksByRange);
  const rangeCases: { name: string; bytes: Uint8Array; req: BeaconBlocksByRangeRequest; re: RegExp }[] = [
    { name: "slot before start", bytes: cat(block(1), block(2)), req: { startSlot: 2, count: 4, step: 1 }, re: /not requested/ },
    { name: "slot at the end", bytes: cat(block(5), block(6)), req: { startSlot: 2, count: 4, step: 1 }, re: /not requested/ },
    { name: "off the step grid", bytes: cat(block(2), block(5)), req: { startSlot: 2, count: 4, step: 2 }, re: /not requested/ },
    { name: "out of order", bytes: cat(block(3), block(2)), req: { startSlot: 2, count: 4, step: 1 }, re: /slot order/ },
    { name: "duplicate slot", bytes: cat(block(3), block(3)), req: { startSlot: 2, count: 4, step: 1 }, re: /slot order/ },
    { name: "more than count", bytes: cat(block(2), block(3), block(5)), req: { startSlot: 2, count: 2, step: 1 }, re: /more than 2/ },
    { name: "error after blocks", bytes: cat(block(2), errorChunk(2, "disk")), req: { startSlot: 2, count: 4, step: 1 }, re: /disk/ },
  ];
  for (const c of rangeCases) {
    behaviour.set(rangeProto, c.bytes);
    const err = await clientRR.beaconBlocksByRange(peer, c.req).then(
      () => assert.fail(`${c.name}: accepted`),
      (e: unknown) => e as ReqRespError,
    );
    assert.ok(err instanceof ReqRespError, `${c.name}: ${String(err)}`);
    assert.match(err.message, c.re, c.name);
  }
  behaviour.set(rangeProto, cat(block(2), block(3)));
  assert.deepEqual((await clientRR.beaconBlocksByRange(peer, { startSlot: 2, count: 2, step: 1 })).map((b) => b.message.slot), [2, 3]);

  const rootProto = protocolId(Method.beaconBlocksByRoot);
  behaviour.set(rootProto, cat(block(5), block(6)));
  await rejectsWith(clientRR.beaconBlocksByRoot(peer, [chain.roots.get(5)!, chain.roots.get(7)!]), "INVALID_RESPONSE", /not requested/);
  behaviour.set(rootProto, cat(block(5), block(5)));
  await rejectsWith(clientRR.beaconBlocksByRoot(peer, [chain.roots.get(5)!, chain.roots.get(7)!]), "INVALID_RESPONSE", /twice/);
  behaviour.set(rootProto, block(7));
  assert.deepEqual((await clientRR.beaconBlocksByRoot(peer, [chain.roots.get(5)!, chain.roots.get(7)!])).map((b) => b.message.slot), [7]);
});

// ------------------------------------------------------------------------------------------------ timeouts

test("a slow responder trips the requester's TTFB timeout", async () => {
  const impatient = await newHost();
  const faults: FaultRecord[] = [];
  const rr = await newReqResp(impatient, faults, quietHandlers, { ttfbTimeoutMs: 300 });
  await connect(impatient, server);
  slowStatus = gate();
  const peer = server.peerId.toString();
  await rejectsWith(rr.status(peer, makeStatus(997)), "TIMEOUT", /TTFB/);
  await faultAfter(faults, 0, peer, "TIMEOUT");
  slowStatus.open();
  slowStatus = null;
  // the same pair works again once the responder is prompt
  assert.ok(t.Status.equals(await rr.status(peer, makeStatus(3)), serverStatus));
});

// ------------------------------------------------------------------------------------------------ limits and stop

test("responder limits: blocks per peer, requests per protocol, concurrent streams; request timeout; stop()", async () => {
  const limited = await newHost();
  const faults: FaultRecord[] = [];
  let statusGate: ReturnType<typeof gate> | null = null;
  const limitedRR = await newReqResp(
    limited,
    faults,
    {
      ...quietHandlers,
      async onStatus(_peer, status) {
        if (status.headSlot === 997 && statusGate) await statusGate.wait();
        return serverStatus;
      },
      ...blockHandlers(chain),
    },
    {
      respTimeoutMs: 400,
      rateLimits: {
        blocks: { tokens: 8, windowMs: 600_000 },
        requests: { [Method.status]: { tokens: 2, windowMs: 600_000 } },
        maxConcurrentPerPeer: 1,
      },
    },
  );
  const [c1, c2, c3] = await Promise.all([newHost(), newHost(), newHost()]);
  const rr1 = await newReqResp(c1, [], quietHandlers);
  const rr2 = await newReqResp(c2, [], quietHandlers);
  const rr3 = await newReqResp(c3, [], quietHandlers);
  await Promise.all([connect(c1, limited), connect(c2, limited), connect(c3, limited)]);
  const peer = limited.peerId.toString();

  // blocks: 6 of 8 tokens, then 6 more are refused
  assert.equal((await rr1.beaconBlocksByRange(peer, { startSlot: 1, count: 6, step: 1 })).length, 5);
  const e = await rejectsWith(rr1.beaconBlocksByRange(peer, { startSlot: 1, count: 6, step: 1 }), "RATE_LIMITED");
  assert.equal(e.respCode, 2);
  await faultAfter(faults, 0, c1.peerId.toString(), "RATE_LIMITED");
  // another peer has its own bucket
  assert.equal((await rr2.beaconBlocksByRange(peer, { startSlot: 1, count: 6, step: 1 })).length, 5);

  // status: 2 per window
  await rr2.status(peer, makeStatus(1));
  await rr2.status(peer, makeStatus(1));
  await rejectsWith(rr2.status(peer, makeStatus(1)), "RATE_LIMITED");
  await faultAfter(faults, 0, c2.peerId.toString(), "RATE_LIMITED");

  // one stream per protocol per peer at a time
  statusGate = gate();
  const first = rr3.status(peer, makeStatus(997));
  await statusGate.entered;
  await rejectsWith(rr3.status(peer, makeStatus(1)), "RATE_LIMITED", /concurrent/);
  statusGate.open();
  assert.ok(t.Status.equals(await first, serverStatus));

  // a request that never arrives: the responder resets it after RESP_TIMEOUT and blames the peer
  const before = faults.length;
  const stalled = await rawExchange(c3, limited, Method.ping, Uint8Array.of(8), false);
  assert.equal(stalled.reset, true);
  await faultAfter(faults, before, c3.peerId.toString(), "TIMEOUT");

  // stop(): a stream in flight is aborted, then the protocols are gone
  statusGate = gate();
  const inFlight = rr1.status(peer, makeStatus(997)).then(
    () => null,
    (err: unknown) => err,
  );
  await statusGate.entered;
  await limitedRR.stop();
  const err = await inFlight;
  assert.ok(err instanceof ReqRespError, `in-flight request: ${String(err)}`);
  assert.ok(err.fault === "STREAM_ERROR" || err.fault === "INVALID_RESPONSE", err.message);
  statusGate.open();
  await rejectsWith(rr1.ping(peer, 1n), "DIAL_FAILED");
  await limitedRR.stop();
});
