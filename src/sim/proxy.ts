// One loopback TCP proxy per directed link between two simulated nodes: node `from` is given only the proxy's
// address for node `to` as its static peer (discovery off), so cutting the link (closing every connection through
// it and refusing new ones) really separates the two nodes, whoever dialled. A link can also be degraded: latency,
// jitter and loss applied to the byte streams it carries, in both directions.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

/** A degraded link: each direction of each connection through it gets these (one way). */
export interface LinkShape {
  latencyMs: number;
  /** the delay is drawn uniformly from latency ± jitter (never below 0) */
  jitterMs: number;
  /** probability that a chunk is lost (0..1): it and everything behind it wait a retransmission timeout */
  loss: number;
  /** the run's seeded generator for this link: the same seed draws the same delays and losses */
  rand: () => number;
}

/** TCP's initial retransmission timeout (RFC 6298 allows 200 ms as Linux uses), doubled on consecutive losses. */
export const RTO_MS = 200;
export const RTO_MAX_MS = 3200;
/** bytes held back in one direction of one connection before its source is paused (backpressure) */
export const DEFAULT_QUEUE_CAP = 1 << 20;

/**
 * When each chunk of one direction of a connection may be delivered (pure: the clock is the caller's). A chunk
 * never overtakes an earlier one, as TCP delivers bytes in order; a lost chunk is what TCP turns into a wait of one
 * retransmission timeout (doubled on each consecutive loss), and everything behind it waits too.
 */
export class DelayLine {
  private lastDue = 0;
  private losses = 0;

  /** the time (ms, the caller's clock) the chunk arriving `now` is delivered; `shape` null: no added delay */
  due(now: number, shape: LinkShape | null): number {
    let t = now;
    if (shape !== null) {
      const jitter = shape.jitterMs === 0 ? 0 : (2 * shape.rand() - 1) * shape.jitterMs;
      t += Math.max(0, shape.latencyMs + jitter);
      if (shape.loss > 0 && shape.rand() < shape.loss) {
        t += Math.min(RTO_MAX_MS, RTO_MS * 2 ** this.losses);
        this.losses++;
      } else this.losses = 0;
    } else this.losses = 0;
    this.lastDue = Math.max(this.lastDue, t);
    return this.lastDue;
  }
}

/** One direction of a connection through the proxy: direct while the link is healthy and nothing is held. */
class Forwarder {
  private readonly line = new DelayLine();
  private readonly queue: { chunk: Buffer; due: number }[] = [];
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private paused = false;
  private waitingDrain = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly proxy: LinkProxy,
  ) {
    src.on("data", (chunk: Buffer) => this.onData(chunk));
    src.on("end", () => this.flush());
    dst.on("drain", () => {
      this.waitingDrain = false;
      this.flush();
    });
    src.on("close", () => this.stop());
    dst.on("close", () => this.stop());
  }

  private onData(chunk: Buffer): void {
    const shape = this.proxy.shape;
    if (shape === null && this.queue.length === 0 && !this.waitingDrain) {
      this.proxy.stats.direct++;
      if (!this.dst.write(chunk)) this.backpressure();
      return;
    }
    this.proxy.stats.delayed++;
    this.queue.push({ chunk, due: this.line.due(Date.now(), shape) });
    this.queued += chunk.length;
    this.proxy.stats.maxQueued = Math.max(this.proxy.stats.maxQueued, this.queued);
    if (this.queued >= this.proxy.queueCap) this.pause();
    this.flush();
  }

  private backpressure(): void {
    this.waitingDrain = true;
    this.pause();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.proxy.stats.pauses++;
    this.src.pause();
  }

  /** Delivers every chunk that is due, in order; then resumes the source if there is room again. */
  private flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const now = Date.now();
    while (this.queue.length > 0 && !this.waitingDrain && this.queue[0].due <= now) {
      const { chunk } = this.queue.shift()!;
      this.queued -= chunk.length;
      if (!this.dst.write(chunk)) this.waitingDrain = true;
    }
    if (this.queue.length > 0 && !this.waitingDrain) this.timer = setTimeout(() => this.flush(), this.queue[0].due - now);
    if (this.paused && !this.waitingDrain && this.queued < this.proxy.queueCap / 2) {
      this.paused = false;
      this.src.resume();
    }
    if (this.queue.length === 0 && this.src.readableEnded && !this.dst.writableEnded) this.dst.end();
  }

  private stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    this.queued = 0;
  }
}

export interface LinkProxyOptions {
  /** bytes held per direction of a connection before its source is paused */
  queueCap?: number;
}

export class LinkProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  /** the link's degradation (null: a healthy link) */
  shape: LinkShape | null = null;
  /** connections accepted through the link (and refused while it was cut) */
  accepted = 0;
  refused = 0;
  /** chunks forwarded at once and held back; the largest backlog one direction reached; sources paused */
  readonly stats = { direct: 0, delayed: 0, maxQueued: 0, pauses: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly queueCap: number,
  ) {}

  /** Listens on 127.0.0.1 (a free port) and forwards each connection to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number, o: LinkProxyOptions = {}): Promise<LinkProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const proxy = new LinkProxy(server, (server.address() as AddressInfo).port, o.queueCap ?? DEFAULT_QUEUE_CAP);
    server.on("connection", (inbound) => proxy.onConnection(inbound, targetPort));
    return proxy;
  }

  private onConnection(inbound: Socket, targetPort: number): void {
    if (this.cut) {
      this.refused++;
      inbound.destroy();
      return;
    }
    this.accepted++;
    const outbound = createConnection({ host: "127.0.0.1", port: targetPort });
    const pair = [inbound, outbound];
    for (const s of pair) {
      this.sockets.add(s);
      // either side failing or closing ends both: a half-open libp2p connection would linger until a timeout
      s.on("error", () => pair.forEach((x) => x.destroy()));
      s.on("close", () => {
        this.sockets.delete(s);
        pair.forEach((x) => x.destroy());
      });
    }
    new Forwarder(inbound, outbound, this);
    new Forwarder(outbound, inbound, this);
  }

  get isCut(): boolean {
    return this.cut;
  }

  /** Cuts the link: every open connection is reset and new ones are refused until heal(). */
  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of [...this.sockets]) s.destroy();
  }

  /** Degrades the link (null: healthy again; what is already held back is delivered at its time, in order). */
  setShape(shape: LinkShape | null): void {
    this.shape = shape;
  }

  close(): Promise<void> {
    this.setCut(true);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
