import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { SignatureSet } from "../../crypto/bls.js";
import type { BlsVerifier } from "./interface.js";
import type { WorkerRequest, WorkerResponse } from "./worker.js";

/** Fewer sets than this are not worth splitting across threads (the message passing costs more). */
const MIN_SETS_PER_JOB = 16;

interface Pending {
  resolve: (valid: boolean) => void;
  reject: (e: Error) => void;
}

/**
 * BLS verification on worker threads: blst has no async verify, and a block's 100+ signature sets would block the
 * event loop for tens of milliseconds. A batch is split across the workers; each worker checks its share with one
 * multi-pairing (random linear combination). The main thread stays free for the state transition meanwhile.
 */
export class BlsWorkerPool implements BlsVerifier {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private next = 0;
  private closed = false;

  constructor(workerCount = Math.max(1, availableParallelism())) {
    for (let i = 0; i < workerCount; i++) {
      const w = new Worker(new URL("./worker.js", import.meta.url));
      w.on("message", (res: WorkerResponse) => {
        const p = this.pending.get(res.id);
        if (!p) return;
        this.pending.delete(res.id);
        this.updateRef();
        p.resolve(res.valid);
      });
      w.on("error", (e) => this.failAll(e));
      w.unref();
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  async verifySignatureSets(sets: SignatureSet[]): Promise<boolean> {
    if (this.closed) throw new Error("BLS pool is closed");
    if (sets.length === 0) return true;
    const jobs = Math.max(1, Math.min(this.workers.length, Math.floor(sets.length / MIN_SETS_PER_JOB)));
    const per = Math.ceil(sets.length / jobs);
    const results = [];
    for (let j = 0; j < jobs; j++) results.push(this.send(sets.slice(j * per, (j + 1) * per)));
    const valid = await Promise.all(results);
    return valid.every(Boolean);
  }

  private send(sets: SignatureSet[]): Promise<boolean> {
    const id = this.nextId++;
    const req: WorkerRequest = {
      id,
      pubkeys: sets.map((s) => s.pubkey.toBytes(false)),
      messages: sets.map((s) => s.signingRoot),
      signatures: sets.map((s) => s.signature),
    };
    const worker = this.workers[this.next++ % this.workers.length];
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.updateRef();
      worker.postMessage(req);
    });
  }

  /** Idle workers must not keep the process alive; busy ones must (someone awaits their answer). */
  private updateRef(): void {
    const busy = this.pending.size > 0;
    for (const w of this.workers) busy ? w.ref() : w.unref();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error("BLS pool closed"));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
