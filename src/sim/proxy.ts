// One loopback TCP proxy per directed link between two simulated nodes: node `from` is given only the proxy's
// address for node `to` as its static peer (discovery off), so cutting the link (closing every connection through
// it and refusing new ones) really separates the two nodes, whoever dialled.
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export class LinkProxy {
  private readonly sockets = new Set<Socket>();
  private cut = false;
  /** connections accepted through the link (and refused while it was cut) */
  accepted = 0;
  refused = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on 127.0.0.1 (a free port) and forwards each connection to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number): Promise<LinkProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const proxy = new LinkProxy(server, (server.address() as AddressInfo).port);
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
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  }

  get isCut(): boolean {
    return this.cut;
  }

  /** Cuts the link: every open connection is reset and new ones are refused until heal(). */
  setCut(cut: boolean): void {
    this.cut = cut;
    if (cut) for (const s of [...this.sockets]) s.destroy();
  }

  close(): Promise<void> {
    this.setCut(true);
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
