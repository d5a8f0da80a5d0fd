// The standard Beacon Node REST API (ethereum/beacon-APIs, phase 0 endpoints) on fastify. Routes live by
// namespace in routes/; this file wires them to a chain and its operation pools and turns every failure into the
// API's `{code, message}`: 400 names the bad parameter, 404 an unknown resource, 500 anything unexpected, and
// the node keeps serving.
import Fastify, { type FastifyError, type FastifyInstance } from "fastify";
import type { BeaconChain } from "../../chain/chain.js";
import { OpPools } from "../../chain/opPools/index.js";
import { ChainQuery, QueryError } from "../../chain/query.js";
import type { Eth1ForBlockProduction } from "../../chain/produceBlock.js";
import type { BeaconConfig } from "../../config/index.js";
import { JsonInputError } from "../json.js";
import type { Logger } from "../../util/logger.js";
import { ApiError, queryErrorStatus, type ApiContext, type NodeInfo, type SyncStatus } from "./context.js";
import { addJsonParser, boundLargeBodies, BusyError, resolveApiLimits, serverTimeoutOptions, type ApiLimits } from "./limits.js";
import { registerBeaconRoutes } from "./routes/beacon.js";
import { registerConfigRoutes } from "./routes/config.js";
import { registerDebugRoutes } from "./routes/debug.js";
import { EventHub, registerEventRoutes } from "./routes/events.js";
import { registerNodeRoutes } from "./routes/node.js";
import { registerValidatorRoutes } from "./routes/validator.js";

export { DEFAULT_API_LIMITS, type ApiLimits } from "./limits.js";
export { ApiError, type NodeInfo, type PeerInfo, type Publisher, type SyncStatus } from "./context.js";
import type { Publisher } from "./context.js";

export interface BeaconApiServerOptions {
  chain: BeaconChain;
  /** defaults to chain.config */
  config?: BeaconConfig;
  /** defaults to new pools on `chain` */
  pools?: OpPools;
  /** the wall clock; without it, "now" is the latest slot fork choice has seen */
  clock?: { currentSlot(): number };
  node?: Partial<NodeInfo>;
  logger?: Logger;
  /** largest request body in bytes (default 10 MiB: a large validator client posts thousands of attestations) */
  bodyLimit?: number;
  /** gossip for what the API accepts (blocks, attestations, ...); none without networking */
  publisher?: Publisher;
  /** when set, the Access-Control-Allow-Origin sent on every response (browser explorers) */
  corsOrigin?: string;
  /** bounds on JSON depth, large bodies at once, timeouts and connections (defaults: DEFAULT_API_LIMITS) */
  limits?: Partial<ApiLimits>;
  /** the eth1 follower for block production's eth1 vote and deposits; without it blocks repeat the state's eth1_data */
  eth1?: Eth1ForBlockProduction | null;
}

export interface BeaconApiServer {
  /** Starts listening; port 0 picks a free port. Resolves with the bound port. */
  listen(host: string, port: number): Promise<{ port: number }>;
  /** Ends event streams, stops accepting, and waits for requests in flight. */
  close(): Promise<void>;
  readonly pools: OpPools;
  /** the lookups the routes use (its counters are for metrics and tests) */
  readonly query: ChainQuery;
  /** the fastify instance (for inject() in tests, or extra routes such as metrics) */
  readonly app: FastifyInstance;
}

const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

export async function createBeaconApiServer(opts: BeaconApiServerOptions): Promise<BeaconApiServer> {
  const chain = opts.chain;
  const config = opts.config ?? chain.config;
  const clockSlot = opts.clock ? () => opts.clock!.currentSlot() : undefined;
  const pools = opts.pools ?? new OpPools(chain, { currentSlot: clockSlot });
  const query = new ChainQuery(chain, { currentSlot: clockSlot });
  // copy the descriptors, not the values: the node may give getters (addresses known only once it listens)
  const node = Object.defineProperties({ version: "Cairn" }, Object.getOwnPropertyDescriptors(opts.node ?? {})) as NodeInfo;
  const logger = opts.logger?.child("api") ?? null;
  const currentSlot = () => query.currentSlot();

  const syncStatus = (): SyncStatus => {
    if (node.syncing) return node.syncing();
    const headSlot = query.headSlot;
    return { headSlot, syncDistance: Math.max(0, currentSlot() - headSlot), isSyncing: false };
  };
  const ctx: ApiContext = {
    chain,
    config,
    pools,
    query,
    node,
    logger,
    currentSlot,
    syncStatus,
    publisher: opts.publisher ?? null,
    eth1: opts.eth1 ?? null,
  };

  const bodyLimit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const limits = resolveApiLimits(opts.limits);
  const app = Fastify({
    logger: false,
    bodyLimit,
    forceCloseConnections: true,
    return503OnClosing: true,
    routerOptions: { maxParamLength: 256, ignoreTrailingSlash: true },
    ...serverTimeoutOptions(limits),
  });
  app.server.maxConnections = limits.maxConnections;

  addJsonParser(app, bodyLimit, limits.maxJsonDepth);
  boundLargeBodies(app, limits);
  // SSZ request bodies (POST blocks)
  app.addContentTypeParser("application/octet-stream", { parseAs: "buffer", bodyLimit }, (_req, body, done) => done(null, body));

  if (opts.corsOrigin !== undefined) {
    const origin = opts.corsOrigin;
    app.addHook("onRequest", async (req, reply) => {
      reply.header("access-control-allow-origin", origin);
      // a preflight is answered here, before routing (no route has OPTIONS)
      if (req.method === "OPTIONS") {
        return reply
          .header("access-control-allow-methods", "GET, POST, OPTIONS")
          .header("access-control-allow-headers", "content-type, accept")
          .code(204)
          .send();
      }
    });
  }

  app.setErrorHandler((error: FastifyError | Error, req, reply) => {
    const { status, message } = describeError(error);
    if (error instanceof BusyError) reply.header("retry-after", String(error.retryAfterSeconds));
    else if (status >= 500) logger?.error(`${req.method} ${req.url}: ${message}`);
    void reply.code(status).send({ code: status, message });
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ code: 404, message: `no such endpoint: ${req.method} ${req.url.split("?")[0]}` });
  });

  const events = new EventHub(ctx);
  try {
    registerNodeRoutes(app, ctx);
    registerConfigRoutes(app, ctx);
    registerBeaconRoutes(app, ctx);
    registerValidatorRoutes(app, ctx);
    registerDebugRoutes(app, ctx);
    registerEventRoutes(app, events);
    await app.ready();
  } catch (e) {
    events.close();
    throw e;
  }

  let closed = false;
  return {
    pools,
    query,
    app,
    async listen(host: string, port: number) {
      await app.listen({ host, port });
      const address = app.server.address();
      return { port: typeof address === "object" && address ? address.port : port };
    },
    async close() {
      if (closed) return;
      closed = true;
      events.close();
      await app.close();
    },
  };
}

/** The status and one-line message for anything a handler threw. */
function describeError(error: unknown): { status: number; message: string } {
  if (error instanceof ApiError) return { status: error.statusCode, message: oneLine(error.message) };
  if (error instanceof QueryError) return { status: queryErrorStatus(error), message: oneLine(error.message) };
  if (error instanceof JsonInputError) return { status: 400, message: oneLine(`invalid request: ${error.message}`) };
  const e = error as Partial<FastifyError> & { message?: string };
  const code = typeof e.code === "string" ? e.code : "";
  if (code === "FST_ERR_CTP_INVALID_JSON_BODY" || code === "FST_ERR_CTP_EMPTY_JSON_BODY" || error instanceof SyntaxError) {
    return { status: 400, message: oneLine(`invalid JSON body: ${e.message ?? "unparseable"}`) };
  }
  if (code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
    return { status: 415, message: "unsupported content-type: send application/json (or application/octet-stream SSZ where the API takes it)" };
  }
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, message: oneLine(e.message ?? "bad request") };
  }
  return { status: 500, message: oneLine(`internal error: ${e.message ?? String(error)}`) };
}

function oneLine(message: string): string {
  const line = message.replace(/\s*\r?\n\s*/g, " ").trim();
  return line.length > 1000 ? `${line.slice(0, 997)}...` : line;
}
