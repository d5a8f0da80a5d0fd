// The libp2p host every Cairn node runs: TCP, noise, mplex and yamux, identify, ping, and gossipsub with the Eth2 rules
// (StrictNoSign, the v1.0 message id, Eth2 scoring) as a service. Created here, started by the Network.
import "./polyfill.js";
import { gossipsub, type GossipsubOpts } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { ConnectionGater, PrivateKey, StreamMuxerFactory } from "@libp2p/interface";
import { mplex, type MplexInit } from "@libp2p/mplex";
import { noise } from "@libp2p/noise";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@libp2p/yamux";
import { createLibp2p, type Libp2p } from "libp2p";

export type GossipService = ReturnType<ReturnType<typeof gossipsub>>;
export type CairnLibp2p = Libp2p<{ identify: unknown; ping: unknown; pubsub: GossipService }>;

export interface Libp2pOptions {
  privateKey: PrivateKey;
  /** multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/9000 */
  listen: string[];
  /** gossipsub options (message id, scoring, ...); see network/gossip */
  gossip?: Partial<GossipsubOpts>;
  maxConnections?: number;
  /** inbound connections a second from one address (default 5; raise for a loopback testnet) */
  inboundConnectionThreshold?: number;
  /** refuses connections before the upgrade (banned peers) */
  connectionGater?: ConnectionGater;
  /** stream multiplexers to offer, in order of preference (default: mplex, then yamux); tests restrict it */
  muxers?: readonly Muxer[];
}

export type Muxer = "mplex" | "yamux";
export const MPLEX_PROTOCOL = "/mplex/6.7.0";

// mplex closes a connection whose peer opens more than `disconnectThreshold` streams in one second (default 5).
// A phase 0 peer opens about 8 at once when it connects (identify, gossipsub, status, metadata, ping, ...) and a
// syncing peer adds a few block requests a second on top, so 5 drops real peers. 64 a second leaves room for a
// connect burst during sync; request floods are the req/resp rate limiter's job (per protocol, per peer), not this.
const MPLEX_NEW_STREAMS_PER_SECOND = 64;
// Both muxers reset the connection when more than `maxEarlyStreams` (default 10) streams arrive before libp2p has
// finished setting up the connection on our side: the dialer finishes first and may send its whole connect burst in
// that window. Same bound as above.
const MAX_EARLY_STREAMS = 64;

function streamMuxers(muxers: readonly Muxer[]) {
  if (muxers.length === 0) throw new Error("at least one stream multiplexer is needed");
  // MplexInit does not declare maxEarlyStreams, but mplex hands its whole init to libp2p's stream muxer base,
  // which reads it
  const mplexInit: MplexInit & { maxEarlyStreams: number } = {
    disconnectThreshold: MPLEX_NEW_STREAMS_PER_SECOND,
    maxEarlyStreams: MAX_EARLY_STREAMS,
  };
  return muxers.map((m) =>
    m === "mplex" ? () => dropWritesAfterClose(mplex(mplexInit)()) : yamux({ maxEarlyStreams: MAX_EARLY_STREAMS }),
  );
}

/**
 * @libp2p/mplex 12 announces a new outbound stream from a microtask; when the connection closed in between (a peer
 * leaving as we open a status or ping stream), that write throws from the microtask: an uncaught exception, which
 * stops the node. A write can fail that way only because the connection is gone, and its streams are being closed
 * with it, so the muxers this wraps drop such a write (reporting "cannot send more") instead of throwing.
 */
export function dropWritesAfterClose<F extends StreamMuxerFactory>(factory: F): F {
  const create = factory.createStreamMuxer.bind(factory);
  factory.createStreamMuxer = (maConn) => {
    const muxer = create(maConn);
    const sender = muxer as unknown as { send(data: unknown): boolean };
    const send = sender.send.bind(muxer);
    sender.send = (data) => {
      try {
        return send(data);
      } catch (e) {
        if (e instanceof Error && e.name === "StreamStateError") return false;
        throw e;
      }
    };
    return muxer;
  };
  return factory;
}

/** Not started: call `start()` (the Network does, after registering protocols). */
export async function createCairnLibp2p(opts: Libp2pOptions): Promise<CairnLibp2p> {
  const node = await createLibp2p({
    start: false,
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    ...(opts.connectionGater ? { connectionGater: opts.connectionGater } : {}),
    // the phase 0 p2p spec makes mplex a MUST and yamux a MAY: every 2020 client speaks only mplex
    streamMuxers: streamMuxers(opts.muxers ?? ["mplex", "yamux"]),
    // libp2p refuses more than 5 inbound connections a second from one address by default: a loopback testnet
    // (every node on 127.0.0.1) needs more
    connectionManager: { maxConnections: opts.maxConnections ?? 100, inboundConnectionThreshold: opts.inboundConnectionThreshold ?? 5 },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        // Eth2 gossip: no author, no signature, no seqno (StrictNoSign); messages are validated by the node
        globalSignaturePolicy: "StrictNoSign",
        allowPublishToZeroTopicPeers: true,
        emitSelf: false,
        asyncValidation: true,
        ...opts.gossip,
      }),
    },
  });
  return node as unknown as CairnLibp2p;
}
