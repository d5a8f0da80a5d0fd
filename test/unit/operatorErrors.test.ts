// Errors that say what to do: a genesis state of the other preset names the flag to check, a testnet directory
// without genesis.ssz names the file, a port in use names the flag that moves it (REST, metrics, p2p), and
// `cairn dev` removes the temporary datadir it made up (never a --datadir it was given).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadNetwork } from "../../src/cli/commands/beacon.js";
import { getNamedConfig } from "../../src/config/index.js";
import { chainConfigToYaml } from "../../src/config/load.js";
import { createInteropGenesisState } from "../../src/state-transition/index.js";
import { runCairn, runCairnSync } from "../utils/cli.js";

let dir: string;
let busy: Server;
let busyPort: number;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-op-errors-"));
  busy = createServer();
  await new Promise<void>((r) => busy.listen(0, "0.0.0.0", () => r()));
  busyPort = (busy.address() as { port: number }).port;
});
after(async () => {
  await new Promise((r) => busy.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function oneError(r: { status: number | null; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  const errors = r.stderr.split("\n").filter((l) => l.includes("error:"));
  assert.equal(errors.length, 1, r.stderr);
  assert.match(errors[0]!, re);
}

describe("errors that say what to do", () => {
  it("a genesis state of the other preset: wrong --network or --config?", () => {
    const path = join(dir, "minimal-genesis.ssz");
    writeFileSync(path, createInteropGenesisState(getNamedConfig("minimal"), 8, 1600000000).serialize());
    assert.throws(
      () => loadNetwork({ network: "pyrmont", "genesis-state": path }, () => {}),
      /^CliError: genesis state .*minimal-genesis\.ssz is not a BeaconState for the mainnet preset: wrong --network\? \(it is a minimal-preset state\) \(/,
    );
    assert.throws(() => loadNetwork({ config: "mainnet", "genesis-state": path }, () => {}), /for the mainnet preset: wrong --config\?/);
    // garbage is not said to be the other preset's
    writeFileSync(join(dir, "junk.ssz"), new Uint8Array(1000).fill(7));
    assert.throws(
      () => loadNetwork({ config: "minimal", "genesis-state": join(dir, "junk.ssz") }, () => {}),
      (e: Error) => /for the minimal preset: wrong --config\? \(/.test(e.message) && !/it is a/.test(e.message),
    );
  });

  it("a testnet directory without genesis.ssz names the file", () => {
    const testnet = join(dir, "testnet");
    mkdirSync(testnet);
    writeFileSync(join(testnet, "config.yaml"), chainConfigToYaml(getNamedConfig("minimal")));
    const datadir = join(dir, "empty-datadir");
    oneError(
      runCairnSync(["beacon", "--datadir", datadir, "--testnet-dir", testnet, "--no-network"]),
      new RegExp(`no genesis state: ${join(testnet, "genesis.ssz").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} does not exist`),
    );
    assert.equal(existsSync(join(datadir, "chain")), false);
  });

  it("a port in use names the flag that changes it", async () => {
    const base = ["beacon", "--network", "minimal", "--interop-validators", "8", "--log-level", "error"];
    const [rest, metrics, p2p] = await Promise.all([
      runCairn([...base, "--datadir", join(dir, "b1"), "--no-network", "--rest.port", String(busyPort)]),
      runCairn([...base, "--datadir", join(dir, "b2"), "--no-network", "--no-rest", "--metrics.port", String(busyPort)]),
      runCairn([...base, "--datadir", join(dir, "b3"), "--no-rest", "--no-discovery", "--p2p-port", String(busyPort)]),
    ]);
    oneError(rest, new RegExp(`REST API port ${busyPort} is in use .*: choose another with --rest\\.port`));
    oneError(metrics, new RegExp(`metrics port ${busyPort} is in use .*: choose another with --metrics\\.port`));
    oneError(p2p, new RegExp(`p2p port ${busyPort} \\(TCP\\) is in use .*: choose another with --p2p-port`));
  });

  it("cairn dev removes its temporary datadir, and keeps a --datadir", async () => {
    const temp = await runCairn(["dev", "--validators", "8", "--rest.port", String(busyPort), "--metrics.port", "0"]);
    oneError(temp, /choose another with --rest\.port/);
    const made = /datadir (\S+) \(temporary: removed at exit\)/.exec(temp.stdout);
    assert.ok(made, temp.stdout);
    assert.equal(existsSync(made[1]!), false, `${made[1]} left behind`);

    const mine = join(dir, "dev-datadir");
    const kept = await runCairn(["dev", "--validators", "8", "--rest.port", String(busyPort), "--metrics.port", "0", "--datadir", mine]);
    oneError(kept, /choose another with --rest\.port/);
    assert.ok(existsSync(mine) && readdirSync(mine).length > 0);
  });
});
