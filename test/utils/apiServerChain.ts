// A small real chain for the Beacon API tests: interop genesis (minimal preset), a LevelDB store in a temp dir,
// main-thread BLS, and a few epochs of signed blocks carrying every validator's attestations, so it justifies
// and finalizes. SHARD_COMMITTEE_PERIOD is 0 so voluntary exits are valid at once.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHexString } from "@chainsafe/ssz";
import type { BlsVerifier } from "../../src/chain/bls/interface.js";
import { MainThreadBlsVerifier } from "../../src/chain/bls/mainThread.js";
import { BeaconChain, type ChainOptions } from "../../src/chain/chain.js";
import { InteropSigner } from "../../src/chain/harness/signer.js";
import { produceBlock } from "../../src/chain/produceBlock.js";
import { createBeaconConfig, type BeaconConfig } from "../../src/config/index.js";
import { BeaconDb } from "../../src/db/index.js";
import { minimalConfig } from "../../src/params/index.js";
import {
  createCachedBeaconState,
  createInteropGenesisStateFast,
  processSlots,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { computeEpochAtSlot } from "../../src/state-transition/util/epoch.js";
import type { Attestation } from "../../src/types/index.js";

export interface ApiTestChain {
  config: BeaconConfig;
  chain: BeaconChain;
  db: BeaconDb;
  signer: InteropSigner;
  genesis: CachedBeaconState;
  close(): Promise<void>;
}

export function apiTestConfig(): BeaconConfig {
  return createBeaconConfig({ ...minimalConfig, SHARD_COMMITTEE_PERIOD: 0 });
}

/** Imports blocks at slots 1..`slots`, each with the previous slot's attestations by every validator. */
export async function buildApiTestChain(opts: { validators: number; slots: number; bls?: BlsVerifier; chain?: Partial<ChainOptions> }): Promise<ApiTestChain> {
  const config = apiTestConfig();
  const datadir = mkdtempSync(join(tmpdir(), "cairn-api-"));
  const db = await BeaconDb.open(datadir, { config });
  const bls = opts.bls ?? new MainThreadBlsVerifier();
  const genesis = createCachedBeaconState(config, createInteropGenesisStateFast(config, opts.validators, config.MIN_GENESIS_TIME, { signDeposits: false }));
  const chain = await BeaconChain.fromAnchorState(config, db, bls, genesis.clone(true), opts.chain);
  const signer = new InteropSigner(config, true);
  let pool: Attestation[] = [];
  for (let slot = 1; slot <= opts.slots; slot++) {
    const head = await chain.getHeadState("test");
    const attSlot = slot - 1;
    if (attSlot >= 1) {
      let view = head;
      if (view.state.slot < attSlot) {
        view = head.clone(true);
        processSlots(view, attSlot);
      }
      const atts = signer.attest(view, fromHexString(chain.headRoot), attSlot, () => true);
      for (const a of atts) chain.onAttestation(a, view);
      pool.push(...atts);
    }
    const pre = await chain.regen.getPreState({ slot, parentRoot: fromHexString(chain.headRoot) } as never, "test");
    const randaoReveal = signer.randaoReveal(pre, pre.epochCtx.getBeaconProposer(slot), computeEpochAtSlot(config, slot));
    const { block } = produceBlock(pre, { randaoReveal, attestations: pool });
    const included = new Set(block.body.attestations);
    pool = pool.filter((a) => !included.has(a) && a.data.slot + config.SLOTS_PER_EPOCH > slot);
    await chain.processBlock({ signed: signer.signBlock(pre, block), source: "test" });
  }
  await chain.settle();
  return {
    config,
    chain,
    db,
    signer,
    genesis,
    async close() {
      await chain.close();
      await db.close();
      await bls.close();
      rmSync(datadir, { recursive: true, force: true });
    },
  };
}
