import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PubkeyTable, SignatureSet } from "../../crypto/bls.js";
import type { BlsVerifier } from "./interface.js";
import type { WorkerJob, WorkerRequest, WorkerResponse } from "./worker.js";

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
}

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

  constructor(workerCount = Math.max(1, availableParallelism())) {
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
    const slot: Slot = { worker: new Worker(new URL("./worker.js", import.meta.url)), job: null, table: null, keys: 0 };
    slot.worker.on("message", (res: WorkerResponse) => {
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

  /** Idle workers take queued jobs; the keys a job names reach its worker before the job (one port, in order). */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      if (job.table) this.sendKeys(slot, job.table);
      slot.job = job;
      slot.worker.postMessage(serializeJob(job));
    }
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
    this.slots[i] = this.spawn();
    void slot.worker.terminate();
  }

  /** Idle workers must not keep the process alive; busy ones must (someone awaits their answer). */
  private updateRef(): void {
    const busy = this.warmUps.size > 0 || this.slots.some((s) => s.job !== null);
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
    this.failAll(new Error("BLS pool closed"));
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
