// Interop public keys for the benchmark registries, cached on disk. Deriving a key costs ~0.2 ms (a scalar
// multiplication), so 250,000 keys take about a minute on one core: they are computed once, on every core, and
// appended to ~/.cache/cairn/bench/interop-pubkeys.bin (48 bytes per key, key i at offset 48 * i).
//
// Every key is a real interop key (the validator's secret key is interopSecretKey(i)), so any validator of the
// benchmark states can sign, and Lodestar, which decompresses every key when it loads a state, gets valid points.
import { closeSync, existsSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { benchCacheDir } from "./files.js";

export const PUBKEY_LENGTH = 48;

function pubkeyFile(): string {
  return join(benchCacheDir(), "interop-pubkeys.bin");
}

function derive(from: number, to: number): Uint8Array {
  const out = new Uint8Array((to - from) * PUBKEY_LENGTH);
  for (let i = from; i < to; i++) out.set(interopSecretKey(i).toPublicKey().toBytes(), (i - from) * PUBKEY_LENGTH);
  return out;
}

/** The compressed interop pubkeys 0..count-1, one 48-byte subarray each. */
export async function getInteropPubkeys(count: number, log: (msg: string) => void = () => {}): Promise<Uint8Array[]> {
  const file = pubkeyFile();
  let bytes: Uint8Array = existsSync(file) ? new Uint8Array(readFileSync(file)) : new Uint8Array(0);
  let have = Math.floor(bytes.length / PUBKEY_LENGTH);
  if (have < count) {
    const t0 = performance.now();
    log(`deriving interop pubkeys ${have}..${count - 1} (cached in ${file}) ...`);
    const threads = Math.max(1, Math.min(availableParallelism(), Math.ceil((count - have) / 1000)));
    const per = Math.ceil((count - have) / threads);
    const parts = await Promise.all(
      Array.from({ length: threads }, (_, t) => {
        const from = have + t * per;
        const to = Math.min(count, from + per);
        return new Promise<Uint8Array>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { from, to } });
          w.once("message", (m: Uint8Array) => resolve(m));
          w.once("error", reject);
        });
      }),
    );
    // Append in order; a partial file from an interrupted run is cut back to whole keys first.
    if (bytes.length !== have * PUBKEY_LENGTH) truncateSync(file, have * PUBKEY_LENGTH);
    const fd = openSync(file, "a");
    try {
      for (const p of parts) writeSync(fd, p);
    } finally {
      closeSync(fd);
    }
    bytes = new Uint8Array(readFileSync(file));
    have = Math.floor(bytes.length / PUBKEY_LENGTH);
    log(`derived in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  if (have < count) throw new Error(`pubkey cache ${file} has ${have} keys, expected ${count}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(bytes.subarray(i * PUBKEY_LENGTH, (i + 1) * PUBKEY_LENGTH));
  return out;
}

if (!isMainThread && workerData && typeof workerData.from === "number") {
  const { from, to } = workerData as { from: number; to: number };
  parentPort?.postMessage(derive(from, to));
}
