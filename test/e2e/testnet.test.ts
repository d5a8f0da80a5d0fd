// `cairn testnet` as a user runs it: 4 beacon nodes and 4 validator clients as processes on loopback, gossip and
// req/resp between them; one node is SIGKILLed and restarted, a fifth starts late and must sync from genesis.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(repoRoot, "bin/cairn.js");
const tmpRoot = mkdtempSync(join(tmpdir(), "cairn-e2e-testnet-"));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

test("cairn testnet: 4 nodes finalize together; a killed node rejoins; a late node syncs from genesis", { timeout: 300_000 }, async () => {
  const basePort = 26000 + Math.floor(Math.random() * 2000);
  const child = spawn(
    process.execPath,
    [bin, "testnet", "--nodes", "4", "--validators", "64", "--seconds-per-slot", "2", "--until-epoch", "6", "--kill-node-epoch", "2", "--late-node-epoch", "4", "--base-port", String(basePort), "--datadir", join(tmpRoot, "net")],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const context = `stdout:\n${out}\nstderr:\n${err}`;
  assert.equal(code, 0, context);
  assert.match(out, /node 1 {2}killed \(SIGKILL\)/, context);
  assert.match(out, /node 1 {2}restarted/, context);
  assert.match(out, /node 4 {2}started late/, context);
  assert.match(out, /node 4 .*caught up/, context);
  // at the last epoch every node, the restarted and the late one included, reports the same finalized epoch
  const last = out.split("\n").filter((l) => /^epoch +6 +node \d+ +head/.test(l));
  assert.equal(last.length, 5, context);
  const finalized = new Set(last.map((l) => /finalized +(\d+)/.exec(l)?.[1]));
  assert.equal(finalized.size, 1, context);
  assert.ok(Number([...finalized][0]) >= 4, context);
  assert.match(out, /^done: every node finalized epoch/m, context);
});
