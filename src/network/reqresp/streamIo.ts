// Reading and writing one req/resp stream with bounded memory. The reader listens to 'message' events rather than
// iterating the stream: the stream's iterator queues everything the remote sends, whereas pausing the stream
// stops yamux window updates, so a peer can push at most one window beyond what the decoder asked for.
import type { Stream, StreamCloseEvent, StreamMessageEvent } from "@libp2p/interface";
import { EncodingError } from "../encoding/errors.js";
import { SszSnappyDecoder, type PayloadBounds } from "../encoding/sszSnappy.js";

const HIGH_WATER = 128 * 1024;
const LOW_WATER = 32 * 1024;

function toBytes(data: Uint8Array | { subarray(): Uint8Array }): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

export class StreamReader {
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | null = null;
  private expired: Error | null = null;
  private timer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;

  private readonly onMessage = (evt: StreamMessageEvent): void => {
    const bytes = toBytes(evt.data);
    if (bytes.length === 0) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
    if (this.queued > HIGH_WATER && this.stream.readStatus === "readable") {
      try {
        this.stream.pause();
      } catch {
        // closing already: nothing more will come
      }
    }
    this.notify();
  };
  private readonly onEnd = (): void => {
    this.ended = true;
    this.notify();
  };
  private readonly onClose = (evt: StreamCloseEvent): void => {
    if (evt.error) this.error ??= evt.error;
    else this.ended = true;
    this.notify();
  };

  constructor(private readonly stream: Stream) {
    stream.addEventListener("message", this.onMessage);
    stream.addEventListener("end", this.onEnd);
    stream.addEventListener("close", this.onClose);
    if (stream.readableEnded) this.ended = true;
  }

  /** True once the remote closed its write side and everything it sent was read. */
  get atEnd(): boolean {
    return this.ended && this.queued === 0;
  }

  detach(): void {
    this.clearDeadline();
    this.stream.removeEventListener("message", this.onMessage);
    this.stream.removeEventListener("end", this.onEnd);
    this.stream.removeEventListener("close", this.onClose);
  }

  /** Reads fail with `makeError()` once `ms` pass, until the deadline is cleared or replaced. */
  setDeadline(ms: number, makeError: () => Error): void {
    this.clearDeadline();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.expired = makeError();
      this.notify();
    }, ms);
  }

  clearDeadline(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.expired = null;
  }

  /** The next buffered bytes, or null at the end of the stream. */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.expired) throw this.expired;
      const head = this.queue.shift();
      if (head) {
        this.queued -= head.length;
        if (this.queued < LOW_WATER && this.stream.readStatus === "paused") {
          try {
            this.stream.resume();
          } catch {
            // closing: the remaining bytes are already queued
          }
        }
        return head;
      }
      if (this.error) throw this.error;
      if (this.ended) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Puts back bytes read past what the caller needed. */
  unshift(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.queue.unshift(bytes);
    this.queued += bytes.length;
  }

  async readByte(): Promise<number | null> {
    const b = await this.next();
    if (b === null) return null;
    this.unshift(b.subarray(1));
    return b[0]!;
  }

  /** One ssz_snappy payload; the bytes after it stay queued (e.g. the next response chunk). */
  async readPayload(bounds: PayloadBounds): Promise<Uint8Array> {
    const d = new SszSnappyDecoder(bounds);
    for (;;) {
      const b = await this.next();
      if (b === null) return d.finish();
      const used = d.push(b);
      this.unshift(b.subarray(used));
      // an empty payload ends at its prefix: do not wait for a stream identifier that may never come
      if (d.done) return d.finish();
    }
  }

  /** One ssz_snappy payload that must be all the stream carries (a request): reads to the end of the stream. */
  async readPayloadToEnd(bounds: PayloadBounds): Promise<Uint8Array> {
    const d = new SszSnappyDecoder(bounds);
    for (;;) {
      const b = await this.next();
      if (b === null) return d.finish();
      const used = d.push(b);
      if (used < b.length) throw new EncodingError("TRAILING_DATA", `ssz_snappy: data after the ${d.declaredLength}-byte payload`);
    }
  }

  /** The stream must end here. */
  async expectEnd(): Promise<void> {
    const b = await this.next();
    if (b !== null) throw new EncodingError("TRAILING_DATA", `${b.length}+ unexpected bytes before the end of the stream`);
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

/** Writes with backpressure: waits for the stream to drain (at most `timeoutMs`) when its buffer is full. */
export async function sendBytes(stream: Stream, bytes: Uint8Array, timeoutMs: number): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(timeoutMs) });
}
