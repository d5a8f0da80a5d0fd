// Loading validator keys: find the keystores, find every password, decrypt all on the worker pool, check each
// secret key against its keystore's pubkey. All or nothing: the first problem throws an error naming its file.
import { toHex } from "../../util/bytes.js";
import { KeystoreError, findKeystores, findPassword, readPasswordFile, type KeystoreFile } from "./discover.js";
import { KeystoreJobError, runKeystoreJobs, type PoolOptions } from "./pool.js";

export interface LoadedKey {
  pubkey: Uint8Array;
  /** 32 bytes */
  secretKey: Uint8Array;
  /** The keystore file it came from. */
  path: string;
}

export interface LoadKeystoresOptions {
  keystoresDir: string;
  /** One password file per keystore, named by its 0x-pubkey (or by the keystore file name without ".json"). */
  secretsDir?: string;
  /** One password for every keystore; a trailing newline is not part of it. */
  passwordFile?: string;
  onProgress?: (done: number, total: number) => void;
  /** Worker threads; default os.availableParallelism(). */
  poolSize?: number;
}

export interface DecryptedKeystore extends LoadedKey {
  file: KeystoreFile;
  password: string;
  /** The worker thread that decrypted it (for tests and diagnostics). */
  threadId: number;
}

export async function loadKeystores(opts: LoadKeystoresOptions): Promise<LoadedKey[]> {
  return (await decryptKeystoresInDir(opts)).map(({ pubkey, secretKey, path }) => ({ pubkey, secretKey, path }));
}

/** loadKeystores, with each key's keystore file, password and worker. */
export async function decryptKeystoresInDir(opts: LoadKeystoresOptions): Promise<DecryptedKeystore[]> {
  const { secretsDir, passwordFile } = opts;
  if ((secretsDir === undefined) === (passwordFile === undefined)) {
    throw new Error("give either a password file or a secrets directory (exactly one)");
  }
  const files = findKeystores(opts.keystoresDir);
  // every password is found before any (slow) decryption starts
  const shared = passwordFile !== undefined ? readPasswordFile(passwordFile) : undefined;
  const passwords = files.map((f) => shared ?? findPassword(f, secretsDir as string));
  return decryptKeystoreFiles(files, passwords, opts);
}

/** Decrypts `files[i]` with `passwords[i]` on the worker pool; checks each secret key against the keystore's pubkey. */
export async function decryptKeystoreFiles(
  files: readonly KeystoreFile[],
  passwords: readonly string[],
  opts: PoolOptions = {},
): Promise<DecryptedKeystore[]> {
  if (files.length !== passwords.length) throw new Error("one password per keystore file is needed");
  let results;
  try {
    results = await runKeystoreJobs(
      files.map((f, i) => ({ kind: "decrypt", keystore: f.keystore, password: passwords[i] })),
      opts,
    );
  } catch (e) {
    if (e instanceof KeystoreJobError) throw new KeystoreError(files[e.index].path, e.message, { cause: e });
    throw e;
  }
  return results.map((r, i) => {
    const file = files[i];
    if (r.kind !== "decrypt") throw new Error("unexpected keystore job result");
    if (toHex(r.pubkey) !== file.pubkeyHex) {
      throw new KeystoreError(file.path, `the decrypted secret key belongs to ${toHex(r.pubkey)}, not to the keystore's pubkey ${file.pubkeyHex}`);
    }
    return { pubkey: file.pubkey, secretKey: r.secretKey, path: file.path, file, password: passwords[i], threadId: r.threadId };
  });
}
