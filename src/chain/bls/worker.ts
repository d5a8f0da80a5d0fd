// Worker thread of the BLS pool: verifies one batch of serialized signature sets with a single multi-pairing.
import { parentPort } from "node:worker_threads";
import blst from "@chainsafe/blst";

export interface WorkerRequest {
  id: number;
  kind?: "verify";
  /** per set: uncompressed pubkey (96 B), signing root (32 B), compressed signature (96 B) */
  pubkeys: Uint8Array[];
  messages: Uint8Array[];
  signatures: Uint8Array[];
}

/** Decompress and validate public keys (the pubkey cache's warm-up). */
export interface PubkeyRequest {
  id: number;
  kind: "pubkeys";
  compressed: Uint8Array[];
}

export interface WorkerResponse {
  id: number;
  valid: boolean;
  /** for a PubkeyRequest: uncompressed key per input, null where invalid */
  pubkeys?: (Uint8Array | null)[];
  error?: string;
}

function decompress(compressed: Uint8Array[]): (Uint8Array | null)[] {
  return compressed.map((b) => {
    try {
      return blst.PublicKey.fromBytes(b, true).toBytes(false);
    } catch {
      return null;
    }
  });
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

parentPort?.on("message", (req: WorkerRequest | PubkeyRequest) => {
  let res: WorkerResponse;
  try {
    res = req.kind === "pubkeys" ? { id: req.id, valid: true, pubkeys: decompress(req.compressed) } : { id: req.id, valid: verifyBatch(req) };
  } catch (e) {
    res = { id: req.id, valid: false, error: (e as Error).message };
  }
  parentPort?.postMessage(res);
});
