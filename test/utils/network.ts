// Test networks: a Cairn Network for an in-process chain on 127.0.0.1 whose clock stands at a chosen slot, and the
// canonical blocks of a chain as beacon_blocks_by_range would serve them.
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { BeaconChain } from "../../src/chain/chain.js";
import { OpPools } from "../../src/chain/opPools/index.js";
import type { BeaconDb } from "../../src/db/index.js";
import { Network } from "../../src/network/network.js";
import type { SignedBeaconBlock } from "../../src/types/index.js";
import { SlotClock } from "../../src/util/slotClock.js";

/** A started Network for `chain`, its wall clock at `clockSlot` of the chain (both sides of a test agree on "now"). */
export async function startTestNetwork(chain: BeaconChain, db: BeaconDb, opts: { clockSlot: number; staticPeers?: string[] }): Promise<Network> {
  const config = chain.config;
  const genesisTime = chain.anchorState.state.genesisTime;
  const offsetMs = Date.now() - (genesisTime + opts.clockSlot * config.SECONDS_PER_SLOT) * 1000;
  const clock = new SlotClock({ genesisTime, secondsPerSlot: config.SECONDS_PER_SLOT, slotsPerEpoch: config.SLOTS_PER_EPOCH, now: () => Date.now() - offsetMs });
  const network = await Network.create({
    config,
    chain,
    db,
    pools: new OpPools(chain, { currentSlot: () => clock.currentSlot() }),
    clock,
    privateKey: await generateKeyPair("secp256k1"),
    p2pPort: 0,
    discoveryPort: null,
    staticPeers: opts.staticPeers ?? [],
    targetPeers: 4,
  });
  await network.start();
  return network;
}

/** `chain`'s canonical blocks in [startSlot, startSlot + count), as by_range serves them. */
export async function canonicalRange(chain: BeaconChain, startSlot: number, count: number): Promise<SignedBeaconBlock[]> {
  const out: SignedBeaconBlock[] = [];
  for (let s = startSlot; s < startSlot + count; s++) {
    const root = await chain.query.getCanonicalBlockRootAtSlot(s);
    if (root && s > 0) out.push((await chain.query.getSignedBlock(root))!);
  }
  return out;
}
