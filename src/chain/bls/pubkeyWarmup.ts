// The pubkey cache's keys made ahead of use on the BLS worker threads. A node syncing from genesis (or a checkpoint)
// otherwise decompresses and validates every validator's key on the main thread the first time it signs: ~50 µs each,
// so 5 s of the first epoch's imports at 100,000 validators, while the worker threads mostly wait for work.
import type { PubkeyCache } from "../../state-transition/index.js";
import type { BlsVerifier } from "./interface.js";

/** Keys per request: small enough that a block's signature batch queued behind one waits only a few ms. */
const CHUNK = 1024;

/** Fills `cache` with keys decompressed on `bls`'s threads until every key is made or `stopped()`; never throws. */
export async function warmPubkeyCache(cache: PubkeyCache, bls: BlsVerifier, stopped: () => boolean): Promise<number> {
  if (!bls.decompressPubkeys) return 0;
  let from = 0;
  let made = 0;
  while (!stopped()) {
    const indices = cache.undecompressed(from, CHUNK);
    if (indices.length === 0) break;
    let keys: (Uint8Array | null)[];
    try {
      keys = await bls.decompressPubkeys(indices.map((i) => cache.getPubkeyBytes(i)));
    } catch {
      break; // the pool closed: the main thread makes the rest on use, as without warm-up
    }
    indices.forEach((index, k) => cache.setDecompressed(index, keys[k]));
    made += indices.length;
    from = indices[indices.length - 1] + 1;
  }
  return made;
}
