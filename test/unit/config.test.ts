import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { mainnetConfig, minimalConfig, type ChainConfig } from "../../src/params/index.js";
import {
  CHAIN_CONFIG_KEYS,
  loadChainConfig,
  mainnetV1Config,
  minimalV1Config,
  parseChainConfigYaml,
  chainConfigToYaml,
} from "../../src/config/load.js";
import { createBeaconConfig, getNamedConfig } from "../../src/config/index.js";

// Compiled to dist/test/unit/; the fixtures stay in the source tree.
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const fixture = (name: string): string => readFileSync(join(repoRoot, "test/fixtures/config", name), "utf8");

function parseCollectingWarnings(text: string): { config: ChainConfig; warnings: string[] } {
  const warnings: string[] = [];
  const config = parseChainConfigYaml(text, { warn: (m) => warnings.push(m) });
  return { config, warnings };
}

/** A flat config YAML with every key of `c`, as the spec writes it. */
function toYaml(c: ChainConfig): string {
  return CHAIN_CONFIG_KEYS.map((k) => {
    const v = c[k];
    if (v instanceof Uint8Array) return `${k}: 0x${Buffer.from(v).toString("hex")}`;
    if (typeof v === "string") return `${k}: "${v}"`;
    return `${k}: ${v}`;
  }).join("\n");
}

/** Replaces (or with value undefined, removes) one `KEY: value` line. */
function withLine(yaml: string, key: string, value: string | undefined): string {
  const re = new RegExp(`^${key}:.*$`, "m");
  assert.match(yaml, re, `fixture has ${key}`);
  return yaml.replace(re, value === undefined ? "" : `${key}: ${value}`);
}

describe("parseChainConfigYaml: flat layout", () => {
  it("spec v0.12.3 mainnet.yaml parses to exactly mainnetConfig, without warnings", () => {
    const { config, warnings } = parseCollectingWarnings(fixture("mainnet-v0.12.3.yaml"));
    assert.deepEqual(config, mainnetConfig);
    assert.deepEqual(warnings, []);
  });

  it("spec v0.12.3 minimal.yaml parses to exactly minimalConfig, without warnings", () => {
    const { config, warnings } = parseCollectingWarnings(fixture("minimal-v0.12.3.yaml"));
    assert.deepEqual(config, minimalConfig);
    assert.deepEqual(warnings, []);
  });

  it("spec v1.0 mainnet phase0.yaml gives the v1.0 constants", () => {
    const { config, warnings } = parseCollectingWarnings(fixture("mainnet-v1.0.yaml"));
    assert.deepEqual(config, mainnetV1Config);
    assert.deepEqual(warnings, []);
    assert.equal(config.INACTIVITY_PENALTY_QUOTIENT, 67108864);
    assert.equal(config.MIN_SLASHING_PENALTY_QUOTIENT, 128);
    assert.equal(config.PROPORTIONAL_SLASHING_MULTIPLIER, 1);
    assert.equal(config.EPOCHS_PER_ETH1_VOTING_PERIOD, 64);
    assert.equal(config.ETH1_FOLLOW_DISTANCE, 2048);
    assert.equal(config.GENESIS_DELAY, 604800);
    assert.equal(config.MIN_GENESIS_TIME, 1606824000);
    // mixed-case hex in the file
    assert.equal(Buffer.from(config.DEPOSIT_CONTRACT_ADDRESS).toString("hex"), "00000000219ab540356cbb839cbe05303d7705fa");
  });

  it("spec v1.0 minimal phase0.yaml gives the v1.0 constants", () => {
    const { config, warnings } = parseCollectingWarnings(fixture("minimal-v1.0.yaml"));
    assert.deepEqual(config, minimalV1Config);
    assert.deepEqual(warnings, []);
    assert.equal(config.INACTIVITY_PENALTY_QUOTIENT, 33554432);
    assert.equal(config.MIN_SLASHING_PENALTY_QUOTIENT, 64);
    assert.equal(config.PROPORTIONAL_SLASHING_MULTIPLIER, 2);
  });

  it("the v1.0 presets differ from v0.12.3 exactly where the spec files do", () => {
    const diff = (a: ChainConfig, b: ChainConfig): string[] =>
      CHAIN_CONFIG_KEYS.filter((k) => {
        const x = a[k];
        const y = b[k];
        return x instanceof Uint8Array && y instanceof Uint8Array ? Buffer.compare(x, y) !== 0 : x !== y;
      });
    assert.deepEqual(diff(minimalConfig, minimalV1Config), [
      "PROPORTIONAL_SLASHING_MULTIPLIER",
      "INACTIVITY_PENALTY_QUOTIENT",
      "MIN_SLASHING_PENALTY_QUOTIENT",
    ]);
    assert.deepEqual(diff(mainnetConfig, mainnetV1Config), [
      "MIN_GENESIS_TIME",
      "PROPORTIONAL_SLASHING_MULTIPLIER",
      "ETH1_FOLLOW_DISTANCE",
      "DEPOSIT_CONTRACT_ADDRESS",
      "GENESIS_DELAY",
      "EPOCHS_PER_ETH1_VOTING_PERIOD",
      "INACTIVITY_PENALTY_QUOTIENT",
      "MIN_SLASHING_PENALTY_QUOTIENT",
    ]);
  });

  it("keeps 2^40 and other large integers exact", () => {
    const config = parseChainConfigYaml(fixture("mainnet-v0.12.3.yaml"));
    assert.equal(config.VALIDATOR_REGISTRY_LIMIT, 2 ** 40);
    const big = withLine(toYaml(mainnetConfig), "MIN_GENESIS_TIME", String(Number.MAX_SAFE_INTEGER));
    assert.equal(parseChainConfigYaml(big).MIN_GENESIS_TIME, Number.MAX_SAFE_INTEGER);
  });

  it("a generated config round-trips and gives a usable BeaconConfig", () => {
    const custom: ChainConfig = { ...minimalConfig, CONFIG_NAME: "my-net", SLOTS_PER_EPOCH: 4, GENESIS_FORK_VERSION: Uint8Array.of(1, 2, 3, 4) };
    const parsed = parseChainConfigYaml(toYaml(custom));
    assert.deepEqual(parsed, custom);
    const bc = createBeaconConfig(parsed);
    assert.equal(bc.SLOTS_PER_EPOCH, 4);
    assert.ok(bc.types.BeaconState);
  });

  it("CONFIG_NAME is optional and defaults to \"custom\"", () => {
    const config = parseChainConfigYaml(withLine(fixture("minimal-v0.12.3.yaml"), "CONFIG_NAME", undefined));
    assert.equal(config.CONFIG_NAME, "custom");
    assert.deepEqual({ ...config, CONFIG_NAME: "minimal" }, minimalConfig);
  });

  it("returns fresh byte arrays (mutating the result does not touch the presets)", () => {
    const a = parseChainConfigYaml("PRESET_BASE: minimal\n");
    a.GENESIS_FORK_VERSION[0] = 0xff;
    assert.equal(minimalV1Config.GENESIS_FORK_VERSION[0], 0);
    const b = loadChainConfig("minimal");
    b.DOMAIN_RANDAO[0] = 0xff;
    assert.equal(minimalConfig.DOMAIN_RANDAO[0], 2);
  });
});

describe("parseChainConfigYaml: errors name the key", () => {
  const base = fixture("minimal-v0.12.3.yaml");

  it("malformed numbers", () => {
    const cases: [string, RegExp][] = [
      ["abc", /"abc"/],
      ["-1", /"-1"/],
      ["1.5", /"1\.5"/],
      ["1e3", /"1e3"/],
      ["0x20", /"0x20"/],
      ["010", /"010"/], // octal in YAML 1.1, decimal in 1.2: refuse to guess
      ["", /an empty value/],
      ["[1, 2]", /a YAML list/],
      ["{a: 1}", /a YAML mapping/],
      ["null", /"null"/],
    ];
    for (const [value, detail] of cases) {
      assert.throws(
        () => parseChainConfigYaml(withLine(base, "SLOTS_PER_EPOCH", value)),
        (e: Error) => {
          assert.match(e.message, /^config key SLOTS_PER_EPOCH: expected a non-negative integer, got /);
          assert.match(e.message, detail);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        },
        `value ${JSON.stringify(value)}`,
      );
    }
  });

  it("integers beyond 2^53 are refused, not rounded", () => {
    assert.throws(() => parseChainConfigYaml(withLine(base, "MIN_GENESIS_TIME", "18446744073709551615")), {
      message: /^config key MIN_GENESIS_TIME: value 18446744073709551615 is too large/,
    });
    assert.throws(() => parseChainConfigYaml(withLine(base, "MIN_GENESIS_TIME", "9007199254740993")), {
      message: /^config key MIN_GENESIS_TIME: value 9007199254740993 is too large/,
    });
  });

  it("malformed hex", () => {
    const cases: [string, string][] = [
      ["GENESIS_FORK_VERSION", "0x0000"], // too short
      ["GENESIS_FORK_VERSION", "0x0000000000"], // too long
      ["GENESIS_FORK_VERSION", "00000001"], // no 0x
      ["GENESIS_FORK_VERSION", "0"], // what a YAML 1.1 parser makes of 0x00000000
      ["GENESIS_FORK_VERSION", "0x0000000g"],
      ["DEPOSIT_CONTRACT_ADDRESS", "0x1234"],
      ["BLS_WITHDRAWAL_PREFIX", "0x"],
      ["DOMAIN_RANDAO", "[0x02000000]"],
    ];
    for (const [key, value] of cases) {
      assert.throws(
        () => parseChainConfigYaml(withLine(base, key, value)),
        new RegExp(`^Error: config key ${key}: expected \\d+ bytes? as 0x-prefixed hex`),
        `${key}: ${value}`,
      );
    }
  });

  it("CONFIG_NAME must be a string", () => {
    assert.throws(() => parseChainConfigYaml(withLine(base, "CONFIG_NAME", "[a, b]")), {
      message: /^config key CONFIG_NAME: expected a string/,
    });
  });

  it("invalid YAML, duplicate keys, non-mapping documents", () => {
    assert.throws(() => parseChainConfigYaml(`${base}\nSLOTS_PER_EPOCH: 8\n`), {
      message: /^config is not valid YAML: Map keys must be unique/,
    });
    assert.throws(() => parseChainConfigYaml("SLOTS_PER_EPOCH: [8\n"), { message: /^config is not valid YAML/ });
    assert.throws(() => parseChainConfigYaml("\x00\x01\x02garbage: : :\n\tfoo"), { message: /^config is not valid YAML/ });
    assert.throws(() => parseChainConfigYaml(""), { message: /^config is empty/ });
    assert.throws(() => parseChainConfigYaml("# only a comment\n"), { message: /^config is empty/ });
    assert.throws(() => parseChainConfigYaml("just a string"), { message: /^config is not a YAML mapping/ });
    assert.throws(() => parseChainConfigYaml("- a\n- b\n"), { message: /^config is not a YAML mapping/ });
    assert.throws(() => parseChainConfigYaml("? [a, b]\n: 1\n"), { message: /key that is not a plain name/ });
    for (const text of ["SLOTS_PER_EPOCH: [8\n", "a: 1\na: 2\n", "\x00: : :\n\tx"]) {
      assert.throws(() => parseChainConfigYaml(text), (e: Error) => !e.message.includes("\n"));
    }
  });

  it("a mapping with none of the phase 0 keys is refused, naming PRESET_BASE", () => {
    for (const text of ["FOO: 1\n", "CONFIG_NAME: medalla\n", "ALTAIR_FORK_EPOCH: 0\n"]) {
      assert.throws(() => parseChainConfigYaml(text), { message: /^config has none of the phase 0 keys .*PRESET_BASE/ });
    }
  });
});

describe("parseChainConfigYaml: keys missing from a flat file come from the preset", () => {
  const parse = (text: string, opts: { defaultPreset?: "mainnet" | "minimal" } = {}) => {
    const info: string[] = [];
    const warnings: string[] = [];
    const config = parseChainConfigYaml(text, { ...opts, info: (m) => info.push(m), warn: (m) => warnings.push(m) });
    return { config, info, warnings };
  };

  it("a published 2020 testnet file without PROPORTIONAL_SLASHING_MULTIPLIER (Medalla) takes mainnet's 3", () => {
    const medallaLike = withLine(withLine(fixture("mainnet-v0.12.3.yaml"), "CONFIG_NAME", undefined), "PROPORTIONAL_SLASHING_MULTIPLIER", undefined);
    const { config, info, warnings } = parse(medallaLike);
    assert.deepEqual({ ...config, CONFIG_NAME: "mainnet" }, mainnetConfig);
    assert.equal(config.CONFIG_NAME, "custom");
    assert.deepEqual(info, ["1 key not in the file taken from the mainnet preset (spec v0.12.3): PROPORTIONAL_SLASHING_MULTIPLIER"]);
    assert.deepEqual(warnings, []);
  });

  it("the preset is the caller's, else the file's CONFIG_NAME, else mainnet", () => {
    const minimalNoSlots = withLine(fixture("minimal-v0.12.3.yaml"), "SLOTS_PER_EPOCH", undefined);
    assert.equal(parse(minimalNoSlots).config.SLOTS_PER_EPOCH, minimalConfig.SLOTS_PER_EPOCH);
    assert.equal(parse(minimalNoSlots, { defaultPreset: "mainnet" }).config.SLOTS_PER_EPOCH, mainnetConfig.SLOTS_PER_EPOCH);
    const unnamed = withLine(minimalNoSlots, "CONFIG_NAME", undefined);
    assert.equal(parse(unnamed).config.SLOTS_PER_EPOCH, mainnetConfig.SLOTS_PER_EPOCH);
    assert.equal(parse(unnamed, { defaultPreset: "minimal" }).config.SLOTS_PER_EPOCH, minimalConfig.SLOTS_PER_EPOCH);
  });

  it("one info line names every defaulted key and the preset; nothing when the file is complete", () => {
    const text = withLine(withLine(fixture("minimal-v0.12.3.yaml"), "SLOTS_PER_EPOCH", undefined), "MAX_DEPOSITS", undefined);
    const { info } = parse(text);
    assert.deepEqual(info, ["2 keys not in the file taken from the minimal preset (spec v0.12.3): SLOTS_PER_EPOCH, MAX_DEPOSITS"]);
    assert.deepEqual(parse(fixture("minimal-v0.12.3.yaml")).info, []);
    assert.deepEqual(parse(withLine(fixture("minimal-v0.12.3.yaml"), "CONFIG_NAME", undefined)).info, [], "CONFIG_NAME is no preset value");
  });

  it("a PRESET_BASE file declares its base: its keys come from the v1.0 preset without a message", () => {
    const { config, info } = parse("PRESET_BASE: minimal\nSECONDS_PER_SLOT: 3\n");
    assert.equal(config.SECONDS_PER_SLOT, 3);
    assert.equal(config.PROPORTIONAL_SLASHING_MULTIPLIER, minimalV1Config.PROPORTIONAL_SLASHING_MULTIPLIER);
    assert.deepEqual(info, []);
  });
});

describe("parseChainConfigYaml: unknown keys", () => {
  it("keys of later forks load quietly", () => {
    const later = [
      "ALTAIR_FORK_VERSION: 0x01000001",
      "ALTAIR_FORK_EPOCH: 18446744073709551615",
      "INACTIVITY_PENALTY_QUOTIENT_ALTAIR: 50331648",
      "TERMINAL_TOTAL_DIFFICULTY: 58750000000000000000000",
      "BELLATRIX_FORK_EPOCH: 144896",
      "MAX_REQUEST_BLOCKS_DENEB: 128",
      "EIP7594_FORK_EPOCH: 18446744073709551615",
      "PROPOSER_SCORE_BOOST: 40",
      "BLOB_SCHEDULE:\n  - EPOCH: 412672\n    MAX_BLOBS_PER_BLOCK: 15",
    ];
    const { config, warnings } = parseCollectingWarnings(`${fixture("minimal-v0.12.3.yaml")}\n${later.join("\n")}\n`);
    assert.deepEqual(config, minimalConfig);
    assert.deepEqual(warnings, []);
  });

  it("any other unknown key is an error naming it, with the closest known key when it looks like a typo", () => {
    const base = fixture("minimal-v0.12.3.yaml").replace(/^SECONDS_PER_SLOT:.*$/m, "");
    assert.throws(() => parseChainConfigYaml(`${base}\nSECONDS_PER_SLTO: 2\n`), /^Error: unknown config key SECONDS_PER_SLTO \(did you mean SECONDS_PER_SLOT\?\): not a phase 0 key nor a later fork's$/);
    assert.throws(
      () => parseChainConfigYaml(`${fixture("minimal-v0.12.3.yaml")}\nALTAIR_FORK_EPOCH: 1\nFOO_BAR: 1\nMIN_GENESIS_TIMES: 2\n`),
      /unknown config keys FOO_BAR, MIN_GENESIS_TIMES \(did you mean MIN_GENESIS_TIME\?\):/,
    );
    assert.throws(() => parseChainConfigYaml("PRESET_BAES: minimal\nSLOTS_PER_EPOCH: 4\n"), /PRESET_BAES \(did you mean PRESET_BASE\?\)/);
    assert.throws(() => parseChainConfigYaml("PRESET_BASE: minimal\nSOME_NEW_KEY: whatever\n"), /^Error: unknown config key SOME_NEW_KEY: /);
  });

  it("load without a warn callback", () => {
    const config = parseChainConfigYaml(`${fixture("mainnet-v0.12.3.yaml")}\nALTAIR_FORK_EPOCH: 74240\n`);
    assert.deepEqual(config, mainnetConfig);
  });
});

describe("parseChainConfigYaml: PRESET_BASE layout", () => {
  it("a client-written testnet config (Altair keys, far-future epochs, 2^256 TTD) loads quietly over the v1.0 mainnet preset", () => {
    const { config, warnings } = parseCollectingWarnings(fixture("devnet-preset-base.yaml"));
    const expected: ChainConfig = {
      ...mainnetV1Config,
      CONFIG_NAME: "cairn-devnet",
      MIN_GENESIS_ACTIVE_VALIDATOR_COUNT: 4096,
      MIN_GENESIS_TIME: 1617278400,
      GENESIS_FORK_VERSION: Uint8Array.of(0x00, 0xc4, 0xa1, 0x70),
      GENESIS_DELAY: 86400,
      DEPOSIT_CHAIN_ID: 5,
      DEPOSIT_NETWORK_ID: 5,
      DEPOSIT_CONTRACT_ADDRESS: new Uint8Array(20).fill(0x42),
    };
    assert.deepEqual(config, expected);
    assert.equal(config.INACTIVITY_PENALTY_QUOTIENT, 67108864);
    assert.equal(config.SLOTS_PER_EPOCH, 32);
    // every extra key in it is a later fork's: accepted without a warning
    assert.deepEqual(warnings, []);
  });

  it("PRESET_BASE minimal with no other key is the v1.0 minimal preset named \"custom\"", () => {
    assert.deepEqual(parseChainConfigYaml("PRESET_BASE: 'minimal'\n"), { ...minimalV1Config, CONFIG_NAME: "custom" });
    assert.deepEqual(parseChainConfigYaml('PRESET_BASE: "mainnet"\nCONFIG_NAME: mainnet\n'), mainnetV1Config);
  });

  it("preset keys given in the file override the base", () => {
    const config = parseChainConfigYaml("PRESET_BASE: minimal\nSLOTS_PER_EPOCH: 4\nSHARD_COMMITTEE_PERIOD: 16\n");
    assert.equal(config.SLOTS_PER_EPOCH, 4);
    assert.equal(config.SHARD_COMMITTEE_PERIOD, 16);
    assert.equal(config.SLOTS_PER_HISTORICAL_ROOT, 64);
  });

  it("values are still validated", () => {
    assert.throws(() => parseChainConfigYaml("PRESET_BASE: minimal\nGENESIS_FORK_VERSION: 0x01\n"), {
      message: /^config key GENESIS_FORK_VERSION: expected 4 bytes/,
    });
    assert.throws(() => parseChainConfigYaml("PRESET_BASE: minimal\nEJECTION_BALANCE: lots\n"), {
      message: /^config key EJECTION_BALANCE: expected a non-negative integer, got "lots"/,
    });
  });

  it("unknown PRESET_BASE is an error", () => {
    assert.throws(() => parseChainConfigYaml("PRESET_BASE: gnosis\nCONFIG_NAME: x\n"), {
      message: /^config key PRESET_BASE: unknown preset "gnosis" \(expected "mainnet" or "minimal"\)$/,
    });
    assert.throws(() => parseChainConfigYaml("PRESET_BASE: Mainnet\n"), { message: /unknown preset "Mainnet"/ });
    assert.throws(() => parseChainConfigYaml("PRESET_BASE:\n"), {
      message: /^config key PRESET_BASE: expected "mainnet" or "minimal", got an empty value$/,
    });
    assert.throws(() => parseChainConfigYaml("PRESET_BASE: [mainnet]\n"), { message: /^config key PRESET_BASE: expected/ });
    assert.throws(() => parseChainConfigYaml("PRESET_BASE: toString\n"), { message: /unknown preset "toString"/ });
  });
});

describe("loadChainConfig", () => {
  it("takes a built-in name or YAML text", () => {
    assert.deepEqual(loadChainConfig("minimal"), minimalConfig);
    assert.deepEqual(loadChainConfig("mainnet"), mainnetConfig);
    assert.deepEqual(loadChainConfig(fixture("minimal-v1.0.yaml")), minimalV1Config);
    assert.throws(() => loadChainConfig("mainnet-v2"), { message: /not a YAML mapping/ });
  });
});

it("chainConfigToYaml writes every key so that parsing gives the same config back", () => {
  for (const name of ["minimal", "mainnet"]) {
    const { types: _types, ...chainConfig } = getNamedConfig(name);
    const back = parseChainConfigYaml(chainConfigToYaml({ ...chainConfig, SECONDS_PER_SLOT: 2 }));
    assert.equal(back.SECONDS_PER_SLOT, 2);
    for (const key of Object.keys(chainConfig) as (keyof typeof chainConfig)[]) {
      if (key === "SECONDS_PER_SLOT") continue;
      assert.deepEqual(back[key], chainConfig[key], `${name} ${key}`);
    }
  }
});
