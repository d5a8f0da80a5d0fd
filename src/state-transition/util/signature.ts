import { verifySignatureSets, type SignatureSet } from "../../crypto/bls.js";

export function verifySignatureSet(set: SignatureSet): boolean {
  return verifySignatureSets([set]);
}
