// The validator client and its beacon nodes (fakes, test/utils/fakeBeaconNode.ts): fallback to a second node and
// back, waiting for a node that is not up, a node whose event stream stays silent (no headers) kept, re-orgs seen
// through the head event's dependent roots, keys that become known later, and a node on another network refused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { getNamedConfig } from "../../src/config/index.js";
import { FakeBeaconNode, hex } from "../utils/fakeBeaconNode.js";
import { startValidatorClient, vcTestBed, waitFor } from "../utils/vcSetup.js";

const config = getNamedConfig("minimal");
const { setup, cleanups, nextDir } = vcTestBed(config);

describe("validator client and its beacon nodes", () => {
  it("moves its duties to the second beacon node while the first fails, and back when it recovers", async () => {
    const genesisTime = Math.floor(Date.now() / 1000) - 500;
    const mk = async (): Promise<FakeBeaconNode> => {
      const node = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime, secondsPerSlot: 0.5, headEventFraction: 0.1 });
      cleanups.push(() => node.close());
      return node;
    };
    const a = await mk();
    const b = await mk();
    const vc = await startValidatorClient({ config, urls: [a.url, b.url], keys: [0, 1, 2, 3, 4, 5, 6, 7], secondsPerSlot: 0.5, dir: nextDir() });
    cleanups.push(() => vc.close());

    await waitFor(() => a.attestations.length >= 2, 5_000, "attestations through the first node");
    a.mode = "error500";
    const failedAt = a.currentSlot();
    await waitFor(() => b.attestations.filter((x) => x.value.data.slot > failedAt).length >= 2, 5_000, "attestations through the second node");
    await waitFor(() => b.blocks.some((x) => x.value.message.slot > failedAt), 5_000, "a block through the second node");
    a.mode = "ok";
    const recoveredAt = a.currentSlot();
    await waitFor(() => a.attestations.filter((x) => x.value.data.slot > recoveredAt + 1).length >= 2, 5_000, "attestations through the first node again");
    await vc.close();
    assert.deepEqual([...a.problems, ...b.problems], []);
    // once back, the second node got nothing more
    assert.equal(b.attestations.filter((x) => x.value.data.slot > recoveredAt + 2).length, 0);
    // nothing signed twice with different data, whichever node carried it
    const votes = new Map<string, string>();
    for (const x of [...a.attestations, ...b.attestations]) {
      const key = `${x.validatorIndex}:${x.value.data.target.epoch}`;
      const root = hex(config.types.AttestationData.hashTreeRoot(x.value.data));
      assert.ok(!votes.has(key) || votes.get(key) === root, `double vote ${key}`);
      votes.set(key, root);
    }
  });

  it("waits for a beacon node that is not up yet", async () => {
    const node = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime: Math.floor(Date.now() / 1000) - 100, secondsPerSlot: 0.5, headEventFraction: 0.1 });
    cleanups.push(() => node.close());
    await node.stop();
    const starting = startValidatorClient({ config, urls: [node.url], keys: [0, 1], secondsPerSlot: 0.5, dir: nextDir() });
    await new Promise((r) => setTimeout(r, 300));
    await node.restart();
    const vc = await starting;
    cleanups.push(() => vc.close());
    await waitFor(() => node.attestations.length >= 1, 8_000, "an attestation");
  });

  it("keeps a node whose event stream is silent, without headers, for longer than the request timeout", async () => {
    const genesisTime = Math.floor(Date.now() / 1000) - 500;
    // a: Lodestar's way, no headers before the first event, and no head events; b: a fallback that is never needed
    const a = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime, secondsPerSlot: 0.5, headEventFraction: null, eventsHeadersWithFirstEvent: true });
    cleanups.push(() => a.close());
    const b = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime, secondsPerSlot: 0.5, headEventFraction: 0.1 });
    cleanups.push(() => b.close());
    const timeoutMs = 200;
    const vc = await startValidatorClient({
      config,
      urls: [a.url, b.url],
      keys: [0, 1, 2, 3, 4, 5, 6, 7],
      secondsPerSlot: 0.5,
      dir: nextDir(),
      extra: { beaconNodesOptions: { timeoutMs, healthCheckIntervalMs: 100, eventsReconnectMs: 50 } },
    });
    cleanups.push(() => vc.close());
    await waitFor(() => a.eventStreams === 1, 2_000, "the event stream opened on the first node");
    // silence for many times the timeout, while the node answers everything else
    await new Promise((r) => setTimeout(r, 8 * timeoutMs));
    await waitFor(() => a.attestations.length >= 2, 5_000, "attestations through the first node");
    assert.equal(a.requestsTo("/eth/v1/events").length, 1, "the silent stream was not dropped and reopened");
    assert.equal(a.eventStreams, 1);
    assert.ok(vc.api.nodes[0].healthy, vc.api.nodes[0].lastError);
    assert.equal(b.requestsTo("/eth/v1/events").length, 0);
    assert.equal(b.requestsTo("/eth/v1/validator").length, 0, "no duties asked of the fallback");
    assert.equal(b.attestations.length, 0);
    // the stream still works: its first event (which brings the headers) is a head with new dependent roots
    const epoch = vc.clock.epochAtSlot(a.currentSlot());
    const before = a.requestsTo(`/eth/v1/validator/duties/attester/${epoch}`).length;
    a.reorg();
    a.emit("head", a.headEvent(a.currentSlot()));
    await waitFor(() => a.requestsTo(`/eth/v1/validator/duties/attester/${epoch}`).length > before, 3_000, "duties fetched again after the head event");
    await vc.close();
    assert.deepEqual([...a.problems, ...b.problems], []);
  });

  it("refetches duties when the head event's dependent roots change (a re-org)", async () => {
    const { node, vc } = await setup({ secondsPerSlot: 0.5, validatorCount: 8, keys: [0, 1, 2, 3, 4, 5, 6, 7], headEventFraction: 0.1 });
    await waitFor(() => node.attestations.length >= 2, 5_000, "attestations");
    const epoch = vc.clock.epochAtSlot(node.currentSlot());
    const count = (path: string): number => node.requestsTo(path).length;
    const attesterBefore = count(`/eth/v1/validator/duties/attester/${epoch}`);
    const nextBefore = count(`/eth/v1/validator/duties/attester/${epoch + 1}`);
    const proposerBefore = count(`/eth/v1/validator/duties/proposer/${epoch}`);
    assert.ok(attesterBefore >= 1 && nextBefore >= 1 && proposerBefore >= 1, "duties of this and the next epoch fetched ahead");
    node.reorg();
    node.emit("head", node.headEvent(node.currentSlot()));
    await waitFor(
      () => count(`/eth/v1/validator/duties/attester/${epoch}`) > attesterBefore && count(`/eth/v1/validator/duties/proposer/${epoch}`) > proposerBefore,
      3_000,
      "duties fetched again",
    );
    assert.ok(count(`/eth/v1/validator/duties/attester/${epoch + 1}`) > nextBefore);
    // the same head again changes nothing
    await new Promise((r) => setTimeout(r, 100));
    const settled = count(`/eth/v1/validator/duties/attester/${epoch}`);
    node.emit("head", node.headEvent(node.currentSlot()));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(count(`/eth/v1/validator/duties/attester/${epoch}`), settled);
    await vc.close();
    assert.deepEqual(node.problems, []);
  });

  it("asks again each epoch about keys the beacon node did not know, and attests with them once known", async () => {
    const { node, vc } = await setup({ secondsPerSlot: 0.4, validatorCount: 8, keys: [0, 1, 2, 3, 4, 5, 6, 7], headEventFraction: 0.1, hiddenValidators: [6, 7] });
    await waitFor(() => node.attestations.length >= 1, 5_000, "attestations");
    const firstEpoch = vc.clock.epochAtSlot(node.currentSlot());
    node.addValidator(6);
    node.addValidator(7);
    await waitFor(() => node.attestations.some((a) => a.validatorIndex === 7) && node.attestations.some((a) => a.validatorIndex === 6), 12_000, "attestations by 6 and 7");
    await vc.close();
    assert.deepEqual(node.problems, []);
    const lookups = node.requestsTo("/eth/v1/beacon/states/head/validators");
    assert.ok(lookups.length >= 2);
    // later lookups ask only about the keys still unknown
    assert.equal(lookups.at(-1)!.path.match(/id=/g)?.length, 2);
    const firstKnown = Math.min(...node.attestations.filter((a) => a.validatorIndex >= 6).map((a) => vc.clock.epochAtSlot(a.value.data.slot)));
    assert.ok(firstKnown > firstEpoch);
  });

  it("refuses a beacon node on another network", async () => {
    const genesisTime = Math.floor(Date.now() / 1000) - 100;
    const other = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime, secondsPerSlot: 1, headEventFraction: null, specOverrides: { SECONDS_PER_SLOT: "12" } });
    cleanups.push(() => other.close());
    await assert.rejects(
      startValidatorClient({ config, urls: [other.url], keys: [0], secondsPerSlot: 1, dir: nextDir() }),
      /another network configuration: SECONDS_PER_SLOT: beacon node 12, ours 6/,
    );
    const node = await FakeBeaconNode.start({ config, validatorCount: 8, genesisTime, secondsPerSlot: 1, headEventFraction: null });
    cleanups.push(() => node.close());
    await assert.rejects(
      startValidatorClient({ config: getNamedConfig("mainnet"), urls: [node.url], keys: [0], secondsPerSlot: 1, dir: nextDir() }),
      /genesis fork version 0x00000001 differs from the config's 0x00000000/,
    );
    assert.equal(node.requestsTo("/eth/v1/validator").length, 0, "no duties asked for");
  });
});
