// Keystores (EIP-2335), key derivation (EIP-2333/2334) and loading keystores from the layouts other tools write.
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { deriveKeyFromMnemonic } from "@chainsafe/bls-keygen";
import { secretKeyFromBytes } from "../../src/crypto/bls.js";
import { fromHex, toHex as hex } from "../../src/util/bytes.js";
import {
  KeystoreError,
  createKeystores,
  decryptKeystoresInDir,
  deriveChildSK,
  deriveMasterKey,
  deriveSigningKey,
  deriveSigningKeyFromMaster,
  deriveValidatorSigningKeys,
  findKeystores,
  loadKeystores,
  parseKeystore,
  mnemonicToSeed,
  signingKeyPath,
  validateMnemonic,
  type NewKeystore,
} from "../../src/validator/keystore/index.js";
import { fileTempDir } from "../utils/tempDir.js";

const fixtures = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));
const tmpRoot = fileTempDir("cairn-keystore-test-");
let dirCount = 0;
function freshDir(): string {
  const d = join(tmpRoot, `d${dirCount++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

const fromDecimal = (s: string): Uint8Array => fromHex(BigInt(s).toString(16).padStart(64, "0"));
const pubkeyOf = (sk: Uint8Array): Uint8Array => secretKeyFromBytes(sk).toPublicKey().toBytes();

const MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const PASSWORD = "correct horse battery staple";

type TestKeystore = NewKeystore & { secretKey: Uint8Array };
/** Cheap keystores (PBKDF2 with 2^10 rounds) for the tests about layouts, not KDF cost; made once, on one pool. */
let cheap: TestKeystore[] = [];
/** Two more, under another password. */
let otherPassword: TestKeystore[] = [];
const OTHER_PASSWORD = "another password";
before(async () => {
  const make = async (first: number, count: number, password: string): Promise<TestKeystore[]> => {
    const keys = deriveValidatorSigningKeys(MNEMONIC, first, count);
    const made = await createKeystores(keys, password, { kdf: "pbkdf2", kdfCost: 1024 });
    return made.map((k, i) => ({ ...k, secretKey: keys[i].secretKey }));
  };
  cheap = await make(0, 50, PASSWORD);
  otherPassword = await make(60, 2, OTHER_PASSWORD);
});

function depositCliDir(keystores: NewKeystore[], dir = freshDir()): string {
  keystores.forEach((k, i) => writeFileSync(join(dir, `keystore-m_12381_3600_${i}_0_0-1600000000.json`), k.text));
  // deposit-cli writes this next to the keystores; it is JSON but not a keystore
  writeFileSync(join(dir, "deposit_data-1600000000.json"), JSON.stringify([{ pubkey: "00", amount: 32000000000 }]));
  return dir;
}

describe("EIP-2335 test vectors", () => {
  const expected = JSON.parse(readFileSync(join(fixtures, "eip2335/expected.json"), "utf8")) as { password: string; secret: string };
  for (const kdf of ["scrypt", "pbkdf2"]) {
    test(`${kdf} keystore decrypts to the expected secret`, async () => {
      const dir = freshDir();
      copyFileSync(join(fixtures, `eip2335/${kdf}.json`), join(dir, `keystore-${kdf}.json`));
      const pw = join(dir, "..", `pw-${kdf}`);
      writeFileSync(pw, `${expected.password}\n`);
      const keys = await loadKeystores({ keystoresDir: dir, passwordFile: pw });
      assert.equal(keys.length, 1);
      assert.equal(hex(keys[0].secretKey), expected.secret);
      assert.equal(hex(keys[0].pubkey), `0x${JSON.parse(readFileSync(join(fixtures, `eip2335/${kdf}.json`), "utf8")).pubkey}`);
      assert.equal(keys[0].path, join(dir, `keystore-${kdf}.json`));
    });
  }

  test("the wrong password is refused, naming the file", async () => {
    const dir = freshDir();
    copyFileSync(join(fixtures, "eip2335/pbkdf2.json"), join(dir, "keystore-0.json"));
    const pw = join(dir, "..", "pw-wrong");
    writeFileSync(pw, "testpassword\n");
    await assert.rejects(loadKeystores({ keystoresDir: dir, passwordFile: pw }), (e: Error) => {
      assert.ok(e instanceof KeystoreError);
      assert.match(e.message, /keystore-0\.json: wrong password/);
      return true;
    });
  });
});

describe("EIP-2333 / EIP-2334 key derivation", () => {
  const vectors = JSON.parse(readFileSync(join(fixtures, "eip2333/vectors.json"), "utf8")) as {
    cases: { mnemonic?: string; passphrase?: string; seed: string; master_SK: string; child_index: number; child_SK: string }[];
  };

  test("all four EIP-2333 test cases: seed -> master SK -> child SK", () => {
    assert.equal(vectors.cases.length, 4);
    for (const c of vectors.cases) {
      const master = deriveMasterKey(fromHex(c.seed));
      assert.equal(hex(master), hex(fromDecimal(c.master_SK)), `master of ${c.seed}`);
      assert.equal(hex(deriveChildSK(master, c.child_index)), hex(fromDecimal(c.child_SK)), `child ${c.child_index} of ${c.seed}`);
    }
  });

  test("BIP-39 mnemonic -> seed (the EIP-2333 case 0 mnemonic and passphrase)", () => {
    const c = vectors.cases[0];
    assert.ok(c.mnemonic !== undefined && c.passphrase !== undefined);
    assert.equal(hex(mnemonicToSeed(c.mnemonic, c.passphrase)), c.seed);
    // white space around and between words does not matter
    assert.equal(hex(mnemonicToSeed(`  ${c.mnemonic.replaceAll(" ", "\n ")}\n`, c.passphrase)), c.seed);
  });

  test("signing keys follow m/12381/3600/<i>/0/0 and agree with bls-keygen", () => {
    const seed = mnemonicToSeed(MNEMONIC);
    assert.equal(signingKeyPath(7), "m/12381/3600/7/0/0");
    const master = deriveMasterKey(seed);
    for (const i of [0, 1, 5]) {
      const sk = deriveSigningKey(seed, i);
      assert.equal(hex(sk), hex(deriveKeyFromMnemonic(MNEMONIC, signingKeyPath(i))), `index ${i}`);
      // the path step by step: 12381, 3600, i, 0, 0
      let k = master;
      for (const step of [12381, 3600, i, 0, 0]) k = deriveChildSK(k, step);
      assert.equal(hex(sk), hex(k));
      assert.equal(hex(deriveSigningKeyFromMaster(master, i)), hex(sk));
    }
    assert.notEqual(hex(deriveSigningKey(seed, 0)), hex(deriveSigningKey(seed, 1)));
    assert.throws(() => deriveSigningKey(seed, -1), /validator index/);
  });

  test("signing keys of a mnemonic match another client's (Prysm's) expected keys", () => {
    const f = JSON.parse(readFileSync(join(fixtures, "eip2333/mnemonic-signing-keys.json"), "utf8")) as {
      mnemonic: string;
      keys: { index: number; secretKey: string; pubkey: string }[];
    };
    const derived = deriveValidatorSigningKeys(f.mnemonic, 0, f.keys.length);
    for (const [i, k] of f.keys.entries()) {
      assert.equal(derived[i].path, `m/12381/3600/${k.index}/0/0`);
      assert.equal(hex(derived[i].secretKey), k.secretKey, `secret key ${k.index}`);
      assert.equal(hex(pubkeyOf(derived[i].secretKey)), k.pubkey, `pubkey ${k.index}`);
      assert.equal(hex(deriveSigningKey(mnemonicToSeed(f.mnemonic), k.index)), k.secretKey);
    }
  });

  test("mnemonics with a bad word or checksum are refused", () => {
    validateMnemonic(MNEMONIC);
    assert.throws(() => validateMnemonic(MNEMONIC.replace(/about$/, "abandon")), /BIP-39/);
    assert.throws(() => validateMnemonic(MNEMONIC.replace(/^abandon/, "abandonn")), /BIP-39/);
    assert.throws(() => deriveValidatorSigningKeys("hello world", 0, 1), /BIP-39/);
  });
});

describe("loading keystores", () => {
  test("deposit-cli layout: every keystore-*.json, deposit_data skipped", async () => {
    const made = cheap.slice(0, 3);
    const dir = depositCliDir(made);
    const pw = join(dir, "..", "pw-deposit");
    writeFileSync(pw, `${PASSWORD}\r\n`);
    const keys = await loadKeystores({ keystoresDir: dir, passwordFile: pw });
    assert.deepEqual(keys.map((k) => hex(k.pubkey)), made.map((m) => m.pubkeyHex));
    for (const [i, k] of keys.entries()) {
      assert.equal(hex(k.secretKey), hex(made[i].secretKey));
      assert.equal(hex(pubkeyOf(k.secretKey)), made[i].pubkeyHex);
    }
  });

  test("<0xpubkey>/voting-keystore.json layout with a secrets directory (by pubkey, else by file name)", async () => {
    const made = cheap.slice(10, 13);
    const dir = freshDir();
    const secrets = freshDir();
    for (const k of made.slice(0, 2)) {
      mkdirSync(join(dir, k.pubkeyHex));
      writeFileSync(join(dir, k.pubkeyHex, "voting-keystore.json"), k.text);
      writeFileSync(join(secrets, k.pubkeyHex), PASSWORD);
    }
    // a flat keystore whose password file is named after the keystore file
    const other = otherPassword.slice(0, 1);
    writeFileSync(join(dir, "keystore-m_12381_3600_60_0_0-1.json"), other[0].text);
    writeFileSync(join(secrets, "keystore-m_12381_3600_60_0_0-1"), `${OTHER_PASSWORD}\n`);
    const keys = await loadKeystores({ keystoresDir: dir, secretsDir: secrets });
    const got = new Map(keys.map((k) => [hex(k.pubkey), hex(k.secretKey)]));
    assert.equal(got.size, 3);
    for (const k of [...made.slice(0, 2), other[0]]) assert.equal(got.get(k.pubkeyHex), hex(k.secretKey));
  });

  test("a missing password, a malformed keystore, a duplicate or a mismatched pubkey is an error naming the file", async () => {
    const made = cheap.slice(20, 22);
    // missing password in the secrets dir
    const dir = depositCliDir(made);
    await assert.rejects(loadKeystores({ keystoresDir: dir, secretsDir: freshDir() }), /keystore-m_12381_3600_0_0_0-1600000000\.json: no password for this keystore/);
    const pw = join(dir, "..", "pw-errors");
    writeFileSync(pw, PASSWORD);
    // malformed keystores: not JSON, and JSON missing the cipher
    const bad1 = depositCliDir(made);
    writeFileSync(join(bad1, "keystore-m_12381_3600_1_0_0-1600000000.json"), "{ not json");
    await assert.rejects(loadKeystores({ keystoresDir: bad1, passwordFile: pw }), /keystore-m_12381_3600_1_0_0-1600000000\.json: not valid JSON/);
    const bad2 = depositCliDir(made);
    const broken = JSON.parse(made[1].text);
    delete broken.crypto.cipher;
    writeFileSync(join(bad2, "keystore-m_12381_3600_1_0_0-1600000000.json"), JSON.stringify(broken));
    await assert.rejects(loadKeystores({ keystoresDir: bad2, passwordFile: pw }), /keystore-m_12381_3600_1_0_0-1600000000\.json: not an EIP-2335 keystore/);
    // the same keystore twice
    const dup = depositCliDir(made);
    writeFileSync(join(dup, "keystore-copy.json"), made[0].text);
    await assert.rejects(loadKeystores({ keystoresDir: dup, passwordFile: pw }), /duplicate keystore/);
    // a pubkey field that is not the secret key's
    const mismatch = depositCliDir(made);
    const swapped = JSON.parse(made[0].text);
    swapped.pubkey = made[1].pubkeyHex.slice(2);
    writeFileSync(join(mismatch, "keystore-m_12381_3600_0_0_0-1600000000.json"), JSON.stringify(swapped));
    writeFileSync(join(mismatch, "keystore-m_12381_3600_1_0_0-1600000000.json"), made[0].text.replace(made[0].pubkeyHex.slice(2), "a".repeat(96)));
    await assert.rejects(loadKeystores({ keystoresDir: mismatch, passwordFile: pw }), (e: Error) => {
      assert.match(e.message, /keystore-m_12381_3600_[01]_0_0-1600000000\.json: the decrypted secret key belongs to 0x/);
      return true;
    });
    // a directory name that is another pubkey
    const nested = freshDir();
    mkdirSync(join(nested, made[1].pubkeyHex));
    writeFileSync(join(nested, made[1].pubkeyHex, "voting-keystore.json"), made[0].text);
    assert.throws(() => findKeystores(nested), /voting-keystore\.json: holds the keystore of 0x/);
  });

  test("a wrong password among many fails the whole load", async () => {
    const dir = depositCliDir(cheap.slice(30, 34));
    writeFileSync(join(dir, "keystore-m_12381_3600_61_0_0-1600000000.json"), otherPassword[1].text);
    const pw = join(dir, "..", "pw-many");
    writeFileSync(pw, PASSWORD);
    await assert.rejects(loadKeystores({ keystoresDir: dir, passwordFile: pw }), /keystore-m_12381_3600_61_0_0-1600000000\.json: wrong password/);
  });

  test("progress is reported for each keystore of a large import", async () => {
    const made = cheap.slice(0, 40);
    const dir = depositCliDir(made);
    const pw = join(dir, "..", "pw-progress");
    writeFileSync(pw, PASSWORD);
    const calls: [number, number][] = [];
    const keys = await loadKeystores({ keystoresDir: dir, passwordFile: pw, onProgress: (done, total) => calls.push([done, total]) });
    assert.equal(keys.length, 40);
    assert.deepEqual(
      calls,
      Array.from({ length: 40 }, (_, i) => [i + 1, 40]),
    );
    assert.deepEqual(new Set(keys.map((k) => hex(k.pubkey))), new Set(made.map((m) => m.pubkeyHex)));
  });

  test("real-cost scrypt keystores (n = 2^18) are decrypted on two worker threads", async () => {
    const keys = deriveValidatorSigningKeys(MNEMONIC, 200, 2);
    // created on the pool as well, with the EIP-2335 default cost
    const made = await createKeystores(keys, PASSWORD, { kdf: "scrypt", poolSize: 2 });
    for (const m of made) assert.equal(m.keystore.crypto.kdf.function === "scrypt" && m.keystore.crypto.kdf.params.n, 262144);
    assert.equal(new Set(made.map((m) => m.keystore.crypto.kdf.params.salt)).size, 2);
    const dir = depositCliDir(made);
    const pw = join(dir, "..", "pw-scrypt");
    writeFileSync(pw, PASSWORD);
    const loaded = await decryptKeystoresInDir({ keystoresDir: dir, passwordFile: pw, poolSize: 2 });
    assert.equal(loaded.length, 2);
    // one keystore per worker: two different threads, both keys correct
    assert.equal(new Set(loaded.map((k) => k.threadId)).size, 2);
    for (const [i, k] of loaded.entries()) {
      assert.equal(hex(k.secretKey), hex(keys[i].secretKey));
      assert.equal(k.file.keystore.path, signingKeyPath(200 + i));
    }
  });
});

describe("keystore KDF cost bounds", () => {
  // the parameters come from the file: a hostile or broken one must be refused before any work starts
  const vector = (name: string) => JSON.parse(readFileSync(join(fixtures, "eip2335", name), "utf8")) as { crypto: { kdf: { params: Record<string, unknown> } } };
  const withParams = (name: string, params: Record<string, unknown>) => {
    const k = vector(name);
    Object.assign(k.crypto.kdf.params, params);
    return k;
  };
  test("the EIP-2335 vectors pass", () => {
    assert.doesNotThrow(() => parseKeystore(vector("scrypt.json"), "scrypt.json"));
    assert.doesNotThrow(() => parseKeystore(vector("pbkdf2.json"), "pbkdf2.json"));
  });
  test("scrypt asking for too much memory, or an n that is not a power of two, is refused by name", () => {
    assert.throws(() => parseKeystore(withParams("scrypt.json", { n: 2 ** 30 }), "k.json"), (e: Error) => e instanceof KeystoreError && /need 1048576 MiB; at most 1024 MiB/.test(e.message));
    assert.throws(() => parseKeystore(withParams("scrypt.json", { n: 2 ** 18, r: 8, p: 64 }), "k.json"), /at most 1024 MiB/);
    assert.throws(() => parseKeystore(withParams("scrypt.json", { n: 1000 }), "k.json"), /not a power of two/);
    assert.throws(() => parseKeystore(withParams("scrypt.json", { n: 2 ** 40 }), "k.json"), /not a power of two between 2 and 2\^30/);
    assert.throws(() => parseKeystore(withParams("scrypt.json", { r: 0 }), "k.json"), /scrypt r is not a positive integer/);
    assert.doesNotThrow(() => parseKeystore(withParams("scrypt.json", { n: 2 ** 20 }), "k.json"));
  });
  test("pbkdf2 rounds and dklen are bounded", () => {
    assert.throws(() => parseKeystore(withParams("pbkdf2.json", { c: 2 ** 32 }), "k.json"), /pbkdf2 c = 4294967296 is above/);
    assert.throws(() => parseKeystore(withParams("pbkdf2.json", { dklen: 2 ** 30 }), "k.json"), /dklen is 1073741824, EIP-2335 needs 32/);
    assert.doesNotThrow(() => parseKeystore(withParams("pbkdf2.json", { c: 2 ** 22 }), "k.json"));
  });
});
