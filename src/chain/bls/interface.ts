import type { SignatureSet } from "../../crypto/bls.js";

/** Where the chain sends signature sets. Implementations may verify on other threads. */
export interface BlsVerifier {
  /** True when every set is valid. */
  verifySignatureSets(sets: SignatureSet[]): Promise<boolean>;
  close(): Promise<void>;
}
