// Eth1 end to end on the minimal preset with a real eth1 node (anvil): `cairn dev --eth1` builds genesis from
// deposits, then `cairn deposit` adds a validator after genesis; the deposit is voted in, included with a valid
// proof (the chain imports the block), and the validator activates. Skipped where anvil is not installed.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { anvilBinary } from "../../src/eth1/devChain.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(repoRoot, "bin/cairn.js");
const tmpRoot = mkdtempSync(join(tmpdir(), "cairn-e2e-eth1-"));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

let anvil: string | null = null;
try {
  anvil = anvilBinary();
} catch {
  anvil = null;
}

async function waitFor<T>(what: string, fn: () => Promise<T | null> | T | null, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test("genesis from eth1 deposits, then a deposit after genesis included and its validator activated", { skip: anvil ? false : "anvil is not installed", timeout: 600_000 }, async (t) => {
  const child = spawn(process.execPath, [bin, "dev", "--eth1", "--validators", "64", "--seconds-per-slot", "2", "--rest.port", "0", "--metrics.port", "0", "--datadir", join(tmpRoot, "dev")], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    const [, url, contract] = await waitFor("the eth1 line", () => /^eth1: (http:\/\/127\.0\.0\.1:\d+) \(chain id \d+\), deposit contract (0x[0-9a-f]{40})/m.exec(out), 120_000);
    const [, restPort, metricsPort] = await waitFor("the REST API line", () => /REST API http:\/\/127\.0\.0\.1:(\d+)\s+metrics http:\/\/127\.0\.0\.1:(\d+)/.exec(out), 180_000);
    const api = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${restPort}${path}`);
      return res.ok ? ((await res.json()) as { data: Record<string, unknown> }).data : null;
    };
    const genesis = await api("/eth/v1/beacon/genesis");
    assert.ok(genesis, "genesis known");
    assert.equal((await api("/eth/v1/config/deposit_contract"))?.address, contract);
    const genesisValidators = await api("/eth/v1/beacon/states/head/validators/63");
    assert.equal((genesisValidators?.validator as { activation_epoch: string }).activation_epoch, "0");
    assert.equal(await api("/eth/v1/beacon/states/head/validators/64"), null, "no validator 64 at genesis");

    const deposit = (...extra: string[]) =>
      spawnSync(process.execPath, [bin, "deposit", "--config", "minimal", "--interop-index", "64", "--eth1.endpoint", url, "--deposit-contract", contract, ...extra], { encoding: "utf8" });
    const sent = deposit();
    assert.equal(sent.status, 0, sent.stderr);
    const depositedAt = Date.now();
    assert.match(sent.stdout, /^deposit 0x[0-9a-f]{96} 32000000000 Gwei: block \d+/m);
    // the same pubkey again is refused without --top-up, and nothing is sent
    const again = deposit();
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already has a deposit .* refused without --top-up/);

    // included in a block (the node imported it: the proof checked out), then activated
    const included = await waitFor("validator 64 in the head state", () => api("/eth/v1/beacon/states/head/validators/64"), 420_000);
    const includedAt = Date.now();
    const activeEpoch = await waitFor(
      "validator 64 active",
      async () => {
        const v = await api("/eth/v1/beacon/states/head/validators/64");
        return v && v.status === "active_ongoing" ? Number((v.validator as { activation_epoch: string }).activation_epoch) : null;
      },
      420_000,
    );
    t.diagnostic(`deposit to inclusion ${Math.round((includedAt - depositedAt) / 1000)} s, to activation (epoch ${activeEpoch}) ${Math.round((Date.now() - depositedAt) / 1000)} s (minimal preset, 2 s slots, 1 s eth1 blocks)`);
    assert.ok(included);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^beacon_processed_deposits_total 65$/m);
    assert.match(metrics, /^cairn_eth1_deposit_count 65$/m);
    assert.match(metrics, /^cairn_eth1_head_distance \d+$/m);
  } finally {
    child.kill("SIGTERM");
    const code = await exited;
    if (code !== 0 && code !== null) t.diagnostic(`cairn dev exit ${code}; stderr:\n${err.slice(-3000)}`);
  }
});
