// A pool of worker threads for keystore encryption and decryption (scrypt and PBKDF2 are CPU-bound: a thousand
// mainnet keystores take minutes on one core). Jobs are handed to idle workers one at a time; the first failure
// stops the run, terminates every worker and rejects, so a caller never sees part of a result.
import { availableParallelism, totalmem } from "node:os";
import { Worker } from "node:worker_threads";
import type { IKeystore } from "@chainsafe/bls-keystore";

export type KeystoreJob =
  | { kind: "decrypt"; keystore: IKeystore; password: string }
  | {
      kind: "encrypt";
      secretKey: Uint8Array;
      password: string;
      /** EIP-2334 path recorded in the keystore. */
      path: string;
      kdf: "scrypt" | "pbkdf2";
      /** scrypt n or PBKDF2 c; default the EIP-2335 value (2^18 for both). */
      kdfCost?: number;
    };

export type JobResult =
  | { kind: "decrypt"; secretKey: Uint8Array; pubkey: Uint8Array; threadId: number }
  | { kind: "encrypt"; keystore: IKeystore; pubkey: Uint8Array; threadId: number };

/** @internal messages between pool.ts and worker.ts */
export interface WorkerRequest {
  id: number;
  job: KeystoreJob;
}
/** @internal */
export type WorkerReply = ({ id: number; ok: true } & JobResult) | { id: number; ok: false; threadId: number; error: string };

/** Job `index` failed; `message` says why (without the file name, which only the caller knows). */
export class KeystoreJobError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(message);
    this.name = "KeystoreJobError";
  }
}

export interface PoolOptions {
  /** Number of worker threads; default os.availableParallelism(), never more than there are jobs. */
  poolSize?: number;
  /** Called after each finished job. */
  onProgress?: (done: number, total: number) => void;
}

// scrypt with the EIP-2335 cost (n = 2^18, r = 8) needs 256 MiB per running job.
const SCRYPT_JOB_BYTES = 256 * 1024 * 1024;

export function defaultPoolSize(): number {
  const byMemory = Math.max(1, Math.floor(totalmem() / 2 / SCRYPT_JOB_BYTES));
  return Math.max(1, Math.min(availableParallelism(), byMemory));
}

// A worker that dies without an error (it should never exit on its own) is replaced and its job re-run, this many
// times per run at most; an uncaught error in a worker fails the run at once.
const MAX_RESPAWNS = 3;

/** Runs every job on worker threads; resolves to the results in job order, or rejects with the first failure. */
export async function runKeystoreJobs(jobs: readonly KeystoreJob[], opts: PoolOptions = {}): Promise<JobResult[]> {
  const total = jobs.length;
  if (total === 0) return [];
  const size = Math.max(1, Math.min(opts.poolSize ?? defaultPoolSize(), total));
  const results: (JobResult | undefined)[] = new Array(total);
  const workers = new Set<Worker>();
  const running = new Map<Worker, number>();
  const retry: number[] = [];
  let next = 0;
  let done = 0;
  let respawns = 0;

  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (e: Error): void => {
        if (failed) return;
        failed = true;
        reject(e);
      };
      const dispatch = (w: Worker): void => {
        if (failed) return;
        const id = retry.length > 0 ? retry.pop()! : next < total ? next++ : undefined;
        if (id === undefined) return;
        running.set(w, id);
        w.postMessage({ id, job: jobs[id] } satisfies WorkerRequest);
      };
      const spawn = (): void => {
        // none of the parent's node flags: --input-type, --inspect and the like break or clash in a worker
        const w = new Worker(new URL("./worker.js", import.meta.url), { execArgv: [] });
        workers.add(w);
        w.on("message", (reply: WorkerReply) => {
          if (failed) return;
          running.delete(w);
          if (!reply.ok) return fail(new KeystoreJobError(reply.id, reply.error));
          const { id, ok: _ok, ...result } = reply;
          results[id] = result;
          done++;
          opts.onProgress?.(done, total);
          if (done === total) resolve();
          else dispatch(w);
        });
        w.on("error", (e) => fail(new Error(`keystore worker failed: ${e.message}`)));
        w.on("exit", (code) => {
          workers.delete(w);
          if (failed || done === total) return;
          if (respawns >= MAX_RESPAWNS) return fail(new Error(`keystore worker exited unexpectedly (code ${code})`));
          respawns++;
          const lost = running.get(w);
          running.delete(w);
          if (lost !== undefined) retry.push(lost);
          spawn();
        });
        dispatch(w);
      };
      for (let i = 0; i < size; i++) spawn();
    });
  } finally {
    await Promise.all([...workers].map((w) => w.terminate()));
  }
  return results as JobResult[];
}
