// Validator keys: EIP-2335 keystores (find, decrypt on worker threads, create), EIP-2333/2334 derivation, and the
// datadir layout they are imported into.
export { loadKeystores, decryptKeystoresInDir, decryptKeystoreFiles } from "./load.js";
export type { LoadedKey, LoadKeystoresOptions, DecryptedKeystore } from "./load.js";
export { KeystoreError, findKeystores, readKeystoreFile, parseKeystore, readPasswordFile, findPassword, VOTING_KEYSTORE_FILE } from "./discover.js";
export type { KeystoreFile } from "./discover.js";
export { runKeystoreJobs, defaultPoolSize, KeystoreJobError } from "./pool.js";
export type { KeystoreJob, JobResult, PoolOptions } from "./pool.js";
export { createKeystores, deriveValidatorSigningKeys } from "./create.js";
export type { NewKeystore, CreateKeystoresOptions } from "./create.js";
export {
  deriveChildSK,
  deriveMasterKey,
  deriveSigningKey,
  deriveSigningKeyFromMaster,
  mnemonicToSeed,
  normalizeMnemonic,
  signingKeyPath,
  validateMnemonic,
  withdrawalKeyPath,
} from "./derive.js";
export { hasKeystore, keystorePathIn, keystoresDirOf, removeKeystore, secretPathIn, secretsDirOf, writeKeystore } from "./datadir.js";
