import { digest } from "@chainsafe/as-sha256";
import type { BeaconBlockBody } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { getRandaoRevealSignatureSet } from "../signatureSets/index.js";
import { assert } from "../util/assert.js";
import { xor } from "../util/math.js";
import { getRandaoMix } from "../util/seed.js";
import { verifySignatureSet } from "../util/signature.js";

// process_randao
export function processRandao(cached: CachedBeaconState, body: BeaconBlockBody, verifySignatures = true): void {
  const { config: c, state, epochCtx } = cached;
  const epoch = epochCtx.epoch;
  if (verifySignatures) {
    assert(verifySignatureSet(getRandaoRevealSignatureSet(cached, body.randaoReveal)), "invalid RANDAO reveal");
  }
  const mix = xor(getRandaoMix(c, state, epoch), digest(body.randaoReveal));
  state.randaoMixes.set(epoch % c.EPOCHS_PER_HISTORICAL_VECTOR, mix);
}
