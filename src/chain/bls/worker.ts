// Worker thread of the BLS pool: verifies one batch of serialized signature sets with a single multi-pairing.
import { parentPort } from "node:worker_threads";
import blst from "@chainsafe/blst";

export interface WorkerRequest {
  id: number;
  /** per set: uncompressed pubkey (96 B), signing root (32 B), compressed signature (96 B) */
  pubkeys: Uint8Array[];
  messages: Uint8Array[];
  signatures: Uint8Array[];
}

export interface WorkerResponse {
  id: number;
  valid: boolean;
  error?: string;
}

function verifyBatch(req: WorkerRequest): boolean {
  const sets = [];
  for (let i = 0; i < req.pubkeys.length; i++) {
    let sig;
    try {
      sig = blst.Signature.fromBytes(req.signatures[i], true);
    } catch {
      return false;
    }
    // pubkeys come from the node's validated cache, so skip the subgroup check here
    sets.push({ pk: blst.PublicKey.fromBytes(req.pubkeys[i]), msg: req.messages[i], sig });
  }
  if (sets.length === 1) return blst.verify(sets[0].msg, sets[0].pk, sets[0].sig);
  return blst.verifyMultipleAggregateSignatures(sets);
}

parentPort?.on("message", (req: WorkerRequest) => {
  let res: WorkerResponse;
  try {
    res = { id: req.id, valid: verifyBatch(req) };
  } catch (e) {
    res = { id: req.id, valid: false, error: (e as Error).message };
  }
  parentPort?.postMessage(res);
});
