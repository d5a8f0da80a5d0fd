// BLS12-381 (IETF draft-04, proof-of-possession ciphersuite) through the native blst binding.
// Everything else in Cairn uses this interface, never blst directly, so the backend can change in one place.
import blst from "@chainsafe/blst";

const { PublicKey, SecretKey, Signature } = blst;
export type PublicKey = InstanceType<typeof blst.PublicKey>;
export type SecretKey = InstanceType<typeof blst.SecretKey>;
export type Signature = InstanceType<typeof blst.Signature>;

export const PUBKEY_LENGTH = 48;
export const SIGNATURE_LENGTH = 96;

/** A single message signed by one (possibly aggregated) public key: the unit of batch verification. */
export interface SignatureSet {
  pubkey: PublicKey;
  signingRoot: Uint8Array;
  signature: Uint8Array;
}

export function secretKeyFromBytes(bytes: Uint8Array): SecretKey {
  return SecretKey.fromBytes(bytes);
}

/** Deserialize and validate (subgroup and not infinity) a public key; throws on invalid input. */
export function publicKeyFromBytes(bytes: Uint8Array): PublicKey {
  return PublicKey.fromBytes(bytes, true);
}

export function sign(sk: SecretKey | Uint8Array, message: Uint8Array): Uint8Array {
  const key = sk instanceof Uint8Array ? SecretKey.fromBytes(sk) : sk;
  return key.sign(message).toBytes();
}

function sigFromBytes(bytes: Uint8Array): Signature | null {
  if (bytes.length !== SIGNATURE_LENGTH) return null;
  try {
    // Signature.fromBytes with validation performs the subgroup check
    return Signature.fromBytes(bytes, true);
  } catch {
    return null;
  }
}

function pkFromBytes(bytes: Uint8Array | PublicKey): PublicKey | null {
  if (!(bytes instanceof Uint8Array)) return bytes;
  if (bytes.length !== PUBKEY_LENGTH) return null;
  try {
    return PublicKey.fromBytes(bytes, true);
  } catch {
    return null;
  }
}

/** All keys parsed and validated, or null if any is invalid. */
function pksFromBytes(pubkeys: (Uint8Array | PublicKey)[]): PublicKey[] | null {
  const pks: PublicKey[] = [];
  for (const p of pubkeys) {
    const pk = pkFromBytes(p);
    if (!pk) return null;
    pks.push(pk);
  }
  return pks;
}

export function verify(pubkey: Uint8Array | PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  const pk = pkFromBytes(pubkey);
  const sig = sigFromBytes(signature);
  if (!pk || !sig) return false;
  try {
    return blst.verify(message, pk, sig, false, false);
  } catch {
    return false;
  }
}

/** Aggregate signatures; throws on an empty list or an invalid signature (the spec's Aggregate). */
export function aggregateSignatures(signatures: Uint8Array[]): Uint8Array {
  if (signatures.length === 0) throw new Error("aggregate of zero signatures");
  const sigs = signatures.map((s) => {
    const sig = sigFromBytes(s);
    if (!sig) throw new Error("invalid signature in aggregate");
    return sig;
  });
  return blst.aggregateSignatures(sigs, false).toBytes();
}

export function aggregatePublicKeys(pubkeys: (Uint8Array | PublicKey)[]): PublicKey {
  if (pubkeys.length === 0) throw new Error("aggregate of zero public keys");
  const pks = pubkeys.map((p) => {
    const pk = pkFromBytes(p);
    if (!pk) throw new Error("invalid public key in aggregate");
    return pk;
  });
  return blst.aggregatePublicKeys(pks, false);
}

/**
 * Aggregate public keys that are already deserialized and validated (e.g. from the pubkey cache): no per-key
 * checks or copies, which matter when a block brings 10,000+ keys to aggregate.
 */
export function aggregateValidatedPublicKeys(pubkeys: PublicKey[]): PublicKey {
  if (pubkeys.length === 0) throw new Error("aggregate of zero public keys");
  if (pubkeys.length === 1) return pubkeys[0];
  return blst.aggregatePublicKeys(pubkeys, false);
}

export function fastAggregateVerify(
  pubkeys: (Uint8Array | PublicKey)[],
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (pubkeys.length === 0) return false;
  const sig = sigFromBytes(signature);
  const pks = pksFromBytes(pubkeys);
  if (!sig || !pks) return false;
  try {
    return blst.fastAggregateVerify(message, pks, sig, false);
  } catch {
    return false;
  }
}

export function aggregateVerify(
  pubkeys: (Uint8Array | PublicKey)[],
  messages: Uint8Array[],
  signature: Uint8Array,
): boolean {
  if (pubkeys.length === 0 || pubkeys.length !== messages.length) return false;
  const sig = sigFromBytes(signature);
  const pks = pksFromBytes(pubkeys);
  if (!sig || !pks) return false;
  try {
    return blst.aggregateVerify(messages, pks, sig, false, false);
  } catch {
    return false;
  }
}

/**
 * Verify many signature sets at once with random linear combination: one multi-pairing instead of one pairing per set.
 * Returns false if any set is invalid; the caller falls back to verifying sets one by one to find which.
 */
export function verifySignatureSets(sets: SignatureSet[]): boolean {
  if (sets.length === 0) return true;
  if (sets.length === 1) {
    const s = sets[0];
    return verify(s.pubkey, s.signingRoot, s.signature);
  }
  const items = [];
  for (const s of sets) {
    const sig = sigFromBytes(s.signature);
    if (!sig) return false;
    items.push({ msg: s.signingRoot, pk: s.pubkey, sig });
  }
  try {
    return blst.verifyMultipleAggregateSignatures(items, false, false);
  } catch {
    return false;
  }
}

/** Verify each set alone; used to attribute a failed batch. */
export function verifySignatureSetsEach(sets: SignatureSet[]): boolean[] {
  return sets.map((s) => verify(s.pubkey, s.signingRoot, s.signature));
}

export { PublicKey as PublicKeyClass, SecretKey as SecretKeyClass, Signature as SignatureClass };
