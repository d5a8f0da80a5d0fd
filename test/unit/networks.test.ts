// The bundled public networks (networks/<name>/): each loads as published, its values are the published ones, its
// boot ENRs decode, and the published genesis_validators_root is the one its boot nodes' fork digest was made from;
// the shipped genesis state (zinken) has that root.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { BUNDLED_NETWORKS, genesisMismatch, parseBootnodes, parseNetworkFiles } from "../../src/config/networks.js";
import { decodeEnr, readEnrForkId } from "../../src/network/discovery/enr.js";
import { loadNetwork, NETWORKS_DIR } from "../../src/network/networks.js";
import { computeForkDigest } from "../../src/state-transition/util/domain.js";
import { fromHex, toHex } from "../../src/state-transition/util/math.js";

/** Published values, from each network's config.yaml, deposit files and genesis facts (see its SOURCE.md). */
const published = {
  mainnet: { MIN_GENESIS_TIME: 1606824000, GENESIS_FORK_VERSION: "0x00000000", GENESIS_DELAY: 604800, depositBlock: 11052984, contract: "0x00000000219ab540356cbb839cbe05303d7705fa" },
  pyrmont: { MIN_GENESIS_TIME: 1605700800, GENESIS_FORK_VERSION: "0x00002009", GENESIS_DELAY: 432000, depositBlock: 3743587, contract: "0x8c5fecdc472e27bc447696f431e425d02dd46a8c" },
  medalla: { MIN_GENESIS_TIME: 1596546000, GENESIS_FORK_VERSION: "0x00000001", GENESIS_DELAY: 172800, depositBlock: 3085928, contract: "0x07b39f4fde4a38bace212b546dac87c58dfe3fdc" },
  spadina: { MIN_GENESIS_TIME: 1601380800, GENESIS_FORK_VERSION: "0x00000002", GENESIS_DELAY: 172800, depositBlock: 3384340, contract: "0x48b597f4b53c21b48ad95c7256b49d1779bd5890" },
  zinken: { MIN_GENESIS_TIME: 1602504000, GENESIS_FORK_VERSION: "0x00000003", GENESIS_DELAY: 345600, depositBlock: 3488417, contract: "0x99f0ec06548b086e46cb0019c78d0b9b9f36cd53" },
} as const;

describe("bundled networks", () => {
  for (const name of BUNDLED_NETWORKS) {
    it(`${name}: the published config, deposit contract and boot nodes`, () => {
      const warnings: string[] = [];
      const info: string[] = [];
      const net = loadNetwork(name, { warn: (m) => warnings.push(m), info: (m) => info.push(m) });
      const p = published[name];
      assert.equal(net.config.CONFIG_NAME, name);
      assert.equal(net.config.MIN_GENESIS_TIME, p.MIN_GENESIS_TIME);
      assert.equal(toHex(net.config.GENESIS_FORK_VERSION), p.GENESIS_FORK_VERSION);
      assert.equal(net.config.GENESIS_DELAY, p.GENESIS_DELAY);
      assert.equal(net.config.SLOTS_PER_EPOCH, 32);
      assert.equal(toHex(net.config.DEPOSIT_CONTRACT_ADDRESS), p.contract);
      assert.equal(net.depositContract.toLowerCase(), p.contract);
      assert.equal(net.depositBlock, p.depositBlock);
      assert.deepEqual(warnings, []);
      // only Medalla's file leaves a phase 0 key out
      assert.deepEqual(info, name === "medalla" ? ["1 key not in the file taken from the mainnet preset (spec v0.12.3): PROPORTIONAL_SLASHING_MULTIPLIER"] : []);
      assert.ok(net.bootnodes.length > 0);
      for (const enr of net.bootnodes) assert.doesNotThrow(() => decodeEnr(enr), enr);
    });
  }

  it("medalla: PROPORTIONAL_SLASHING_MULTIPLIER comes from the v0.12.3 mainnet preset (3)", () => {
    assert.equal(loadNetwork("medalla").config.PROPORTIONAL_SLASHING_MULTIPLIER, 3);
    // the v1.0 networks publish the v1.0 value
    assert.equal(loadNetwork("mainnet").config.PROPORTIONAL_SLASHING_MULTIPLIER, 1);
    assert.equal(loadNetwork("pyrmont").config.INACTIVITY_PENALTY_QUOTIENT, 67108864);
  });

  it("the published genesis roots: mainnet's, pyrmont's and medalla's differ; spadina has none", () => {
    assert.equal(loadNetwork("mainnet").genesisValidatorsRoot, "0x4b363db94e286120d76eb905340fdd4e54bfe9f06bf33ff6cf5ad27f511bfe95");
    assert.equal(loadNetwork("mainnet").genesisTime, 1606824023);
    assert.equal(loadNetwork("pyrmont").genesisValidatorsRoot, "0x9436e8a630e3162b7ed4f449b12b8a5a368a4b95bc46b941ae65c11613bfa4c1");
    assert.equal(loadNetwork("medalla").genesisValidatorsRoot, "0x04700007fabc8282644aed6d1c7c9e21d38a03a0c4ba193f3afe428824b3a673");
    assert.equal(loadNetwork("medalla").genesisTime, 1596546008);
    assert.equal(loadNetwork("spadina").genesisValidatorsRoot, undefined);
  });

  it("each published genesis root gives the fork digest the network's boot ENRs carry", () => {
    for (const name of BUNDLED_NETWORKS) {
      const net = loadNetwork(name);
      if (net.genesisValidatorsRoot === undefined) continue;
      const digest = toHex(computeForkDigest(net.config, net.config.GENESIS_FORK_VERSION, fromHex(net.genesisValidatorsRoot)));
      const carried = net.bootnodes.map((e) => readEnrForkId(net.config, decodeEnr(e))).filter((f) => f !== null).map((f) => toHex(f.forkDigest));
      assert.ok(carried.includes(digest), `${name}: ${digest} not among ${[...new Set(carried)].join(", ")}`);
    }
  });

  it("zinken ships its genesis state, and its genesis_validators_root is the published one", () => {
    const net = loadNetwork("zinken");
    assert.ok(net.genesisStatePath);
    const state = net.config.types.BeaconState.deserializeToViewDU(readFileSync(net.genesisStatePath));
    assert.equal(state.slot, 0);
    assert.equal(toHex(state.genesisValidatorsRoot), net.genesisValidatorsRoot);
    // the field is what it claims to be: the root of the validators it starts with
    assert.equal(toHex(state.validators.hashTreeRoot()), net.genesisValidatorsRoot);
    assert.equal(state.genesisTime, net.genesisTime);
    assert.equal(genesisMismatch(net, state), null);
    // the networks without a small genesis state ship none
    for (const name of ["mainnet", "pyrmont", "medalla", "spadina"]) assert.equal(loadNetwork(name).genesisStatePath, undefined);
  });

  it("genesisMismatch names the root or time that differs; nothing to compare without a published root", () => {
    const net = loadNetwork("medalla");
    const root = fromHex(net.genesisValidatorsRoot!);
    assert.equal(genesisMismatch(net, { genesisValidatorsRoot: root, genesisTime: 1596546008 }), null);
    const other = root.slice();
    other[0] ^= 1;
    assert.match(genesisMismatch(net, { genesisValidatorsRoot: other, genesisTime: 1596546008 })!, /genesis_validators_root 0x05700007.* is not medalla's 0x04700007/);
    assert.match(genesisMismatch(net, { genesisValidatorsRoot: root, genesisTime: 1 })!, /genesis_time 1 is not medalla's 1596546008/);
    assert.equal(genesisMismatch(loadNetwork("spadina"), { genesisValidatorsRoot: other, genesisTime: 1 }), null);
  });

  it("errors: an unknown name, a deposit contract that differs from the config's, a bad genesis.json", () => {
    assert.throws(() => loadNetwork("goerli"), /unknown network "goerli" \(known: mainnet, pyrmont, medalla, spadina, zinken\)/);
    assert.throws(() => loadNetwork("zinken", { dir: "/nonexistent" }), /network zinken: cannot read .*config\.yaml/);
    const files = (n: string) => ({
      config: readFileSync(`${NETWORKS_DIR}/${n}/config.yaml`, "utf8"),
      bootnodes: "",
      depositContract: readFileSync(`${NETWORKS_DIR}/${n}/deposit_contract.txt`, "utf8"),
      deployBlock: "1\n",
    });
    assert.throws(() => parseNetworkFiles("zinken", { ...files("zinken"), depositContract: published.medalla.contract }), /network zinken: deposit_contract\.txt: .* differs from the config's/);
    assert.throws(() => parseNetworkFiles("zinken", { ...files("zinken"), deployBlock: "-1" }), /deploy_block\.txt: not a block number/);
    assert.throws(() => parseNetworkFiles("zinken", { ...files("zinken"), genesis: '{"genesis_time": 1}' }), /genesis\.json: expected/);
    assert.throws(() => parseNetworkFiles("zinken", { ...files("zinken"), config: "SLOTS_PER_EPOCH: x\n" }), /network zinken: config\.yaml: config key SLOTS_PER_EPOCH/);
  });

  it("boot node lists: comments, blank lines and YAML dashes are skipped", () => {
    assert.deepEqual(parseBootnodes("# team\nenr:-A\n\n  - enr:-B  \r\n# end\n"), ["enr:-A", "enr:-B"]);
  });
});
