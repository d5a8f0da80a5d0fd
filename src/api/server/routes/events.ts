// /eth/v1/events: the Server-Sent Events stream. Chain events (head, block, finalized_checkpoint, chain_reorg)
// and pool events (attestation, voluntary_exit) in the API's JSON. One listener per event on the chain and the
// pools, whatever the number of clients: each event is formatted once and written to every stream that asked
// for it; a client that stops reading is dropped rather than buffered without bound.
import type { ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import type { ChainEvents } from "../../../chain/chain.js";
import type { OpPoolEvents } from "../../../chain/opPools/index.js";
import { u64 } from "../../json.js";
import { ApiError, query, queryList, type ApiContext } from "../context.js";

export const EVENT_TOPICS = ["head", "block", "attestation", "voluntary_exit", "finalized_checkpoint", "chain_reorg"] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

/** Bytes a client may leave unread before it is disconnected. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

type Listener = (...args: unknown[]) => void;

/** Fans chain and pool events out to the open streams. */
export class EventHub {
  private readonly streams = new Map<ServerResponse, Set<EventTopic>>();
  private readonly detach: (() => void)[] = [];
  private keepalive: NodeJS.Timeout | null = null;

  constructor(private readonly ctx: ApiContext) {
    const t = ctx.config.types;
    const chain: { [K in keyof ChainEvents]?: (...args: ChainEvents[K]) => void } = {
      head: (e) =>
        this.publish("head", () => ({
          slot: u64(e.slot),
          block: e.block,
          state: e.state,
          epoch_transition: e.epochTransition,
          previous_duty_dependent_root: e.previousDutyDependentRoot,
          current_duty_dependent_root: e.currentDutyDependentRoot,
          execution_optimistic: false,
        })),
      block: (e) => this.publish("block", () => ({ slot: u64(e.slot), block: e.root, execution_optimistic: false })),
      finalized: (e) =>
        this.publish("finalized_checkpoint", () => ({ block: e.root, state: e.stateRoot, epoch: u64(e.epoch), execution_optimistic: false })),
      reorg: (e) =>
        this.publish("chain_reorg", () => ({
          slot: u64(e.slot),
          depth: u64(e.depth),
          old_head_block: e.oldHeadBlock,
          new_head_block: e.newHeadBlock,
          old_head_state: e.oldHeadState,
          new_head_state: e.newHeadState,
          epoch: u64(e.epoch),
          execution_optimistic: false,
        })),
    };
    const pools: { [K in keyof OpPoolEvents]: (...args: OpPoolEvents[K]) => void } = {
      attestation: (a) => this.publish("attestation", () => t.Attestation.toJson(a)),
      voluntaryExit: (e) => this.publish("voluntary_exit", () => t.SignedVoluntaryExit.toJson(e)),
    };
    this.attach(ctx.chain.emitter as unknown as NodeJS.EventEmitter, chain as unknown as Record<string, Listener>);
    this.attach(ctx.pools.emitter as unknown as NodeJS.EventEmitter, pools as unknown as Record<string, Listener>);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Starts an event stream on `res` for `topics`; it ends when the client goes or the hub closes. */
  open(res: ServerResponse, topics: Set<EventTopic>): void {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    // a first comment sends the headers at once, so the client sees the stream open before any event
    res.write(": connected\n\n");
    // quiet between events on purpose: no idle timeout (a client that stops reading is dropped below instead)
    res.socket?.setTimeout(0);
    // a write to a connection the client just dropped reports its error here, not to the whole process
    res.on("error", () => res.destroy());
    res.on("close", () => {
      this.streams.delete(res);
      if (this.streams.size === 0 && this.keepalive) {
        clearInterval(this.keepalive);
        this.keepalive = null;
      }
    });
    this.streams.set(res, topics);
    if (!this.keepalive) {
      this.keepalive = setInterval(() => this.write(": keepalive\n\n", null), KEEPALIVE_MS);
      this.keepalive.unref();
    }
  }

  /** Ends every stream and stops listening to the chain and the pools. */
  close(): void {
    for (const d of this.detach.splice(0)) d();
    if (this.keepalive) clearInterval(this.keepalive);
    this.keepalive = null;
    for (const res of this.streams.keys()) res.end();
    this.streams.clear();
  }

  private attach(emitter: NodeJS.EventEmitter, listeners: Record<string, Listener>): void {
    for (const [name, fn] of Object.entries(listeners)) {
      emitter.on(name, fn);
      this.detach.push(() => emitter.off(name, fn));
    }
  }

  // called from the chain's and the pools' emitters, whose listeners must never throw
  private publish(topic: EventTopic, data: () => unknown): void {
    try {
      let wanted = false;
      for (const topics of this.streams.values()) if (topics.has(topic)) wanted = true;
      if (!wanted) return;
      this.write(`event: ${topic}\ndata: ${JSON.stringify(data())}\n\n`, topic);
    } catch (e) {
      this.ctx.logger?.warn(`event ${topic} not sent: ${(e as Error).message}`);
    }
  }

  private write(text: string, topic: EventTopic | null): void {
    for (const [res, topics] of this.streams) {
      if (topic !== null && !topics.has(topic)) continue;
      if (res.writableEnded || res.destroyed) continue;
      if (res.writableLength > MAX_PENDING_BYTES) {
        res.destroy();
        continue;
      }
      res.write(text);
    }
  }
}

export function registerEventRoutes(app: FastifyInstance, hub: EventHub): void {
  app.get("/eth/v1/events", async (req, reply) => {
    const topics = queryList(query(req).topics);
    if (topics.length === 0) throw new ApiError(400, `missing topics: expected one or more of ${EVENT_TOPICS.join(", ")}`);
    for (const topic of topics) {
      if (!(EVENT_TOPICS as readonly string[]).includes(topic)) {
        throw new ApiError(400, `invalid topic ${JSON.stringify(topic)}: expected one of ${EVENT_TOPICS.join(", ")}`);
      }
    }
    reply.hijack();
    hub.open(reply.raw, new Set(topics as EventTopic[]));
  });
}
