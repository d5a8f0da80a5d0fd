// The sync benchmark's chain: from an interop genesis of N validators (mainnet preset, the v1.0 constants of the
// rest of the bench), a block at every slot for E epochs, each carrying the previous slot's attestations as a real
// network packs them: one aggregate per committee, every bit set. Every signature is real (RANDAO reveal, proposer
// signature, and each aggregate as one signature by the sum of the committee's secret keys, interopAggregate.ts);
// the state transition runs without signature checks to fill in the state roots.
//
// Cached in ~/.cache/cairn/bench/sync-v<version>-<N>-<E>e/: genesis.ssz, blocks.bin (each SignedBeaconBlock's SSZ
// after its 4-byte little-endian length), sets.bin (the signature sets of the last epoch's blocks, pubkeys already
// aggregated: what the BLS bound is measured on) and meta.json.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BitArray } from "@chainsafe/ssz";
import { produceBlock } from "../../src/chain/produceBlock.js";
import { secretKeyFromBytes, sign, signatureSetPubkey } from "../../src/crypto/bls.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";
import {
  createCachedBeaconState,
  createInteropGenesisStateFast,
  getBlockSignatureSets,
  processSlots,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../src/state-transition/util/epoch.js";
import { primitive, type Attestation, type AttestationData } from "../../src/types/index.js";
import { benchCacheDir } from "./files.js";
import { benchConfig } from "./fixtures.js";
import { InteropAggregateSigner } from "./interopAggregate.js";
import { getInteropPubkeys } from "./pubkeys.js";

/** Bump when the generated chain changes, so cached chains are rebuilt. */
export const SYNC_CHAIN_VERSION = 1;
/** One set on disk: uncompressed aggregated pubkey (96 B), signing root (32 B), compressed signature (96 B). */
const SET_BYTES = 96 + 32 + 96;

export interface SyncChainMeta {
  version: number;
  validators: number;
  epochs: number;
  genesisTime: number;
  /** blocks, one per slot 1..blocks */
  blocks: number;
  committeesPerSlot: number;
  attestations: number;
  /** every signature set of every block, as the import verifies them (proposer, RANDAO, one per attestation) */
  signatureSets: number;
  /** how many sets each block of sets.bin has, in order */
  sampleSetsPerBlock: number[];
  headRoot: string;
  generationSeconds: number;
}

export interface SyncChain {
  meta: SyncChainMeta;
  genesis: Uint8Array;
  blocks: Uint8Array[];
}

export function syncChainDir(validators: number, epochs: number): string {
  return join(benchCacheDir(), `sync-v${SYNC_CHAIN_VERSION}-${validators}-${epochs}e`);
}

/** Long past, so that every slot of the chain is: the nodes' clocks are set to just after its last slot. */
export function syncGenesisTime(): number {
  const c = benchConfig();
  return c.MIN_GENESIS_TIME + c.GENESIS_DELAY;
}

/** The attestations of `slot`, one per committee with every member, for the block `headRoot` whose post-state is `state`. */
function attest(state: CachedBeaconState, headRoot: Uint8Array, slot: number, signer: InteropAggregateSigner): Attestation[] {
  const c = state.config;
  const epoch = computeEpochAtSlot(c, slot);
  const epochStart = computeStartSlotAtEpoch(c, epoch);
  const targetRoot = epochStart >= state.state.slot ? headRoot : state.state.blockRoots.get(epochStart % c.SLOTS_PER_HISTORICAL_ROOT);
  const source = state.state.currentJustifiedCheckpoint.toValue();
  const domain = getDomain(c, state.state, c.DOMAIN_BEACON_ATTESTER, epoch);
  const out: Attestation[] = [];
  const count = state.epochCtx.getCommitteeCountPerSlot(epoch);
  for (let index = 0; index < count; index++) {
    const committee = state.epochCtx.getBeaconCommittee(slot, index);
    const data: AttestationData = { slot, index, beaconBlockRoot: headRoot, source, target: { epoch, root: targetRoot } };
    const bits = BitArray.fromBitLen(committee.length);
    for (let i = 0; i < committee.length; i++) bits.set(i, true);
    out.push({ aggregationBits: bits, data, signature: signer.sign(committee, computeSigningRoot(c, c.types.AttestationData, data, domain)) });
  }
  return out;
}

function buildSyncChain(pubkeys: Uint8Array[], epochs: number, log: (msg: string) => void): SyncChain & { sets: Uint8Array } {
  const c = benchConfig();
  const t = c.types;
  const n = pubkeys.length;
  const started = performance.now();
  const genesisView = createInteropGenesisStateFast(c, n, syncGenesisTime(), { signDeposits: false, pubkeys });
  const genesis = genesisView.serialize();
  let head = createCachedBeaconState(c, genesisView);
  const genesisHeader = { ...head.state.latestBlockHeader.toValue(), stateRoot: head.state.hashTreeRoot() };
  let headRoot = t.BeaconBlockHeader.hashTreeRoot(genesisHeader);
  const signer = new InteropAggregateSigner();
  let pending = attest(head, headRoot, 0, signer);
  const slots = epochs * c.SLOTS_PER_EPOCH;
  const sampleFrom = slots - c.SLOTS_PER_EPOCH + 1;
  const blocks: Uint8Array[] = [];
  const sampleSets: Uint8Array[] = [];
  const sampleSetsPerBlock: number[] = [];
  let attestations = 0;
  let signatureSets = 0;
  for (let slot = 1; slot <= slots; slot++) {
    const pre = head.clone();
    processSlots(pre, slot);
    const epoch = computeEpochAtSlot(c, slot);
    const proposer = pre.epochCtx.getBeaconProposer(slot);
    const key = secretKeyFromBytes(interopSecretKeyBytes(proposer));
    const randaoReveal = sign(key, computeSigningRoot(c, primitive.Epoch, epoch, getDomain(c, pre.state, c.DOMAIN_RANDAO, epoch)));
    const { block, post } = produceBlock(pre, { randaoReveal, attestations: pending });
    // every aggregate made for the previous slot must be includable, or the chain is not what it claims to be
    if (block.body.attestations.length !== pending.length) {
      throw new Error(`slot ${slot}: ${pending.length - block.body.attestations.length} of ${pending.length} attestations were not includable`);
    }
    const blockDomain = getDomain(c, pre.state, c.DOMAIN_BEACON_PROPOSER, epoch);
    const signed = { message: block, signature: sign(key, computeSigningRoot(c, t.BeaconBlock, block, blockDomain)) };
    blocks.push(t.SignedBeaconBlock.serialize(signed));
    const sets = getBlockSignatureSets(pre, signed);
    signatureSets += sets.length;
    attestations += block.body.attestations.length;
    if (slot >= sampleFrom) {
      sampleSetsPerBlock.push(sets.length);
      for (const s of sets) {
        const rec = new Uint8Array(SET_BYTES);
        // the bound is the pure batch cost: the key aggregated here, once, as the sets' verifiers would
        const pk = signatureSetPubkey(s);
        if (!pk) throw new Error(`slot ${slot}: a signature set names an invalid key`);
        rec.set(pk.toBytes(false), 0);
        rec.set(s.signingRoot, 96);
        rec.set(s.signature, 128);
        sampleSets.push(rec);
      }
    }
    head = post;
    headRoot = t.BeaconBlock.hashTreeRoot(block);
    pending = attest(head, headRoot, slot, signer);
    if (slot % c.SLOTS_PER_EPOCH === 0) {
      const s = head.state;
      log(
        `slot ${slot}/${slots}: justified ${s.currentJustifiedCheckpoint.epoch} finalized ${s.finalizedCheckpoint.epoch}, ` +
          `${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
    }
  }
  const sets = new Uint8Array(sampleSets.length * SET_BYTES);
  sampleSets.forEach((s, i) => sets.set(s, i * SET_BYTES));
  const meta: SyncChainMeta = {
    version: SYNC_CHAIN_VERSION,
    validators: n,
    epochs,
    genesisTime: syncGenesisTime(),
    blocks: blocks.length,
    committeesPerSlot: head.epochCtx.getCommitteeCountPerSlot(head.epochCtx.epoch),
    attestations,
    signatureSets,
    sampleSetsPerBlock,
    headRoot: "0x" + Buffer.from(headRoot).toString("hex"),
    generationSeconds: Number(((performance.now() - started) / 1000).toFixed(1)),
  };
  return { meta, genesis, blocks, sets };
}

/** Builds the chain into the cache unless it is there; returns its meta. */
export async function prepareSyncChain(validators: number, epochs: number, log: (msg: string) => void = () => {}): Promise<SyncChainMeta> {
  const dir = syncChainDir(validators, epochs);
  if (!existsSync(join(dir, "meta.json"))) {
    const pubkeys = await getInteropPubkeys(validators, log);
    log(`generating the sync chain: ${validators} validators, ${epochs} epochs (cached in ${dir}) ...`);
    const chain = buildSyncChain(pubkeys, epochs, log);
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, "genesis.ssz"), chain.genesis);
    const total = chain.blocks.reduce((a, b) => a + 4 + b.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const b of chain.blocks) {
      new DataView(out.buffer).setUint32(o, b.length, true);
      out.set(b, o + 4);
      o += 4 + b.length;
    }
    writeFileSync(join(tmp, "blocks.bin"), out);
    writeFileSync(join(tmp, "sets.bin"), chain.sets);
    writeFileSync(join(tmp, "meta.json"), JSON.stringify(chain.meta, null, 2));
    renameSync(tmp, dir);
    log(`generated in ${chain.meta.generationSeconds} s`);
  }
  return JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as SyncChainMeta;
}

export function readSyncChain(validators: number, epochs: number): SyncChain {
  const dir = syncChainDir(validators, epochs);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as SyncChainMeta;
  const bytes = new Uint8Array(readFileSync(join(dir, "blocks.bin")));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; ) {
    const len = view.getUint32(o, true);
    blocks.push(bytes.subarray(o + 4, o + 4 + len));
    o += 4 + len;
  }
  if (blocks.length !== meta.blocks) throw new Error(`${dir}: ${blocks.length} blocks, meta says ${meta.blocks}`);
  return { meta, genesis: new Uint8Array(readFileSync(join(dir, "genesis.ssz"))), blocks };
}

/** The sample signature sets, grouped by block: [uncompressed pubkey, signing root, signature] each. */
export function readSampleSets(validators: number, epochs: number, meta: SyncChainMeta): { pubkey: Uint8Array; signingRoot: Uint8Array; signature: Uint8Array }[][] {
  const bytes = new Uint8Array(readFileSync(join(syncChainDir(validators, epochs), "sets.bin")));
  const out = [];
  let i = 0;
  for (const count of meta.sampleSetsPerBlock) {
    const group = [];
    for (let k = 0; k < count; k++, i++) {
      const rec = bytes.subarray(i * SET_BYTES, (i + 1) * SET_BYTES);
      group.push({ pubkey: rec.subarray(0, 96), signingRoot: rec.subarray(96, 128), signature: rec.subarray(128, 224) });
    }
    out.push(group);
  }
  return out;
}
