import { verifySignatureSets, type SignatureSet } from "../../crypto/bls.js";
import type { BlsVerifier } from "./interface.js";

/** Verifies on the calling thread: for tests and tools where blocking the event loop does not matter. */
export class MainThreadBlsVerifier implements BlsVerifier {
  async verifySignatureSets(sets: SignatureSet[]): Promise<boolean> {
    return verifySignatureSets(sets);
  }
  async close(): Promise<void> {}
}
