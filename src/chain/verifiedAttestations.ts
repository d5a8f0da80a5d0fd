// Attestations whose signature this node has verified (on gossip, from the API, in an imported block), so a block
// carrying the same aggregate does not pay for its pubkey aggregation and pairing again. The key is the whole
// signature set's content: the data (which fixes the branch, hence the committee and the signing root), the
// participation bits and the signature. Bounded: the oldest keys go first.
import type { BeaconConfig } from "../config/index.js";
import type { Attestation } from "../types/index.js";
import { toHex } from "../util/bytes.js";

export class VerifiedAttestations {
  private readonly keys = new Set<string>();
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

  add(att: Attestation): void {
    const k = this.key(att);
    if (this.keys.has(k)) return;
    this.keys.add(k);
    if (this.keys.size > this.maxSize) this.keys.delete(this.keys.values().next().value as string);
  }

  has(att: Attestation): boolean {
    const hit = this.keys.has(this.key(att));
    if (hit) this.hits++;
    return hit;
  }
}
