// Peer discovery over discv5 (p2p-interface.md "The discovery domain"). Runs @chainsafe/discv5 on its own UDP
// port, keeps the local ENR (eth2, attnets, ip/tcp/udp) and, while the node wants peers, runs random lookups in
// the background. Every ENR it meets on our fork digest with a TCP port becomes a libp2p multiaddr for the peer
// manager; ENRs of other networks are ignored.
// discv5 11 uses the older libp2p interface/multiaddr: only strings, bytes and plain objects cross over.
import { createSocket } from "node:dgram";
import type { EventEmitter } from "node:events";
import { isIPv4, isIPv6 } from "node:net";
import type { ENR } from "@chainsafe/enr";
import { Discv5, multiaddrFromSocketAddress, type IDiscv5CreateOptions } from "@chainsafe/discv5";
import type { BitArray } from "@chainsafe/ssz";
import type { PrivateKey } from "@libp2p/interface";
import type { BeaconConfig } from "../../config/index.js";
import { bytesEqual } from "../../util/bytes.js";
import {
  createLocalEnr,
  decodeEnr,
  ENR_ETH2_KEY,
  enrPeerId,
  enrToTcpMultiaddr,
  getEnrForkId,
  readEnrAttnets,
  readEnrForkId,
  setEnrAttnets,
} from "./enr.js";

export interface DiscoveredPeer {
  peerId: string;
  /** `/ip4/<ip>/tcp/<port>/p2p/<peerId>` */
  multiaddr: string;
  enr: string;
  attnets: BitArray | null;
}

export interface DiscoveryOpts {
  config: BeaconConfig;
  /** the libp2p identity key; it must be secp256k1, so the ENR's node id belongs to the same peer id */
  privateKey: PrivateKey;
  forkDigest: Uint8Array;
  /** address to bind the UDP socket to (default 127.0.0.1); also the ENR's, unless it is 0.0.0.0 or :: */
  ip?: string;
  /** discv5 UDP port; 0 picks a free port */
  udpPort: number;
  /** the libp2p TCP port advertised in the ENR */
  tcpPort: number;
  /** the address to advertise in the ENR (e.g. a public address in front of a NAT) */
  enrIp?: string;
  /** the UDP port to advertise in the ENR (default: the bound port) */
  enrUdpPort?: number;
  bootEnrs?: string[];
  attnets?: BitArray;
  /** pause between background lookups (default 10 s) */
  lookupIntervalMs?: number;
  /** asked before each background lookup; lookups run only while it answers true (default: always) */
  wantMorePeers?: () => boolean;
  onPeerDiscovered?: (peer: DiscoveredPeer) => void;
  /** discv5 tuning (timeouts...), mostly for tests */
  discv5Config?: IDiscv5CreateOptions["config"];
}

const DEFAULT_LOOKUP_INTERVAL_MS = 10_000;
const DEFAULT_LOOKUP_TIMEOUT_MS = 10_000;

export class Discovery {
  readonly discv5: Discv5;
  private readonly config: BeaconConfig;
  private forkDigest: Uint8Array;
  private readonly bootEnrs: ENR[];
  private readonly lookupIntervalMs: number;
  private readonly wantMorePeers: () => boolean;
  private readonly onPeerDiscovered: ((peer: DiscoveredPeer) => void) | undefined;
  private lookupTimer: NodeJS.Timeout | null = null;
  private lookupRunning = false;
  private started = false;
  /** counters, for logs and tests */
  readonly stats = { lookups: 0, discovered: 0, ignoredOtherFork: 0, ignoredNoTcp: 0 };

  private constructor(opts: DiscoveryOpts, private readonly boundUdpPort: number, ip: string, enrIp: string | undefined) {
    const udpPort = boundUdpPort;
    this.config = opts.config;
    this.forkDigest = opts.forkDigest;
    this.lookupIntervalMs = opts.lookupIntervalMs ?? DEFAULT_LOOKUP_INTERVAL_MS;
    this.wantMorePeers = opts.wantMorePeers ?? (() => true);
    this.onPeerDiscovered = opts.onPeerDiscovered;
    // Parse boot ENRs first: a bad one is a clear error before any socket is opened.
    this.bootEnrs = (opts.bootEnrs ?? []).map(decodeEnr);
    const enr = createLocalEnr(opts.config, {
      privateKeyRaw: opts.privateKey.raw,
      forkDigest: opts.forkDigest,
      ip: enrIp,
      tcpPort: opts.tcpPort,
      udpPort: opts.enrUdpPort ?? udpPort,
      attnets: opts.attnets,
    });
    // discv5 reads only `type` and `raw` of the key; this plain object stands in for its older PrivateKey type.
    const discv5Key = { type: opts.privateKey.type, raw: opts.privateKey.raw } as unknown as IDiscv5CreateOptions["privateKey"];
    const bindAddr = multiaddrFromSocketAddress({ ip: { type: isIPv4(ip) ? 4 : 6, octets: ipToOctets(ip) }, port: udpPort });
    this.discv5 = Discv5.create({
      enr,
      privateKey: discv5Key,
      bindAddrs: isIPv4(ip) ? { ip4: bindAddr } : { ip6: bindAddr },
      // A known address is advertised as configured. Bound to all interfaces with no --enr.ip, the node does not
      // know its public address: discv5 then learns it from what peers see (their PONG votes) and updates the ENR.
      // discv5 11 leaves each finished lookup's (ref'd) timeout running, which holds the process open after stop()
      // for up to lookupTimeout: a shorter bound than its 60 s default, still far above a healthy lookup's time.
      config: { enrUpdate: enrIp === undefined, lookupTimeout: DEFAULT_LOOKUP_TIMEOUT_MS, ...opts.discv5Config },
    });
  }

  /** Validates the options, picks the UDP port and builds the ENR; `start()` opens the socket. */
  static async create(opts: DiscoveryOpts): Promise<Discovery> {
    if (opts.privateKey.type !== "secp256k1") throw new Error(`discovery needs a secp256k1 key, got ${opts.privateKey.type}`);
    const ip = opts.ip ?? "127.0.0.1";
    if (!isIPv4(ip) && !isIPv6(ip)) throw new Error(`invalid discovery ip "${ip}"`);
    if (opts.enrIp !== undefined && !isIPv4(opts.enrIp) && !isIPv6(opts.enrIp)) throw new Error(`invalid ENR ip "${opts.enrIp}"`);
    checkPort("udp", opts.udpPort);
    checkPort("tcp", opts.tcpPort);
    if (opts.enrUdpPort !== undefined) checkPort("ENR udp", opts.enrUdpPort);
    const udpPort = opts.udpPort === 0 ? await pickFreeUdpPort(ip) : opts.udpPort;
    // an unspecified bind address (all interfaces) is no address to advertise
    const enrIp = opts.enrIp ?? (isUnspecified(ip) ? undefined : ip);
    return new Discovery(opts, udpPort, ip, enrIp);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.events.on("discovered", this.onEnr);
    this.events.on("enrAdded", this.onEnr);
    await this.discv5.start();
    this.started = true;
    for (const enr of this.bootEnrs) {
      this.discv5.addEnr(enr);
      this.onEnr(enr);
    }
    this.scheduleLookup(0);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.lookupTimer) clearTimeout(this.lookupTimer);
    this.lookupTimer = null;
    this.events.off("discovered", this.onEnr);
    this.events.off("enrAdded", this.onEnr);
    await this.discv5.stop();
  }

  /** The local ENR as text ("enr:..."), to hand to other nodes as a bootnode. */
  get enr(): string {
    return this.discv5.enr.encodeTxt();
  }

  /** The UDP port the socket is bound to (the ENR may advertise another, see `enrUdpPort`). */
  get udpPort(): number {
    return this.boundUdpPort;
  }

  /** The libp2p TCP port, when it is known only once the host listens (e.g. it was started on port 0). */
  setTcpPort(tcpPort: number): void {
    checkPort("tcp", tcpPort);
    if (this.discv5.enr.ip6 !== undefined && this.discv5.enr.ip === undefined) this.discv5.enr.tcp6 = tcpPort;
    else this.discv5.enr.tcp = tcpPort;
  }

  /** Our persistent subnets changed: update `attnets` (the ENR's seq goes up, peers re-fetch it). */
  setAttnets(attnets: BitArray): void {
    setEnrAttnets(this.config, this.discv5.enr, attnets);
  }

  /** At a fork (or after genesis is known): a new `eth2` field; peers on the old digest are ignored from now on. */
  setForkDigest(forkDigest: Uint8Array): void {
    this.forkDigest = forkDigest;
    this.discv5.enr.set(ENR_ETH2_KEY, this.config.types.ENRForkID.serialize(getEnrForkId(this.config, forkDigest)));
  }

  /** Runs one random lookup now; its results are reported through onPeerDiscovered. Returns how many ENRs it met. */
  async findPeers(): Promise<number> {
    if (!this.started) return 0;
    this.stats.lookups++;
    const enrs = await this.discv5.findRandomNode();
    // The "discovered" event covers most of these; the table's own entries are offered again as well.
    for (const enr of enrs) this.onEnr(enr);
    return enrs.length;
  }

  /** Our-fork peers in the routing table, e.g. to redial when the peer count drops. */
  knownPeers(): DiscoveredPeer[] {
    const out: DiscoveredPeer[] = [];
    for (const enr of this.discv5.kadValues()) {
      const peer = this.toDiscoveredPeer(enr, false);
      if (peer) out.push(peer);
    }
    return out;
  }

  /**
   * discv5's typed-emitter declaration does not resolve under NodeNext (a CommonJS default import), so its
   * events are reached through the plain EventEmitter it is at run time.
   */
  private get events(): EventEmitter {
    return this.discv5 as unknown as EventEmitter;
  }

  private scheduleLookup(delayMs: number): void {
    if (!this.started) return;
    this.lookupTimer = setTimeout(() => void this.backgroundLookup(), delayMs);
    this.lookupTimer.unref?.();
  }

  private async backgroundLookup(): Promise<void> {
    this.lookupTimer = null;
    if (!this.started || this.lookupRunning) return;
    if (this.wantMorePeers()) {
      this.lookupRunning = true;
      try {
        // Peers we already know may be enough to fill a gap; offer them before searching further.
        for (const enr of this.discv5.kadValues()) this.onEnr(enr);
        await this.findPeers();
      } catch {
        // a lookup fails when no node answers; the next round retries
      } finally {
        this.lookupRunning = false;
      }
    }
    this.scheduleLookup(this.lookupIntervalMs);
  }

  private readonly onEnr = (enr: ENR): void => {
    const peer = this.toDiscoveredPeer(enr, true);
    if (!peer) return;
    this.stats.discovered++;
    this.onPeerDiscovered?.(peer);
  };

  private toDiscoveredPeer(enr: ENR, count: boolean): DiscoveredPeer | null {
    if (enr.nodeId === this.discv5.enr.nodeId) return null;
    const forkId = readEnrForkId(this.config, enr);
    if (!forkId || !bytesEqual(forkId.forkDigest, this.forkDigest)) {
      if (count) this.stats.ignoredOtherFork++;
      return null;
    }
    const multiaddr = enrToTcpMultiaddr(enr);
    if (!multiaddr) {
      if (count) this.stats.ignoredNoTcp++;
      return null;
    }
    return { peerId: enrPeerId(enr), multiaddr, enr: enr.encodeTxt(), attnets: readEnrAttnets(this.config, enr) };
  }
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid ${name} port ${port}`);
}

function isUnspecified(ip: string): boolean {
  return ip === "0.0.0.0" || (isIPv6(ip) && ipToOctets(ip).every((b) => b === 0));
}

function ipToOctets(ip: string): Uint8Array {
  if (isIPv4(ip)) return Uint8Array.from(ip.split(".").map(Number));
  // IPv6: expand "::" and write 8 groups of 16 bits
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...new Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

/** Asks the OS for a free UDP port on `ip` (the ENR must carry the real port, so 0 cannot go to discv5 as is). */
async function pickFreeUdpPort(ip: string): Promise<number> {
  const socket = createSocket(isIPv4(ip) ? "udp4" : "udp6");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(0, ip, () => resolve());
    });
    return socket.address().port;
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
