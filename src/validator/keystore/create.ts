// New EIP-2335 keystores, encrypted on the worker pool (one scrypt per keystore: seconds each on one core).
import type { IKeystore } from "@chainsafe/bls-keystore";
import { toHex } from "../../util/bytes.js";
import { deriveMasterKey, deriveSigningKeyFromMaster, mnemonicToSeed, normalizeMnemonic, signingKeyPath, validateMnemonic } from "./derive.js";
import { KeystoreJobError, runKeystoreJobs, type PoolOptions } from "./pool.js";

export interface NewKeystore {
  keystore: IKeystore;
  /** The keystore as written to disk (JSON, 2-space indented). */
  text: string;
  pubkey: Uint8Array;
  pubkeyHex: string;
  /** EIP-2334 path recorded in the keystore. */
  path: string;
}

export interface CreateKeystoresOptions extends PoolOptions {
  kdf?: "scrypt" | "pbkdf2";
  /** scrypt n or PBKDF2 c; default 2^18 (EIP-2335). Lower values are for tests only. */
  kdfCost?: number;
}

/** Encrypts each secret key with `password` into a keystore recording its `path`. */
export async function createKeystores(
  keys: readonly { secretKey: Uint8Array; path: string }[],
  password: string,
  opts: CreateKeystoresOptions = {},
): Promise<NewKeystore[]> {
  const kdf = opts.kdf ?? "scrypt";
  let results;
  try {
    results = await runKeystoreJobs(
      keys.map((k) => ({ kind: "encrypt", secretKey: k.secretKey, password, path: k.path, kdf, kdfCost: opts.kdfCost })),
      opts,
    );
  } catch (e) {
    if (e instanceof KeystoreJobError) throw new Error(`cannot create the keystore for ${keys[e.index].path}: ${e.message}`, { cause: e });
    throw e;
  }
  return results.map((r, i) => {
    if (r.kind !== "encrypt") throw new Error("unexpected keystore job result");
    return { keystore: r.keystore, text: `${JSON.stringify(r.keystore, null, 2)}\n`, pubkey: r.pubkey, pubkeyHex: toHex(r.pubkey), path: keys[i].path };
  });
}

/** Signing keys of validators firstIndex .. firstIndex+count-1 of a mnemonic (EIP-2333/2334). */
export function deriveValidatorSigningKeys(mnemonic: string, firstIndex: number, count: number): { index: number; path: string; secretKey: Uint8Array }[] {
  validateMnemonic(mnemonic);
  const master = deriveMasterKey(mnemonicToSeed(normalizeMnemonic(mnemonic)));
  const out = [];
  for (let index = firstIndex; index < firstIndex + count; index++) {
    out.push({ index, path: signingKeyPath(index), secretKey: deriveSigningKeyFromMaster(master, index) });
  }
  return out;
}
