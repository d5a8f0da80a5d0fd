// Worker thread of the keystore pool (pool.ts): runs one scrypt/PBKDF2 keystore job at a time. The KDF is
// CPU-bound and synchronous (crypto.scryptSync in bls-keystore), so one worker per core is what parallelizes it.
import { parentPort, threadId } from "node:worker_threads";
import { create, decrypt, defaultPbkdfModule, defaultScryptModule } from "@chainsafe/bls-keystore";
import { secretKeyFromBytes } from "../../crypto/bls.js";
import type { WorkerReply, WorkerRequest } from "./pool.js";

if (parentPort === null) throw new Error("keystore worker started outside a worker thread");
const port = parentPort;

function pubkeyOf(secretKey: Uint8Array): Uint8Array {
  try {
    return secretKeyFromBytes(secretKey).toPublicKey().toBytes();
  } catch {
    throw new Error("the secret is not a valid BLS secret key");
  }
}

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  const job = req.job;
  if (job.kind === "decrypt") {
    let secretKey: Uint8Array;
    try {
      // a copy in a buffer of its own, so it can be transferred (what decrypt returns may share a pool)
      secretKey = Uint8Array.from(await decrypt(job.keystore, job.password));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      // bls-keystore's only checksum failure; anything else is a broken keystore (bad KDF parameters...)
      throw new Error(msg === "Invalid password" ? "wrong password (the keystore's checksum does not match)" : `cannot decrypt: ${msg}`);
    }
    return { id: req.id, ok: true, threadId, kind: "decrypt", secretKey, pubkey: pubkeyOf(secretKey) };
  }
  const pubkey = pubkeyOf(job.secretKey);
  const kdfMod = job.kdf === "scrypt" ? defaultScryptModule() : defaultPbkdfModule();
  if (job.kdfCost !== undefined) {
    if (kdfMod.function === "scrypt") kdfMod.params.n = job.kdfCost;
    else kdfMod.params.c = job.kdfCost;
  }
  const keystore = await create(job.password, job.secretKey, pubkey, job.path, null, kdfMod);
  return { id: req.id, ok: true, threadId, kind: "encrypt", keystore, pubkey };
}

port.on("message", (req: WorkerRequest) => {
  handle(req).then(
    (reply) => port.postMessage(reply, reply.ok && reply.kind === "decrypt" ? [reply.secretKey.buffer as ArrayBuffer] : []),
    (e: unknown) => port.postMessage({ id: req.id, ok: false, threadId, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply),
  );
});
