import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PubkeyTable, SignatureSet } from "../../crypto/bls.js";
import type { BlsVerifier } from "./interface.js";
import type { WorkerJob, WorkerRequest, WorkerResponse, WorkerStartData } from "./worker.js";

/** nice levels the BLS worker threads run below the main thread by default (see BlsWorkerPool's constructor) */
export const WORKER_NICE_INCREMENT = 10;

/** Fewer sets than this are not worth splitting across threads (the message passing costs more). */
const MIN_SETS_PER_JOB = 16;
/** Jobs per worker a large batch is cut into: a worker that finishes first (more of a shared core) takes the rest. */
const JOBS_PER_WORKER = 2;
/** A set's pairing costs about what aggregating this many keys does (~0.5 ms against ~1.5 µs a key). */
const SET_COST_IN_KEYS = 300;

interface Job {
  id: number;
  sets: SignatureSet[];
  /** the table the job's indexed sets name keys of; null when they carry their keys */
  table: PubkeyTable | null;
  resolve: (valid: boolean) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  /** the table whose first `keys` keys this worker holds */
  table: PubkeyTable | null;
  keys: number;
  /** how many of the pool's validated-key chunks (of this table) this worker has been sent or made */
  rawSent: number;
  /** a background preload chunk is running here */
  preloading: boolean;
}

/** Keys a background preload job decompresses: small enough that a verification waits at most ~50 ms behind it. */
const PRELOAD_CHUNK = 1024;

/**
 * BLS verification on worker threads: blst has no async verify, and a block's 100+ signature sets would block the
 * event loop for tens of milliseconds. A batch is cut into jobs of about equal cost, which idle workers take in
 * turn; each checks its job with one multi-pairing (random linear combination). Sets that name their signers by
 * index (attestations) are aggregated in the worker, which holds a copy of the chain's keys: the main thread stays
 * free for the state transition meanwhile.
 */
export class BlsWorkerPool implements BlsVerifier {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly warmUps = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;
  /** background key decompression, one chunk at a time per idle worker, after every verification job */
  private preload: { table: PubkeyTable; next: number; end: number; running: number; done: () => void } | null = null;
  private preloaded: Promise<void> = Promise.resolve();
  /**
   * Keys the workers decompressed and validated, 96 uncompressed bytes each, by chunk as they reported them: every
   * worker (a replacement too) gets the chunks it did not make, so a key costs its ~50 µs once per process.
   * 96 bytes a validator (9.6 MB at 100,000), for one table: the chain's.
   */
  private raw: { table: PubkeyTable | null; chunks: { from: Slot; indices: Uint32Array; bytes: Uint8Array }[] } = { table: null, chunks: [] };
  /** keys decompressed and validated by the workers (a key another worker sent is not counted) */
  keysValidated = 0;

  private readonly niceIncrement: number;

  /**
   * `niceIncrement`: how many nice levels below the main thread the workers run (default WORKER_NICE_INCREMENT), so
   * that the main thread, which serves the API and the network and commits what the workers verified, is never the
   * one waiting for a core.
   */
  constructor(workerCount = Math.max(1, availableParallelism()), opts: { niceIncrement?: number } = {}) {
    this.niceIncrement = opts.niceIncrement ?? WORKER_NICE_INCREMENT;
    for (let i = 0; i < workerCount; i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  async verifySignatureSets(sets: SignatureSet[]): Promise<boolean> {
    if (this.closed) throw new Error("BLS pool is closed");
    if (sets.length === 0) return true;
    let table: PubkeyTable | null = null;
    for (const s of sets) {
      if (!("indices" in s)) continue;
      if (table !== null && s.pubkeys !== table) throw new Error("signature sets name keys of two different tables");
      table = s.pubkeys;
    }
    const jobCount = Math.max(1, Math.min(this.slots.length * JOBS_PER_WORKER, Math.floor(sets.length / MIN_SETS_PER_JOB)));
    const results = splitByCost(sets, jobCount).map(
      (part) => new Promise<boolean>((resolve, reject) => this.queue.push({ id: this.nextId++, sets: part, table, resolve, reject })),
    );
    this.dispatch();
    const valid = await Promise.all(results);
    return valid.every(Boolean);
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(new URL("./worker.js", import.meta.url), { workerData: { niceIncrement: this.niceIncrement } satisfies WorkerStartData }), job: null, table: null, keys: 0, rawSent: 0, preloading: false };
    slot.worker.on("message", (res: WorkerResponse) => {
      if (res.fresh) this.share(slot, res.fresh);
      if (slot.preloading && res.id === -1) {
        slot.preloading = false;
        const p = this.preload;
        if (p && --p.running === 0 && p.next >= p.end) {
          this.preload = null;
          p.done();
        }
        this.dispatch();
        return;
      }
      const warmed = this.warmUps.get(res.id);
      if (warmed) {
        this.warmUps.delete(res.id);
        if (res.error !== undefined) warmed.reject(new Error(`BLS worker: ${res.error}`));
        else warmed.resolve();
        this.updateRef();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== res.id) return;
      slot.job = null;
      if (res.error !== undefined) job.reject(new Error(`BLS worker: ${res.error}`));
      else job.resolve(res.valid);
      this.dispatch();
    });
    slot.worker.on("error", (e) => this.crashed(slot, e));
    slot.worker.unref();
    return slot;
  }

  /**
   * Idle workers take queued jobs; the keys a job names reach its worker before the job (one port, in order). A
   * worker with no job left takes a chunk of the background preload, if any.
   */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || slot.preloading) continue;
      if (this.queue.length === 0) {
        this.preloadChunk(slot);
        continue;
      }
      const job = this.queue.shift()!;
      if (job.table) {
        this.sendKeys(slot, job.table);
        this.sendRaw(slot);
      }
      slot.job = job;
      slot.worker.postMessage(serializeJob(job));
    }
    this.updateRef();
  }

  /** What one worker validated goes to the others, each with its next job or preload chunk. */
  private share(from: Slot, fresh: { indices: Uint32Array; bytes: Uint8Array }): void {
    this.keysValidated += fresh.indices.length;
    if (from.table === null) return;
    if (this.raw.table !== from.table) {
      this.raw = { table: from.table, chunks: [] };
      for (const slot of this.slots) slot.rawSent = 0;
    }
    this.raw.chunks.push({ from, ...fresh });
  }

  private sendRaw(slot: Slot): void {
    if (slot.table === null || slot.table !== this.raw.table) return;
    const chunks = this.raw.chunks;
    for (let i = slot.rawSent; i < chunks.length; i++) {
      const c = chunks[i];
      if (c.from !== slot) slot.worker.postMessage({ kind: "raw", indices: c.indices, bytes: c.bytes } satisfies WorkerRequest);
    }
    slot.rawSent = chunks.length;
  }

  /**
   * Decompress and validate every key of `table` in the background, split across the workers (each key once in the
   * process, then shared), in chunks taken only when a worker has no verification to do. What a node does at
   * start, as other clients do when they load their pubkey caches: the first sync batches then find the keys ready
   * instead of paying ~50 µs a key on their critical path.
   */
  preloadKeys(table: PubkeyTable): void {
    if (this.closed) return;
    this.preload?.done();
    let done = () => undefined as void;
    this.preloaded = new Promise<void>((r) => (done = r));
    this.preload = { table, next: 0, end: table.size, running: 0, done };
    if (table.size === 0) {
      this.preload = null;
      done();
    }
    this.dispatch();
  }

  /** Resolves when the last preloadKeys() has gone through its table (or was replaced, or the pool closed). */
  keysPreloaded(): Promise<void> {
    return this.preloaded;
  }

  private preloadChunk(slot: Slot): void {
    const p = this.preload;
    if (!p || p.next >= p.end) return;
    p.running++;
    const from = p.next;
    const to = Math.min(p.end, from + PRELOAD_CHUNK);
    p.next = to;
    this.sendKeys(slot, p.table);
    this.sendRaw(slot);
    slot.preloading = true;
    const indices = new Uint32Array(to - from);
    for (let i = 0; i < indices.length; i++) indices[i] = from + i;
    slot.worker.postMessage({ kind: "warm", id: -1, indices } satisfies WorkerRequest);
    this.updateRef();
  }

  /**
   * The worker's copy of the table catches up (the table only grows: deposits). A worker holds one table at a time;
   * another table (another chain in the same process) replaces it, so the copy is bounded by one registry.
   */
  private sendKeys(slot: Slot, table: PubkeyTable): void {
    if (slot.table !== table || table.size < slot.keys) {
      slot.table = table;
      slot.keys = 0;
      slot.rawSent = 0;
    } else if (table.size === slot.keys) {
      return;
    }
    const from = slot.keys;
    const to = table.size;
    const bytes = new Uint8Array((to - from) * 48);
    for (let i = from; i < to; i++) bytes.set(table.getPubkeyBytes(i), (i - from) * 48);
    slot.worker.postMessage({ kind: "keys", from, bytes } satisfies WorkerRequest);
    slot.keys = to;
  }

  /**
   * Every worker gets the table's keys and decompresses `indices` (default: all) before answering; otherwise a worker
   * decompresses a key the first time a set names it. For benchmarks, which must not time the first uses.
   */
  async warmUp(table: PubkeyTable, indices?: ArrayLike<number>): Promise<void> {
    if (this.closed) throw new Error("BLS pool is closed");
    const done = this.slots.map((slot) => {
      this.sendKeys(slot, table);
      const id = this.nextId++;
      return new Promise<void>((resolve, reject) => {
        this.warmUps.set(id, { resolve, reject });
        slot.worker.postMessage({ kind: "warm", id, indices: indices && Uint32Array.from(indices) } satisfies WorkerRequest);
      });
    });
    this.updateRef();
    await Promise.all(done);
  }

  /** A crashed worker fails the batches in flight and queued (as before); a fresh one takes its place. */
  private crashed(slot: Slot, e: Error): void {
    if (this.closed) return;
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.failAll(e);
    const p = this.preload;
    if (slot.preloading && p && --p.running === 0 && p.next >= p.end) {
      // its chunk is not redone: those keys are decompressed on first use instead
      this.preload = null;
      p.done();
    }
    this.slots[i] = this.spawn();
    void slot.worker.terminate();
  }

  /** Idle workers must not keep the process alive; busy ones must (someone awaits their answer). */
  private updateRef(): void {
    // closing: close() holds every worker referenced until it has exited (an answer arriving meanwhile must not undo it)
    if (this.closed) return;
    // a preload is finite, and someone may await keysPreloaded()
    const busy = this.warmUps.size > 0 || this.slots.some((s) => s.job !== null || s.preloading);
    for (const s of this.slots) busy ? s.worker.ref() : s.worker.unref();
  }

  private failAll(e: Error): void {
    const jobs = [...this.queue.splice(0), ...this.slots.flatMap((s) => (s.job ? [s.job] : []))];
    for (const s of this.slots) s.job = null;
    for (const job of jobs) job.reject(e);
    for (const w of this.warmUps.values()) w.reject(e);
    this.warmUps.clear();
    this.updateRef();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.preload?.done();
    this.preload = null;
    this.failAll(new Error("BLS pool closed"));
    // referenced until they have exited: an unreferenced worker's exit does not keep the process alive to be seen,
    // and a caller awaiting close() would be left with a pending promise and an empty event loop
    for (const s of this.slots) s.worker.ref();
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/** Consecutive parts of about equal cost: a set's pairing plus the keys it aggregates. */
export function splitByCost(sets: SignatureSet[], parts: number): SignatureSet[][] {
  if (parts <= 1) return [sets];
  const cost = (s: SignatureSet) => SET_COST_IN_KEYS + ("indices" in s ? s.indices.length : 0);
  let total = 0;
  for (const s of sets) total += cost(s);
  const out: SignatureSet[][] = [];
  let part: SignatureSet[] = [];
  let done = 0;
  for (const s of sets) {
    part.push(s);
    done += cost(s);
    if (done >= (total * (out.length + 1)) / parts && out.length < parts - 1) {
      out.push(part);
      part = [];
    }
  }
  if (part.length > 0) out.push(part);
  return out;
}

function serializeJob(job: Job): WorkerJob {
  return {
    kind: "verify",
    id: job.id,
    sets: job.sets.map((s) =>
      "indices" in s
        ? { indices: Uint32Array.from(s.indices), message: s.signingRoot, signature: s.signature }
        : { pubkey: s.pubkey.toBytes(false), message: s.signingRoot, signature: s.signature },
    ),
  };
}
