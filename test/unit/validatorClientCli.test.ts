// `cairn validator` as a user runs it (a child process), against a fake beacon node: option errors are one line
// and exit status 2; with keystores in the datadir it performs its duties, survives kill -9 without signing
// anything slashable after the restart, and stops cleanly on SIGTERM.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { getNamedConfig } from "../../src/config/index.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { createKeystores, writeKeystore } from "../../src/validator/keystore/index.js";
import { FakeBeaconNode, hex } from "../utils/fakeBeaconNode.js";
import { waitFor } from "../utils/vcSetup.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const bin = join(repoRoot, "bin/cairn.js");
const config = getNamedConfig("minimal");
let dir: string;
const children = new Set<ChildProcess>();

before(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-vc-cli-"));
});
after(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function runSync(args: string[], extraEnv: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env, ...extraEnv };
  delete env["CAIRN_DEBUG"];
  const r = spawnSync(process.execPath, [bin, "validator", ...args], { cwd: repoRoot, env, encoding: "utf8", timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneError(r: { status: number | null; stdout: string; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], re);
}

describe("cairn validator", () => {
  it("reports bad options as one line with exit status 2", () => {
    assertOneError(runSync(["--datadir", dir]), /^cairn validator: error: missing --beacon-nodes/);
    // without --datadir: the network's default under $XDG_DATA_HOME (nothing is created for a datadir without keys)
    const xdg = join(dir, "xdg");
    assertOneError(runSync(["--beacon-nodes", "http://127.0.0.1:1", "--network", "minimal"], { XDG_DATA_HOME: xdg }), new RegExp(`${join(xdg, "cairn", "minimal", "validator", "keystores")}: no such directory`));
    assertOneError(runSync(["--beacon-nodes", "http://127.0.0.1:1", "--network", "medalla"], { XDG_DATA_HOME: xdg }), new RegExp(`${join(xdg, "cairn", "medalla", "validator", "keystores")}`));
    assertOneError(runSync(["--beacon-nodes", "http://127.0.0.1:1", "--network", "minimal", "--config", "mainnet"]), /give --network or --config, not both/);
    assertOneError(runSync(["--beacon-nodes", "ftp://x", "--datadir", dir]), /--beacon-nodes: "ftp:\/\/x" is not an http\(s\) URL/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", dir, "--graffiti", "x".repeat(33)]), /--graffiti: 33 bytes/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", dir, "--secrets", dir, "--password-file", "f"]), /either --secrets or --password-file/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", dir, "--time-sources", "h:0"]), /--time-sources: invalid port/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", dir, "--log-level", "loud"]), /--log-level/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", join(dir, "empty")]), /cannot load the keystores in .*empty/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", dir, "--frobnicate"]), /frobnicate/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", dir, "--doppelganger-protection", "no"]), /--doppelganger-protection: expected true or false/);
    assertOneError(runSync(["--beacon-nodes", "http://a", "--datadir", dir, "--doppelganger-unsupported", "x"]), /--doppelganger-unsupported: expected refuse or proceed/);
  });

  it("performs duties with the datadir's keystores, survives kill -9 without a slashable signature, and stops on SIGTERM", async () => {
    const datadir = join(dir, "vc");
    const keys = [0, 1, 2, 3, 4, 5, 6, 7];
    const created = await createKeystores(
      keys.map((i) => ({ secretKey: interopSecretKeyBytes(i), path: `m/12381/3600/${i}/0/0` })),
      "test password",
      { kdf: "pbkdf2", kdfCost: 16 },
    );
    for (const k of created) writeKeystore(datadir, k.pubkeyHex, k.text, "test password");
    const genesisTime = Math.floor(Date.now() / 1000) - 600;
    const node = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime, secondsPerSlot: config.SECONDS_PER_SLOT, headEventFraction: 0.05 });
    try {
      const start = (): { child: ChildProcess; stderr: () => string } => {
        const env = { ...process.env };
        delete env["CAIRN_DEBUG"];
        const child = spawn(
          process.execPath,
          [bin, "validator", "--beacon-nodes", node.url, "--datadir", datadir, "--config", "minimal", "--graffiti", "cli test", "--log-level", "warn", "--doppelganger-protection", "false"],
          { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] },
        );
        children.add(child);
        let err = "";
        child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        child.on("exit", () => children.delete(child));
        return { child, stderr: () => err };
      };

      const first = start();
      // an attestation made early in its slot (at the head event), so the restart below comes in the same slot
      const early = (): typeof node.attestations => node.attestations.filter((a) => node.msSinceSlotStart(a.value.data.slot, a.at) < 1000);
      await waitFor(() => early().length >= 1, 20_000, "an attestation at a head event");
      // kill -9 right after it, change every root (as a re-org would), and restart in the same slot: the same
      // validator's vote for that slot now differs, and must be refused from the durable record
      const att = early()[0];
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));
      node.reorg();
      const second = start();
      const slot = att.value.data.slot;
      await waitFor(() => node.attestations.some((a) => a.value.data.slot > slot), 20_000, "an attestation after the restart");
      assert.ok(
        node.requestsTo(`/eth/v1/validator/attestation_data?slot=${slot}&`).length >= 2,
        `the restarted client tried slot ${slot} again (stderr: ${second.stderr()})`,
      );
      assert.match(second.stderr(), new RegExp(`attestation not signed slot=${slot} validator=${att.validatorIndex} reason=.*`));
      await waitFor(() => node.blocks.length >= 1, 10_000, "a block");

      second.child.kill("SIGTERM");
      const code = await new Promise<number | null>((r) => second.child.once("exit", (c) => r(c)));
      assert.equal(code, 0, second.stderr());
    } finally {
      await node.close();
    }
    assert.deepEqual(node.problems, []);
    const votes = new Map<string, string>();
    for (const a of node.attestations) {
      const key = `${a.validatorIndex}:${a.value.data.target.epoch}`;
      const root = hex(config.types.AttestationData.hashTreeRoot(a.value.data));
      assert.ok(!votes.has(key) || votes.get(key) === root, `double vote ${key}`);
      votes.set(key, root);
    }
    assert.equal(Buffer.from(node.blocks[0].value.message.body.graffiti).subarray(0, 8).toString(), "cli test");
    assert.ok(existsSync(join(datadir, "slashing-protection")));
  });

  it("exits with status 3, having signed nothing, when the beacon node sees one of its keys live", async () => {
    const datadir = join(dir, "doppelganger");
    const created = await createKeystores([{ secretKey: interopSecretKeyBytes(2), path: "m/12381/3600/2/0/0" }], "pw", { kdf: "pbkdf2", kdfCost: 16 });
    writeKeystore(datadir, created[0].pubkeyHex, created[0].text, "pw");
    // the next epoch starts a few seconds from now: the watch begins with it (the starting epoch is not watched)
    const epochSeconds = config.SECONDS_PER_SLOT * config.SLOTS_PER_EPOCH;
    const genesisTime = Math.floor(Date.now() / 1000) - 10 * epochSeconds + 4;
    const node = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime, secondsPerSlot: config.SECONDS_PER_SLOT, liveIndices: [2] });
    try {
      const env = { ...process.env };
      delete env["CAIRN_DEBUG"];
      const child = spawn(process.execPath, [bin, "validator", "--beacon-nodes", node.url, "--datadir", datadir, "--config", "minimal"], {
        cwd: repoRoot,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.add(child);
      let err = "";
      child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
      children.delete(child);
      assert.equal(code, 3, err);
      assert.match(err, new RegExp(`key live elsewhere index=2 pubkey=0x${created[0].pubkeyHex.replace(/^0x/, "")}`));
      assert.deepEqual(node.attestations, []);
      assert.deepEqual(node.blocks, []);
    } finally {
      await node.close();
    }
  });

  it("logs its decryption progress, and a second client on the same datadir is refused before decrypting anything", async () => {
    const datadir = join(dir, "locked");
    const created = await createKeystores(
      [0, 1, 2, 3].map((i) => ({ secretKey: interopSecretKeyBytes(i), path: `m/12381/3600/${i}/0/0` })),
      "pw",
      { kdf: "pbkdf2", kdfCost: 16 },
    );
    for (const k of created) writeKeystore(datadir, k.pubkeyHex, k.text, "pw");
    // genesis an hour away: the first client holds the datadir and waits
    const node = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime: Math.floor(Date.now() / 1000) + 3600, secondsPerSlot: 6, liveIndices: [] });
    try {
      const env = { ...process.env };
      delete env["CAIRN_DEBUG"];
      const first = spawn(process.execPath, [bin, "validator", "--beacon-nodes", node.url, "--datadir", datadir, "--config", "minimal"], {
        cwd: repoRoot,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.add(first);
      let err = "";
      first.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      await waitFor(() => err.includes("keystores loaded"), 20_000, "the first client's keys");
      assert.match(err, /decrypting keystores done=4 total=4/);

      const second = runSync(["--beacon-nodes", node.url, "--datadir", datadir, "--config", "minimal"]);
      assertOneError(second, /--datadir .*locked is in use by another validator client/);
      assert.doesNotMatch(second.stderr, /decrypting/);

      first.kill("SIGTERM");
      const code = await new Promise<number | null>((r) => first.once("exit", (c) => r(c)));
      children.delete(first);
      assert.equal(code, 0, err);
    } finally {
      await node.close();
    }
  });
});
