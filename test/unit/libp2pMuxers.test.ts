// Stream multiplexers of the Cairn libp2p host: mplex (what every 2020 phase 0 client speaks) is offered first and
// tolerates the burst of streams a real peer opens when it connects; a yamux-only peer still connects.
import "../../src/network/polyfill.js";
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Connection, Stream, StreamMuxerFactory } from "@libp2p/interface";
import { createCairnLibp2p, dropWritesAfterClose, MPLEX_PROTOCOL, type CairnLibp2p, type Muxer } from "../../src/network/libp2p.js";

const ECHO = "/cairn/test/echo/1";
const STREAMS = 20;

describe("libp2p stream multiplexers", () => {
  const hosts: CairnLibp2p[] = [];
  after(async () => {
    await Promise.all(hosts.map((h) => h.stop()));
  });

  async function host(muxers?: Muxer[]): Promise<CairnLibp2p> {
    const h = await createCairnLibp2p({ privateKey: await generateKeyPair("secp256k1"), listen: ["/ip4/127.0.0.1/tcp/0"], muxers });
    // echoes what it read once the remote closed its end, then closes
    await h.handle(ECHO, (stream) => void echo(stream), { maxInboundStreams: 64 });
    await h.start();
    hosts.push(h);
    return h;
  }

  async function echo(stream: Stream): Promise<void> {
    // read to the end: leaving the loop early would reset the stream under the remote's feet
    const got: Uint8Array[] = [];
    for await (const chunk of stream) got.push(chunk.subarray());
    for (const c of got) stream.send(c);
    await stream.close();
  }

  /** Opens a stream, sends one byte and returns what came back. */
  async function roundTrip(from: CairnLibp2p, conn: Connection, byte: number): Promise<number[]> {
    const stream = await from.dialProtocol(conn.remotePeer, ECHO);
    stream.send(Uint8Array.of(byte));
    await stream.close();
    const got: number[] = [];
    for await (const chunk of stream) got.push(...chunk.subarray());
    return got;
  }

  async function connect(a: CairnLibp2p, b: CairnLibp2p): Promise<Connection> {
    return a.dial(b.getMultiaddrs()[0]);
  }

  it("negotiates mplex with an mplex-only peer; 20 streams opened at once keep the connection open", async () => {
    const a = await host(["mplex"]);
    const b = await host();
    const conn = await connect(a, b);
    assert.equal(conn.multiplexer, MPLEX_PROTOCOL);
    let closed = false;
    conn.addEventListener("close", () => (closed = true));

    // right after connecting, like a phase 0 client's status/metadata/ping burst (more than mplex's default 5/s)
    const replies = await Promise.all(Array.from({ length: STREAMS }, (_, i) => roundTrip(a, conn, i)));
    assert.deepEqual(replies, Array.from({ length: STREAMS }, (_, i) => [i]));
    assert.equal(closed, false);
    assert.equal(conn.status, "open");
    const onB = b.getConnections(a.peerId);
    assert.equal(onB.length, 1);
    assert.equal(onB[0]!.multiplexer, MPLEX_PROTOCOL);
    assert.equal(onB[0]!.status, "open");
  });

  it("prefers mplex when both sides offer both", async () => {
    const a = await host();
    const b = await host();
    const conn = await connect(a, b);
    assert.equal(conn.multiplexer, MPLEX_PROTOCOL);
  });

  it("a yamux-only peer still connects and its streams work", async () => {
    const a = await host(["yamux"]);
    const b = await host();
    const conn = await connect(a, b);
    assert.equal(conn.multiplexer, "/yamux/1.0.0");
    assert.deepEqual(await roundTrip(a, conn, 7), [7]);
    // and the other way round: the default host dialing a yamux-only one
    const back = await connect(b, await host(["yamux"]));
    assert.equal(back.multiplexer, "/yamux/1.0.0");
  });

  it("refuses an empty muxer list", async () => {
    await assert.rejects(host([]), /at least one stream multiplexer/);
  });

  it("a muxer write to a closed connection is dropped, not thrown (mplex announces streams from a microtask)", () => {
    const sent: unknown[] = [];
    let closed = false;
    const fakeMuxer = {
      send(data: unknown): boolean {
        if (closed) throw Object.assign(new Error("Cannot write to a stream that is closed"), { name: "StreamStateError" });
        if (data === "boom") throw new TypeError("a bug");
        sent.push(data);
        return true;
      },
    };
    const factory = { protocol: "/fake/1", createStreamMuxer: () => fakeMuxer } as unknown as StreamMuxerFactory;
    const muxer = dropWritesAfterClose(factory).createStreamMuxer({} as never) as unknown as typeof fakeMuxer;
    assert.equal(muxer.send("a"), true);
    assert.throws(() => muxer.send("boom"), TypeError, "other errors still surface");
    closed = true;
    assert.equal(muxer.send("b"), false);
    assert.deepEqual(sent, ["a"]);
  });
});
