// Bounds on what clients can make the REST server hold, so that none, alone or many at once, can stop the node:
// JSON nesting (parsers and converters recurse), large bodies received and processed at once (each costs several
// times its size in memory), and the http server's timeouts and connection cap (idle and slowly dripping
// connections are closed).
import type { ServerResponse } from "node:http";
import { Transform } from "node:stream";
import type { FastifyInstance } from "fastify";
import { ApiError } from "./context.js";

export interface ApiLimits {
  /** deepest JSON nesting of arrays and objects accepted; a block, the deepest body, nests 8 (attester slashings) */
  maxJsonDepth: number;
  /** a request body larger than this needs one of the `maxLargeBodies` places (every block fits below it) */
  largeBodyBytes: number;
  /** large bodies received and processed at once; the next one is answered 503 with Retry-After at once */
  maxLargeBodies: number;
  /** a kept-alive connection with no request for this long is closed */
  keepAliveTimeoutMs: number;
  /** time a client has to send a request's headers */
  headersTimeoutMs: number;
  /** time a client has to send a whole request, body included; responses (event streams) are not limited */
  requestTimeoutMs: number;
  /** a connection with no traffic either way for this long is closed (event streams excepted) */
  socketTimeoutMs: number;
  /** open connections at most; one more is closed as soon as it is accepted */
  maxConnections: number;
}

// A beacon node serves its own validator clients and a few tools: a few hundred connections, and requests that
// arrive whole within seconds, are plenty.
export const DEFAULT_API_LIMITS: ApiLimits = {
  maxJsonDepth: 64,
  largeBodyBytes: 1024 * 1024,
  maxLargeBodies: 4,
  keepAliveTimeoutMs: 15_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  socketTimeoutMs: 60_000,
  maxConnections: 256,
};

/** `limits` over the defaults, checked: every bound a positive integer, headers due no later than the request. */
export function resolveApiLimits(limits: Partial<ApiLimits> = {}): ApiLimits {
  const out = { ...DEFAULT_API_LIMITS };
  for (const [key, value] of Object.entries(limits) as [keyof ApiLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_API_LIMITS)) throw new Error(`unknown API limit ${key}`);
    if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`API limit ${key} must be a positive integer, got ${value}`);
    out[key] = value;
  }
  // Node refuses a server whose headers timeout is longer than its request timeout
  if (out.headersTimeoutMs > out.requestTimeoutMs) {
    throw new Error(`API limit headersTimeoutMs (${out.headersTimeoutMs}) exceeds requestTimeoutMs (${out.requestTimeoutMs})`);
  }
  return out;
}

/** The fastify options that set the http server's timeouts. */
export function serverTimeoutOptions(limits: ApiLimits) {
  return {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.socketTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks the headers and request timeouts on this period (30 s by default): often enough that a
      // timeout is enforced close to its value
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
  };
}

/** Whether the JSON text in `body` nests arrays and objects deeper than `max`: one pass over the bytes, strings skipped. */
export function jsonDepthExceeds(body: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next byte (a quote among them)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** JSON bodies: fastify's own parser (which refuses __proto__ keys), after a check of the nesting depth. */
export function addJsonParser(app: FastifyInstance, bodyLimit: number, maxDepth: number): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer", bodyLimit }, (req, body, done) => {
    if (jsonDepthExceeds(body as Buffer, maxDepth)) {
      done(new ApiError(400, `invalid JSON body: JSON nesting deeper than ${maxDepth} levels`), undefined);
      return;
    }
    parse(req, (body as Buffer).toString("utf8"), done);
  });
}

/** A 503 that tells the client when to try again. */
export class BusyError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(503, message);
  }
}

/**
 * Lets at most `maxLargeBodies` requests with a large body be received and processed at once. A body that
 * declares a large length takes a place before any of it is read; one of unknown length (chunked) takes a
 * place when it grows large. A place is held until the response is done or the connection is gone.
 */
export function boundLargeBodies(app: FastifyInstance, limits: ApiLimits): void {
  let inFlight = 0;
  const busy = () => new BusyError(`too many large request bodies at once (at most ${limits.maxLargeBodies}); try again shortly`, 1);
  const take = (res: ServerResponse): boolean => {
    if (inFlight >= limits.maxLargeBodies) return false;
    // the client already gone: its close was emitted and would never give the place back
    if (res.destroyed) return true;
    inFlight++;
    res.once("close", () => inFlight--);
    return true;
  };

  app.addHook("preParsing", async (req, reply, payload) => {
    if (Number(req.headers["content-length"]) > limits.largeBodyBytes) {
      if (!take(reply.raw)) throw busy();
      return payload;
    }
    if (req.headers["transfer-encoding"] === undefined) return payload;
    let received = 0;
    let held = false;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (!held && received > limits.largeBodyBytes) {
          held = take(reply.raw);
          if (!held) {
            // the rest of the body is read and dropped (within the request timeout), so the 503 reaches the client
            payload.unpipe(counter);
            payload.resume();
            return callback(busy());
          }
        }
        callback(null, chunk);
      },
    });
    payload.on("error", (e) => counter.destroy(e));
    return payload.pipe(counter);
  });
}
