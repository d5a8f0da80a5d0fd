// The phase 0 req/resp domain (p2p-interface.md v1.0, "The Req/Resp domain"): one stream per request, ssz_snappy
// payloads, result-coded response chunks, TTFB/RESP timeouts, and responder-side limits per peer. Every failure is
// a ReqRespError naming its fault; faults a peer causes are reported to `onPeerFault` for the peer manager.
import "../polyfill.js";
import type { Connection, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { BeaconConfig } from "../../config/index.js";
import { MAX_CHUNK_SIZE, MAX_REQUEST_BLOCKS, RESP_TIMEOUT_MS, TTFB_TIMEOUT_MS } from "../../params/index.js";
import type { BeaconBlocksByRangeRequest, Metadata, SignedBeaconBlock, Status } from "../../types/index.js";
import { toHex } from "../../util/bytes.js";
import { nullLogger, type Logger } from "../../util/logger.js";
import { EncodingError } from "../encoding/errors.js";
import { boundsOf, encodeSszSnappy, type PayloadBounds } from "../encoding/sszSnappy.js";
import type { CairnLibp2p } from "../libp2p.js";
import {
  RATE_LIMITED_MESSAGE,
  ReqRespError,
  RespCode,
  faultOfRespCode,
  isReqRespError,
  respCodeOfFault,
  type ReqRespFault,
} from "./errors.js";
import { ALL_METHODS, Method, protocolId } from "./protocols.js";
import { ConcurrencyLimiter, RateLimiter, resolveRateLimits, type RateLimits, type RateLimitsInput } from "./rateLimiter.js";
import { StreamReader, sendBytes } from "./streamIo.js";

export type PeerIdStr = string;

export interface ReqRespHandlers {
  /** the remote's status; return ours (throw a ReqRespError to answer with an error code) */
  onStatus(peer: PeerIdStr, status: Status): Promise<Status> | Status;
  onGoodbye(peer: PeerIdStr, reason: bigint): void;
  getMetadata(): Metadata;
  /** serialized SignedBeaconBlocks, in slot order (the handler applies step/count; ReqResp re-checks the count) */
  onBeaconBlocksByRange(peer: PeerIdStr, req: BeaconBlocksByRangeRequest): AsyncIterable<Uint8Array>;
  onBeaconBlocksByRoot(peer: PeerIdStr, roots: Uint8Array[]): AsyncIterable<Uint8Array>;
  /** optional: the metadata sequence number a peer pinged us with (lets the peer manager refresh its metadata) */
  onPing?(peer: PeerIdStr, seqNumber: bigint): void;
}

export interface ReqRespOptions {
  libp2p: CairnLibp2p;
  config: BeaconConfig;
  handlers: ReqRespHandlers;
  /** called for every fault a peer causes (as requester or responder); the peer manager scores it */
  onPeerFault?: (peer: PeerIdStr, fault: ReqRespFault, detail: string) => void;
  ttfbTimeoutMs?: number;
  respTimeoutMs?: number;
  /** Partial<RateLimits>, with `requests` settable per protocol */
  rateLimits?: RateLimitsInput;
  logger?: Logger;
}

/** ErrorMessage: List[byte, 256] */
const ERROR_MESSAGE_BOUNDS: PayloadBounds = { minSize: 0, maxSize: 256 };
const MAX_ERROR_MESSAGE_BYTES = 256;
/** After an error answer, the rest of a request is read and dropped, up to this much (the largest request, by_root,
 * is 32 KiB of roots, at most ~38 KiB encoded). */
const MAX_DISCARDED_BYTES = 64 * 1024;

interface ResponseSpec<T> {
  bounds: PayloadBounds;
  /** most chunks the response may have */
  maxChunks: number;
  /** a list response (zero or more chunks) rather than exactly one chunk */
  list: boolean;
  decode(ssz: Uint8Array): T;
}

function encodeErrorMessage(message: string): Uint8Array {
  return new TextEncoder().encode(message).subarray(0, MAX_ERROR_MESSAGE_BYTES);
}

/** Error messages are any bytes (UTF-8 by convention); control characters are masked before they reach a log. */
function decodeErrorMessage(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes).replace(/[\u0000-\u001f\u007f]/g, "?");
}

function isTimeoutLike(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name;
  return name === "AbortError" || name === "TimeoutError";
}

function deserializeOr<T>(type: { deserialize(b: Uint8Array): T }, bytes: Uint8Array, fault: ReqRespFault, what: string): T {
  try {
    return type.deserialize(bytes);
  } catch (e) {
    throw new ReqRespError(fault, `invalid ${what} SSZ: ${(e as Error).message}`);
  }
}

export class ReqResp {
  private readonly libp2p: CairnLibp2p;
  private readonly config: BeaconConfig;
  private readonly handlers: ReqRespHandlers;
  private readonly onPeerFault: NonNullable<ReqRespOptions["onPeerFault"]>;
  private readonly ttfbMs: number;
  private readonly respMs: number;
  private readonly limits: RateLimits;
  private readonly logger: Logger;
  private readonly rateLimiter = new RateLimiter();
  private readonly concurrency = new ConcurrencyLimiter();
  private readonly inflight = new Set<Stream>();
  private running = false;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(opts: ReqRespOptions) {
    this.libp2p = opts.libp2p;
    this.config = opts.config;
    this.handlers = opts.handlers;
    this.onPeerFault = opts.onPeerFault ?? (() => {});
    this.ttfbMs = opts.ttfbTimeoutMs ?? TTFB_TIMEOUT_MS;
    this.respMs = opts.respTimeoutMs ?? RESP_TIMEOUT_MS;
    this.limits = resolveRateLimits(opts.rateLimits);
    this.logger = opts.logger ?? nullLogger;
  }

  /** Registers the six protocol handlers. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    for (const method of ALL_METHODS) {
      await this.libp2p.handle(protocolId(method), (stream, connection) => this.onInbound(method, stream, connection), {
        // libp2p resets streams beyond this; below it, our own limiter answers with an error and reports the peer
        maxInboundStreams: this.limits.maxConcurrentPerPeer + 2,
      });
    }
    const windows = [this.limits.blocks.windowMs, ...Object.values(this.limits.requests).map((q) => q.windowMs)];
    this.pruneTimer = setInterval(() => this.rateLimiter.prune(), Math.max(...windows));
    this.pruneTimer.unref();
  }

  /** Unregisters the handlers and aborts every stream in flight. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.pruneTimer = null;
    await this.libp2p.unhandle(ALL_METHODS.map(protocolId));
    for (const s of this.inflight) s.abort(new Error("req/resp stopped"));
    this.inflight.clear();
    this.rateLimiter.clear();
  }

  // ---------------------------------------------------------------------------------------------- requesting side

  async status(peer: PeerIdStr, ours: Status): Promise<Status> {
    const t = this.config.types;
    const [theirs] = await this.request(peer, Method.status, t.Status.serialize(ours), {
      bounds: boundsOf(t.Status),
      maxChunks: 1,
      list: false,
      decode: (b) => deserializeOr(t.Status, b, "INVALID_RESPONSE", "Status"),
    });
    return theirs!;
  }

  /** Sends the reason and half-closes; no response is expected. Waits briefly for the peer to close, so the
   * message is delivered before the caller hangs up. Fails only if the stream cannot be opened or written. */
  async goodbye(peer: PeerIdStr, reason: bigint): Promise<void> {
    this.assertRunning();
    const stream = await this.dial(peer, Method.goodbye);
    const reader = new StreamReader(stream);
    try {
      await sendBytes(stream, encodeSszSnappy(this.config.types.Goodbye.serialize(reason)), this.respMs);
      await stream.close({ signal: AbortSignal.timeout(this.respMs) });
      reader.setDeadline(this.ttfbMs, () => new ReqRespError("TIMEOUT", "goodbye: peer did not close"));
      // some clients answer goodbye with a chunk: drain and ignore it
      while ((await reader.next()) !== null);
    } catch (e) {
      const err = this.outboundError(e, peer, Method.goodbye);
      stream.abort(err);
      // the peer is being dropped anyway: a missed goodbye is not scored
      if (err.fault !== "TIMEOUT") throw err;
    } finally {
      reader.detach();
      this.inflight.delete(stream);
    }
  }

  /** Our metadata sequence number in, theirs out. */
  async ping(peer: PeerIdStr, ourSeq: bigint): Promise<bigint> {
    const t = this.config.types;
    const [seq] = await this.request(peer, Method.ping, t.Ping.serialize(ourSeq), {
      bounds: boundsOf(t.Ping),
      maxChunks: 1,
      list: false,
      decode: (b) => deserializeOr(t.Ping, b, "INVALID_RESPONSE", "Ping"),
    });
    return seq!;
  }

  async metadata(peer: PeerIdStr): Promise<Metadata> {
    const t = this.config.types;
    const [md] = await this.request(peer, Method.metadata, null, {
      bounds: boundsOf(t.Metadata),
      maxChunks: 1,
      list: false,
      decode: (b) => deserializeOr(t.Metadata, b, "INVALID_RESPONSE", "MetaData"),
    });
    return md!;
  }

  /** Blocks in [startSlot, startSlot + count * step) on the step grid, in slot order, at most `count`. */
  async beaconBlocksByRange(peer: PeerIdStr, req: BeaconBlocksByRangeRequest): Promise<SignedBeaconBlock[]> {
    const t = this.config.types;
    const problem = byRangeRequestProblem(req);
    if (problem) throw new ReqRespError("INVALID_REQUEST", `beacon_blocks_by_range: ${problem}`, peer);
    const { startSlot, count, step } = req;
    const endSlot = startSlot + count * step;
    let prevSlot = -1;
    return this.request(peer, Method.beaconBlocksByRange, t.BeaconBlocksByRangeRequest.serialize(req), {
      bounds: boundsOf(t.SignedBeaconBlock),
      maxChunks: count,
      list: true,
      decode: (b) => {
        const block = deserializeOr(t.SignedBeaconBlock, b, "INVALID_RESPONSE", "SignedBeaconBlock");
        const slot = block.message.slot;
        if (slot < startSlot || slot >= endSlot || (slot - startSlot) % step !== 0) {
          throw new ReqRespError("INVALID_RESPONSE", `block at slot ${slot} not requested (start ${startSlot}, count ${count}, step ${step})`);
        }
        if (slot <= prevSlot) throw new ReqRespError("INVALID_RESPONSE", `block at slot ${slot} after slot ${prevSlot}: not in slot order`);
        prevSlot = slot;
        return block;
      },
    });
  }

  /** Blocks whose roots were requested (each at most once); possibly fewer than asked. */
  async beaconBlocksByRoot(peer: PeerIdStr, roots: Uint8Array[]): Promise<SignedBeaconBlock[]> {
    const t = this.config.types;
    if (roots.length > MAX_REQUEST_BLOCKS) {
      throw new ReqRespError("INVALID_REQUEST", `beacon_blocks_by_root: ${roots.length} roots, more than MAX_REQUEST_BLOCKS`, peer);
    }
    if (roots.some((r) => r.length !== 32)) throw new ReqRespError("INVALID_REQUEST", "beacon_blocks_by_root: a root is not 32 bytes", peer);
    if (roots.length === 0) return [];
    const wanted = new Set(roots.map(toHex));
    const received = new Set<string>();
    return this.request(peer, Method.beaconBlocksByRoot, t.BeaconBlocksByRootRequest.serialize(roots), {
      bounds: boundsOf(t.SignedBeaconBlock),
      maxChunks: roots.length,
      list: true,
      decode: (b) => {
        const block = deserializeOr(t.SignedBeaconBlock, b, "INVALID_RESPONSE", "SignedBeaconBlock");
        const root = toHex(t.BeaconBlock.hashTreeRoot(block.message));
        if (!wanted.has(root)) throw new ReqRespError("INVALID_RESPONSE", `block ${root} was not requested`);
        if (received.has(root)) throw new ReqRespError("INVALID_RESPONSE", `block ${root} sent twice`);
        received.add(root);
        return block;
      },
    });
  }

  private assertRunning(): void {
    if (!this.running) throw new ReqRespError("STREAM_ERROR", "req/resp is not running");
  }

  private async dial(peer: PeerIdStr, method: Method): Promise<Stream> {
    let stream: Stream;
    try {
      stream = await this.libp2p.dialProtocol(peerIdFromString(peer), protocolId(method), { signal: AbortSignal.timeout(this.respMs) });
    } catch (e) {
      const err = new ReqRespError("DIAL_FAILED", `${method}: cannot open a stream: ${(e as Error).message}`, peer);
      this.reportFault(peer, err);
      throw err;
    }
    if (!this.running) {
      stream.abort(new Error("req/resp stopped"));
      throw new ReqRespError("STREAM_ERROR", "req/resp stopped", peer);
    }
    this.inflight.add(stream);
    return stream;
  }

  private async request<T>(peer: PeerIdStr, method: Method, body: Uint8Array | null, spec: ResponseSpec<T>): Promise<T[]> {
    this.assertRunning();
    const stream = await this.dial(peer, method);
    const reader = new StreamReader(stream);
    try {
      if (body) await sendBytes(stream, encodeSszSnappy(body), this.respMs);
      await stream.close({ signal: AbortSignal.timeout(this.respMs) });
      const out = await this.readResponse(reader, method, spec);
      // done with this stream: drop whatever else arrives rather than wait for the peer to close
      if (!reader.atEnd) await stream.closeRead().catch(() => {});
      return out;
    } catch (e) {
      const err = this.outboundError(e, peer, method);
      stream.abort(err);
      if (this.running) this.reportFault(peer, err);
      throw err;
    } finally {
      reader.detach();
      this.inflight.delete(stream);
    }
  }

  private async readResponse<T>(reader: StreamReader, method: Method, spec: ResponseSpec<T>): Promise<T[]> {
    const out: T[] = [];
    const chunkTimeout = (): ReqRespError => new ReqRespError("TIMEOUT", `${method}: response chunk ${out.length} not complete within RESP_TIMEOUT`);
    for (let i = 0; i < spec.maxChunks; i++) {
      if (i === 0) reader.setDeadline(this.ttfbMs, () => new ReqRespError("TIMEOUT", `${method}: no response within TTFB_TIMEOUT`));
      else reader.setDeadline(this.respMs, chunkTimeout);
      const code = await reader.readByte();
      if (code === null) break;
      if (i === 0) reader.setDeadline(this.respMs, chunkTimeout);
      if (code !== RespCode.success) {
        const message = decodeErrorMessage(await reader.readPayload(ERROR_MESSAGE_BOUNDS));
        throw new ReqRespError(faultOfRespCode(code, message), `${method}: peer answered code ${code}: ${message}`, undefined, code);
      }
      out.push(spec.decode(await reader.readPayload(spec.bounds)));
    }
    if (!spec.list && out.length === 0) throw new ReqRespError("INVALID_RESPONSE", `${method}: stream closed without a response`);
    if (spec.list && out.length === spec.maxChunks) {
      // every allowed chunk arrived: the responder must close now; more is a violation (a slow close is not)
      reader.setDeadline(this.respMs, () => new ReqRespError("TIMEOUT", "no close after the last chunk"));
      try {
        await reader.expectEnd();
      } catch (e) {
        if (e instanceof EncodingError) throw new ReqRespError("INVALID_RESPONSE", `${method}: more than ${spec.maxChunks} response chunks`);
        if (!isReqRespError(e, "TIMEOUT")) throw e;
      }
    }
    reader.clearDeadline();
    return out;
  }

  private outboundError(e: unknown, peer: PeerIdStr, method: Method): ReqRespError {
    if (isReqRespError(e)) return e.withPeer(peer);
    if (e instanceof EncodingError) return new ReqRespError("INVALID_RESPONSE", `${method}: ${e.message}`, peer);
    if (isTimeoutLike(e)) return new ReqRespError("TIMEOUT", `${method}: write timed out`, peer);
    return new ReqRespError("STREAM_ERROR", `${method}: ${(e as Error)?.message ?? String(e)}`, peer);
  }

  private reportFault(peer: PeerIdStr, err: ReqRespError): void {
    this.logger.debug("req/resp peer fault", { peer, fault: err.fault, detail: err.message });
    try {
      this.onPeerFault(peer, err.fault, err.message);
    } catch (e) {
      this.logger.warn("onPeerFault threw", { error: (e as Error).message });
    }
  }

  // ---------------------------------------------------------------------------------------------- responding side

  private async onInbound(method: Method, stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString();
    if (!this.running) {
      stream.abort(new Error("req/resp stopped"));
      return;
    }
    this.inflight.add(stream);
    const reader = new StreamReader(stream);
    const peerKey = `${peer}/${method}`;
    const held: string[] = [];
    try {
      // not the peer's fault: we are busy with everyone
      if (!this.concurrency.tryAcquire(method, this.limits.maxConcurrentPerProtocol)) {
        throw new ReqRespError("RESOURCE_UNAVAILABLE", `too many ${method} requests in flight`);
      }
      held.push(method);
      if (!this.concurrency.tryAcquire(peerKey, this.limits.maxConcurrentPerPeer)) {
        throw new ReqRespError("RATE_LIMITED", `${RATE_LIMITED_MESSAGE}: too many concurrent ${method} requests`);
      }
      held.push(peerKey);
      if (!this.rateLimiter.take(peerKey, this.limits.requests[method])) {
        throw new ReqRespError("RATE_LIMITED", `${RATE_LIMITED_MESSAGE}: too many ${method} requests`);
      }
      // the whole request must arrive within RESP_TIMEOUT
      reader.setDeadline(this.respMs, () => new ReqRespError("TIMEOUT", `${method}: request not received within RESP_TIMEOUT`));
      await this.serve(method, peer, stream, reader);
      await stream.close({ signal: AbortSignal.timeout(this.respMs) });
    } catch (e) {
      const err = this.inboundError(e, peer, method);
      if (this.running) await this.answerError(method, peer, stream, reader, err);
    } finally {
      for (const k of held) this.concurrency.release(k);
      reader.detach();
      this.inflight.delete(stream);
    }
  }

  private async serve(method: Method, peer: PeerIdStr, stream: Stream, reader: StreamReader): Promise<void> {
    const t = this.config.types;
    switch (method) {
      case Method.status: {
        const theirs = await this.readRequest(reader, t.Status, "Status");
        // serializing inside callHandler: a malformed value from our handler is our ServerError, not the peer's fault
        const ours = await this.callHandler(async () => t.Status.serialize(await this.handlers.onStatus(peer, theirs)));
        await this.sendChunk(stream, ours);
        return;
      }
      case Method.goodbye: {
        const reason = await this.readRequest(reader, t.Goodbye, "Goodbye");
        await this.callHandler(() => this.handlers.onGoodbye(peer, reason));
        return;
      }
      case Method.ping: {
        const seq = await this.readRequest(reader, t.Ping, "Ping");
        await this.callHandler(() => this.handlers.onPing?.(peer, seq));
        const ours = await this.callHandler(() => t.Ping.serialize(this.handlers.getMetadata().seqNumber));
        await this.sendChunk(stream, ours);
        return;
      }
      case Method.metadata: {
        // no request body: the requester only half-closes
        await reader.expectEnd();
        reader.clearDeadline();
        const md = await this.callHandler(() => t.Metadata.serialize(this.handlers.getMetadata()));
        await this.sendChunk(stream, md);
        return;
      }
      case Method.beaconBlocksByRange: {
        const req = await this.readRequest(reader, t.BeaconBlocksByRangeRequest, "BeaconBlocksByRangeRequest");
        const problem = byRangeRequestProblem(req);
        if (problem) throw new ReqRespError("INVALID_REQUEST", problem);
        this.chargeBlocks(peer, req.count);
        await this.sendBlocks(stream, req.count, () => this.handlers.onBeaconBlocksByRange(peer, req));
        return;
      }
      case Method.beaconBlocksByRoot: {
        const roots = await this.readRequest(reader, t.BeaconBlocksByRootRequest, "BeaconBlocksByRootRequest");
        if (roots.length > 0) this.chargeBlocks(peer, roots.length);
        await this.sendBlocks(stream, roots.length, () => this.handlers.onBeaconBlocksByRoot(peer, roots));
        return;
      }
    }
  }

  /** Reads the one payload the request stream carries (up to the requester's half-close) and deserializes it. */
  private async readRequest<T>(reader: StreamReader, type: { minSize: number; maxSize: number; deserialize(b: Uint8Array): T }, what: string): Promise<T> {
    const bytes = await reader.readPayloadToEnd(boundsOf(type));
    reader.clearDeadline();
    return deserializeOr(type, bytes, "INVALID_REQUEST", what);
  }

  private chargeBlocks(peer: PeerIdStr, n: number): void {
    if (!this.rateLimiter.take(`${peer}/blocks`, this.limits.blocks, n)) {
      throw new ReqRespError("RATE_LIMITED", `${RATE_LIMITED_MESSAGE}: more than ${this.limits.blocks.tokens} blocks per ${this.limits.blocks.windowMs} ms`);
    }
  }

  /** Runs a handler; anything it throws that is not a ReqRespError is our own failure: ServerError. */
  private async callHandler<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isReqRespError(e)) throw e;
      this.logger.warn("req/resp handler failed", { error: (e as Error)?.message });
      throw new ReqRespError("SERVER_ERROR", "internal error");
    }
  }

  private async sendBlocks(stream: Stream, max: number, source: () => AsyncIterable<Uint8Array>): Promise<void> {
    const it = (await this.callHandler(() => source()[Symbol.asyncIterator]())) as AsyncIterator<Uint8Array>;
    let sent = 0;
    try {
      for (;;) {
        const r = await this.callHandler(() => it.next());
        if (r.done) break;
        if (sent === max) {
          this.logger.warn("req/resp handler yielded more blocks than requested; response cut", { max });
          break;
        }
        if (r.value.length > MAX_CHUNK_SIZE) {
          this.logger.warn("req/resp handler yielded a block above MAX_CHUNK_SIZE", { size: r.value.length });
          throw new ReqRespError("SERVER_ERROR", "internal error");
        }
        await this.sendChunk(stream, r.value);
        sent++;
      }
    } finally {
      await it.return?.().catch(() => {});
    }
  }

  private async sendChunk(stream: Stream, ssz: Uint8Array): Promise<void> {
    await sendBytes(stream, Uint8Array.of(RespCode.success), this.respMs);
    await sendBytes(stream, encodeSszSnappy(ssz), this.respMs);
  }

  private inboundError(e: unknown, peer: PeerIdStr, method: Method): ReqRespError {
    if (isReqRespError(e)) return e.withPeer(peer);
    if (e instanceof EncodingError) return new ReqRespError("INVALID_REQUEST", `${method}: ${e.message}`, peer);
    if (isTimeoutLike(e)) return new ReqRespError("TIMEOUT", `${method}: peer did not read the response`, peer);
    return new ReqRespError("STREAM_ERROR", `${method}: ${(e as Error)?.message ?? String(e)}`, peer);
  }

  /** Reports the fault if the peer caused it, then answers with an error chunk (or resets a dead stream). */
  private async answerError(method: Method, peer: PeerIdStr, stream: Stream, reader: StreamReader, err: ReqRespError): Promise<void> {
    const peersFault = err.fault === "INVALID_REQUEST" || err.fault === "RATE_LIMITED" || err.fault === "TIMEOUT" || err.fault === "STREAM_ERROR";
    if (peersFault) this.reportFault(peer, err);
    else this.logger.debug("req/resp request failed", { peer, method, fault: err.fault, detail: err.message });
    // a stalled or broken stream gets a reset; anything else an error chunk
    if (err.fault === "TIMEOUT" || err.fault === "STREAM_ERROR" || stream.writeStatus !== "writable") {
      stream.abort(err);
      return;
    }
    try {
      const code = respCodeOfFault(err.fault);
      await sendBytes(stream, Uint8Array.of(code), this.respMs);
      await sendBytes(stream, encodeSszSnappy(encodeErrorMessage(err.message)), this.respMs);
      await stream.close({ signal: AbortSignal.timeout(this.respMs) });
      // The request may be unread (e.g. refused by a limit before reading): let the requester finish writing and
      // drop its bytes, rather than reset a stream it may still be negotiating. A bounded amount, within the timeout.
      reader.setDeadline(this.respMs, () => new ReqRespError("TIMEOUT", "requester did not close"));
      let discarded = 0;
      for (let b = await reader.next(); b !== null; b = await reader.next()) {
        discarded += b.length;
        if (discarded > MAX_DISCARDED_BYTES) throw new ReqRespError("INVALID_REQUEST", "request too long");
      }
    } catch (e) {
      stream.abort(e as Error);
    }
  }
}

/** Why a BeaconBlocksByRange request is invalid, or null. */
export function byRangeRequestProblem(req: BeaconBlocksByRangeRequest): string | null {
  if (req.step < 1) return "step must be at least 1";
  if (req.count < 1) return "count must be at least 1";
  if (req.count > MAX_REQUEST_BLOCKS) return `count ${req.count} above MAX_REQUEST_BLOCKS (${MAX_REQUEST_BLOCKS})`;
  if (!Number.isSafeInteger(req.startSlot + req.count * req.step)) return "slot range overflows";
  return null;
}
