// The `cairn` command line, run as a child process the way a user runs it (node bin/cairn.js ...).
// These cover argument handling and error reporting; runs over real states and blocks live elsewhere.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getNamedConfig } from "../../src/config/index.js";
import { cairnBin as bin, repoRoot, runCairnSync as cairn, type CliResult as Result } from "../utils/cli.js";

/** Exit status 2, nothing on stdout, and exactly one stderr line (after any `warning:` lines) matching `re`. */
function assertOneError(r: Result, re: RegExp, warnings = 0): void {
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(r.status, 2, `exit status; stderr: ${r.stderr}`);
  assert.equal(r.stdout, "");
  assert.equal(lines.length, 1 + warnings, `stderr lines: ${r.stderr}`);
  for (const w of lines.slice(0, warnings)) assert.match(w, /^warning: /);
  assert.match(lines.at(-1)!, re);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

let dir: string;
const tmp = (name: string): string => join(dir, name);

// SSZ inputs built from the minimal config's types.
const T = getNamedConfig("minimal").types;
function stateBytes(slot = 0): Uint8Array {
  const state = T.BeaconState.defaultViewDU();
  state.slot = slot;
  return state.serialize();
}
function blockBytes(slot = 0): Uint8Array {
  const block = T.SignedBeaconBlock.defaultValue();
  block.message.slot = slot;
  return T.SignedBeaconBlock.serialize(block);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-cli-test-"));
  writeFileSync(tmp("state.ssz"), stateBytes());
  writeFileSync(tmp("state-slot10.ssz"), stateBytes(10));
  const full = stateBytes();
  writeFileSync(tmp("truncated.ssz"), full.subarray(0, full.length - 7));
  writeFileSync(tmp("half.ssz"), full.subarray(0, full.length >> 1));
  writeFileSync(tmp("empty.ssz"), new Uint8Array(0));
  writeFileSync(tmp("block.ssz"), blockBytes());
  writeFileSync(tmp("block-slot12.ssz"), blockBytes(12));
  writeFileSync(tmp("garbage.yaml"), "\x00\x01\x02garbage: : :\n\tfoo\n");
  writeFileSync(tmp("bad-key.yaml"), "PRESET_BASE: minimal\nSLOTS_PER_EPOCH: eight\n");
  writeFileSync(tmp("unknown-key.yaml"), "PRESET_BASE: minimal\nALTAIR_FORK_EPOCH: 18446744073709551615\nMY_OWN_KEY: 1\n");
  writeFileSync(tmp("incomplete.yaml"), "CONFIG_NAME: x\nSLOTS_PER_EPOCH: 8\n");
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("cairn (dispatcher)", () => {
  it("--help lists the commands and exits 0", () => {
    for (const flag of ["--help", "-h", "help"]) {
      const r = cairn([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: cairn <command>/);
      assert.match(r.stdout, /^\s+transition\s+\S/m);
      assert.equal(r.stderr, "");
    }
  });

  it("--version prints the package version", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    const r = cairn(["--version"]);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `cairn ${pkg.version}\n`);
  });

  it("no arguments: usage on stderr, exit 2", () => {
    const r = cairn([]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^Usage: cairn <command>/);
  });

  it("unknown command: one line, exit 2", () => {
    assertOneError(cairn(["frobnicate", "--pre", "x"]), /^cairn: error: unknown command "frobnicate" \(commands: [a-z-]+(, [a-z-]+)*; see cairn --help\)$/);
  });

  it("unknown top-level option: one line, exit 2", () => {
    assertOneError(cairn(["--frobnicate"]), /^cairn: error: unknown option "--frobnicate"/);
  });

  it("without dist/ the launcher says to build", () => {
    const fake = mkdtempSync(join(tmpdir(), "cairn-cli-nodist-"));
    try {
      mkdirSync(join(fake, "bin"));
      copyFileSync(bin, join(fake, "bin/cairn.js"));
      writeFileSync(join(fake, "package.json"), '{"type":"module"}\n');
      assertOneError(cairn(["--help"], {}, join(fake, "bin/cairn.js")), /npm run build/);
    } finally {
      rmSync(fake, { recursive: true, force: true });
    }
  });
});

describe("cairn transition: arguments", () => {
  it("--help shows the options and exits 0, wherever it appears", () => {
    for (const args of [["transition", "--help"], ["transition", "--pre", "nope.ssz", "-h"], ["help", "transition"]]) {
      const r = cairn(args);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^Usage: cairn transition /);
      for (const opt of ["--config", "--pre", "--blocks", "--slots", "--to-slot", "--no-verify-signatures", "--out"]) {
        assert.ok(r.stdout.includes(opt), `help mentions ${opt}`);
      }
    }
  });

  it("--slots and --to-slot together", () => {
    assertOneError(
      cairn(["transition", "--config", "minimal", "--pre", tmp("state.ssz"), "--slots", "1", "--to-slot", "5"]),
      /^cairn transition: error: --slots and --to-slot cannot be used together$/,
    );
  });

  it("missing --config / --pre", () => {
    assertOneError(cairn(["transition", "--pre", tmp("state.ssz")]), /^cairn transition: error: missing --config /);
    assertOneError(cairn(["transition", "--config", "minimal"]), /^cairn transition: error: missing --pre /);
  });

  it("malformed numbers", () => {
    const base = ["transition", "--config", "minimal", "--pre", tmp("state.ssz")];
    assertOneError(cairn([...base, "--slots", "abc"]), /^cairn transition: error: --slots: expected a non-negative integer, got "abc"$/);
    assertOneError(cairn([...base, "--to-slot", "-3"]), /^cairn transition: error: .*to-slot/);
    assertOneError(cairn([...base, "--to-slot", "1.5"]), /^cairn transition: error: --to-slot: expected a non-negative integer, got "1\.5"$/);
    assertOneError(cairn([...base, "--slots", "99999999999999999999"]), /^cairn transition: error: --slots: 99999999999999999999 is too large$/);
  });

  it("unknown option, missing option value, repeated option, stray argument", () => {
    const base = ["transition", "--config", "minimal", "--pre", tmp("state.ssz")];
    assertOneError(cairn([...base, "--verify"]), /^cairn transition: error: Unknown option '--verify'.*see cairn transition --help/);
    assertOneError(cairn([...base, "--out"]), /^cairn transition: error: .*--out/);
    assertOneError(cairn([...base, "--pre", tmp("state.ssz")]), /^cairn transition: error: --pre is given more than once$/);
    assertOneError(cairn([...base, "stray.ssz"]), /^cairn transition: error: unexpected argument "stray\.ssz" /);
    assertOneError(cairn(["transition", "stray.ssz", ...base.slice(1)]), /^cairn transition: error: unexpected argument "stray\.ssz" /);
  });
});

describe("cairn transition: unreadable or malformed inputs", () => {
  it("missing --pre file", () => {
    const missing = tmp("does-not-exist.ssz");
    assertOneError(
      cairn(["transition", "--config", "minimal", "--pre", missing]),
      new RegExp(`^cairn transition: error: cannot read pre-state file ${escape(missing)}: file not found$`),
    );
  });

  it("a directory as --pre", () => {
    assertOneError(cairn(["transition", "--config", "minimal", "--pre", dir]), /^cairn transition: error: cannot read pre-state file .*: it is a directory$/);
  });

  it("truncated, half and empty state files", () => {
    for (const [file, detail] of [
      ["truncated.ssz", /: Offset out of bounds|shorter than the minimum/],
      ["half.ssz", /shorter than the minimum|Offset/],
      ["empty.ssz", /\(the file is empty\)$/m],
    ] as const) {
      assertOneError(
        cairn(["transition", "--config", "minimal", "--pre", tmp(file)]),
        new RegExp(`^cairn transition: error: pre-state file ${escape(tmp(file))} is not a BeaconState for the minimal preset: wrong --config\\? \\(.*`),
      );
      assert.match(cairn(["transition", "--config", "minimal", "--pre", tmp(file)]).stderr, detail);
    }
  });

  it("a block file given as --pre", () => {
    assertOneError(
      cairn(["transition", "--config", "minimal", "--pre", tmp("block.ssz")]),
      /^cairn transition: error: pre-state file .*block\.ssz is not a BeaconState for the minimal preset: wrong --config\? \(\d+ bytes is shorter than the minimum/,
    );
  });

  it("a minimal state read with the mainnet config says so", () => {
    assertOneError(
      cairn(["transition", "--config", "mainnet", "--pre", tmp("state.ssz")]),
      /^cairn transition: error: pre-state file .*state\.ssz is not a BeaconState for the mainnet preset: wrong --config\? \(it is a minimal-preset state\) \(/,
    );
  });

  it("missing block file, and a state given as a block", () => {
    const base = ["transition", "--config", "minimal", "--pre", tmp("state.ssz")];
    assertOneError(
      cairn([...base, "--blocks", tmp("block.ssz"), tmp("nope.ssz")]),
      new RegExp(`^cairn transition: error: cannot read block 2 \\(${escape(tmp("nope.ssz"))}\\): file not found$`),
    );
    assertOneError(
      cairn([...base, "--blocks", tmp("state.ssz")]),
      /^cairn transition: error: block 1 \(.*state\.ssz\) is not an SSZ SignedBeaconBlock for config minimal: /,
    );
    assertOneError(
      cairn([...base, "--blocks", tmp("block.ssz"), "--blocks", tmp("empty.ssz")]),
      /^cairn transition: error: block 2 \(.*empty\.ssz\) is not an SSZ SignedBeaconBlock for config minimal: the file is empty$/,
    );
  });

  it("--to-slot before the state's slot", () => {
    assertOneError(
      cairn(["transition", "--config", "minimal", "--pre", tmp("state-slot10.ssz"), "--to-slot", "5"]),
      /^cairn transition: error: --to-slot 5 is in the past: the state is at slot 10 in the pre-state$/,
    );
    assertOneError(
      cairn(["transition", "--config", "minimal", "--pre", tmp("state.ssz"), "--blocks", tmp("block-slot12.ssz"), "--to-slot", "5"]),
      /^cairn transition: error: --to-slot 5 is in the past: the state is at slot 12 after block 1 \(.*block-slot12\.ssz\)$/,
    );
  });

  it("CAIRN_DEBUG=1 adds a stack trace", () => {
    const r = cairn(["transition", "--config", "minimal", "--pre", tmp("does-not-exist.ssz")], { CAIRN_DEBUG: "1" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^cairn transition: error: cannot read pre-state file /);
    assert.match(r.stderr, /^\s+at /m);
  });
});

describe("cairn transition: config files", () => {
  const run = (config: string): Result => cairn(["transition", "--config", config, "--pre", tmp("does-not-exist.ssz")]);

  it("garbage YAML", () => {
    assertOneError(run(tmp("garbage.yaml")), /^cairn transition: error: config file .*garbage\.yaml: config is not valid YAML: /);
  });

  it("a malformed value names the key", () => {
    assertOneError(
      run(tmp("bad-key.yaml")),
      /^cairn transition: error: config file .*bad-key\.yaml: config key SLOTS_PER_EPOCH: expected a non-negative integer, got "eight"$/,
    );
  });

  it("keys a flat file leaves out come from the preset, named in one warning", () => {
    const r = run(tmp("incomplete.yaml"));
    assertOneError(r, /^cairn transition: error: cannot read pre-state file /, 1);
    assert.match(r.stderr, /^warning: config file .*incomplete\.yaml: 58 keys not in the file taken from the mainnet preset \(spec v0\.12\.3\): MAX_COMMITTEES_PER_SLOT, /);
  });

  it("a config that cannot be read, or an unknown name", () => {
    assertOneError(run(tmp("nope.yaml")), /^cairn transition: error: cannot read config file .*nope\.yaml: file not found$/);
    assertOneError(run("minimall"), /^cairn transition: error: cannot read config file minimall: file not found \(--config takes minimal, mainnet, or the path of a config YAML file\)$/);
  });

  it("an unknown key is an error naming it (a later fork's key is not): nothing runs", () => {
    assertOneError(run(tmp("unknown-key.yaml")), /^cairn transition: error: config file .*unknown-key\.yaml: unknown config key MY_OWN_KEY: not a phase 0 key/);
  });

  it("spec config files and the preset-based layout are accepted", () => {
    for (const name of ["minimal-v0.12.3.yaml", "minimal-v1.0.yaml", "devnet-preset-base.yaml"]) {
      const r = run(join(repoRoot, "test/fixtures/config", name));
      assert.match(r.stderr, /error: cannot read pre-state file /, `${name}: ${r.stderr}`);
    }
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
