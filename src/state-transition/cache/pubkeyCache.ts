import { publicKeyFromBytes, type PublicKey } from "../../crypto/bls.js";
import type { BeaconStateView } from "../../types/index.js";

/**
 * One pubkey <-> validator index map per chain, shared by every state of that chain (never copied per state:
 * Medalla's 12 GB nodes held one per state). Append-only: deposits are processed in deposit order on every fork,
 * so index i is the same pubkey on all forks of one chain.
 * Decompressing a pubkey costs ~50 µs, so PublicKey objects are made on first use.
 */
export class PubkeyCache {
  private readonly indexByKey = new Map<string, number>();
  private readonly bytes: Uint8Array[] = [];
  private readonly keys: (PublicKey | null | undefined)[] = [];

  get size(): number {
    return this.bytes.length;
  }

  /** Index of a pubkey, or undefined when no validator has it. */
  getIndex(pubkey: Uint8Array): number | undefined {
    return this.indexByKey.get(Buffer.from(pubkey.buffer, pubkey.byteOffset, pubkey.byteLength).toString("latin1"));
  }

  /** The deserialized, validated public key of validator `index`; null when its bytes are not a valid key. */
  getPubkey(index: number): PublicKey | null {
    let pk = this.keys[index];
    if (pk === undefined) {
      const bytes = this.bytes[index];
      if (bytes === undefined) throw new Error(`validator index ${index} not in the pubkey cache`);
      try {
        pk = publicKeyFromBytes(bytes);
      } catch {
        pk = null;
      }
      this.keys[index] = pk;
    }
    return pk;
  }

  getPubkeyBytes(index: number): Uint8Array {
    return this.bytes[index];
  }

  add(index: number, pubkey: Uint8Array): void {
    if (index !== this.bytes.length) throw new Error(`pubkey cache append out of order: ${index} != ${this.bytes.length}`);
    const copy = Uint8Array.from(pubkey);
    this.bytes.push(copy);
    this.keys.push(undefined);
    const key = Buffer.from(copy).toString("latin1");
    // First index wins, as the spec's `pubkeys.index(pubkey)` does for a duplicated key.
    if (!this.indexByKey.has(key)) this.indexByKey.set(key, index);
  }

  /** Append the validators the state has and the cache does not yet. */
  syncWith(state: BeaconStateView): void {
    const n = state.validators.length;
    for (let i = this.bytes.length; i < n; i++) {
      this.add(i, state.validators.getReadonly(i).pubkey);
    }
  }
}
