// Worker thread of the BLS pool: holds a copy of the chain's validator keys, aggregates the keys of the sets that
// name their signers by index, and verifies one batch of sets with a single multi-pairing.
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import blst from "@chainsafe/blst";

type PublicKey = InstanceType<typeof blst.PublicKey>;

/** Keys from index `from` on (the table is cut there first: from 0 replaces it), 48 compressed bytes each. */
export interface WorkerKeysMessage {
  kind: "keys";
  from: number;
  bytes: Uint8Array;
}

/** Per set: an uncompressed pubkey (96 B) or the signers' indices, the signing root (32 B), the signature (96 B). */
export interface WorkerJob {
  kind: "verify";
  id: number;
  sets: { pubkey?: Uint8Array; indices?: Uint32Array; message: Uint8Array; signature: Uint8Array }[];
}

/** Decompress these keys (all when absent) now, then answer (valid: true): a benchmark must not time first uses. */
export interface WorkerWarmUp {
  kind: "warm";
  id: number;
  indices?: Uint32Array;
}

/**
 * Keys another worker of this process decompressed and validated, as 96 uncompressed bytes each: read without the
 * ~50 µs decompression and subgroup check, so each key costs that once per process, not once per worker.
 */
export interface WorkerRawKeysMessage {
  kind: "raw";
  indices: Uint32Array;
  bytes: Uint8Array;
}

export type WorkerRequest = WorkerKeysMessage | WorkerJob | WorkerWarmUp | WorkerRawKeysMessage;

export interface WorkerResponse {
  id: number;
  valid: boolean;
  /** the job could not be checked (an index not in the table): an error, not an invalid signature */
  error?: string;
  /** keys this worker decompressed and validated since its last answer, uncompressed, for the other workers */
  fresh?: { indices: Uint32Array; bytes: Uint8Array };
}

/** the pool's copy of the chain's keys (one table at a time), grown by doubling as deposits come */
let keyBytes = new Uint8Array(0);
let keyCount = 0;
/** decompressed and validated on first use (~50 to 180 µs a key, once per worker); null: not a valid key */
const keys: (PublicKey | null | undefined)[] = [];
/** indices of the keys validated here since the last answer */
let fresh: number[] = [];

function addKeys(msg: WorkerKeysMessage): void {
  // the pool tracks what each worker holds, so a gap is a bug: fail loudly (the pool replaces a crashed worker)
  if (msg.from > keyCount) throw new Error(`keys from ${msg.from}, but the worker holds ${keyCount}`);
  const count = msg.from + msg.bytes.length / 48;
  if (count * 48 > keyBytes.length) {
    const grown = new Uint8Array(Math.max(count * 48, keyBytes.length * 2));
    grown.set(keyBytes.subarray(0, msg.from * 48));
    keyBytes = grown;
  }
  keyBytes.set(msg.bytes, msg.from * 48);
  keyCount = count;
  keys.length = msg.from;
  for (let i = msg.from; i < count; i++) keys.push(undefined);
  fresh = fresh.filter((i) => i < msg.from);
}

function addRawKeys(msg: WorkerRawKeysMessage): void {
  for (let k = 0; k < msg.indices.length; k++) {
    const i = msg.indices[k];
    if (!(i < keyCount) || keys[i] !== undefined) continue;
    try {
      // validated by the worker that sent it, from the same table
      keys[i] = blst.PublicKey.fromBytes(msg.bytes.subarray(k * 96, k * 96 + 96), false);
    } catch {
      // left to be decompressed here on first use
    }
  }
}

function takeFresh(): WorkerResponse["fresh"] {
  if (fresh.length === 0) return undefined;
  const indices = Uint32Array.from(fresh);
  const bytes = new Uint8Array(indices.length * 96);
  for (let k = 0; k < indices.length; k++) bytes.set((keys[indices[k]] as PublicKey).toBytes(false), k * 96);
  fresh = [];
  return { indices, bytes };
}

function keyOf(index: number): PublicKey | null {
  if (!(index < keyCount)) throw new Error(`validator index ${index} is not among the ${keyCount} keys the BLS worker holds`);
  let pk = keys[index];
  if (pk === undefined) {
    try {
      pk = blst.PublicKey.fromBytes(keyBytes.subarray(index * 48, index * 48 + 48), true);
      fresh.push(index);
    } catch {
      pk = null;
    }
    keys[index] = pk;
  }
  return pk;
}

/** The aggregate of the signers' keys; null when one of them is not a valid key. */
function aggregateOf(indices: Uint32Array): PublicKey | null {
  if (indices.length === 0) return null;
  const pks = new Array<PublicKey>(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const pk = keyOf(indices[k]);
    if (!pk) return null;
    pks[k] = pk;
  }
  return pks.length === 1 ? pks[0] : blst.aggregatePublicKeys(pks, false);
}

function verifyBatch(job: WorkerJob): boolean {
  const sets = [];
  for (const s of job.sets) {
    let sig;
    try {
      sig = blst.Signature.fromBytes(s.signature, true);
    } catch {
      return false;
    }
    // single pubkeys come from the node's validated cache, so skip the subgroup check here
    const pk = s.indices ? aggregateOf(s.indices) : blst.PublicKey.fromBytes(s.pubkey!);
    if (!pk) return false;
    sets.push({ pk, msg: s.message, sig });
  }
  if (sets.length === 1) return blst.verify(sets[0].msg, sets[0].pk, sets[0].sig);
  return blst.verifyMultipleAggregateSignatures(sets);
}

function warmUp(req: WorkerWarmUp): true {
  if (req.indices) for (const i of req.indices) keyOf(i);
  else for (let i = 0; i < keyCount; i++) keyOf(i);
  return true;
}

/** What the pool hands each worker when it starts it. */
export interface WorkerStartData {
  /** how far below the main thread's priority this thread runs (nice levels; 0 = the same) */
  niceIncrement: number;
}

/**
 * Runs this thread `increment` nice levels below the process: on a 2-core machine the main thread shares the cores
 * with the pool, and each ms it waits for a core is a ms the node's API, networking and imports stand still, while
 * a batch verified a little later costs the same. On Linux setpriority(2) given a thread id applies to that thread
 * alone (and raising one's own nice value needs no privilege); elsewhere the thread keeps the default.
 */
function lowerThreadPriority(increment: number): void {
  if (!(increment > 0)) return;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + increment));
  } catch {
    // not Linux (no /proc/thread-self) or not permitted: the default priority
  }
}

lowerThreadPriority((workerData as WorkerStartData | undefined)?.niceIncrement ?? 0);

parentPort?.on("message", (req: WorkerRequest) => {
  if (req.kind === "keys") {
    addKeys(req);
    return;
  }
  if (req.kind === "raw") {
    addRawKeys(req);
    return;
  }
  let res: WorkerResponse;
  try {
    res = { id: req.id, valid: req.kind === "warm" ? warmUp(req) : verifyBatch(req) };
  } catch (e) {
    res = { id: req.id, valid: false, error: (e as Error).message };
  }
  res.fresh = takeFresh();
  parentPort?.postMessage(res, res.fresh ? [res.fresh.indices.buffer as ArrayBuffer, res.fresh.bytes.buffer as ArrayBuffer] : []);
});
