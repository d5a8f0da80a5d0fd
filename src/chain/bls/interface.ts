import type { SignatureSet } from "../../crypto/bls.js";

/** Where the chain sends signature sets. Implementations may verify on other threads. */
export interface BlsVerifier {
  /** True when every set is valid. */
  verifySignatureSets(sets: SignatureSet[]): Promise<boolean>;
  /**
   * Decompress and validate compressed public keys on other threads: uncompressed bytes per key, null where a key
   * is invalid. Absent where there are no other threads.
   */
  decompressPubkeys?(compressed: Uint8Array[]): Promise<(Uint8Array | null)[]>;
  close(): Promise<void>;
}
