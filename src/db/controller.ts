// A thin wrapper over one LevelDB (classic-level) database with Uint8Array keys and values: point reads and writes,
// atomic batches, range reads by prefix. It knows nothing of buckets or SSZ (see schema.ts and beaconDb.ts).
//
// Durability: LevelDB appends every write to its log (WAL) before applying it, and a batch is one log record, so a
// batch is all-or-nothing after any crash. Without `sync` the record is handed to the OS and the call returns: a
// killed process (kill -9) loses nothing, since the OS page cache still writes it out, but a power loss or kernel
// crash can lose the tail of the log. `sync: true` fsyncs the log before returning; use it for writes the node
// acknowledges or reasons from after a restart (checkpoints, head, meta).
import { mkdir } from "node:fs/promises";
import { ClassicLevel } from "classic-level";
import { DbError, invalidArgument } from "./errors.js";
import { prefixEnd } from "./schema.js";

export interface WriteOptions {
  /** fsync the log before resolving. Default false. */
  sync?: boolean;
}

export type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };

/** A key range. `prefix` selects every key starting with it; explicit bounds (full keys) narrow or replace it. */
export interface RangeQuery {
  prefix?: Uint8Array;
  gt?: Uint8Array;
  gte?: Uint8Array;
  lt?: Uint8Array;
  lte?: Uint8Array;
  /** Descending key order. Default ascending. */
  reverse?: boolean;
  /** At most this many entries. Default unlimited. */
  limit?: number;
}

export interface Entry {
  key: Uint8Array;
  value: Uint8Array;
}

export interface ControllerOptions {
  /** Create the directory and database when missing. Default true. */
  createIfMissing?: boolean;
  /** LevelDB block cache in bytes. Default 8 MiB. */
  cacheSize?: number;
  /** LevelDB write buffer (memtable) in bytes. Default 4 MiB. */
  writeBufferSize?: number;
}

type Level = ClassicLevel<Uint8Array, Uint8Array>;

/** What LevelDB takes: a RangeQuery with its prefix turned into bounds. */
type LevelRange = Omit<RangeQuery, "prefix">;

export class DbController {
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly db: Level,
  ) {}

  /** Opens (and by default creates, with its directory) the LevelDB database at `path`. */
  static async open(path: string, options: ControllerOptions = {}): Promise<DbController> {
    const createIfMissing = options.createIfMissing ?? true;
    if (createIfMissing) await mkdir(path, { recursive: true });
    const db: Level = new ClassicLevel<Uint8Array, Uint8Array>(path, {
      keyEncoding: "view",
      valueEncoding: "view",
      createIfMissing,
      errorIfExists: false,
      ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}),
      ...(options.writeBufferSize !== undefined ? { writeBufferSize: options.writeBufferSize } : {}),
    });
    try {
      await db.open();
    } catch (e) {
      throw openError(path, e);
    }
    return new DbController(path, db);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.checkOpen();
    checkKey(key);
    return view(await this.db.get(key));
  }

  async getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    this.checkOpen();
    keys.forEach(checkKey);
    return keys.length === 0 ? [] : (await this.db.getMany(keys)).map(view);
  }

  async has(key: Uint8Array): Promise<boolean> {
    this.checkOpen();
    checkKey(key);
    return this.db.has(key);
  }

  async put(key: Uint8Array, value: Uint8Array, options: WriteOptions = {}): Promise<void> {
    this.checkOpen();
    checkKey(key);
    checkValue(value);
    await this.db.put(key, value, { sync: options.sync ?? false });
  }

  async del(key: Uint8Array, options: WriteOptions = {}): Promise<void> {
    this.checkOpen();
    checkKey(key);
    await this.db.del(key, { sync: options.sync ?? false });
  }

  /**
   * Applies every op or none: the ops are checked first (an invalid one rejects the whole batch before anything is
   * written), then written as one LevelDB batch (one log record).
   */
  async batch(ops: readonly BatchOp[], options: WriteOptions = {}): Promise<void> {
    this.checkOpen();
    for (const op of ops) {
      if (op === null || typeof op !== "object") throw invalidArgument("batch op must be an object");
      checkKey(op.key);
      if (op.type === "put") checkValue(op.value);
      else if (op.type !== "del") throw invalidArgument(`unknown batch op type "${String((op as { type: unknown }).type)}"`);
    }
    if (ops.length === 0) return;
    await this.db.batch(
      ops.map((op) => (op.type === "put" ? { type: "put" as const, key: op.key, value: op.value } : { type: "del" as const, key: op.key })),
      { sync: options.sync ?? false },
    );
  }

  /** Entries in the range, in key order (or reverse). */
  async entries(query: RangeQuery): Promise<Entry[]> {
    this.checkOpen();
    const entries = await this.db.iterator(toLevelRange(query)).all();
    return entries.map(([key, value]) => ({ key: view(key), value: view(value) }));
  }

  async keys(query: RangeQuery): Promise<Uint8Array[]> {
    this.checkOpen();
    return (await this.db.keys(toLevelRange(query)).all()).map(view);
  }

  async values(query: RangeQuery): Promise<Uint8Array[]> {
    this.checkOpen();
    return (await this.db.values(toLevelRange(query)).all()).map(view);
  }

  /** Streams the range, reading ahead in chunks; stop early with `break`. Reads a snapshot taken at the first call. */
  async *iterate(query: RangeQuery): AsyncGenerator<Entry> {
    this.checkOpen();
    const it = this.db.iterator(toLevelRange(query));
    try {
      for (;;) {
        const chunk = await it.nextv(256);
        if (chunk.length === 0) return;
        for (const [key, value] of chunk) yield { key: view(key), value: view(value) };
      }
    } finally {
      await it.close();
    }
  }

  /** First entry of the range (the last one with `reverse`), or undefined. */
  async first(query: Omit<RangeQuery, "limit">): Promise<Entry | undefined> {
    const [entry] = await this.entries({ ...query, limit: 1 });
    return entry;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new DbError({ code: "CLOSED", path: this.path }, `database at ${this.path} is closed`);
  }
}

/**
 * classic-level hands out Buffers; callers get plain Uint8Array views of the same memory (no copy), so that
 * `slice` copies (Buffer's is a view) and values compare equal to the Uint8Arrays they were written from.
 */
function view<T extends Uint8Array | undefined>(b: T): T {
  return (b === undefined || Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength)) as T;
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length === 0) throw invalidArgument("a key must be a non-empty Uint8Array");
}

function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw invalidArgument("a value must be a Uint8Array");
}

function toLevelRange(q: RangeQuery): LevelRange {
  const r: LevelRange = {};
  if (q.prefix) {
    checkKey(q.prefix);
    r.gte = q.prefix;
    const end = prefixEnd(q.prefix);
    if (end) r.lt = end;
  }
  if (q.gt) {
    delete r.gte;
    r.gt = q.gt;
  }
  if (q.gte) {
    delete r.gt;
    r.gte = q.gte;
  }
  if (q.lt) {
    delete r.lte;
    r.lt = q.lt;
  }
  if (q.lte) {
    delete r.lt;
    r.lte = q.lte;
  }
  if (q.reverse) r.reverse = true;
  if (q.limit !== undefined) {
    if (!Number.isInteger(q.limit) || q.limit < 0) throw invalidArgument(`limit must be a non-negative integer, got ${q.limit}`);
    r.limit = q.limit;
  }
  return r;
}

interface LevelErrorLike {
  code?: string;
  message?: string;
  cause?: LevelErrorLike;
}

function openError(path: string, e: unknown): DbError {
  const err = (e ?? {}) as LevelErrorLike;
  const codes = [err.code, err.cause?.code];
  const reason = err.cause?.message ?? err.message ?? String(e);
  if (codes.includes("LEVEL_LOCKED")) {
    return new DbError(
      { code: "LOCKED", path },
      `database at ${path} is in use (its LOCK is held by another process or handle): stop the other Cairn or use another --datadir`,
      { cause: e },
    );
  }
  if (codes.includes("LEVEL_CORRUPTION")) {
    return new DbError(
      { code: "CORRUPT_DATABASE", path, reason },
      `database at ${path} is corrupt (${reason}): start with a fresh --datadir (LevelDB's repair may recover part of it)`,
      { cause: e },
    );
  }
  return new DbError({ code: "OPEN_FAILED", path, reason }, `cannot open database at ${path}: ${reason}`, { cause: e });
}
