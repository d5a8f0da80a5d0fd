// Doppelganger protection: two validator clients holding the same key on one chain (a real in-process chain behind
// the Beacon API server, on a fast shared clock). The first signs as usual; the second watches its key through
// POST /eth/v1/validator/liveness, sees it live, signs nothing and stops itself with a DoppelgangerError. A beacon
// node without the liveness endpoint is refused unless told to proceed.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBeaconApiServer, type BeaconApiServer } from "../../src/api/server/index.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { DoppelgangerError, DoppelgangerWatch } from "../../src/validator/doppelganger.js";
import { nullLogger } from "../../src/util/logger.js";
import { SlashingProtection } from "../../src/validator/slashingProtection/index.js";
import { Validator, type SlashingProtectionHandle } from "../../src/validator/validator.js";
import { buildApiTestChain, type ApiTestChain } from "../utils/apiServerChain.js";
import { FakeBeaconNode } from "../utils/fakeBeaconNode.js";
import { testLogger } from "../utils/vcSetup.js";

const VALIDATORS = 16;
const SECONDS_PER_SLOT = 0.5;
const START_SLOT = 12;

let tc: ApiTestChain;
let server: BeaconApiServer;
let url: string;
let dir: string;
let timer: NodeJS.Timeout;
let t0 = 0;

/** The shared fast clock: the chain's genesis time, START_SLOT slots in when the file starts. */
function now(): number {
  return (tc.genesis.state.genesisTime + START_SLOT * SECONDS_PER_SLOT) * 1000 + (Date.now() - t0);
}
function clockSlot(): number {
  return Math.floor((now() / 1000 - tc.genesis.state.genesisTime) / SECONDS_PER_SLOT);
}

/** Slashing protection that counts what it is asked to record: every block and attestation signature passes here. */
async function countingStore(sub: string, counter: { calls: number }, gvr: Uint8Array): Promise<SlashingProtectionHandle> {
  const sp = await SlashingProtection.open(join(dir, sub), { genesisValidatorsRoot: gvr });
  return {
    checkAndInsertBlockProposal: (...a) => (counter.calls++, sp.checkAndInsertBlockProposal(...a)),
    checkAndInsertAttestation: (...a) => (counter.calls++, sp.checkAndInsertAttestation(...a)),
    close: () => sp.close(),
  };
}

function start(keys: number[], sub: string, counter: { calls: number }, doppelganger: boolean, nodeUrl = url): Promise<Validator> {
  return Validator.create({
    config: tc.config,
    beaconNodes: [nodeUrl],
    beaconNodesOptions: { timeoutMs: 2000, healthCheckIntervalMs: 200, eventsReconnectMs: 100 },
    secretKeys: keys.map((i) => interopSecretKeyBytes(i)),
    openSlashingProtection: (gvr) => countingStore(sub, counter, gvr),
    now,
    secondsPerSlot: SECONDS_PER_SLOT,
    logger: testLogger(),
    genesisRetryMs: 100,
    doppelganger: doppelganger ? { unsupported: "refuse" } : undefined,
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "cairn-doppelganger-"));
  tc = await buildApiTestChain({ validators: VALIDATORS, slots: 8 });
  t0 = Date.now();
  server = await createBeaconApiServer({ chain: tc.chain, clock: { currentSlot: clockSlot } });
  url = `http://127.0.0.1:${(await server.listen("127.0.0.1", 0)).port}`;
  let last = -1;
  // the chain follows the shared clock (fork choice applies attestations once their slot has passed)
  timer = setInterval(() => {
    const s = clockSlot();
    if (s !== last) void tc.chain.onClockSlot((last = s));
  }, 20);
});

after(async () => {
  clearInterval(timer);
  await server?.close();
  await tc?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("doppelganger protection", () => {
  it("a second client with a key the first one uses signs nothing and stops, naming the key", async () => {
    const first = { calls: 0 };
    const second = { calls: 0 };
    const vc1 = await start(Array.from({ length: VALIDATORS }, (_, i) => i), "vc1", first, false);
    vc1.start();
    const vc2 = await start([5], "vc2", second, true);
    vc2.start();
    try {
      const err = await vc2.stopped;
      assert.ok(err instanceof DoppelgangerError);
      assert.deepEqual(
        err.live.map((l) => l.index),
        [5],
      );
      assert.match(err.message, /validator 5 \(0x[0-9a-f]{96}\) was live in epoch \d+/);
      // the watch starts after the epoch the client started in (a restart may have signed in it)
      assert.ok(err.live[0].epoch > Math.floor(START_SLOT / tc.config.SLOTS_PER_EPOCH));
      assert.equal(second.calls, 0, "the second client asked slashing protection to record a signature");
      assert.ok(first.calls > 0, "the first client signed");
      await assert.rejects(vc2.signer.signRandaoReveal(vc2.signer.pubkeys[0], clockSlot()), /doppelganger/);
    } finally {
      await vc2.close();
      await vc1.close();
    }
  });

  it("in the genesis epoch nothing is watched: the client signs at once (as Lighthouse does)", async () => {
    const t1 = Date.now();
    const vc = await Validator.create({
      config: tc.config,
      beaconNodes: [url],
      secretKeys: [interopSecretKeyBytes(3)],
      openSlashingProtection: (gvr) => SlashingProtection.open(join(dir, "vc-genesis"), { genesisValidatorsRoot: gvr }),
      // slot 2 of epoch 0 on this chain's clock
      now: () => (tc.genesis.state.genesisTime + 2 * SECONDS_PER_SLOT) * 1000 + (Date.now() - t1),
      secondsPerSlot: SECONDS_PER_SLOT,
      logger: testLogger(),
      doppelganger: { unsupported: "refuse" },
    });
    vc.start();
    try {
      assert.equal(vc.signer.isHeld, false);
      // the same client started in epoch 1 holds its keys (the first test shows what the watch then does)
      const later = await start([4], "vc-later", { calls: 0 }, true);
      later.start();
      assert.equal(later.signer.isHeld, true);
      await later.close();
    } finally {
      await vc.close();
    }
  });

  it("a beacon node without the liveness endpoint is refused, unless told to proceed", async () => {
    const node = await FakeBeaconNode.start({
      config: tc.config,
      validatorCount: VALIDATORS,
      genesisTime: Math.floor(Date.now() / 1000) - 100,
      secondsPerSlot: 1,
    });
    try {
      await assert.rejects(start([1], "vc3", { calls: 0 }, true, node.url), /does not serve \/eth\/v1\/validator\/liveness/);
      const vc = await Validator.create({
        config: tc.config,
        beaconNodes: [node.url],
        secretKeys: [interopSecretKeyBytes(1)],
        openSlashingProtection: (gvr) => SlashingProtection.open(join(dir, "vc4"), { genesisValidatorsRoot: gvr }),
        doppelganger: { unsupported: "proceed" },
      });
      await vc.close();
    } finally {
      await node.close();
    }
  });
});

describe("the doppelganger watch, step by step", () => {
  /** A watch over validators 7 and 9 started in epoch 10 (8-slot epochs), with liveness answers from `answer`. */
  function watch(answer: (epoch: number) => number[] | Error) {
    const asked: number[] = [];
    const api = {
      getLiveness: async (epoch: number, indices: number[]) => {
        asked.push(epoch);
        const live = answer(epoch);
        if (live instanceof Error) throw live;
        return indices.map((index) => ({ index, isLive: live.includes(index) }));
      },
    };
    const ctx = { api, clock: { epochAtSlot: (s: number) => Math.floor(s / 8) }, logger: nullLogger, signal: new AbortController().signal };
    const indices = { indices: [7, 9], pubkeyOf: (i: number) => new Uint8Array(48).fill(i) };
    return { w: new DoppelgangerWatch(ctx as never, indices as never, 10), asked };
  }
  const slot = (epoch: number, i = 0) => epoch * 8 + i;

  it("holds through epochs 11 and 12 and releases at 13, having asked about each after it ended", async () => {
    const { w, asked } = watch(() => []);
    assert.equal(await w.check(slot(10, 3)), false);
    assert.deepEqual(asked, [], "the starting epoch is not watched");
    assert.equal(await w.check(slot(11, 1)), false);
    assert.equal(await w.check(slot(12, 0)), false);
    assert.equal(await w.check(slot(13, 0)), true);
    assert.ok(w.released);
    assert.deepEqual(asked, [11, 11, 12, 12]);
  });

  it("a key live in a watched epoch is named, even when the node learns of it only after the epoch", async () => {
    let asks12 = 0;
    const { w } = watch((e) => (e === 12 && ++asks12 > 1 ? [9] : []));
    assert.equal(await w.check(slot(12, 7)), false);
    await assert.rejects(w.check(slot(13, 0)), (e: Error) => e instanceof DoppelgangerError && e.live.length === 1 && e.live[0]!.index === 9 && e.live[0]!.epoch === 12);
    assert.equal(w.released, false);
  });

  it("an epoch that could not be asked about in time restarts the watch", async () => {
    let down = true;
    const { w, asked } = watch(() => (down ? new Error("node down") : []));
    assert.equal(await w.check(slot(11, 0)), false);
    assert.equal(await w.check(slot(13, 0)), false); // 11 is now too old: watch 13 and 14 instead
    down = false;
    assert.equal(await w.check(slot(14, 0)), false);
    assert.equal(await w.check(slot(15, 0)), true);
    assert.deepEqual(asked, [11, 11, 13, 14, 14]);
  });
});
