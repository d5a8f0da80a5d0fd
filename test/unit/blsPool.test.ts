import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { getPriority } from "node:os";
import { after, test } from "node:test";
import { BlsWorkerPool, WORKER_NICE_INCREMENT } from "../../src/chain/bls/pool.js";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { sign, type SignatureSet } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";

function makeSets(n: number): SignatureSet[] {
  return Array.from({ length: n }, (_, i) => {
    const sk = interopSecretKey(i % 8);
    const signingRoot = new Uint8Array(32).fill(i);
    return { pubkey: sk.toPublicKey(), signingRoot, signature: sign(sk, signingRoot) };
  });
}

const pool = new BlsWorkerPool(2);
after(() => pool.close());

test("the worker pool and the main thread agree on valid and invalid batches", async () => {
  const mainThread = new MainThreadBlsVerifier();
  for (const n of [1, 5, 40]) {
    const sets = makeSets(n);
    assert.equal(await pool.verifySignatureSets(sets), true, `${n} valid sets`);
    assert.equal(await mainThread.verifySignatureSets(sets), true);
    // a valid signature over the wrong message, in the last chunk
    const bad = sets.map((s) => ({ ...s }));
    bad[n - 1] = { ...bad[n - 1], signingRoot: new Uint8Array(32).fill(255) };
    assert.equal(await pool.verifySignatureSets(bad), false, `${n} sets, one wrong`);
    assert.equal(await mainThread.verifySignatureSets(bad), false);
  }
});

test("garbage signature bytes are invalid, not a crash", async () => {
  const sets = makeSets(20);
  sets[3] = { ...sets[3], signature: new Uint8Array(96).fill(7) };
  assert.equal(await pool.verifySignatureSets(sets), false);
  assert.equal(await pool.verifySignatureSets([]), true);
});

test("the pool's worker threads run below the main thread's priority (Linux)", { skip: process.platform !== "linux" && "thread priorities are read from /proc" }, async () => {
  assert.equal(await pool.verifySignatureSets(makeSets(2)), true); // both workers started
  const base = getPriority();
  const niceOf = (tid: string): number => Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);
  const nices = readdirSync("/proc/self/task").map(niceOf);
  assert.equal(niceOf(String(process.pid)), base, "the main thread keeps its priority");
  const lowered = nices.filter((n) => n === Math.min(19, base + WORKER_NICE_INCREMENT)).length;
  assert.ok(lowered >= 2, `threads at nice ${base + WORKER_NICE_INCREMENT}: ${lowered} (all: ${nices.join(" ")})`);
});
