// The declarative option tables of the CLI (src/cli/options.ts): one table gives both the help's option list and
// the typed values; values are converted when read.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CliError } from "../../src/cli/common.js";
import { flag, list, logLevel, optionsHelp, parseOptions, port, str, strings, uint } from "../../src/cli/options.js";

const TABLE = {
  datadir: str("<DIR>", "where the data goes"),
  host: str("<A>", "address (default {default})", { default: "127.0.0.1" }),
  "p2p-port": port("<P>", "TCP port (default {default})", { default: 9000, group: "Networking" }),
  peers: list("<A,...>", "static peers", { group: "Networking" }),
  count: uint("<N>", "how many\nsecond line"),
  quiet: flag("no progress lines"),
  files: strings("<FILE>", "input files"),
  "log-level": logLevel("warn"),
  secret: flag("", { hidden: true }),
};

test("the help lists every shown option under its group, defaults filled in, in one column", () => {
  assert.equal(
    optionsHelp(TABLE),
    [
      "Options:",
      "  --datadir <DIR>   where the data goes",
      "  --host <A>        address (default 127.0.0.1)",
      "  --count <N>       how many",
      "                    second line",
      "  --quiet           no progress lines",
      "  --files <FILE>    input files",
      "  --log-level <L>   error, warn (default), info or debug",
      "",
      "Networking:",
      "  --p2p-port <P>    TCP port (default 9000)",
      "  --peers <A,...>   static peers",
      "",
    ].join("\n"),
  );
});

test("values are typed, defaults apply when a flag is absent, and given() tells which were on the line", () => {
  const { values: v, given } = parseOptions("x", TABLE, ["--datadir", "d", "--peers", "a, b,,c", "--quiet", "--files", "f1", "--files", "f2"]);
  assert.equal(v.datadir, "d");
  assert.equal(v.host, "127.0.0.1");
  assert.equal(v["p2p-port"], 9000);
  assert.deepEqual(v.peers, ["a", "b", "c"]);
  assert.equal(v.count, undefined);
  assert.equal(v.quiet, true);
  assert.equal(v.secret, false);
  assert.deepEqual(v.files, ["f1", "f2"]);
  assert.equal(v["log-level"], "warn");
  assert.equal(given("datadir"), true);
  assert.equal(given("host"), false);
});

test("a bad value is an error when it is read, naming the flag; one never read is not checked", () => {
  const { values: v } = parseOptions("x", TABLE, ["--p2p-port", "70000", "--count", "1x", "--log-level", "loud"]);
  assert.equal(v.datadir, undefined);
  assert.throws(() => v["p2p-port"], (e: Error) => e instanceof CliError && e.message === "--p2p-port: 70000 is not a port");
  assert.throws(() => v.count, /^CliError: --count: expected a non-negative integer, got "1x"$/);
  assert.throws(() => v["log-level"], /--log-level: expected error, warn, info or debug, got "loud"/);
});

test("an unknown flag is a one-line CliError pointing at the command's help", () => {
  assert.throws(() => parseOptions("beacon", TABLE, ["--nope"]), (e: Error) => e instanceof CliError && /Unknown option '--nope'.*\(see cairn beacon --help\)$/.test(e.message));
  assert.throws(() => parseOptions("beacon", TABLE, ["stray"]), CliError);
});

test("cairn beacon's help lists every option of its table, and parses each", async () => {
  const { BEACON_OPTIONS, command } = await import("../../src/cli/commands/beacon.js");
  const names = Object.keys(BEACON_OPTIONS);
  assert.ok(names.length >= 20);
  for (const name of names) assert.match(command.help, new RegExp(`\\n  --${name.replace(".", "\\.")}\\b`), `help lists --${name}`);
  const { values } = parseOptions("beacon", BEACON_OPTIONS, ["--rest.port", "0", "--no-discovery"]);
  assert.equal(values["rest.port"], 0);
  assert.equal(values["metrics.port"], 5054);
  assert.equal(values["no-discovery"], true);
});
