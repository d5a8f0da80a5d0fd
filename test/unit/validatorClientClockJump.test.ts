// Medalla, August 2020: validators' clocks jumped hours ahead. Here the validator client's clock jumps 4 hours
// ahead and back while its beacon node keeps the right time (and, permissively, serves duties and data for any
// slot asked). The client must sign nothing for the far future, nothing slashable, and go on attesting afterwards.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { Registry } from "prom-client";
import { getNamedConfig } from "../../src/config/index.js";
import { computeDomain, computeSigningRoot } from "../../src/state-transition/util/domain.js";
import { createValidatorMetrics } from "../../src/validator/metrics.js";
import { SlashingProtection } from "../../src/validator/slashingProtection/index.js";
import { FakeBeaconNode, hex } from "../utils/fakeBeaconNode.js";
import { startValidatorClient, waitFor } from "../utils/vcSetup.js";

const config = getNamedConfig("minimal");
const FOUR_HOURS_MS = 4 * 3600 * 1000;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-vc-jump-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

it("a clock that jumps 4 hours ahead and back signs nothing slashable and nothing for the far future", async () => {
  const node = await FakeBeaconNode.start({
    config,
    validatorCount: 8,
    genesisTime: Math.floor(Date.now() / 1000) - 600,
    secondsPerSlot: 0.5,
    headEventFraction: 0.1,
  });
  let shift = 0;
  const registry = new Registry();
  const metrics = createValidatorMetrics(registry);
  const vc = await startValidatorClient({
    config,
    urls: [node.url],
    keys: [0, 1, 2, 3, 4, 5, 6, 7],
    secondsPerSlot: 0.5,
    dir,
    now: () => Date.now() + shift,
    metrics,
  });
  try {
    // before: normal duties
    const firstSlot = node.currentSlot();
    await waitFor(() => node.attestations.filter((a) => a.value.data.slot > firstSlot + 1).length >= 2, 8_000, "attestations before the jump");

    // 4 hours ahead, for 5 slots of real time
    shift = FOUR_HOURS_MS;
    const jumpAt = node.currentSlot();
    const futureSlot = vc.clock.currentSlot();
    assert.ok(futureSlot > jumpAt + 28_000);
    await waitFor(() => node.currentSlot() >= jumpAt + 5, 6_000, "5 slots at the jumped clock");
    // the client did ask the node for far-future work, and signed none of it
    assert.ok(
      node.requests.some((r) => /validator\/(attestation_data\?slot=|blocks\/)/.test(r.path) && slotOf(r.path) > jumpAt + 1000),
      "the client tried its far-future duties",
    );

    // back to the right time
    shift = 0;
    const backAt = node.currentSlot();
    await waitFor(() => node.attestations.filter((a) => a.value.data.slot > backAt + 1).length >= 2, 8_000, "attestations after the jump");
    await waitFor(() => node.blocks.some((b) => b.value.message.slot > backAt + 1), 4_000, "a block after the jump");
  } finally {
    await vc.close();
    await node.close();
  }
  assert.deepEqual(node.problems, []);

  // nothing signed for a slot more than one slot ahead of the (right) time it reached the node
  for (const a of node.attestations) assert.ok(a.value.data.slot <= a.nodeSlot + 1, `attestation for slot ${a.value.data.slot} at ${a.nodeSlot}`);
  for (const b of node.blocks) assert.ok(b.value.message.slot <= b.nodeSlot + 1, `block for slot ${b.value.message.slot} at ${b.nodeSlot}`);
  for (const g of node.aggregates) assert.ok(g.value.message.aggregate.data.slot <= g.nodeSlot + 1);

  // pairwise: no double vote, no surround vote, no two blocks at a slot
  const T = config.types;
  const byValidator = new Map<number, { source: number; target: number; root: string }[]>();
  for (const a of node.attestations) {
    const list = byValidator.get(a.validatorIndex) ?? [];
    list.push({ source: a.value.data.source.epoch, target: a.value.data.target.epoch, root: hex(T.AttestationData.hashTreeRoot(a.value.data)) });
    byValidator.set(a.validatorIndex, list);
  }
  for (const [v, votes] of byValidator) {
    for (const x of votes) {
      for (const y of votes) {
        if (x === y) continue;
        assert.ok(!(x.target === y.target && x.root !== y.root), `double vote by ${v} for target ${x.target}`);
        assert.ok(!(x.source < y.source && y.target < x.target), `surround vote by ${v}: (${x.source},${x.target}) around (${y.source},${y.target})`);
      }
    }
  }
  const blockRoots = new Map<string, string>();
  for (const b of node.blocks) {
    const key = `${b.validatorIndex}:${b.value.message.slot}`;
    const root = hex(T.BeaconBlock.hashTreeRoot(b.value.message));
    assert.ok(!blockRoots.has(key) || blockRoots.get(key) === root, `two blocks at ${key}`);
    blockRoots.set(key, root);
  }

  // and a fresh slashing protection store accepts the whole history
  const fresh = await SlashingProtection.open(join(dir, "fresh"), { genesisValidatorsRoot: node.genesisValidatorsRoot });
  try {
    const attesterDomain = computeDomain(config, config.DOMAIN_BEACON_ATTESTER, config.GENESIS_FORK_VERSION, node.genesisValidatorsRoot);
    const proposerDomain = computeDomain(config, config.DOMAIN_BEACON_PROPOSER, config.GENESIS_FORK_VERSION, node.genesisValidatorsRoot);
    const pubkey = (i: number): Uint8Array => vc.signer.pubkeys[i];
    for (const a of node.attestations) {
      const d = a.value.data;
      await fresh.checkAndInsertAttestation(pubkey(a.validatorIndex), d.source.epoch, d.target.epoch, computeSigningRoot(config, T.AttestationData, d, attesterDomain));
    }
    for (const b of node.blocks) {
      const m = b.value.message;
      await fresh.checkAndInsertBlockProposal(pubkey(b.validatorIndex), m.slot, computeSigningRoot(config, T.BeaconBlock, m, proposerDomain));
    }
  } finally {
    await fresh.close();
  }

  // the refusals were counted
  const metricsText = await registry.metrics();
  assert.match(metricsText, /cairn_validator_duties_total\{kind="attestation",outcome="refused"\} [1-9]/);
});

function slotOf(path: string): number {
  const m = /slot=([0-9]+)|blocks\/([0-9]+)/.exec(path);
  return m ? Number(m[1] ?? m[2]) : -1;
}
