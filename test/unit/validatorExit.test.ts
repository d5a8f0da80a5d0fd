// `cairn validator exit` (run in-process) against a real chain behind the Beacon API server, whose
// SHARD_COMMITTEE_PERIOD is 0 so a validator may exit at once: declining signs nothing; with --yes the exit is
// shown, signed, kept in the datadir, published, and reported included once a block (produced here through the
// API, as a validator client would) carries it. A running validator client's datadir is refused.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBeaconApiServer, type BeaconApiServer } from "../../src/api/server/index.js";
import { command } from "../../src/cli/commands/validator.js";
import type { Io } from "../../src/cli/common.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { computeEpochAtSlot } from "../../src/state-transition/util/epoch.js";
import { toHex } from "../../src/util/bytes.js";
import { createKeystores, writeKeystore } from "../../src/validator/keystore/index.js";
import { SlashingProtection } from "../../src/validator/slashingProtection/index.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";
import { until } from "../utils/poll.js";

const VALIDATORS = 16;
const EXITING = 3;

let tc: ApiTestChain;
let server: BeaconApiServer;
let url: string;
let dir: string;
let datadir: string;
let configFile: string;
let pubkeyHex: string;
let clock = 8;

function io(answer: string | null): Io & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    readLine: async () => answer,
    out: () => out,
    err: () => err,
  };
}

function args(...extra: string[]): string[] {
  return ["exit", "--beacon-nodes", url, "--datadir", datadir, "--config", configFile, "--pubkey", pubkeyHex, "--poll-ms", "50", ...extra];
}

async function get(path: string): Promise<any> {
  return (await (await fetch(url + path)).json()) as any;
}

/** The next slot's block, produced and published through the API with whatever the pools hold. */
async function proposeNextBlock(): Promise<void> {
  const slot = ++clock;
  await tc.chain.onClockSlot(slot);
  const pre = await tc.chain.regen.getPreState({ slot, parentRoot: Buffer.from(tc.chain.headRoot.slice(2), "hex") } as never, "test");
  const proposer = pre.epochCtx.getBeaconProposer(slot);
  const randao = tc.signer.randaoReveal(pre, proposer, computeEpochAtSlot(tc.config, slot));
  const produced = await get(`/eth/v1/validator/blocks/${slot}?randao_reveal=${toHex(randao)}`);
  const block = tc.config.types.BeaconBlock.fromJson(produced.data);
  const res = await fetch(url + "/eth/v1/beacon/blocks", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(tc.config.types.SignedBeaconBlock.toJson(tc.signer.signBlock(pre, block))),
  });
  assert.equal(res.status, 200, await res.text());
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-exit-"));
  tc = await buildApiTestChain({ validators: VALIDATORS, slots: 8 });
  server = await createBeaconApiServer({ chain: tc.chain, clock: { currentSlot: () => clock } });
  url = `http://127.0.0.1:${(await server.listen("127.0.0.1", 0)).port}`;
  // the node's config: minimal with SHARD_COMMITTEE_PERIOD 0
  configFile = join(dir, "config.yaml");
  writeFileSync(configFile, "CONFIG_NAME: minimal\nSHARD_COMMITTEE_PERIOD: 0\n");
  datadir = join(dir, "vc");
  const [k] = await createKeystores([{ secretKey: interopSecretKeyBytes(EXITING), path: `m/12381/3600/${EXITING}/0/0` }], "pw", { kdf: "pbkdf2", kdfCost: 16 });
  writeKeystore(datadir, k.pubkeyHex, k.text, "pw");
  pubkeyHex = k.pubkeyHex;
});

after(async () => {
  await server?.close();
  await tc?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("cairn validator exit", () => {
  it("declined: shows the exit, signs and publishes nothing", async () => {
    const t = io("no");
    assert.equal(await command.run(args(), t), 1, t.err());
    assert.match(t.out(), new RegExp(`validator: +${EXITING} \\(${pubkeyHex}\\)`));
    assert.match(t.out(), /status: +active_ongoing/);
    assert.match(t.out(), /declined: nothing was signed or published/);
    assert.equal(existsSync(join(datadir, "voluntary-exits")), false);
    assert.deepEqual((await get("/eth/v1/beacon/pool/voluntary_exits")).data, []);
  });

  it("refuses a datadir a validator client holds", async () => {
    const held = await SlashingProtection.open(join(datadir, "slashing-protection"));
    try {
      await assert.rejects(async () => command.run(args("--yes"), io(null)), /in use by a validator client: stop it first/);
    } finally {
      await held.close();
    }
    assert.deepEqual((await get("/eth/v1/beacon/pool/voluntary_exits")).data, []);
  });

  it("with --yes: signs, keeps and publishes the exit, and reports it included", async () => {
    const t = io(null);
    const running = command.run(args("--yes"), t);
    await until("the exit in the node's pool", async () => (await get("/eth/v1/beacon/pool/voluntary_exits")).data.length === 1, 10_000);
    const pooled = (await get("/eth/v1/beacon/pool/voluntary_exits")).data[0];
    assert.equal(pooled.message.validator_index, String(EXITING));
    const kept = JSON.parse(readFileSync(join(datadir, "voluntary-exits", `${pubkeyHex}.json`), "utf8"));
    assert.deepEqual(kept, pooled);
    await proposeNextBlock();
    assert.equal(await running, 0, t.err());
    assert.match(t.out(), new RegExp(`published the exit of validator ${EXITING} at epoch 1`));
    assert.match(t.out(), new RegExp(`included: validator ${EXITING} is now active_exiting`));
    // a second run finds it done
    const again = io(null);
    assert.equal(await command.run(args("--yes"), again), 0);
    assert.match(again.out(), /already active_exiting: nothing to do/);
  });
});
