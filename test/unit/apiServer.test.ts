// The Beacon API server over real HTTP (Node's fetch, port 0) against a real chain built in-process: every
// endpoint's answer is checked against the chain itself, then block production, the pools and the event stream,
// then bad requests, after which the server must still answer.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BitArray, fromHexString } from "@chainsafe/ssz";
import { createBeaconApiServer, type BeaconApiServer } from "../../src/api/server/index.js";
import { aggregateSignatures, sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { FAR_FUTURE_EPOCH, minimalConfig } from "../../src/params/index.js";
import type { CachedBeaconState } from "../../src/state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../src/state-transition/util/epoch.js";
import { toHex } from "../../src/util/bytes.js";
import { primitive, type AttestationData, type BeaconBlock, type SlashingAttestationData } from "../../src/types/index.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";

const VALIDATORS = 64;
const SLOTS = 34;

let tc: ApiTestChain;
let server: BeaconApiServer;
let base: string;
let peersFail = false;

/** parsed response JSON: checked by the assertions, not by types */
type Json = any;

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Json; res: Response }> {
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, res };
}

async function post(path: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
  const res = await fetch(base + path, { method: "POST", headers, body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A Server-Sent Events reader over fetch: `next(event)` resolves with the next event of that name's data. */
async function openEvents(path: string) {
  const ac = new AbortController();
  const res = await fetch(base + path, { signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const events: { event: string; data: Json }[] = [];
  const pump = async (): Promise<boolean> => {
    const { value, done } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    let i: number;
    while ((i = buffer.indexOf("\n\n")) >= 0) {
      const chunk = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      const event = /^event: (.*)$/m.exec(chunk)?.[1];
      const data = /^data: (.*)$/m.exec(chunk)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
    return true;
  };
  return {
    async next(event: string): Promise<Json> {
      for (;;) {
        const k = events.findIndex((e) => e.event === event);
        if (k >= 0) return events.splice(k, 1)[0].data;
        if (!(await pump())) throw new Error(`event stream ended before a ${event} event`);
      }
    },
    close() {
      ac.abort();
    },
  };
}

before(async () => {
  tc = await buildApiTestChain({ validators: VALIDATORS, slots: SLOTS });
  server = await createBeaconApiServer({
    chain: tc.chain,
    node: {
      version: "Cairn/test",
      peerId: "16Uiu2HAmTest",
      peers: () => {
        if (peersFail) throw new Error("peer manager exploded");
        return [{ peerId: "16Uiu2HAmPeer", state: "connected", direction: "outbound", lastSeenP2pAddress: "/ip4/127.0.0.1/tcp/9000" }];
      },
    },
  });
  const { port } = await server.listen("127.0.0.1", 0);
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await server?.close();
  await tc?.close();
});

const headState = () => tc.chain.getHeadState("test");
const headSlot = () => tc.chain.forkChoice.getBlock(tc.chain.headRoot)!.slot;

describe("node and config", () => {
  it("version, syncing, health, identity, peers", async () => {
    assert.deepEqual((await get("/eth/v1/node/version")).body, { data: { version: "Cairn/test" } });
    const syncing = (await get("/eth/v1/node/syncing")).body.data;
    assert.equal(syncing.head_slot, String(headSlot()));
    assert.equal(syncing.is_syncing, false);
    assert.equal(syncing.el_offline, false);
    assert.equal((await get("/eth/v1/node/health")).status, 200);
    assert.equal((await get("/eth/v1/node/identity")).body.data.peer_id, "16Uiu2HAmTest");
    const peers = (await get("/eth/v1/node/peers?state=connected,disconnected&direction=outbound")).body;
    assert.equal(peers.meta.count, 1);
    assert.equal(peers.data[0].peer_id, "16Uiu2HAmPeer");
    assert.equal((await get("/eth/v1/node/peers?state=disconnected")).body.data.length, 0);
    assert.equal((await get("/eth/v1/node/peers?state=asleep")).status, 400);
    assert.equal((await get("/eth/v1/node/peers/16Uiu2HAmPeer")).body.data.direction, "outbound");
    assert.equal((await get("/eth/v1/node/peers/nobody")).status, 404);
    assert.equal((await get("/eth/v1/node/peer_count")).body.data.connected, "1");
  });

  it("config/spec serves every config key as a string, far future as 2^64-1", async () => {
    const spec = (await get("/eth/v1/config/spec")).body.data;
    for (const key of Object.keys(minimalConfig)) {
      assert.equal(typeof spec[key], "string", `${key} is served as a string`);
    }
    assert.equal(spec.SLOTS_PER_EPOCH, String(tc.config.SLOTS_PER_EPOCH));
    assert.equal(spec.SHARD_COMMITTEE_PERIOD, "0");
    assert.equal(spec.FAR_FUTURE_EPOCH, "18446744073709551615");
    assert.equal(spec.GENESIS_FORK_VERSION, toHex(tc.config.GENESIS_FORK_VERSION));
    assert.match(spec.DEPOSIT_CONTRACT_ADDRESS, /^0x[0-9a-f]{40}$/);
    assert.equal(spec.DOMAIN_AGGREGATE_AND_PROOF, "0x06000000");
    const schedule = (await get("/eth/v1/config/fork_schedule")).body.data;
    assert.deepEqual(schedule, [{ previous_version: "0x00000001", current_version: "0x00000001", epoch: "0" }]);
    const deposit = (await get("/eth/v1/config/deposit_contract")).body.data;
    assert.equal(deposit.chain_id, String(tc.config.DEPOSIT_CHAIN_ID));
  });
});

describe("beacon: genesis and states", () => {
  it("genesis matches the chain's states", async () => {
    const g = (await get("/eth/v1/beacon/genesis")).body.data;
    const s = (await headState()).state;
    assert.equal(g.genesis_time, String(s.genesisTime));
    assert.equal(g.genesis_validators_root, toHex(s.genesisValidatorsRoot));
  });

  it("states by head, genesis, finalized, justified, slot and root", async () => {
    const head = await headState();
    const r = (await get("/eth/v1/beacon/states/head/root")).body;
    assert.equal(r.data.root, toHex(head.state.hashTreeRoot()));
    assert.equal(r.execution_optimistic, false);
    assert.equal(r.finalized, false);
    assert.equal((await get("/eth/v1/beacon/states/genesis/root")).body.data.root, toHex(tc.genesis.state.hashTreeRoot()));

    const fin = tc.chain.forkChoice.getFinalizedCheckpoint();
    assert.ok(fin.epoch >= 2, `finalized epoch ${fin.epoch}`);
    const finState = await tc.chain.regen.getCheckpointState(fin.epoch, fin.root, "test");
    const finalized = (await get("/eth/v1/beacon/states/finalized/root")).body;
    assert.equal(finalized.data.root, toHex(finState.state.hashTreeRoot()));
    assert.equal(finalized.finalized, true);
    const just = tc.chain.forkChoice.getJustifiedCheckpoint();
    const justState = await tc.chain.regen.getCheckpointState(just.epoch, just.root, "test");
    assert.equal((await get("/eth/v1/beacon/states/justified/root")).body.data.root, toHex(justState.state.hashTreeRoot()));

    // a recent slot: the post-state of that slot's block
    const slot = headSlot() - 3;
    const blockRoot = await tc.chain.query.getCanonicalBlockRootAtSlot(slot);
    const expected = tc.chain.forkChoice.getBlock(blockRoot!)!.stateRoot;
    assert.equal((await get(`/eth/v1/beacon/states/${slot}/root`)).body.data.root, expected);
    // the same state by its root, and the slot-5 state (before the finalized checkpoint) by slot and root
    assert.equal((await get(`/eth/v1/beacon/states/${expected}/fork`)).status, 200);
    const old = (await get("/eth/v1/beacon/states/5/root")).body;
    assert.equal(old.finalized, true);
    assert.equal((await get(`/eth/v1/beacon/states/${old.data.root}/root`)).body.data.root, old.data.root);
    assert.equal(head.state.stateRoots.get(5 % tc.config.SLOTS_PER_HISTORICAL_ROOT).length, 32);
    assert.equal(old.data.root, toHex(head.state.stateRoots.get(5 % tc.config.SLOTS_PER_HISTORICAL_ROOT)));

    assert.equal((await get(`/eth/v1/beacon/states/0x${"ab".repeat(32)}/root`)).status, 404);
    assert.equal((await get(`/eth/v1/beacon/states/${headSlot() + 100}/root`)).status, 404);
  });

  it("fork and finality checkpoints", async () => {
    const s = (await headState()).state;
    const fork = (await get("/eth/v1/beacon/states/head/fork")).body.data;
    assert.equal(fork.current_version, toHex(s.fork.currentVersion));
    assert.equal(fork.epoch, "0");
    const cps = (await get("/eth/v1/beacon/states/head/finality_checkpoints")).body.data;
    assert.deepEqual(cps.finalized, { epoch: String(s.finalizedCheckpoint.epoch), root: toHex(s.finalizedCheckpoint.root) });
    assert.deepEqual(cps.current_justified, { epoch: String(s.currentJustifiedCheckpoint.epoch), root: toHex(s.currentJustifiedCheckpoint.root) });
    assert.deepEqual(cps.previous_justified, { epoch: String(s.previousJustifiedCheckpoint.epoch), root: toHex(s.previousJustifiedCheckpoint.root) });
  });

  it("validators, one validator, balances, with id and status filters", async () => {
    const s = (await headState()).state;
    const all = (await get("/eth/v1/beacon/states/head/validators")).body.data;
    assert.equal(all.length, VALIDATORS);
    assert.ok(all.every((v: Json) => v.status === "active_ongoing"));
    assert.equal(all[7].validator.pubkey, toHex(s.validators.getReadonly(7).pubkey));
    assert.equal(all[7].validator.exit_epoch, "18446744073709551615");
    assert.equal(all[7].balance, String(s.balances.get(7)));

    const pk5 = toHex(s.validators.getReadonly(5).pubkey);
    const some = (await get(`/eth/v1/beacon/states/head/validators?id=0,1&id=${pk5}&id=1&id=9999`)).body.data;
    assert.deepEqual(some.map((v: Json) => v.index), ["0", "1", "5"]);
    assert.equal((await get("/eth/v1/beacon/states/head/validators?status=active")).body.data.length, VALIDATORS);
    assert.equal((await get("/eth/v1/beacon/states/head/validators?status=pending,exited_slashed")).body.data.length, 0);
    assert.equal((await get("/eth/v1/beacon/states/head/validators?status=sleeping")).status, 400);
    assert.equal((await get("/eth/v1/beacon/states/head/validators?id=abc")).status, 400);
    const posted = await post("/eth/v1/beacon/states/head/validators", { ids: ["3", pk5], statuses: ["active_ongoing"] });
    assert.deepEqual(posted.body.data.map((v: Json) => v.index), ["3", "5"]);

    const one = (await get(`/eth/v1/beacon/states/head/validators/${pk5}`)).body.data;
    assert.equal(one.index, "5");
    assert.equal((await get("/eth/v1/beacon/states/head/validators/9999")).status, 404);

    const balances = (await get("/eth/v1/beacon/states/head/validator_balances")).body.data;
    assert.equal(balances.length, VALIDATORS);
    assert.deepEqual(balances[3], { index: "3", balance: String(s.balances.get(3)) });
    assert.deepEqual((await get("/eth/v1/beacon/states/genesis/validator_balances?id=2")).body.data, [
      { index: "2", balance: String(tc.genesis.state.balances.get(2)) },
    ]);
  });

  it("committees of an epoch, filtered by slot and index", async () => {
    const head = await headState();
    const epoch = head.epochCtx.epoch;
    const perSlot = head.epochCtx.getCommitteeCountPerSlot(epoch);
    const data = (await get(`/eth/v1/beacon/states/head/committees?epoch=${epoch}`)).body.data;
    assert.equal(data.length, tc.config.SLOTS_PER_EPOCH * perSlot);
    const members = data.flatMap((cm: Json) => cm.validators.map(Number)).sort((a: number, b: number) => a - b);
    assert.deepEqual(members, Array.from({ length: VALIDATORS }, (_, i) => i), "every active validator once");
    const slot = computeStartSlotAtEpoch(tc.config, epoch) + 2;
    const one = (await get(`/eth/v1/beacon/states/head/committees?slot=${slot}&index=1`)).body.data;
    assert.deepEqual(one, [{ index: "1", slot: String(slot), validators: Array.from(head.epochCtx.getBeaconCommittee(slot, 1), String) }]);
    assert.equal((await get(`/eth/v1/beacon/states/head/committees?epoch=${epoch}&slot=1`)).status, 400);
    assert.equal((await get(`/eth/v1/beacon/states/head/committees?epoch=${epoch + 5}`)).status, 400);
    assert.equal((await get(`/eth/v1/beacon/states/head/committees?index=99`)).status, 400);
  });
});

describe("beacon: headers and blocks", () => {
  it("headers and blocks by id match the chain", async () => {
    const t = tc.config.types;
    const headers = (await get("/eth/v1/beacon/headers")).body.data;
    assert.equal(headers.length, 1);
    assert.equal(headers[0].root, tc.chain.headRoot);
    assert.equal(headers[0].canonical, true);
    assert.equal(toHex(t.BeaconBlockHeader.hashTreeRoot(t.BeaconBlockHeader.fromJson(headers[0].header.message))), tc.chain.headRoot);

    const slot = headSlot() - 2;
    const atSlot = (await get(`/eth/v1/beacon/headers?slot=${slot}`)).body.data;
    assert.equal(atSlot.length, 1);
    assert.equal(atSlot[0].root, await tc.chain.query.getCanonicalBlockRootAtSlot(slot));
    const children = (await get(`/eth/v1/beacon/headers?parent_root=${atSlot[0].root}`)).body.data;
    assert.equal(children[0].header.message.slot, String(slot + 1));
    assert.equal((await get(`/eth/v1/beacon/headers/${atSlot[0].root}`)).body.data.header.message.slot, String(slot));

    const block = (await get("/eth/v1/beacon/blocks/head")).body.data;
    const signed = t.SignedBeaconBlock.fromJson(block);
    assert.equal(toHex(t.BeaconBlock.hashTreeRoot(signed.message)), tc.chain.headRoot);
    const v2 = (await get(`/eth/v2/beacon/blocks/${slot}`)).body;
    assert.equal(v2.version, "phase0");
    assert.equal(v2.finalized, false);

    // SSZ when asked first, as newer clients do
    const ssz = await fetch(`${base}/eth/v2/beacon/blocks/head`, { headers: { accept: "application/octet-stream;q=1,application/json;q=0.9" } });
    assert.equal(ssz.headers.get("content-type"), "application/octet-stream");
    assert.equal(ssz.headers.get("eth-consensus-version"), "phase0");
    const bytes = new Uint8Array(await ssz.arrayBuffer());
    assert.equal(toHex(t.BeaconBlock.hashTreeRoot(t.SignedBeaconBlock.deserialize(bytes).message)), tc.chain.headRoot);

    const root = (await get(`/eth/v1/beacon/blocks/${slot}/root`)).body.data.root;
    assert.equal(root, atSlot[0].root);
    const stored = await tc.chain.query.getSignedBlock(root);
    const atts = (await get(`/eth/v1/beacon/blocks/${root}/attestations`)).body.data;
    assert.ok(atts.length > 0);
    assert.equal(atts.length, stored!.message.body.attestations.length);

    // genesis: the block implied by the genesis state, parent of block 1
    const genesisRoot = (await get("/eth/v1/beacon/blocks/genesis/root")).body.data.root;
    const first = (await get("/eth/v1/beacon/blocks/1")).body.data;
    assert.equal(first.message.parent_root, genesisRoot);
    assert.equal((await get("/eth/v1/beacon/headers/genesis")).body.data.root, genesisRoot);
    const finalizedBlock = (await get("/eth/v1/beacon/blocks/finalized/root")).body;
    assert.equal(finalizedBlock.data.root, tc.chain.forkChoice.getFinalizedCheckpoint().root);
    assert.equal(finalizedBlock.finalized, true);

    assert.equal((await get(`/eth/v1/beacon/blocks/${headSlot() + 50}`)).status, 404);
    assert.equal((await get(`/eth/v1/beacon/blocks/0x${"00".repeat(32)}`)).status, 404);
    assert.equal((await get("/eth/v1/beacon/blocks/0x1234")).status, 400);
  });
});

describe("debug", () => {
  it("states as SSZ and JSON, fork-choice heads", async () => {
    const t = tc.config.types;
    const root = (await get("/eth/v1/beacon/states/head/root")).body.data.root;
    const res = await fetch(`${base}/eth/v1/debug/beacon/states/head`, { headers: { accept: "application/octet-stream" } });
    assert.equal(res.status, 200);
    const state = t.BeaconState.deserialize(new Uint8Array(await res.arrayBuffer()));
    assert.equal(toHex(t.BeaconState.hashTreeRoot(state)), root);
    const json = (await get("/eth/v2/debug/beacon/states/head")).body;
    assert.equal(json.version, "phase0");
    assert.equal(json.data.slot, String(headSlot()));
    assert.equal(json.data.validators.length, VALIDATORS);
    assert.equal(toHex(t.BeaconState.hashTreeRoot(t.BeaconState.fromJson(json.data))), root);
    const heads = (await get("/eth/v1/debug/beacon/heads")).body.data;
    assert.deepEqual(heads, [{ root: tc.chain.headRoot, slot: String(headSlot()) }]);
  });
});

describe("validator duties", () => {
  it("proposer duties of the current epoch", async () => {
    const head = await headState();
    const epoch = head.epochCtx.epoch;
    const r = (await get(`/eth/v1/validator/duties/proposer/${epoch}`)).body;
    assert.equal(r.dependent_root, tc.chain.getDependentRoot(tc.chain.headRoot, epoch));
    assert.equal(r.data.length, tc.config.SLOTS_PER_EPOCH);
    r.data.forEach((d: Json, i: number) => {
      assert.equal(d.slot, String(computeStartSlotAtEpoch(tc.config, epoch) + i));
      assert.equal(d.validator_index, String(head.epochCtx.proposers[i]));
      assert.equal(d.pubkey, toHex(head.state.validators.getReadonly(Number(d.validator_index)).pubkey));
    });
    assert.equal((await get(`/eth/v1/validator/duties/proposer/${epoch + 2}`)).status, 400);
    assert.equal((await get("/eth/v1/validator/duties/proposer/x")).status, 400);
  });

  it("attester duties of the current and next epoch", async () => {
    const head = await headState();
    for (const epoch of [head.epochCtx.epoch, head.epochCtx.epoch + 1]) {
      const ids = Array.from({ length: VALIDATORS }, (_, i) => String(i));
      const r = (await post(`/eth/v1/validator/duties/attester/${epoch}`, ids)).body;
      assert.equal(r.dependent_root, tc.chain.getDependentRoot(tc.chain.headRoot, epoch - 1));
      assert.equal(r.data.length, VALIDATORS);
      for (const d of r.data) {
        assert.equal(computeEpochAtSlot(tc.config, Number(d.slot)), epoch);
        const committee = head.epochCtx.getBeaconCommittee(Number(d.slot), Number(d.committee_index));
        assert.equal(String(committee[Number(d.validator_committee_index)]), d.validator_index);
        assert.equal(d.committee_length, String(committee.length));
      }
    }
    assert.equal((await post(`/eth/v1/validator/duties/attester/${head.epochCtx.epoch}`, ["1", "x"])).status, 400);
    assert.equal((await post(`/eth/v1/validator/duties/attester/${head.epochCtx.epoch + 3}`, ["1"])).status, 400);
  });
});

/** Produces a block at the next slot through the API, signs it as its proposer and returns it with the pre-state. */
async function produceNext(graffiti?: string): Promise<{ block: BeaconBlock; pre: CachedBeaconState }> {
  const slot = headSlot() + 1;
  const pre = await tc.chain.regen.getPreState({ slot, parentRoot: fromHexString(tc.chain.headRoot) } as never, "test");
  const randao = tc.signer.randaoReveal(pre, pre.epochCtx.getBeaconProposer(slot), computeEpochAtSlot(tc.config, slot));
  const g = graffiti === undefined ? "" : `&graffiti=${encodeURIComponent(graffiti)}`;
  const r = await get(`/eth/v1/validator/blocks/${slot}?randao_reveal=${toHex(randao)}${g}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  // Lodestar 1.5's validator client reads this non-standard field
  assert.equal(r.body.block_value, "0");
  const v2 = await get(`/eth/v2/validator/blocks/${slot}?randao_reveal=${toHex(randao)}${g}`);
  assert.deepEqual(v2.body, { version: "phase0", data: r.body.data, block_value: "0" });
  return { block: tc.config.types.BeaconBlock.fromJson(r.body.data), pre };
}

function signedJson(pre: CachedBeaconState, block: BeaconBlock): Json {
  return tc.config.types.SignedBeaconBlock.toJson(tc.signer.signBlock(pre, block));
}

describe("block production and the event stream", () => {
  it("a produced block imports (JSON and SSZ) and the stream reports block and head", async () => {
    const t = tc.config.types;
    const events = await openEvents("/eth/v1/events?topics=head&topics=block,finalized_checkpoint,chain_reorg");
    const second = await openEvents("/eth/v1/events?topics=block");
    try {
      const { block, pre } = await produceNext("cairn test");
      assert.equal(Buffer.from(block.body.graffiti).toString("utf8").replace(/\0+$/, ""), "cairn test");
      assert.equal(toHex(block.parentRoot), tc.chain.headRoot);
      assert.equal((await post("/eth/v1/beacon/blocks", signedJson(pre, block))).status, 200);
      const root = toHex(t.BeaconBlock.hashTreeRoot(block));
      assert.equal(tc.chain.headRoot, root);
      const blockEvent = await events.next("block");
      assert.deepEqual(blockEvent, { slot: String(block.slot), block: root, execution_optimistic: false });
      const head = await events.next("head");
      assert.equal(head.block, root);
      assert.equal(head.state, toHex(block.stateRoot));
      assert.equal(head.current_duty_dependent_root, tc.chain.getDependentRoot(root, computeEpochAtSlot(tc.config, block.slot)));
      // every stream that asked for the topic gets it
      assert.deepEqual(await second.next("block"), blockEvent);
      second.close();
      // posting it again is fine
      assert.equal((await post("/eth/v1/beacon/blocks", signedJson(pre, block))).status, 200);

      // SSZ body, hex graffiti
      const next = await produceNext(`0x${"ca".repeat(4)}`);
      assert.deepEqual(Array.from(next.block.body.graffiti.subarray(0, 5)), [0xca, 0xca, 0xca, 0xca, 0]);
      const bytes = t.SignedBeaconBlock.serialize(tc.signer.signBlock(next.pre, next.block));
      const r = await post("/eth/v2/beacon/blocks", bytes, { "content-type": "application/octet-stream" });
      assert.equal(r.status, 200);
      assert.equal(tc.chain.headRoot, toHex(t.BeaconBlock.hashTreeRoot(next.block)));

      // the event names the API gives the chain's finalized and reorg events
      tc.chain.emitter.emit("finalized", { epoch: 7, root: `0x${"11".repeat(32)}`, stateRoot: `0x${"22".repeat(32)}` });
      assert.deepEqual(await events.next("finalized_checkpoint"), {
        block: `0x${"11".repeat(32)}`,
        state: `0x${"22".repeat(32)}`,
        epoch: "7",
        execution_optimistic: false,
      });
      const reorg = { slot: 9, depth: 2, oldHeadBlock: "0xa", newHeadBlock: "0xb", oldHeadState: "0xc", newHeadState: "0xd", epoch: 1 };
      tc.chain.emitter.emit("reorg", reorg);
      assert.deepEqual(await events.next("chain_reorg"), {
        slot: "9",
        depth: "2",
        old_head_block: "0xa",
        new_head_block: "0xb",
        old_head_state: "0xc",
        new_head_state: "0xd",
        epoch: "1",
        execution_optimistic: false,
      });
    } finally {
      events.close();
      second.close();
    }
  });

  it("refuses a bad randao reveal, a past slot and an invalid block", async () => {
    const slot = headSlot() + 1;
    const wrong = sign(interopSecretKey(63), new Uint8Array(32));
    const r = await get(`/eth/v1/validator/blocks/${slot}?randao_reveal=${toHex(wrong)}`);
    assert.equal(r.status, 400);
    assert.match(r.body.message, /randao_reveal/);
    const past = await get(`/eth/v1/validator/blocks/${headSlot()}?randao_reveal=${toHex(wrong)}`);
    assert.equal(past.status, 400);
    assert.equal((await get(`/eth/v1/validator/blocks/${slot}?randao_reveal=0x12`)).status, 400);
    assert.equal((await get(`/eth/v1/validator/blocks/${slot}`)).status, 400);
    assert.equal((await get(`/eth/v1/validator/blocks/${slot}?randao_reveal=${toHex(wrong)}&graffiti=${"x".repeat(33)}`)).status, 400);

    const { block, pre } = await produceNext();
    const bad = { ...block, stateRoot: new Uint8Array(32) };
    const res = await post("/eth/v1/beacon/blocks", signedJson(pre, bad));
    assert.equal(res.status, 400);
    assert.match(res.body.message, /state root/);
    assert.notEqual(tc.chain.headRoot, toHex(tc.config.types.BeaconBlock.hashTreeRoot(bad)));
  });
});

/** `members` of committee `index` at the head slot sign the head's attestation data, each alone. */
async function attestAtHead(index: number, members: number[]) {
  const slot = headSlot();
  const r = await get(`/eth/v1/validator/attestation_data?slot=${slot}&committee_index=${index}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const t = tc.config.types;
  const data: AttestationData = t.AttestationData.fromJson(r.body.data);
  const head = await headState();
  const committee = head.epochCtx.getBeaconCommittee(slot, index);
  const domain = getDomain(tc.config, head.state, tc.config.DOMAIN_BEACON_ATTESTER, data.target.epoch);
  const signingRoot = computeSigningRoot(tc.config, t.AttestationData, data, domain);
  const atts = members.map((position) => ({
    aggregationBits: BitArray.fromSingleBit(committee.length, position),
    data,
    signature: sign(interopSecretKey(committee[position]), signingRoot),
  }));
  return { data, committee, atts, dataRoot: toHex(t.AttestationData.hashTreeRoot(data)), signingRoot };
}

describe("attestations, aggregates and the pools", () => {
  it("attestation data, pool attestations, aggregate_attestation, aggregates, inclusion in the next block", async () => {
    const t = tc.config.types;
    const events = await openEvents("/eth/v1/events?topics=attestation");
    try {
      const head = await headState();
      const { data, committee, atts, dataRoot, signingRoot } = await attestAtHead(0, [0, 2]);
      assert.equal(toHex(data.beaconBlockRoot), tc.chain.headRoot);
      assert.deepEqual(t.Checkpoint.toJson(data.source), t.Checkpoint.toJson(head.state.currentJustifiedCheckpoint.toValue()));
      assert.equal(data.target.epoch, head.epochCtx.epoch);

      const queued = tc.chain.forkChoice.queuedAttestationCount;
      const r = await post("/eth/v1/beacon/pool/attestations", atts.map((a) => t.Attestation.toJson(a)));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const ev = await events.next("attestation");
      assert.equal(ev.data.beacon_block_root, tc.chain.headRoot);
      // fork choice took the votes (queued: they count from the next slot)
      assert.equal(tc.chain.forkChoice.queuedAttestationCount, queued + atts.length);

      const agg = (await get(`/eth/v1/validator/aggregate_attestation?attestation_data_root=${dataRoot}&slot=${data.slot}`)).body.data;
      const aggBits = t.Attestation.fromJson(agg).aggregationBits;
      assert.deepEqual(aggBits.getTrueBitIndexes(), [0, 2]);
      assert.equal(agg.signature, toHex(aggregateSignatures(atts.map((a) => a.signature))));
      assert.equal((await get(`/eth/v1/validator/aggregate_attestation?attestation_data_root=0x${"00".repeat(32)}&slot=${data.slot}`)).status, 404);
      assert.ok((await get(`/eth/v1/beacon/pool/attestations?slot=${data.slot}`)).body.data.length >= 1);
      assert.deepEqual((await get(`/eth/v1/beacon/pool/attestations?slot=${data.slot}&committee_index=99`)).body.data, []);

      // a wrong signature is reported by index; the valid one in the same request is accepted; a repeat is fine
      const forged = { ...atts[0], aggregationBits: BitArray.fromSingleBit(committee.length, 1), signature: atts[0].signature };
      const partial = await post("/eth/v1/beacon/pool/attestations", [t.Attestation.toJson(atts[1]), t.Attestation.toJson(forged)]);
      assert.equal(partial.status, 400);
      assert.deepEqual(partial.body.failures, [{ index: 1, message: "invalid signature" }]);
      const twoBits = { ...atts[0], aggregationBits: BitArray.fromBoolArray(Array.from({ length: committee.length }, (_, i) => i < 2)) };
      const multi = await post("/eth/v1/beacon/pool/attestations", [t.Attestation.toJson(twoBits)]);
      assert.equal(multi.status, 400);
      assert.match(multi.body.failures[0].message, /exactly one/);

      // liveness of the attesters
      const live = (await post(`/eth/v1/validator/liveness/${data.target.epoch}`, [String(committee[0]), String(committee[1])])).body.data;
      assert.deepEqual(live, [
        { index: String(committee[0]), is_live: true },
        { index: String(committee[1]), is_live: false },
      ]);
      // the route before the standard one, as Lodestar's validator client of 2020 to 2023 asks it
      const legacy = await get(`/eth/v1/validator/liveness?epoch=${data.target.epoch}&indices=${committee[0]}&indices=${committee[1]}`);
      assert.equal(legacy.status, 200);
      assert.deepEqual(legacy.body.data, [
        { index: String(committee[0]), epoch: String(data.target.epoch), is_live: true },
        { index: String(committee[1]), epoch: String(data.target.epoch), is_live: false },
      ]);
      assert.equal((await get(`/eth/v1/validator/liveness?epoch=${data.target.epoch}&indices=x`)).status, 400);

      // an aggregate from committee member 3 (every member aggregates in committees this small)
      const aggregatorIndex = committee[3];
      const sk = interopSecretKey(aggregatorIndex);
      const epoch = data.target.epoch;
      const selectionProof = sign(sk, computeSigningRoot(tc.config, primitive.Slot, data.slot, getDomain(tc.config, head.state, tc.config.DOMAIN_SELECTION_PROOF, epoch)));
      const aggregate = {
        aggregationBits: BitArray.fromBoolArray(Array.from({ length: committee.length }, (_, i) => i === 1 || i === 3)),
        data,
        signature: aggregateSignatures([1, 3].map((p) => sign(interopSecretKey(committee[p]), signingRoot))),
      };
      const message = { aggregatorIndex, aggregate, selectionProof };
      const signature = sign(sk, computeSigningRoot(tc.config, t.AggregateAndProof, message, getDomain(tc.config, head.state, tc.config.DOMAIN_AGGREGATE_AND_PROOF, epoch)));
      const signedAgg = t.SignedAggregateAndProof.toJson({ message, signature });
      assert.equal((await post("/eth/v1/validator/aggregate_and_proofs", [signedAgg])).status, 200);
      const badAgg = t.SignedAggregateAndProof.toJson({ message, signature: selectionProof });
      const badRes = await post("/eth/v1/validator/aggregate_and_proofs", [badAgg]);
      // the same aggregator's second aggregate of the epoch is ignored, not an error
      assert.equal(badRes.status, 200);

      assert.equal((await post("/eth/v1/validator/beacon_committee_subscriptions", [{ validator_index: "1", committee_index: "0", committees_at_slot: "2", slot: String(data.slot), is_aggregator: true }])).status, 200);
      assert.equal((await post("/eth/v1/validator/beacon_committee_subscriptions", [{ validator_index: "1" }])).status, 400);

      // the next block carries these votes, merged into one attestation
      const { block, pre } = await produceNext();
      const included = block.body.attestations.filter((a) => toHex(t.AttestationData.hashTreeRoot(a.data)) === dataRoot);
      assert.equal(included.length, 1);
      assert.deepEqual(included[0].aggregationBits.getTrueBitIndexes(), [0, 1, 2, 3]);
      assert.equal((await post("/eth/v1/beacon/blocks", signedJson(pre, block))).status, 200);
      // on chain now: the next block does not repeat them
      const again = await produceNext();
      assert.equal(again.block.body.attestations.filter((a) => toHex(t.AttestationData.hashTreeRoot(a.data)) === dataRoot).length, 0);
    } finally {
      events.close();
    }
  });

  it("rejects attestations for unknown blocks, wrong targets and committees", async () => {
    const t = tc.config.types;
    const { atts } = await attestAtHead(1, [0]);
    const unknownBlock = { ...atts[0], data: { ...atts[0].data, beaconBlockRoot: new Uint8Array(32).fill(7) } };
    const wrongTarget = { ...atts[0], data: { ...atts[0].data, target: { ...atts[0].data.target, epoch: 0 } } };
    const wrongIndex = { ...atts[0], data: { ...atts[0].data, index: 9 } };
    const r = await post("/eth/v1/beacon/pool/attestations", [unknownBlock, wrongTarget, wrongIndex, atts[0]].map((a) => t.Attestation.toJson(a)));
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.failures.map((f: Json) => f.index), [0, 1, 2]);
    assert.match(r.body.failures[0].message, /unknown beacon_block_root/);
    assert.match(r.body.failures[1].message, /target epoch/);
    assert.match(r.body.failures[2].message, /committee index/);
  });

  it("voluntary exits and slashings: checked, pooled, announced, included, applied", async () => {
    const t = tc.config.types;
    const c = tc.config;
    const events = await openEvents("/eth/v1/events?topics=voluntary_exit");
    try {
      const head = await headState();
      const epoch = head.epochCtx.epoch;
      const exitMessage = { epoch, validatorIndex: 10 };
      const exitDomain = getDomain(c, head.state, c.DOMAIN_VOLUNTARY_EXIT, epoch);
      const exit = { message: exitMessage, signature: sign(interopSecretKey(10), computeSigningRoot(c, t.VoluntaryExit, exitMessage, exitDomain)) };
      const badExit = { message: { epoch, validatorIndex: 11 }, signature: exit.signature };
      const bad = await post("/eth/v1/beacon/pool/voluntary_exits", t.SignedVoluntaryExit.toJson(badExit));
      assert.equal(bad.status, 400);
      assert.match(bad.body.message, /signature/);
      assert.equal((await post("/eth/v1/beacon/pool/voluntary_exits", t.SignedVoluntaryExit.toJson(exit))).status, 200);
      assert.deepEqual(await events.next("voluntary_exit"), t.SignedVoluntaryExit.toJson(exit));
      assert.equal((await get("/eth/v1/beacon/pool/voluntary_exits")).body.data.length, 1);

      // proposer 20 signs two different headers for one slot
      const headerDomain = getDomain(c, head.state, c.DOMAIN_BEACON_PROPOSER, 0);
      const header = (bodyByte: number) => ({ slot: 3n, proposerIndex: 20, parentRoot: new Uint8Array(32), stateRoot: new Uint8Array(32), bodyRoot: new Uint8Array(32).fill(bodyByte) });
      const signedHeader = (bodyByte: number) => ({
        message: header(bodyByte),
        signature: sign(interopSecretKey(20), computeSigningRoot(c, t.SlashingBeaconBlockHeader, header(bodyByte), headerDomain)),
      });
      const proposerSlashing = { signedHeader1: signedHeader(1), signedHeader2: signedHeader(2) };
      assert.equal((await post("/eth/v1/beacon/pool/proposer_slashings", t.ProposerSlashing.toJson(proposerSlashing))).status, 200);
      const sameHeaders = { signedHeader1: signedHeader(1), signedHeader2: signedHeader(1) };
      assert.equal((await post("/eth/v1/beacon/pool/proposer_slashings", t.ProposerSlashing.toJson(sameHeaders))).status, 400);

      // validators 30 and 31 vote twice in one target epoch
      const vote = (blockByte: number): SlashingAttestationData => ({
        slot: 9n,
        index: 0n,
        beaconBlockRoot: new Uint8Array(32).fill(blockByte),
        source: { epoch: 0n, root: new Uint8Array(32) },
        target: { epoch: 1n, root: new Uint8Array(32) },
      });
      const indexed = (blockByte: number) => {
        const d = vote(blockByte);
        const root = computeSigningRoot(c, t.SlashingAttestationData, d, getDomain(c, head.state, c.DOMAIN_BEACON_ATTESTER, 1));
        return { attestingIndices: [30, 31], data: d, signature: aggregateSignatures([30, 31].map((v) => sign(interopSecretKey(v), root))) };
      };
      const attesterSlashing = { attestation1: indexed(1), attestation2: indexed(2) };
      assert.equal((await post("/eth/v1/beacon/pool/attester_slashings", t.AttesterSlashing.toJson(attesterSlashing))).status, 200);
      assert.equal((await get("/eth/v1/beacon/pool/attester_slashings")).body.data.length, 1);
      assert.equal((await get("/eth/v1/beacon/pool/proposer_slashings")).body.data[0].signed_header_1.message.proposer_index, "20");

      const { block, pre } = await produceNext();
      assert.equal(block.body.voluntaryExits.length, 1);
      assert.equal(block.body.proposerSlashings.length, 1);
      assert.equal(block.body.attesterSlashings.length, 1);
      assert.equal((await post("/eth/v1/beacon/blocks", signedJson(pre, block))).status, 200);
      const after = (await headState()).state;
      assert.notEqual(after.validators.getReadonly(10).exitEpoch, FAR_FUTURE_EPOCH);
      for (const v of [20, 30, 31]) assert.equal(after.validators.getReadonly(v).slashed, true, `validator ${v} slashed`);
      const statuses = (await get("/eth/v1/beacon/states/head/validators?id=10,20")).body.data.map((v: Json) => v.status);
      assert.deepEqual(statuses, ["active_exiting", "active_slashed"]);
    } finally {
      events.close();
    }
  });
});

describe("bad requests", () => {
  it("400 names the parameter, 404 for unknown things, 500 for failures; the server keeps answering", async () => {
    const bad = await post("/eth/v1/beacon/pool/attestations", "[{not json", { "content-type": "application/json" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 400);
    assert.match(bad.body.message, /JSON/);
    const missing = await post("/eth/v1/beacon/pool/attestations", [{ aggregation_bits: "0x01" }]);
    assert.equal(missing.status, 400);
    assert.match(missing.body.message, /body\[0\]\.data: missing/);
    const badHex = await post("/eth/v1/beacon/pool/voluntary_exits", { message: { epoch: "1", validator_index: "1" }, signature: "0xzz" });
    assert.equal(badHex.status, 400);
    assert.match(badHex.body.message, /body\.signature/);
    const badNumber = await post("/eth/v1/beacon/pool/voluntary_exits", { message: { epoch: "-1", validator_index: "1" }, signature: `0x${"00".repeat(96)}` });
    assert.match(badNumber.body.message, /body\.message\.epoch/);
    assert.equal((await post("/eth/v1/beacon/blocks", new Uint8Array([1, 2, 3]), { "content-type": "application/octet-stream" })).status, 400);
    assert.equal((await post("/eth/v1/beacon/blocks", {})).status, 400);

    const slot = await get("/eth/v1/validator/attestation_data?slot=abc&committee_index=0");
    assert.equal(slot.status, 400);
    assert.match(slot.body.message, /slot/);
    assert.equal((await get("/eth/v1/validator/attestation_data?slot=1")).status, 400);
    assert.match((await get("/eth/v1/beacon/states/99999999999999999999/root")).body.message, /state_id/);
    assert.equal((await get("/eth/v1/beacon/states/head/validators/0xabc")).status, 400);
    assert.equal((await get("/eth/v1/events?topics=weather")).status, 400);
    assert.equal((await get("/eth/v1/events")).status, 400);
    const none = await get("/eth/v1/no/such/thing");
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 404);

    peersFail = true;
    const failing = await get("/eth/v1/node/peers");
    peersFail = false;
    assert.equal(failing.status, 500);
    assert.match(failing.body.message, /peer manager exploded/);

    assert.equal((await get("/eth/v1/node/version")).status, 200);
    assert.equal((await get("/eth/v1/beacon/states/head/root")).status, 200);
  });
});

describe("eth1 in block production", () => {
  it("the block carries the eth1 follower's vote; a follower that cannot serve is a 503 naming eth1", async () => {
    const vote = { depositRoot: new Uint8Array(32).fill(7), depositCount: (await headState()).state.eth1Data.depositCount, blockHash: new Uint8Array(32).fill(9) };
    let behind = false;
    const eth1 = {
      getEth1DataAndDeposits: () => {
        if (behind) throw new Error("the eth1 follower is behind");
        return { eth1Data: vote, deposits: [] };
      },
    };
    const other = await createBeaconApiServer({ chain: tc.chain, eth1, node: { version: "x", depositContract: "0xABCDEF0123456789ABCDEF0123456789ABCDEF01" } });
    try {
      const slot = headSlot() + 1;
      const pre = await tc.chain.regen.getPreState({ slot, parentRoot: fromHexString(tc.chain.headRoot) } as never, "test");
      const randao = tc.signer.randaoReveal(pre, pre.epochCtx.getBeaconProposer(slot), computeEpochAtSlot(tc.config, slot));
      const url = `/eth/v1/validator/blocks/${slot}?randao_reveal=${toHex(randao)}`;
      const ok = await other.app.inject({ method: "GET", url });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.equal(ok.json().data.body.eth1_data.block_hash, toHex(vote.blockHash));
      behind = true;
      const refused = await other.app.inject({ method: "GET", url });
      assert.equal(refused.statusCode, 503);
      assert.match(refused.json().message, /^eth1: the eth1 follower is behind$/);
      const contract = await other.app.inject({ method: "GET", url: "/eth/v1/config/deposit_contract" });
      assert.equal(contract.json().data.address, "0xabcdef0123456789abcdef0123456789abcdef01");
    } finally {
      await other.close();
    }
    // the main server has no eth1 follower: its blocks repeat the head state's eth1_data
    const { block } = await produceNext();
    assert.equal(toHex(block.body.eth1Data.blockHash), toHex((await headState()).state.eth1Data.blockHash));
  });
});

describe("server lifecycle", () => {
  it("CORS preflight; close() ends open event streams and stops listening to the chain", async () => {
    const other = await createBeaconApiServer({ chain: tc.chain, corsOrigin: "*" });
    const preflight = await other.app.inject({ method: "OPTIONS", url: "/eth/v1/beacon/genesis" });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], "*");
    const { port } = await other.listen("127.0.0.1", 0);
    const res = await fetch(`http://127.0.0.1:${port}/eth/v1/events?topics=head`);
    assert.equal(res.status, 200);
    const listeners = tc.chain.emitter.listenerCount("head");
    await other.close();
    assert.equal(tc.chain.emitter.listenerCount("head"), listeners - 1);
    // the stream ends: reading runs to completion
    const text = await res.text();
    assert.match(text, /^: connected/);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/eth/v1/node/version`));
  });
});
