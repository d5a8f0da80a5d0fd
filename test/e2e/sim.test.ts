// `cairn sim` end to end, as a user runs it: a short scenario with a network, a process, a validator and a time
// fault must meet every invariant; and the audit must be able to fail: the roughtime scenario with the UNSAFE
// mean-following clock must report the slashable votes it causes, and with Cairn's clock (median, never moves the
// clock) none. One network at a time.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(repoRoot, "bin/cairn.js");
const tmpRoot = mkdtempSync(join(tmpdir(), "cairn-e2e-sim-"));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

interface Run {
  code: number | null;
  out: string;
  err: string;
  context: string;
  report: { invariants: { name: string; ok: boolean; detail: string }[]; slashable: { offence: string; validator: string }[]; series: unknown[][] };
}

async function sim(args: string[], out: string): Promise<Run> {
  const basePort = 20000 + Math.floor(Math.random() * 8000);
  const child = spawn(process.execPath, [bin, "sim", ...args, "--out", out, "--base-port", String(basePort)], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  const context = `stdout:\n${stdout}\nstderr:\n${stderr}`;
  assert.ok(existsSync(join(out, "report.json")), context);
  assert.ok(existsSync(join(out, "report.html")), context);
  return { code, out: stdout, err: stderr, context, report: JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Run["report"] };
}

test("cairn sim: a short scenario with one fault of each kind meets every invariant", { timeout: 240_000 }, async () => {
  const r = await sim([join(repoRoot, "test/fixtures/sim-short.yaml"), "--seed", "3"], join(tmpRoot, "short"));
  const last = r.out.trimEnd().split("\n").at(-1)!;
  assert.match(last, /^sim short: \d+ invariants met, 0 failed, slashable 0$/, r.context);
  assert.equal(r.code, 0, r.context);
  assert.ok(r.report.invariants.length >= 9, r.context);
  assert.ok(r.report.invariants.every((x) => x.ok), r.context);
  assert.ok(r.report.invariants.some((x) => /heads agree/.test(x.name)), r.context);
  assert.ok(r.report.invariants.some((x) => /finality regained/.test(x.name)), r.context);
  assert.match(r.out, /links degraded \(200±50 ms, 5% loss each way\): \{0,1\} \| \{2,3\}/, r.context);
  assert.match(r.out, /links restored: \{0,1\} \| \{2,3\}/, r.context);
  // the time-bound invariants are decided while it runs, each printed then
  assert.match(r.err, /^slot +\d+ {2}PASS {2}heads agree \(one head block\) within 2 epochs after the heal at slot 12 \(degrade/m, r.context);
  assert.match(r.err, /^slot +\d+ {2}PASS {2}finality regained within 3 epochs of participation returning at slot 48/m, r.context);
  assert.match(r.out, /links cut: \{3\} \| \{0,1,2\}/, r.context);
  assert.match(r.out, /node 1 beacon killed \(SIGKILL\)/, r.context);
  assert.match(r.out, /node 1 beacon started/, r.context);
  assert.match(r.out, /node 0 validator clock offset 250 ms/, r.context);
  assert.equal(r.report.series.length, 4, r.context);
});

test("cairn sim: the audit finds the slashable votes of the mean-following clock, and none with Cairn's", { timeout: 300_000 }, async () => {
  const bad = await sim(["roughtime", "--clock", "mean"], join(tmpRoot, "mean"));
  assert.equal(bad.code, 1, bad.context);
  assert.ok(bad.report.slashable.length > 0, bad.context);
  // the client that followed the mean (node 2: validators 56..63) signed them, nobody else
  assert.ok(bad.report.slashable.every((p) => Number(p.validator.split(" ")[1]) >= 56), bad.context);
  assert.ok(bad.report.slashable.some((p) => p.offence === "double vote" || p.offence === "surround vote"), bad.context);
  assert.match(bad.out, /^SLASHABLE {2}(double vote|surround vote) by validator \d+/m, bad.context);
  assert.match(bad.out.trimEnd().split("\n").at(-1)!, new RegExp(`^sim roughtime: \\d+ invariants met, [1-9]\\d* failed, slashable ${bad.report.slashable.length}$`), bad.context);

  const good = await sim(["roughtime", "--clock", "median"], join(tmpRoot, "median"));
  assert.equal(good.report.slashable.length, 0, good.context);
  assert.ok(good.report.invariants.find((x) => /slashable/.test(x.name))?.ok, good.context);
  assert.match(good.out.trimEnd().split("\n").at(-1)!, /^sim roughtime: \d+ invariants met, \d+ failed, slashable 0$/, good.context);
});
