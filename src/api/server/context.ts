// What every route file shares: the context (chain, pools, node facts), the API error type, and the parsing of
// path/query parameters and bodies with one-line 400 messages that name the parameter at fault.
import type { Type } from "@chainsafe/ssz";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { BeaconChain } from "../../chain/chain.js";
import type { OpPools } from "../../chain/opPools/index.js";
import type { Eth1ForBlockProduction } from "../../chain/produceBlock.js";
import { parseBlockId, parseStateId, type BlockResult, type ChainQuery, type QueryError, type StateResult } from "../../chain/query.js";
import type { BeaconConfig } from "../../config/index.js";
import type { PeerInfo, Publisher, SyncStatus } from "../../network/interface.js";
import type { Logger } from "../../util/logger.js";
import { describe, fromHex, fromJsonStrict, JsonInputError, parseUint64 } from "../json.js";

export type { PeerInfo, Publisher, SyncStatus };

/** An error answered as `{code, message}` with this HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Facts about the node that the chain does not know; every field but `version` is optional. */
export interface NodeInfo {
  /** e.g. "Cairn/v0.1.0/linux-x64" */
  version: string;
  peerId?: string;
  enr?: string;
  p2pAddresses?: string[];
  discoveryAddresses?: string[];
  peers?: () => PeerInfo[];
  syncing?: () => SyncStatus;
  /** the node's MetaData (p2p): sequence number and attestation subnets as 0x-hex */
  metadata?: () => { seqNumber: bigint; attnets: string };
  /** the deposit contract the node follows (0x address), when not the config's DEPOSIT_CONTRACT_ADDRESS */
  depositContract?: string;
}

export interface ApiContext {
  publisher: Publisher | null;
  chain: BeaconChain;
  config: BeaconConfig;
  pools: OpPools;
  query: ChainQuery;
  node: NodeInfo;
  /** where the server reports requests that failed on its side */
  logger: Logger | null;
  currentSlot(): number;
  syncStatus(): SyncStatus;
  /** block production's eth1 vote and deposits (null: no eth1 follower) */
  eth1: Eth1ForBlockProduction | null;
}

export type Params = Record<string, string | undefined>;
export type Query = Record<string, string | string[] | undefined>;

export function params(req: FastifyRequest): Params {
  return (req.params ?? {}) as Params;
}

export function query(req: FastifyRequest): Query {
  return (req.query ?? {}) as Query;
}

/** A path parameter or single query value as a uint64 number (2^53 at most). */
export function parseUintParam(value: string | string[] | undefined, name: string): number {
  if (value === undefined || value === "") throw new ApiError(400, `missing ${name}`);
  if (Array.isArray(value)) throw new ApiError(400, `${name} given more than once`);
  try {
    return parseUint64(value, name);
  } catch (e) {
    throw new ApiError(400, `invalid ${(e as Error).message}`);
  }
}

export function optionalUint(value: string | string[] | undefined, name: string): number | undefined {
  return value === undefined || value === "" ? undefined : parseUintParam(value, name);
}

/** 0x-hex of exactly `length` bytes. */
export function parseHexParam(value: string | string[] | undefined, length: number, name: string): Uint8Array {
  if (value === undefined || value === "") throw new ApiError(400, `missing ${name}`);
  if (Array.isArray(value)) throw new ApiError(400, `${name} given more than once`);
  try {
    return fromHex(value, length, name);
  } catch (e) {
    throw new ApiError(400, `invalid ${(e as Error).message}`);
  }
}

/** A list query parameter, repeated (`?id=1&id=2`) and/or comma-separated (`?id=1,2`). */
export function queryList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const all = Array.isArray(value) ? value : [value];
  return all
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v !== "");
}

/** The request body as an SSZ value of `type`, strictly checked. */
export function parseBody<T>(type: Type<T>, body: unknown, path = "body"): T {
  if (body === undefined || body === null) throw new ApiError(400, "missing request body (JSON expected)");
  try {
    return fromJsonStrict(type, body, path);
  } catch (e) {
    if (e instanceof JsonInputError) throw new ApiError(400, `invalid request body: ${e.message}`);
    throw e;
  }
}

/** A JSON array body, each element read as `type`. */
export function parseBodyList<T>(type: Type<T>, body: unknown, opts: { max?: number; min?: number } = {}): T[] {
  if (body === undefined || body === null) throw new ApiError(400, "missing request body (a JSON array expected)");
  if (!Array.isArray(body)) throw new ApiError(400, `invalid request body: expected a JSON array, got ${describe(body)}`);
  if (opts.min !== undefined && body.length < opts.min) throw new ApiError(400, `invalid request body: at least ${opts.min} item(s) expected`);
  if (opts.max !== undefined && body.length > opts.max) throw new ApiError(400, `invalid request body: at most ${opts.max} items accepted, got ${body.length}`);
  return body.map((item, i) => parseBody(type, item, `body[${i}]`));
}

/** Accept: SSZ when application/octet-stream is preferred to JSON (by q, then by order); JSON otherwise. */
export function prefersSsz(accept: string | undefined): boolean {
  if (!accept) return false;
  let ssz = { q: -1, pos: Infinity };
  let json = { q: -1, pos: Infinity };
  let wildcard = { q: -1, pos: Infinity };
  accept.split(",").forEach((entry, pos) => {
    const [type, ...rest] = entry.split(";").map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of rest) {
      const m = /^q=([0-9.]+)$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!Number.isFinite(q)) q = 0;
    const item = { q, pos };
    if (type === "application/octet-stream" && q > ssz.q) ssz = item;
    else if (type === "application/json" && q > json.q) json = item;
    else if ((type === "*/*" || type === "application/*") && q > wildcard.q) wildcard = item;
  });
  if (json.q < 0) json = wildcard;
  if (ssz.q <= 0) return false;
  if (json.q < 0) return true;
  return ssz.q > json.q || (ssz.q === json.q && ssz.pos < json.pos);
}

export function sendSsz(reply: FastifyReply, bytes: Uint8Array): FastifyReply {
  return reply
    .header("content-type", "application/octet-stream")
    .header("eth-consensus-version", "phase0")
    .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** The state a `state_id` names; 400 for a malformed id, 404 when unknown. */
export async function getStateOr404(ctx: ApiContext, stateId: string | undefined): Promise<StateResult> {
  const id = parseStateId(stateId ?? "");
  const r = await ctx.query.getState(id);
  if (!r) throw new ApiError(404, `state not found: ${stateId}`);
  return r;
}

/** The block a `block_id` names; 400 for a malformed id, 404 when unknown. */
export async function getBlockOr404(ctx: ApiContext, blockId: string | undefined): Promise<BlockResult> {
  const id = parseBlockId(blockId ?? "");
  const r = await ctx.query.getBlock(id);
  if (!r) throw new ApiError(404, `block not found: ${blockId}`);
  return r;
}

/** The HTTP status for a QueryError. */
export function queryErrorStatus(e: QueryError): number {
  switch (e.code) {
    case "INVALID_ID":
    case "INVALID_REQUEST":
      return 400;
    case "NOT_FOUND":
      return 404;
    case "UNAVAILABLE":
      return 503;
  }
}
