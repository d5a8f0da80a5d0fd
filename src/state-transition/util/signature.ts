import { verify, type SignatureSet } from "../../crypto/bls.js";

export function verifySignatureSet(set: SignatureSet): boolean {
  return verify(set.pubkey, set.signingRoot, set.signature);
}
