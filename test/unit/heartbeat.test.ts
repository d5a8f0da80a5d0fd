// Heartbeats: the beacon node logs one line per epoch (head, checkpoints, peers, sync, slots behind) and warns
// with no peers or no finality for a while; the validator client logs per epoch what it did (duties done, duties
// missed and why) and its keys' balances.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBeaconConfig, getNamedConfig } from "../../src/config/index.js";
import { logHeartbeat } from "../../src/node/heartbeat.js";
import { BeaconNode } from "../../src/node/node.js";
import { minimalConfig } from "../../src/params/index.js";
import { createInteropGenesisState } from "../../src/state-transition/index.js";
import { createLogger } from "../../src/util/logger.js";
import { FakeBeaconNode } from "../utils/fakeBeaconNode.js";
import { startValidatorClient, waitFor } from "../utils/vcSetup.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-heartbeat-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function capture() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: "info", write: (l) => void lines.push(l) }) };
}

describe("beacon node heartbeat", () => {
  it("one line per epoch with the facts; warnings for no peers and no finality", () => {
    const { lines, logger } = capture();
    const base = { clockSlot: 80, slotsPerEpoch: 8, headSlot: 79, headRoot: "0xab", justifiedEpoch: 8, finalizedEpoch: 8, syncing: false };
    logHeartbeat(logger, { ...base, peers: 5 });
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /info  heartbeat epoch=10 headSlot=79 headRoot=0xab justified=8 finalized=8 peers=5 sync=synced slotsBehind=1/);
    lines.length = 0;
    logHeartbeat(logger, { ...base, peers: 0, finalizedEpoch: 3 });
    assert.match(lines[1]!, /warn  no peers/);
    assert.match(lines[2]!, /warn  no finality epochsSinceFinalized=7 finalized=3 epoch=10/);
    lines.length = 0;
    logHeartbeat(logger, { ...base, peers: null, finalizedEpoch: 3 }, { noFinalityWarnEpochs: 8 });
    assert.equal(lines.length, 1, "no warning: standalone node, and 7 epochs are within the limit");
    assert.match(lines[0]!, /peers="none \(no networking\)"/);
  });

  it("a running node logs it at each epoch's first slot", async () => {
    const config = createBeaconConfig({ ...minimalConfig, SECONDS_PER_SLOT: 1 });
    const spe = config.SLOTS_PER_EPOCH;
    // 20 epochs after genesis, about a second before an epoch starts; no block since genesis
    const genesisTime = Math.floor(Date.now() / 1000) - (20 * spe - 1);
    const { lines, logger } = capture();
    const node = await BeaconNode.start({
      config,
      datadir: join(dir, "node"),
      genesisState: createInteropGenesisState(config, 8, genesisTime).serialize(),
      rest: null,
      metrics: null,
      logger,
      blsWorkers: 1,
    });
    try {
      await waitFor(() => lines.some((l) => l.includes("heartbeat")), 15_000, "a heartbeat");
      const line = lines.find((l) => l.includes("heartbeat"))!;
      assert.match(line, /heartbeat epoch=(\d+) headSlot=0 headRoot=0x[0-9a-f]{64} justified=0 finalized=0 peers="none \(no networking\)" sync=behind slotsBehind=\d+/);
      assert.ok(lines.some((l) => /warn  no finality epochsSinceFinalized=2\d finalized=0/.test(l)), lines.join(""));
    } finally {
      await node.close();
    }
  });
});

describe("validator client epoch summary", () => {
  it("counts the epoch's duties, names the missed ones with why, and sums the keys' balances", async () => {
    const config = getNamedConfig("minimal");
    const secondsPerSlot = 0.5;
    const node = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime: Math.floor(Date.now() / 1000) - 1000, secondsPerSlot, headEventFraction: null });
    const { lines, logger } = capture();
    const vc = await startValidatorClient({ config, urls: [node.url], keys: [0, 1, 2, 3, 4, 5, 6, 7], secondsPerSlot, dir: join(dir, "vc"), extra: { logger } });
    try {
      // a whole epoch: each of the 8 keys attests once in it
      await waitFor(() => lines.some((l) => /epoch summary .*attestations=8 /.test(l)), 20_000, "a full epoch's summary");
      const full = lines.find((l) => /epoch summary .*attestations=8 /.test(l))!;
      assert.match(full, /epoch summary epoch=\d+ attestations=8 proposals=\d aggregates=\d+ missed=0 balanceEth=256\.0000 changeGwei=0/);
      // the node fails every request for a while: that epoch's duties are missed, with the node's answer as the reason
      const at = lines.length;
      node.mode = "error500";
      await waitFor(() => lines.slice(at).some((l) => /missed duty .*kind=attestation .*reason=.*500/.test(l)), 20_000, "a missed duty, with why");
      node.mode = "ok";
      await waitFor(() => lines.slice(at).some((l) => /epoch summary .*missed=[1-9]/.test(l)), 20_000, "a summary counting missed duties");
    } finally {
      await vc.close();
      await node.close();
    }
  });
});
