// cairn beacon's --network, --genesis-state and --enr.* handling (in process, no node started): a bundled network
// brings its config, boot nodes and shipped genesis state; a genesis state of another chain is refused.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { BEACON_OPTIONS, loadNetwork, parseEnrArgs } from "../../src/cli/commands/beacon.js";
import { parseOptions } from "../../src/cli/options.js";
import { CliError, defaultDatadir } from "../../src/cli/common.js";
import { runCairnSync } from "../utils/cli.js";
import { loadNetwork as loadBundledNetwork } from "../../src/network/networks.js";
import { createInteropGenesisState } from "../../src/state-transition/index.js";

function collect() {
  const lines: string[] = [];
  return { lines, log: (m: string) => lines.push(m) };
}

describe("cairn beacon --network", () => {
  it("zinken: its config, boot nodes and shipped genesis state", () => {
    const info = collect();
    const r = loadNetwork({ network: "zinken" }, info.log, info.log);
    assert.equal(r.config.CONFIG_NAME, "zinken");
    assert.deepEqual(Buffer.from(r.genesis!), readFileSync(loadBundledNetwork("zinken").genesisStatePath!));
    assert.equal(r.bootnodes.length, 4);
    assert.deepEqual(info.lines, []);
  });

  it("medalla: boot nodes, no genesis state (the datadir or --genesis-state must have it); the defaulted key is logged", () => {
    const warn = collect();
    const info = collect();
    const r = loadNetwork({ network: "medalla" }, warn.log, info.log);
    assert.equal(r.genesis, null);
    assert.equal(r.bootnodes.length, 26);
    assert.equal(r.config.PROPORTIONAL_SLASHING_MULTIPLIER, 3);
    assert.deepEqual(warn.lines, []);
    assert.equal(info.lines.length, 1);
    assert.match(info.lines[0]!, /PROPORTIONAL_SLASHING_MULTIPLIER/);
  });

  it("a --genesis-state of another chain is refused, naming both roots", () => {
    const net = loadBundledNetwork("zinken");
    const path = join(mkdtempSync(join(tmpdir(), "cairn-beacon-args-")), "other.ssz");
    writeFileSync(path, createInteropGenesisState(net.config, 32, 1602504013).serialize());
    assert.throws(
      () => loadNetwork({ network: "zinken", "genesis-state": path }, () => {}),
      (e: Error) => {
        assert.ok(e instanceof CliError);
        assert.match(e.message, /^genesis state .*other\.ssz is not the zinken genesis: its genesis_validators_root 0x[0-9a-f]{64} is not zinken's 0xc3faaeef/);
        return true;
      },
    );
    // the network's own state, given explicitly, is accepted
    assert.ok(loadNetwork({ network: "zinken", "genesis-state": net.genesisStatePath }, () => {}).genesis);
  });

  it("without a published root (spadina) a given state is accepted with a warning", () => {
    const net = loadBundledNetwork("spadina");
    const path = join(mkdtempSync(join(tmpdir(), "cairn-beacon-args-")), "spadina.ssz");
    writeFileSync(path, createInteropGenesisState(net.config, 32, 1601380800).serialize());
    const warn = collect();
    assert.ok(loadNetwork({ network: "spadina", "genesis-state": path }, warn.log).genesis);
    assert.equal(warn.lines.length, 1);
    assert.match(warn.lines[0]!, /no published genesis_validators_root for spadina/);
  });

  it("minimal and mainnet still make interop dev chains, without boot nodes", () => {
    const minimal = loadNetwork({ network: "minimal", "interop-validators": "8", "genesis-time": "100" }, () => {});
    assert.equal(minimal.config.CONFIG_NAME, "minimal");
    assert.ok(minimal.genesis);
    assert.deepEqual(minimal.bootnodes, []);
    const mainnet = loadNetwork({ network: "mainnet", "interop-validators": "32", "genesis-time": "100" }, () => {});
    assert.equal(mainnet.config.CONFIG_NAME, "mainnet");
    assert.ok(mainnet.genesis);
    assert.deepEqual(mainnet.bootnodes, [], "a private chain does not call the real network's boot nodes");
    assert.equal(loadNetwork({ network: "mainnet" }, () => {}).bootnodes.length, 13);
  });

  it("an unknown name lists the known ones", () => {
    assert.throws(() => loadNetwork({ network: "goerli" }, () => {}), /^CliError: --network: expected minimal, mainnet, pyrmont, medalla, spadina, zinken; got "goerli"$/);
  });
});

describe("cairn beacon --enr.*", () => {
  const parse = (args: string[]) => {
    const { values: v } = parseOptions("beacon", BEACON_OPTIONS, args);
    return parseEnrArgs({ ip: v["enr.ip"], tcpPort: v["enr.tcp-port"], udpPort: v["enr.udp-port"] });
  };

  it("parses the advertised address and ports", () => {
    assert.deepEqual(parse([]), {});
    assert.deepEqual(parse(["--enr.ip", "203.0.113.7", "--enr.tcp-port", "9000", "--enr.udp-port", "9001"]), {
      ip: "203.0.113.7",
      tcpPort: 9000,
      udpPort: 9001,
    });
    assert.deepEqual(parse(["--enr.ip", "2001:db8::1"]), { ip: "2001:db8::1" });
  });

  it("refuses what cannot be advertised", () => {
    assert.throws(() => parse(["--enr.ip", "example.org"]), /^CliError: --enr\.ip: expected the IPv4 or IPv6 address/);
    assert.throws(() => parse(["--enr.ip", "0.0.0.0"]), /--enr\.ip/);
    assert.throws(() => parse(["--enr.tcp-port", "70000"]), /--enr\.tcp-port: 70000 is not a port/);
    assert.throws(() => parse(["--enr.udp-port", "0"]), /--enr\.udp-port: 0 is not a port to advertise/);
    assert.throws(() => parse(["--enr.udp-port", "x"]), /--enr\.udp-port/);
  });
});

describe("default datadirs", () => {
  it("a network's data goes under $XDG_DATA_HOME/cairn/<network>/<role> when no --datadir is given", () => {
    const xdg = mkdtempSync(join(tmpdir(), "cairn-xdg-"));
    assert.equal(defaultDatadir("pyrmont", "beacon", { XDG_DATA_HOME: xdg }), join(xdg, "cairn", "pyrmont", "beacon"));
    assert.equal(defaultDatadir("medalla", "validator", { HOME: "/home/op" }), "/home/op/.local/share/cairn/medalla/validator");
    // cairn beacon without --datadir and without a genesis: the error names the default it would use
    const r = runCairnSync(["beacon", "--network", "minimal", "--no-network"], { XDG_DATA_HOME: xdg });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`empty --datadir ${join(xdg, "cairn", "minimal", "beacon")}`));
  });
});
