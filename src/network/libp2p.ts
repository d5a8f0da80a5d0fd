// The libp2p host every Cairn node runs: TCP, noise, yamux, identify, ping, and gossipsub with the Eth2 rules
// (StrictNoSign, the v1.0 message id, Eth2 scoring) as a service. Created here, started by the Network.
import "./polyfill.js";
import { gossipsub, type GossipsubOpts } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { ConnectionGater, PrivateKey } from "@libp2p/interface";
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
    streamMuxers: [yamux()],
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
