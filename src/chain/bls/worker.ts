// Worker thread of the BLS pool: holds a copy of the chain's validator keys, aggregates the keys of the sets that
// name their signers by index, and verifies one batch of sets with a single multi-pairing.
import { parentPort } from "node:worker_threads";
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

export type WorkerRequest = WorkerKeysMessage | WorkerJob | WorkerWarmUp;

export interface WorkerResponse {
  id: number;
  valid: boolean;
  /** the job could not be checked (an index not in the table): an error, not an invalid signature */
  error?: string;
}

/** the pool's copy of the chain's keys (one table at a time), grown by doubling as deposits come */
let keyBytes = new Uint8Array(0);
let keyCount = 0;
/** decompressed and validated on first use (~50 to 180 µs a key, once per worker); null: not a valid key */
const keys: (PublicKey | null | undefined)[] = [];

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
}

function keyOf(index: number): PublicKey | null {
  if (!(index < keyCount)) throw new Error(`validator index ${index} is not among the ${keyCount} keys the BLS worker holds`);
  let pk = keys[index];
  if (pk === undefined) {
    try {
      pk = blst.PublicKey.fromBytes(keyBytes.subarray(index * 48, index * 48 + 48), true);
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

parentPort?.on("message", (req: WorkerRequest) => {
  if (req.kind === "keys") {
    addKeys(req);
    return;
  }
  let res: WorkerResponse;
  try {
    res = { id: req.id, valid: req.kind === "warm" ? warmUp(req) : verifyBatch(req) };
  } catch (e) {
    res = { id: req.id, valid: false, error: (e as Error).message };
  }
  parentPort?.postMessage(res);
});
