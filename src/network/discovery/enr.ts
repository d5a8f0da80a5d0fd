// Eth2 ENRs (p2p-interface.md "ENR structure"): the node's record carries its secp256k1 key (the same key as its
// libp2p identity, so the ENR's peer id is the libp2p peer id), ip/tcp/udp, the `eth2` field (SSZ ENRForkID) and
// `attnets` (SSZ Bitvector[ATTESTATION_SUBNET_COUNT]).
// @chainsafe/enr lives in the older libp2p world (interface 2, multiaddr 12): only strings and bytes cross over.
import { isIPv6 } from "node:net";
import { ENR, SignableENR, type BaseENR } from "@chainsafe/enr";
import type { BitArray } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../config/index.js";
import { FAR_FUTURE_EPOCH } from "../../params/index.js";
import type { ENRForkID } from "../../types/index.js";

export const ENR_ETH2_KEY = "eth2";
export const ENR_ATTNETS_KEY = "attnets";

export interface LocalEnrOpts {
  /** raw 32-byte secp256k1 private key (libp2p's `privateKey.raw`) */
  privateKeyRaw: Uint8Array;
  /** the fork digest of the chain we follow (compute_fork_digest) */
  forkDigest: Uint8Array;
  ip?: string;
  tcpPort?: number;
  udpPort?: number;
  attnets?: BitArray;
}

/** Phase 0 has no planned fork: next_fork_version = current version, next_fork_epoch = FAR_FUTURE_EPOCH. */
export function getEnrForkId(config: BeaconConfig, forkDigest: Uint8Array): ENRForkID {
  if (forkDigest.length !== 4) throw new Error(`fork digest must be 4 bytes, got ${forkDigest.length}`);
  return { forkDigest, nextForkVersion: config.GENESIS_FORK_VERSION, nextForkEpoch: FAR_FUTURE_EPOCH };
}

export function createLocalEnr(config: BeaconConfig, opts: LocalEnrOpts): SignableENR {
  if (opts.privateKeyRaw.length !== 32) throw new Error("ENR private key must be 32 secp256k1 bytes");
  const enr = SignableENR.createV4(opts.privateKeyRaw);
  if (opts.ip !== undefined && isIPv6(opts.ip)) {
    // an IPv6 address goes in the ip6/tcp6/udp6 fields (ip/tcp/udp are IPv4's)
    enr.ip6 = opts.ip;
    if (opts.tcpPort !== undefined) enr.tcp6 = opts.tcpPort;
    if (opts.udpPort !== undefined) enr.udp6 = opts.udpPort;
  } else {
    if (opts.ip !== undefined) enr.ip = opts.ip;
    if (opts.tcpPort !== undefined) enr.tcp = opts.tcpPort;
    if (opts.udpPort !== undefined) enr.udp = opts.udpPort;
  }
  enr.set(ENR_ETH2_KEY, config.types.ENRForkID.serialize(getEnrForkId(config, opts.forkDigest)));
  enr.set(ENR_ATTNETS_KEY, config.types.AttestationSubnets.serialize(opts.attnets ?? config.types.AttestationSubnets.defaultValue()));
  return enr;
}

/** Replaces `attnets` (the record's seq is bumped by the library, so peers see the change). */
export function setEnrAttnets(config: BeaconConfig, enr: SignableENR, attnets: BitArray): void {
  enr.set(ENR_ATTNETS_KEY, config.types.AttestationSubnets.serialize(attnets));
}

export function decodeEnr(text: string): ENR {
  try {
    return ENR.decodeTxt(text.trim());
  } catch (e) {
    throw new Error(`invalid ENR "${text.length > 40 ? `${text.slice(0, 37)}...` : text}": ${(e as Error).message}`);
  }
}

/** The peer's ENRForkID, or null when the field is missing or malformed. */
export function readEnrForkId(config: BeaconConfig, enr: BaseENR): ENRForkID | null {
  const bytes = enr.kvs.get(ENR_ETH2_KEY);
  if (!bytes) return null;
  try {
    return config.types.ENRForkID.deserialize(bytes);
  } catch {
    return null;
  }
}

/** The peer's attestation subnets, or null when the field is missing or malformed. */
export function readEnrAttnets(config: BeaconConfig, enr: BaseENR): BitArray | null {
  const bytes = enr.kvs.get(ENR_ATTNETS_KEY);
  if (!bytes) return null;
  try {
    return config.types.AttestationSubnets.deserialize(bytes);
  } catch {
    return null;
  }
}

/** The libp2p peer id (string) of the ENR's key. */
export function enrPeerId(enr: BaseENR): string {
  return enr.peerId.toString();
}

/** A field of a received record; the library's getters throw on a malformed one (e.g. a 5-byte ip): absent then. */
function readField<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function isPort(p: number | undefined): p is number {
  return p !== undefined && p > 0 && p <= 65535;
}

/**
 * `/ip4/<ip>/tcp/<port>/p2p/<peerId>` (or ip6), or null when the record has no well-formed address with a TCP
 * port. Never throws: Discovery calls it for every record a peer sends.
 */
export function enrToTcpMultiaddr(enr: BaseENR): string | null {
  const peerId = enrPeerId(enr);
  const ip4 = readField(() => enr.ip);
  const tcp4 = readField(() => enr.tcp);
  if (ip4 !== undefined && isPort(tcp4)) return `/ip4/${ip4}/tcp/${tcp4}/p2p/${peerId}`;
  const ip6 = readField(() => enr.ip6);
  const tcp6 = readField(() => enr.tcp6);
  if (ip6 !== undefined && isPort(tcp6)) return `/ip6/${ip6}/tcp/${tcp6}/p2p/${peerId}`;
  return null;
}
