// Attestations whose signature this node has verified (on gossip, from the API, in an imported block), so a block
// carrying the same aggregate does not pay for its pubkey aggregation and pairing again. A signature set is the
// signing root (from the data), the signature, and the aggregate of the attesters' keys; the attesters are looked
// up again on the block's own branch and must be the same validators: after a partition, the same data and bits
// name other validators on the other branch, and there the signature is invalid. Bounded: the oldest go first.
import type { BeaconConfig } from "../config/index.js";
import type { Attestation } from "../types/index.js";
import { toHex } from "../util/bytes.js";

export class VerifiedAttestations {
  /** key (data root, bits, signature) -> the attesting indices it was verified with, sorted, joined */
  private readonly keys = new Map<string, string>();
  hits = 0;

  constructor(
    private readonly config: BeaconConfig,
    readonly maxSize = 16_384,
  ) {}

  get size(): number {
    return this.keys.size;
  }

  private key(att: Attestation): string {
    const dataRoot = this.config.types.AttestationData.hashTreeRoot(att.data);
    return `${toHex(dataRoot)}:${toHex(att.aggregationBits.uint8Array)}:${att.aggregationBits.bitLen}:${toHex(att.signature)}`;
  }

  add(att: Attestation, attestingIndices: ArrayLike<number>): void {
    const k = this.key(att);
    if (this.keys.has(k)) return;
    this.keys.set(k, fingerprint(attestingIndices));
    if (this.keys.size > this.maxSize) this.keys.delete(this.keys.keys().next().value as string);
  }

  /** Verified before with the same attesters as `attestingIndices()` gives on the block's branch. */
  has(att: Attestation, attestingIndices: () => ArrayLike<number>): boolean {
    const verifiedWith = this.keys.get(this.key(att));
    if (verifiedWith === undefined) return false;
    let now: string;
    try {
      now = fingerprint(attestingIndices());
    } catch {
      return false; // not even a committee of this branch: the full check says why
    }
    const hit = now === verifiedWith;
    if (hit) this.hits++;
    return hit;
  }
}

function fingerprint(indices: ArrayLike<number>): string {
  return Array.from(indices)
    .sort((a, b) => a - b)
    .join(",");
}
