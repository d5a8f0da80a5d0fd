import { BitArray } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../config/index.js";
import { aggregateSignatures, sign, type SecretKey } from "../../crypto/bls.js";
import { interopSecretKey } from "../../crypto/interop.js";
import type { CachedBeaconState } from "../../state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../state-transition/util/domain.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../state-transition/util/epoch.js";
import { primitive, type Attestation, type AttestationData, type BeaconBlock, type SignedBeaconBlock } from "../../types/index.js";

/** The compressed point at infinity: a well-formed placeholder where signatures are neither made nor checked. */
export const EMPTY_SIGNATURE = (() => {
  const s = new Uint8Array(96);
  s[0] = 0xc0;
  return s;
})();

/** Signs as the interop validators would; with `signatures: false` it only fills placeholders. */
export class InteropSigner {
  private readonly keys = new Map<number, SecretKey>();
  constructor(
    private readonly config: BeaconConfig,
    readonly signatures: boolean,
  ) {}

  private key(index: number): SecretKey {
    let sk = this.keys.get(index);
    if (!sk) {
      sk = interopSecretKey(index);
      this.keys.set(index, sk);
    }
    return sk;
  }

  randaoReveal(state: CachedBeaconState, proposerIndex: number, epoch: number): Uint8Array {
    if (!this.signatures) return EMPTY_SIGNATURE;
    const c = this.config;
    const root = computeSigningRoot(c, primitive.Epoch, epoch, getDomain(c, state.state, c.DOMAIN_RANDAO, epoch));
    return sign(this.key(proposerIndex), root);
  }

  signBlock(state: CachedBeaconState, block: BeaconBlock): SignedBeaconBlock {
    if (!this.signatures) return { message: block, signature: EMPTY_SIGNATURE };
    const c = this.config;
    const domain = getDomain(c, state.state, c.DOMAIN_BEACON_PROPOSER, computeEpochAtSlot(c, block.slot));
    return { message: block, signature: sign(this.key(block.proposerIndex), computeSigningRoot(c, c.types.BeaconBlock, block, domain)) };
  }

  /**
   * One aggregate per committee of `slot`, voting for `headRoot` as seen from `state` (the head's state advanced to
   * `slot`); each member takes part when `participates(index)` says so.
   */
  attest(state: CachedBeaconState, headRoot: Uint8Array, slot: number, participates: (index: number) => boolean): Attestation[] {
    const c = this.config;
    const { epochCtx } = state;
    const epoch = computeEpochAtSlot(c, slot);
    const epochStart = computeStartSlotAtEpoch(c, epoch);
    const targetRoot =
      epochStart >= state.state.slot ? headRoot : state.state.blockRoots.get(epochStart % c.SLOTS_PER_HISTORICAL_ROOT);
    const source = state.state.currentJustifiedCheckpoint.toValue();
    const domain = getDomain(c, state.state, c.DOMAIN_BEACON_ATTESTER, epoch);
    const out: Attestation[] = [];
    const committees = epochCtx.getCommitteeCountPerSlot(epoch);
    for (let index = 0; index < committees; index++) {
      const committee = epochCtx.getBeaconCommittee(slot, index);
      const bits = BitArray.fromBitLen(committee.length);
      const members: number[] = [];
      committee.forEach((v, i) => {
        if (participates(v)) {
          bits.set(i, true);
          members.push(v);
        }
      });
      if (members.length === 0) continue;
      const data: AttestationData = { slot, index, beaconBlockRoot: headRoot, source, target: { epoch, root: targetRoot } };
      let signature: Uint8Array = EMPTY_SIGNATURE;
      if (this.signatures) {
        const root = computeSigningRoot(c, c.types.AttestationData, data, domain);
        signature = aggregateSignatures(members.map((m) => sign(this.key(m), root)));
      }
      out.push({ aggregationBits: bits, data, signature });
    }
    return out;
  }
}
