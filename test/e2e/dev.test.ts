// `cairn dev` and `cairn beacon` as a user runs them: real processes, real HTTP, the real wall clock.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(repoRoot, "bin/cairn.js");
const tmpRoot = mkdtempSync(join(tmpdir(), "cairn-e2e-"));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[]): Running {
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

async function waitFor<T>(what: string, fn: () => T | undefined | null, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("cairn dev: 64 validators on 1 s slots finalize, metrics and the REST API answer while it runs", { timeout: 150_000 }, async () => {
  const run = start(["dev", "--validators", "64", "--seconds-per-slot", "1", "--until-epoch", "4", "--rest.port", "0", "--metrics.port", "0", "--datadir", join(tmpRoot, "dev")]);
  try {
    const [, restPort, metricsPort] = await waitFor("the listening line", () => /REST API http:\/\/127\.0\.0\.1:(\d+)\s+metrics http:\/\/127\.0\.0\.1:(\d+)/.exec(run.stdout()), 60_000);
    // once the chain has a few blocks: the API and metrics of a live node
    await waitFor("epoch 1", () => (/^epoch +1 /m.test(run.stdout()) ? true : null), 60_000);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /^# TYPE beacon_head_slot gauge$/m);
    const headSlot = Number(/^beacon_head_slot (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(headSlot >= 8, `beacon_head_slot ${headSlot}`);
    assert.match(metrics, /^beacon_finalized_epoch \d+$/m);
    assert.match(metrics, /^cairn_validator_duties_total\{kind="attestation",outcome="done"\} \d+$/m);
    const header = (await (await fetch(`http://127.0.0.1:${restPort}/eth/v1/beacon/headers/head`)).json()) as { data: { header: { message: { slot: string } } } };
    assert.ok(Number(header.data.header.message.slot) >= 8);
    const bad = await fetch(`http://127.0.0.1:${restPort}/eth/v1/beacon/headers/notaslot`);
    assert.equal(bad.status, 400);

    const code = await run.exited;
    assert.equal(code, 0, `exit code; stdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
    const lines = run.stdout().split("\n").filter((l) => l.startsWith("epoch "));
    assert.ok(lines.length >= 4, `status lines:\n${run.stdout()}`);
    const last = lines.at(-1)!;
    assert.match(last, /^epoch +4 .* finalized +([2-9]|\d\d+) /);
    assert.match(run.stdout(), /^done: finalized epoch [2-9]/m);
  } finally {
    run.child.kill("SIGKILL");
  }
});

test("cairn beacon: serves the API from an interop genesis, stops cleanly on SIGTERM, resumes from its datadir", { timeout: 90_000 }, async () => {
  const datadir = join(tmpRoot, "beacon");
  const genesisTime = Math.floor(Date.now() / 1000) - 60;
  const first = start(["beacon", "--network", "minimal", "--interop-validators", "64", "--genesis-time", String(genesisTime), "--datadir", datadir, "--rest.port", "0", "--log-level", "info", "--no-network"]);
  try {
    const port = await waitFor("REST API listening", () => /REST API listening address=127\.0\.0\.1 port=(\d+)/.exec(first.stderr())?.[1], 60_000);
    const genesis = (await (await fetch(`http://127.0.0.1:${port}/eth/v1/beacon/genesis`)).json()) as { data: { genesis_time: string } };
    assert.equal(genesis.data.genesis_time, String(genesisTime));
    const spec = (await (await fetch(`http://127.0.0.1:${port}/eth/v1/config/spec`)).json()) as { data: Record<string, string> };
    assert.equal(spec.data["SLOTS_PER_EPOCH"], "8");
    first.child.kill("SIGTERM");
    assert.equal(await first.exited, 0, first.stderr());
    assert.match(first.stderr(), /shutting down signal=SIGTERM/);
  } finally {
    first.child.kill("SIGKILL");
  }
  // the datadir holds the chain: no genesis needed, and another genesis is refused
  const second = start(["beacon", "--network", "minimal", "--datadir", datadir, "--rest.port", "0", "--log-level", "info", "--no-network"]);
  try {
    await waitFor("resumed", () => (/resumed from the database/.test(second.stderr()) ? true : null), 60_000);
    second.child.kill("SIGINT");
    assert.equal(await second.exited, 0, second.stderr());
  } finally {
    second.child.kill("SIGKILL");
  }
  const other = start(["beacon", "--network", "minimal", "--interop-validators", "32", "--genesis-time", "100", "--datadir", datadir, "--rest.port", "0", "--no-network"]);
  assert.equal(await other.exited, 2);
  assert.match(other.stderr(), /genesis validators root/);
});
