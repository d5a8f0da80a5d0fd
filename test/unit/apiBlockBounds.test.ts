// POST /eth/v1/beacon/blocks with blocks from beyond the clock, over real HTTP: each is refused with a 400 that
// says why, before any state is advanced towards the slot the block claims, and the chain goes on producing.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { createBeaconApiServer, type BeaconApiServer } from "../../src/api/server/index.js";
import { makeSignedEmptyBlock } from "../utils/chain.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";

let tc: ApiTestChain;
let server: BeaconApiServer;
let base: string;
let clockSlot = 4;

before(async () => {
  let config: ApiTestChain["config"] | null = null;
  const now = () => (config ? (tc.genesis.state.genesisTime + clockSlot * config.SECONDS_PER_SLOT) * 1000 : Date.now());
  tc = await buildApiTestChain({ validators: 64, slots: 3, chain: { now } });
  config = tc.config;
  server = await createBeaconApiServer({ chain: tc.chain, node: { version: "Cairn/test" } });
  const { port } = await server.listen("127.0.0.1", 0);
  base = `http://127.0.0.1:${port}`;
});

after(async () => {
  await server?.close();
  await tc?.close();
});

async function postSsz(bytes: Uint8Array): Promise<{ status: number; body: { code?: number; message?: string } | null }> {
  const res = await fetch(`${base}/eth/v1/beacon/blocks`, { method: "POST", headers: { "content-type": "application/octet-stream" }, body: bytes });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

it("blocks at slot 2^64-1, clock+20,000 and clock+2 are refused with a 400, with no state work, and the chain goes on", async () => {
  const t = tc.config.types;
  const head = (await tc.chain.query.getSignedBlock(tc.chain.headRoot))!;
  const encoded = t.SignedBeaconBlock.serialize(head);
  // SignedBeaconBlock: a 4-byte offset to the message, the 96-byte signature, then the message, whose first field is the slot
  const messageOffset = new DataView(encoded.buffer, encoded.byteOffset).getUint32(0, true);
  const atSlot = (slot: bigint): Uint8Array => {
    const bytes = encoded.slice();
    new DataView(bytes.buffer).setBigUint64(messageOffset, slot, true);
    return bytes;
  };
  const requestsBefore = tc.chain.regen.counters.requests;
  const replayedBefore = tc.chain.regen.counters.blocksReplayed;
  for (const slot of [2n ** 64n - 1n, BigInt(clockSlot + 20_000), BigInt(clockSlot + 2)]) {
    const started = performance.now();
    const r = await postSsz(atSlot(slot));
    const ms = performance.now() - started;
    assert.equal(r.status, 400, `slot ${slot}: ${JSON.stringify(r.body)}`);
    assert.match(r.body?.message ?? "", /FUTURE_SLOT: block slot \d+|Infinity/);
    // reported, not asserted: timings are the benchmark's business
    console.log(`# slot ${slot}: refused in ${ms.toFixed(1)} ms`);
  }
  assert.equal(tc.chain.regen.counters.requests, requestsBefore, "no state was asked for");
  assert.equal(tc.chain.regen.counters.blocksReplayed, replayedBefore);

  // the chain keeps producing: the next slot's block, posted the same way, is imported
  const next = makeSignedEmptyBlock(await tc.chain.getHeadState("test"), 4);
  const ok = await postSsz(t.SignedBeaconBlock.serialize(next));
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(tc.chain.query.headSlot, 4);
});
