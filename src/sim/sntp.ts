// Fake SNTP servers on 127.0.0.1: each answers with its own clock, Date.now() + offsetMs, or stays silent (null).
// `cairn sim` starts them as the validators' time sources and changes an offset to play a bad source; the time check
// tests use them too.
import { createSocket, type Socket } from "node:dgram";
import type { AddressInfo } from "node:net";

const NTP_UNIX_OFFSET_S = 2_208_988_800;

function writeNtpTime(buf: Buffer, offset: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  buf.writeUInt32BE((seconds + NTP_UNIX_OFFSET_S) >>> 0, offset);
  buf.writeUInt32BE(Math.floor(((ms - seconds * 1000) / 1000) * 2 ** 32) >>> 0, offset + 4);
}

export class FakeSntpServer {
  queries = 0;
  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    /** how far this server's clock is ahead of the real one; null: it never answers (changeable while running) */
    public offsetMs: number | null,
  ) {}

  static async start(offsetMs: number | null): Promise<FakeSntpServer> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    const server = new FakeSntpServer(socket, (socket.address() as AddressInfo).port, offsetMs);
    socket.on("message", (msg, rinfo) => {
      server.queries++;
      const off = server.offsetMs;
      if (off === null || msg.length < 48) return;
      const received = Date.now() + off;
      const reply = Buffer.alloc(48);
      reply[0] = (0 << 6) | (4 << 3) | 4; // LI 0, version 4, mode 4 (server)
      reply[1] = 1; // stratum 1
      msg.copy(reply, 24, 40, 48); // originate = the client's transmit time
      writeNtpTime(reply, 32, received);
      writeNtpTime(reply, 40, Date.now() + off);
      socket.send(reply, rinfo.port, rinfo.address);
    });
    return server;
  }

  get source(): { host: string; port: number } {
    return { host: "127.0.0.1", port: this.port };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
