// The few eth1 JSON-RPC calls the node needs, written by hand over fetch: four methods with fixed answers do not
// justify a web3/ethers dependency (megabytes, its own retry and typing rules), and by hand every answer is
// checked field by field, so a broken or hostile endpoint is a one-line error naming it, never a bad deposit.
import { fromHex } from "../util/bytes.js";

export interface Eth1Block {
  number: number;
  hash: Uint8Array;
  parentHash: Uint8Array;
  timestamp: number;
}

export interface Eth1Log {
  blockNumber: number;
  blockHash: Uint8Array;
  transactionHash: Uint8Array;
  logIndex: number;
  data: Uint8Array;
  topics: Uint8Array[];
  removed: boolean;
}

export class Eth1RpcError extends Error {
  constructor(
    readonly endpoint: string,
    message: string,
    /** the endpoint answered, but wrongly (a wrong chain, a malformed answer): retrying it will not help */
    readonly fatal = false,
  ) {
    super(`eth1 endpoint ${endpoint}: ${message}`);
    this.name = "Eth1RpcError";
  }
}

export interface Eth1RpcOptions {
  /** tried in order; the next one when a call fails on the current one */
  endpoints: string[];
  /** the DEPOSIT_CHAIN_ID of the config; an endpoint on another chain is refused */
  chainId?: number;
  timeoutMs?: number;
  /** rounds over all endpoints before a call fails */
  retries?: number;
  /** backoff before round k is backoffMs * 2^(k-1) */
  backoffMs?: number;
  /** most blocks one eth_getLogs may span (providers cap the range or the answer size) */
  maxLogsRange?: number;
}

/** Redacts credentials in an endpoint URL for messages (user:pass@ and the query). */
export function endpointName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

export class Eth1Rpc {
  readonly endpoints: string[];
  private readonly verified = new Set<string>();
  private current = 0;
  private nextId = 1;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  readonly maxLogsRange: number;

  constructor(private readonly opts: Eth1RpcOptions) {
    if (opts.endpoints.length === 0) throw new Error("no eth1 endpoint given");
    for (const e of opts.endpoints) {
      let u: URL;
      try {
        u = new URL(e);
      } catch {
        throw new Error(`eth1 endpoint "${e}" is not a URL`);
      }
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`eth1 endpoint ${endpointName(e)}: only http(s) is supported`);
    }
    this.endpoints = opts.endpoints;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 500;
    this.maxLogsRange = opts.maxLogsRange ?? 1000;
  }

  async chainId(): Promise<number> {
    return this.call("eth_chainId", [], quantity);
  }

  async blockNumber(): Promise<number> {
    return this.call("eth_blockNumber", [], quantity);
  }

  /** The block header at `number`, or null when the endpoint does not have it yet. */
  async getBlockByNumber(number: number | "latest"): Promise<Eth1Block | null> {
    const tag = number === "latest" ? number : toQuantity(number);
    return this.call("eth_getBlockByNumber", [tag, false], (v) => (v === null ? null : parseBlock(v)));
  }

  /** The logs of `address` with `topic0` in [from, to], fetched in ranges of at most maxLogsRange blocks. */
  async getLogs(address: string, topic0: string, from: number, to: number): Promise<Eth1Log[]> {
    const out: Eth1Log[] = [];
    for (let start = from; start <= to; start += this.maxLogsRange) {
      const end = Math.min(to, start + this.maxLogsRange - 1);
      const params = [{ address, topics: [topic0], fromBlock: toQuantity(start), toBlock: toQuantity(end) }];
      const logs = await this.call("eth_getLogs", params, (v) => {
        if (!Array.isArray(v)) throw new Error("eth_getLogs answer is not an array");
        return v.map(parseLog);
      });
      for (const log of logs) {
        if (log.blockNumber < start || log.blockNumber > end) throw new Error(`a log of block ${log.blockNumber} outside [${start}, ${end}]`);
      }
      out.push(...logs);
    }
    return out;
  }

  /** Any other call (dev tooling: sending transactions to a local node), with the same fallback and retries. */
  async request<T>(method: string, params: unknown[], parse: (v: unknown) => T): Promise<T> {
    return this.call(method, params, parse);
  }

  private async call<T>(method: string, params: unknown[], parse: (v: unknown) => T): Promise<T> {
    let last: Error | null = null;
    const broken = new Set<string>(); // answered wrongly: not asked again in this call
    for (let round = 0; round < this.retries && broken.size < this.endpoints.length; round++) {
      if (round > 0) await sleep(this.backoffMs * 2 ** (round - 1));
      for (let k = 0; k < this.endpoints.length; k++) {
        const i = (this.current + k) % this.endpoints.length;
        const url = this.endpoints[i];
        if (broken.has(url)) continue;
        try {
          await this.verifyChain(url);
          const result = await this.post(url, method, params, parse);
          this.current = i;
          return result;
        } catch (e) {
          const err = e instanceof Eth1RpcError ? e : new Eth1RpcError(endpointName(url), `${method}: ${(e as Error).message}`);
          if (err.fatal) broken.add(url);
          last = err;
        }
      }
    }
    throw last ?? new Error("no eth1 endpoint");
  }

  /** Checks an endpoint's chain id once before its first use. */
  private async verifyChain(url: string): Promise<void> {
    if (this.opts.chainId === undefined || this.verified.has(url)) return;
    const id = await this.post(url, "eth_chainId", [], quantity);
    if (id !== this.opts.chainId) throw new Eth1RpcError(endpointName(url), `chain id ${id}, expected ${this.opts.chainId} (DEPOSIT_CHAIN_ID)`, true);
    this.verified.add(url);
  }

  private async post<T>(url: string, method: string, params: unknown[], parse: (v: unknown) => T): Promise<T> {
    const name = endpointName(url);
    let res: Response;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: this.nextId++, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error;
      const why = err.name === "TimeoutError" ? `no answer within ${this.timeoutMs} ms` : (err.cause as Error | undefined)?.message ?? err.message;
      throw new Eth1RpcError(name, `${method}: ${why}`);
    }
    const text = await res.text();
    if (!res.ok) throw new Eth1RpcError(name, `${method}: HTTP ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Eth1RpcError(name, `${method}: the answer is not JSON`, true);
    }
    if (typeof body !== "object" || body === null) throw new Eth1RpcError(name, `${method}: the answer is not a JSON-RPC object`, true);
    const b = body as { result?: unknown; error?: { code?: unknown; message?: unknown } };
    if (b.error !== undefined) throw new Eth1RpcError(name, `${method}: error ${String(b.error?.code)} ${String(b.error?.message).slice(0, 200)}`);
    if (!("result" in b)) throw new Eth1RpcError(name, `${method}: the answer has no result`, true);
    try {
      return parse(b.result);
    } catch (e) {
      throw new Eth1RpcError(name, `${method}: malformed answer (${(e as Error).message})`, true);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function toQuantity(n: number): string {
  return "0x" + n.toString(16);
}

/** A JSON-RPC QUANTITY (0x, no leading zeros) as a safe integer. */
export function quantity(v: unknown): number {
  if (typeof v !== "string" || !/^0x(0|[1-9a-f][0-9a-f]*)$/i.test(v)) throw new Error(`${JSON.stringify(v)?.slice(0, 40)} is not a quantity`);
  const n = Number.parseInt(v.slice(2), 16);
  if (!Number.isSafeInteger(n)) throw new Error(`${v} is beyond 2^53`);
  return n;
}

/** 0x-hex DATA of `length` bytes (any even length when undefined). */
export function data(v: unknown, length?: number): Uint8Array {
  if (typeof v !== "string" || !/^0x([0-9a-f]{2})*$/i.test(v)) throw new Error(`${JSON.stringify(v)?.slice(0, 40)} is not hex data`);
  const bytes = fromHex(v);
  if (length !== undefined && bytes.length !== length) throw new Error(`${v.slice(0, 20)}... is ${bytes.length} bytes, expected ${length}`);
  return bytes;
}

function field(o: unknown, key: string): unknown {
  if (typeof o !== "object" || o === null) throw new Error("not an object");
  const v = (o as Record<string, unknown>)[key];
  if (v === undefined) throw new Error(`no ${key}`);
  return v;
}

function parseBlock(v: unknown): Eth1Block {
  return {
    number: quantity(field(v, "number")),
    hash: data(field(v, "hash"), 32),
    parentHash: data(field(v, "parentHash"), 32),
    timestamp: quantity(field(v, "timestamp")),
  };
}

function parseLog(v: unknown): Eth1Log {
  const topics = field(v, "topics");
  if (!Array.isArray(topics)) throw new Error("log topics is not an array");
  const removed = (v as Record<string, unknown>).removed;
  return {
    blockNumber: quantity(field(v, "blockNumber")),
    blockHash: data(field(v, "blockHash"), 32),
    transactionHash: data(field(v, "transactionHash"), 32),
    logIndex: quantity(field(v, "logIndex")),
    data: data(field(v, "data")),
    topics: topics.map((t) => data(t, 32)),
    removed: removed === true,
  };
}
