// The Beacon API client: typed results and errors from one node, the event-stream reader, and the fallback over
// several nodes (500, down, syncing, recovery; a POST's 4xx is not a node failure), against fake beacon nodes.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, describe, it } from "node:test";
import { BeaconApiClient, BeaconApiError, BeaconNodes, readEventStream, type ServerSentEvent } from "../../src/api/client/index.js";
import { getNamedConfig } from "../../src/config/index.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { FakeBeaconNode, hex } from "../utils/fakeBeaconNode.js";
import { waitFor } from "../utils/vcSetup.js";

const config = getNamedConfig("minimal");
const T = config.types;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeNode(extra: Partial<Parameters<typeof FakeBeaconNode.start>[0]> = {}): Promise<FakeBeaconNode> {
  const node = await FakeBeaconNode.start({
    config,
    validatorCount: 8,
    genesisTime: Math.floor(Date.now() / 1000) - 100,
    secondsPerSlot: 1,
    headEventFraction: null,
    ...extra,
  });
  cleanups.push(() => node.close());
  return node;
}

/** A server answering every request with `status` and `body` (for error shapes no fake endpoint produces). */
async function fixedServer(status: number, body: string): Promise<string> {
  const server: Server = createServer((_req, res) => res.writeHead(status, { "Content-Type": "application/json" }).end(body));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function stream(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(enc.encode(c));
      controller.close();
    },
  });
}

describe("readEventStream", () => {
  it("parses events split anywhere across chunks, with CRLF, LF and CR line ends", async () => {
    const text = 'event: head\r\ndata: {"slot":"1"}\r\n\r\n: keep-alive\n\nevent: block\ndata: a\ndata: b\nid: 7\n\rdata:plain\r\rdata: unterminated';
    for (const size of [1, 2, 3, 5, 8, 1000]) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      const events: ServerSentEvent[] = [];
      await readEventStream(stream(chunks), (e) => events.push(e));
      assert.deepEqual(
        events.map((e) => [e.event, e.data, e.id]),
        [
          ["head", '{"slot":"1"}', undefined],
          ["block", "a\nb", "7"],
          ["message", "plain", "7"],
        ],
        `chunk size ${size}`,
      );
    }
  });
});

describe("BeaconApiClient", () => {
  it("returns typed results from a node", async () => {
    const node = await fakeNode();
    const client = new BeaconApiClient(node.url, T);
    const genesis = await client.getGenesis();
    assert.equal(hex(genesis.genesisValidatorsRoot), hex(node.genesisValidatorsRoot));
    assert.equal(hex(genesis.genesisForkVersion), hex(config.GENESIS_FORK_VERSION));
    const spec = await client.getSpec();
    assert.equal(spec["SLOTS_PER_EPOCH"], "8");
    assert.equal(spec["GENESIS_FORK_VERSION"], hex(config.GENESIS_FORK_VERSION));

    const pubkeys = [3, 5, 42].map((i) => interopSecretKey(i).toPublicKey().toBytes());
    const validators = await client.getStateValidators("head", pubkeys);
    assert.deepEqual(validators.map((v) => v.index), [3, 5]); // 42 is not in the registry
    assert.equal(hex(validators[1].pubkey), hex(pubkeys[1]));

    const epoch = Math.floor(node.currentSlot() / 8);
    const attester = await client.getAttesterDuties(epoch, [3, 5]);
    assert.deepEqual(attester.data.map((d) => d.validatorIndex).sort(), [3, 5]);
    assert.equal(hex(attester.dependentRoot), hex(node.dependentRoot(epoch - 1)));
    for (const d of attester.data) assert.deepEqual(node.committeeAt(d.slot)[d.validatorCommitteeIndex], d.validatorIndex);
    const proposer = await client.getProposerDuties(epoch);
    assert.equal(proposer.data.length, 8);
    assert.equal(proposer.data[0].slot, epoch * 8);

    const data = await client.produceAttestationData(0, epoch * 8 + 2);
    assert.equal(data.slot, epoch * 8 + 2);
    assert.equal(data.target.epoch, epoch);
    const syncing = await client.getSyncing();
    assert.equal(syncing.isSyncing, false);
    assert.equal(await client.getHealth(), 200);
  });

  it("turns failures into BeaconApiErrors that say whose fault they are", async () => {
    const bad = await fixedServer(400, JSON.stringify({ code: 400, message: "invalid epoch" }));
    await assert.rejects(new BeaconApiClient(bad, T).getProposerDuties(1), (e: unknown) => {
      assert.ok(e instanceof BeaconApiError);
      assert.equal(e.status, 400);
      assert.equal(e.code, 400);
      assert.equal(e.reason, "invalid epoch");
      assert.match(e.url, /\/eth\/v1\/validator\/duties\/proposer\/1$/);
      assert.equal(e.isNodeFailure, false);
      return true;
    });
    const garbage = await fixedServer(200, JSON.stringify({ data: { genesis_time: "soon" } }));
    await assert.rejects(new BeaconApiClient(garbage, T).getGenesis(), (e: unknown) => {
      assert.ok(e instanceof BeaconApiError);
      assert.equal(e.kind, "invalid-response");
      assert.match(e.message, /genesis_time/);
      assert.equal(e.isNodeFailure, true);
      return true;
    });
    const broken = await fixedServer(503, "not json");
    await assert.rejects(new BeaconApiClient(broken, T).getSyncing(), (e: unknown) => e instanceof BeaconApiError && e.status === 503 && e.isNodeFailure);
    // nothing listens on port 9 of localhost
    await assert.rejects(new BeaconApiClient("http://127.0.0.1:9", T).getGenesis(), (e: unknown) => {
      assert.ok(e instanceof BeaconApiError);
      assert.equal(e.kind, "network");
      assert.equal(e.status, 0);
      return true;
    });
    assert.throws(() => new BeaconApiClient("ftp://x", T), /http/);
  });

  it("asks liveness by the older GET route when a node lacks the standard POST (Lodestar 1.5.1), then only by it", async () => {
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.method === "GET" && req.url?.startsWith("/eth/v1/validator/liveness?")) {
        const q = new URL(req.url, "http://x").searchParams;
        const data = q.getAll("indices").map((i) => ({ index: i, epoch: q.get("epoch"), is_live: i === "7" }));
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ data }));
      } else res.writeHead(404, { "Content-Type": "application/json" }).end(JSON.stringify({ statusCode: 404, message: "Route not found" }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const client = new BeaconApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, T);
    assert.deepEqual(await client.getLiveness(3, [7, 8]), [
      { index: 7, isLive: true },
      { index: 8, isLive: false },
    ]);
    assert.deepEqual(await client.getLiveness(4, [8]), [{ index: 8, isLive: false }]);
    assert.deepEqual(seen, ["POST /eth/v1/validator/liveness/3", "GET /eth/v1/validator/liveness?epoch=3&indices=7&indices=8", "GET /eth/v1/validator/liveness?epoch=4&indices=8"]);
    // a node with neither route: the standard route's 404 is what the caller sees (doppelganger protection refuses it)
    const none = new BeaconApiClient(await fixedServer(404, JSON.stringify({ code: 404, message: "not found" })), T);
    await assert.rejects(none.getLiveness(1, [1]), (e: unknown) => e instanceof BeaconApiError && e.status === 404);
  });

  it("times out a request that gets no answer", async () => {
    const server = createServer(() => {
      // never answers
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const client = new BeaconApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, T, { timeoutMs: 200 });
    await assert.rejects(client.getGenesis(), (e: unknown) => e instanceof BeaconApiError && e.kind === "timeout");
  });
});

describe("BeaconNodes fallback", () => {
  function nodes(urls: string[]): BeaconNodes {
    const bn = new BeaconNodes(urls, T, { timeoutMs: 1000, healthCheckIntervalMs: 100, maxSyncDistance: 8, eventsReconnectMs: 50 });
    cleanups.push(() => bn.close());
    return bn;
  }
  const lastServer = (a: FakeBeaconNode, b: FakeBeaconNode, path: string): string => {
    const ra = a.requestsTo(path).at(-1)?.at ?? -1;
    const rb = b.requestsTo(path).at(-1)?.at ?? -1;
    return ra > rb ? "first" : "second";
  };

  for (const failure of ["error500", "reset", "syncing"] as const) {
    it(`falls back to the second node when the first ${failure === "error500" ? "returns 500" : failure === "reset" ? "drops connections" : "is syncing"}, and returns when it recovers`, async () => {
      const a = await fakeNode();
      const b = await fakeNode();
      const bn = nodes([a.url, b.url]);
      bn.start();
      await bn.getGenesis();
      assert.equal(lastServer(a, b, "/eth/v1/beacon/genesis"), "first");

      a.mode = failure;
      if (failure === "syncing") await waitFor(() => !bn.nodes[0].healthy, 3000, "the syncing node to be marked unhealthy");
      await bn.getGenesis();
      assert.equal(lastServer(a, b, "/eth/v1/beacon/genesis"), "second");
      assert.equal(bn.nodes[0].healthy, false);
      const before = a.requestsTo("/eth/v1/beacon/genesis").length;
      await bn.getGenesis();
      if (failure !== "syncing") assert.equal(a.requestsTo("/eth/v1/beacon/genesis").length, before, "an unhealthy node is skipped");

      a.mode = "ok";
      await waitFor(() => bn.nodes[0].healthy, 3000, "the first node to be re-probed healthy");
      await bn.getGenesis();
      assert.equal(lastServer(a, b, "/eth/v1/beacon/genesis"), "first");
    });
  }

  it("falls back when the first node is down (connection refused) and returns when it is back", async () => {
    const a = await fakeNode();
    const b = await fakeNode();
    const bn = nodes([a.url, b.url]);
    bn.start();
    await a.stop();
    const g = await bn.getGenesis();
    assert.equal(hex(g.genesisValidatorsRoot), hex(b.genesisValidatorsRoot));
    assert.equal(bn.preferredIndex(), 1);
    await a.restart();
    await waitFor(() => bn.preferredIndex() === 0, 3000, "the first node back");
    const before = a.requestsTo("/eth/v1/beacon/genesis").length;
    await bn.getGenesis();
    assert.equal(a.requestsTo("/eth/v1/beacon/genesis").length, before + 1);
  });

  it("does not retry a POST that a node refused with 4xx, and retries a GET elsewhere", async () => {
    const refusing = await fixedServer(400, JSON.stringify({ code: 400, message: "bad attestation" }));
    const b = await fakeNode();
    const bn = nodes([refusing, b.url]);
    await assert.rejects(bn.submitPoolAttestations([T.Attestation.defaultValue()]), (e: unknown) => e instanceof BeaconApiError && e.status === 400);
    assert.equal(b.requestsTo("/eth/v1/beacon/pool/attestations").length, 0);
    assert.equal(bn.nodes[0].healthy, true, "a 4xx is the request's fault, not the node's");
    const g = await bn.getGenesis();
    assert.equal(hex(g.genesisValidatorsRoot), hex(b.genesisValidatorsRoot));
  });

  it("throws the last error when every node fails", async () => {
    const a = await fakeNode();
    const b = await fakeNode();
    a.mode = "error500";
    b.mode = "error500";
    const bn = nodes([a.url, b.url]);
    await assert.rejects(bn.getGenesis(), (e: unknown) => e instanceof BeaconApiError && e.status === 500);
  });

  it("retries a failing event stream on a node that answers its requests, without marking it unhealthy", async () => {
    const a = await fakeNode();
    const b = await fakeNode();
    // the first node's event stream fails (503) while everything else it serves works
    const failingEvents: typeof fetch = (input, init) =>
      String(input).startsWith(`${a.url}/eth/v1/events`)
        ? Promise.resolve(new Response(JSON.stringify({ code: 503, message: "events unavailable" }), { status: 503 }))
        : fetch(input, init);
    const bn = new BeaconNodes([a.url, b.url], T, { timeoutMs: 1000, healthCheckIntervalMs: 100, eventsReconnectMs: 20, fetch: failingEvents });
    cleanups.push(() => bn.close());
    bn.start();
    let failures = 0;
    bn.subscribeEvents(["head"], () => undefined, () => failures++);
    await waitFor(() => failures >= 3 && a.requestsTo("/eth/v1/node/syncing").length >= 3, 3000, "the stream retried and the node probed");
    assert.equal(bn.nodes[0].healthy, true, bn.nodes[0].lastError);
    assert.equal(bn.preferredIndex(), 0);
    assert.equal(b.requestsTo("/eth/v1/events").length, 0, "the stream stayed with the first node");
  });

  it("follows head events on the preferred node, moves to the second when the first fails, and back", async () => {
    const a = await fakeNode();
    const b = await fakeNode();
    const bn = nodes([a.url, b.url]);
    bn.start();
    const seen: string[] = [];
    bn.subscribeEvents(["head"], (e) => seen.push(e.data));
    await waitFor(() => a.eventStreams === 1, 3000, "a stream on the first node");
    a.emit("head", a.headEvent(1));
    await waitFor(() => seen.length === 1, 3000, "the first event");

    await a.stop();
    await waitFor(() => b.eventStreams === 1, 3000, "a stream on the second node");
    b.emit("head", b.headEvent(2));
    await waitFor(() => seen.length === 2, 3000, "the event from the second node");

    await a.restart();
    await waitFor(() => a.eventStreams === 1 && b.eventStreams === 0, 3000, "the stream back on the first node");
    a.emit("head", a.headEvent(3));
    await waitFor(() => seen.length === 3, 3000, "the event from the first node again");
    assert.deepEqual(seen.map((s) => (JSON.parse(s) as { slot: string }).slot), ["1", "2", "3"]);
  });
});

after(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
