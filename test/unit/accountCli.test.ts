// `cairn account` run as a child process, the way a user runs it.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { secretKeyFromBytes } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { toHex as hex } from "../../src/util/bytes.js";
import { createKeystores, deriveValidatorSigningKeys, loadKeystores, signingKeyPath, type NewKeystore } from "../../src/validator/keystore/index.js";
import { runCairn as cairn, type CliResult as Result } from "../utils/cli.js";

function assertOneError(r: Result, re: RegExp): void {
  assert.equal(r.status, 2, `exit status; stderr: ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l !== "" && !/^(de|en)crypting keystores: /.test(l));
  assert.equal(lines.length, 1, `stderr: ${r.stderr}`);
  assert.match(lines[0], re);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

const MNEMONIC = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const PASSWORD = "import password";

let root: string;
let made: NewKeystore[];
let secretKeys: Uint8Array[];
let dirCount = 0;
const fresh = (): string => join(root, `t${dirCount++}`);

function depositCliDir(keystores: NewKeystore[]): string {
  const dir = fresh();
  mkdirSync(dir);
  keystores.forEach((k, i) => writeFileSync(join(dir, `keystore-m_12381_3600_${i}_0_0-1600000000.json`), k.text));
  writeFileSync(join(dir, "deposit_data-1600000000.json"), "[]");
  return dir;
}

function passwordFile(password = PASSWORD): string {
  const p = fresh();
  writeFileSync(p, `${password}\n`);
  return p;
}

/** Every file under `dir`, relative. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), "cairn-account-cli-"));
  const keys = deriveValidatorSigningKeys(MNEMONIC, 0, 25);
  secretKeys = keys.map((k) => k.secretKey);
  made = await createKeystores(keys, PASSWORD, { kdf: "pbkdf2", kdfCost: 1024 });
});
after(() => rmSync(root, { recursive: true, force: true }));

describe("cairn account import", () => {
  test("imports a deposit-cli directory into the datadir layout, passwords with mode 0600", async () => {
    const src = depositCliDir(made.slice(0, 3));
    const datadir = fresh();
    const r = await cairn(["account", "import", "--keystores", src, "--password-file", passwordFile(), "--datadir", datadir]);
    assert.equal(r.status, 0, r.stderr);
    for (const k of made.slice(0, 3)) {
      const ks = join(datadir, "keystores", k.pubkeyHex, "voting-keystore.json");
      assert.equal(readFileSync(ks, "utf8"), k.text, "the keystore is copied byte for byte");
      const secret = join(datadir, "secrets", k.pubkeyHex);
      assert.equal(readFileSync(secret, "utf8"), PASSWORD, "the password, without the newline");
      assert.equal(statSync(secret).mode & 0o777, 0o600);
      assert.match(r.stdout, new RegExp(`imported ${k.pubkeyHex}`));
    }
    assert.equal(listFiles(datadir).length, 6, "no temporary files left");
    // what was imported loads back with the secrets directory
    const loaded = await loadKeystores({ keystoresDir: join(datadir, "keystores"), secretsDir: join(datadir, "secrets") });
    assert.deepEqual(new Set(loaded.map((k) => hex(k.secretKey))), new Set(secretKeys.slice(0, 3).map(hex)));

    // again, with one more: the present ones are skipped with a note
    const src2 = depositCliDir(made.slice(0, 4));
    const r2 = await cairn(["account", "import", "--keystores", src2, "--password-file", passwordFile(), "--datadir", datadir]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal((r2.stderr.match(/^note: 0x[0-9a-f]{96} is already in .*; skipped$/gm) ?? []).length, 3);
    assert.match(r2.stdout, new RegExp(`imported ${made[3].pubkeyHex}`));
    assert.equal(listFiles(datadir).length, 8);

    const list = await cairn(["account", "list", "--datadir", datadir]);
    assert.equal(list.status, 0, list.stderr);
    const lines = list.stdout.trim().split("\n");
    assert.deepEqual(lines.map((l) => l.split(" ")[0]).sort(), made.slice(0, 4).map((k) => k.pubkeyHex).sort());
    for (const l of lines) assert.ok(l.endsWith("voting-keystore.json"));
  });

  test("a secrets directory (Lighthouse layout) works as well", async () => {
    const src = fresh();
    const secrets = fresh();
    mkdirSync(secrets);
    for (const k of made.slice(5, 7)) {
      mkdirSync(join(src, k.pubkeyHex), { recursive: true });
      writeFileSync(join(src, k.pubkeyHex, "voting-keystore.json"), k.text);
      writeFileSync(join(secrets, k.pubkeyHex), PASSWORD);
    }
    const datadir = fresh();
    const r = await cairn(["account", "import", "--keystores", src, "--secrets", secrets, "--datadir", datadir]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(listFiles(datadir).length, 4);
  });

  test("a wrong password: one error line naming the file, exit 2, nothing imported", async () => {
    const src = depositCliDir(made.slice(0, 5));
    const wrong = await createKeystores([{ secretKey: secretKeys[24], path: signingKeyPath(24) }], "other", { kdf: "pbkdf2", kdfCost: 1024 });
    writeFileSync(join(src, "keystore-m_12381_3600_24_0_0-1600000000.json"), wrong[0].text);
    const datadir = fresh();
    const r = await cairn(["account", "import", "--keystores", src, "--password-file", passwordFile(), "--datadir", datadir]);
    assertOneError(r, /^cairn account: error: .*keystore-m_12381_3600_24_0_0-1600000000\.json: wrong password/);
    assert.deepEqual(listFiles(datadir), []);

    const r2 = await cairn(["account", "import", "--keystores", src, "--secrets", fresh(), "--datadir", datadir]);
    assertOneError(r2, /no password for this keystore/);
    assert.deepEqual(listFiles(datadir), []);
  });

  test("progress lines on stderr (one per tenth when stderr is not a terminal)", async () => {
    const src = depositCliDir(made.slice(0, 20));
    const datadir = fresh();
    const r = await cairn(["account", "import", "--keystores", src, "--password-file", passwordFile(), "--datadir", datadir]);
    assert.equal(r.status, 0, r.stderr);
    const progress = [...r.stderr.matchAll(/^decrypting keystores: (\d+)\/20 \((\d+)%\)$/gm)].map((m) => Number(m[1]));
    assert.ok(progress.length >= 10 && progress.length <= 11, `progress lines: ${r.stderr}`);
    assert.equal(progress.at(-1), 20);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i] > progress[i - 1]);
    assert.equal(listFiles(datadir).length, 40);
  });

  test("bad arguments are one error line and exit 2", async () => {
    assertOneError(await cairn(["account"]), /missing subcommand/);
    assertOneError(await cairn(["account", "frobnicate"]), /unknown subcommand "frobnicate"/);
    assertOneError(await cairn(["account", "import", "--keystores", fresh(), "--datadir", fresh()]), /exactly one of --password-file and --secrets/);
    assertOneError(await cairn(["account", "import", "--keystores", fresh(), "--password-file", passwordFile(), "--datadir", fresh()]), /cannot read the keystores directory/);
    assertOneError(await cairn(["account", "list", "--datadir", fresh(), "--keystores", fresh()]), /exactly one of --datadir and --keystores/);
  });
});

describe("cairn account new", () => {
  test("derives EIP-2334 signing keys from a mnemonic into keystores with their path", async () => {
    const mnemonicFile = fresh();
    writeFileSync(mnemonicFile, `${MNEMONIC}\n`);
    const datadir = fresh();
    const r = await cairn(["account", "new", "--mnemonic-file", mnemonicFile, "--count", "2", "--first-index", "3", "--datadir", datadir, "--password-file", passwordFile("new password"), "--kdf", "pbkdf2"]);
    assert.equal(r.status, 0, r.stderr);
    const loaded = await loadKeystores({ keystoresDir: join(datadir, "keystores"), secretsDir: join(datadir, "secrets") });
    assert.equal(loaded.length, 2);
    const byPubkey = new Map(loaded.map((k) => [hex(k.pubkey), k]));
    for (const i of [3, 4]) {
      const sk = secretKeys[i];
      const pk = hex(secretKeyFromBytes(sk).toPublicKey().toBytes());
      const k = byPubkey.get(pk);
      assert.ok(k, `validator ${i}`);
      assert.equal(hex(k.secretKey), hex(sk));
      const ks = JSON.parse(readFileSync(k.path, "utf8"));
      assert.equal(ks.path, `m/12381/3600/${i}/0/0`);
      assert.equal(ks.crypto.kdf.function, "pbkdf2");
      assert.match(r.stdout, new RegExp(`^${pk} m/12381/3600/${i}/0/0$`, "m"));
    }
    // the same indices again would overwrite: refused, nothing changes
    const before = listFiles(datadir);
    const again = await cairn(["account", "new", "--mnemonic-file", mnemonicFile, "--count", "1", "--first-index", "4", "--datadir", datadir, "--password-file", passwordFile(), "--kdf", "pbkdf2"]);
    assertOneError(again, /is already in .*choose another --first-index/);
    assert.deepEqual(listFiles(datadir), before);
  });

  test("a bad mnemonic or bad options are one error line", async () => {
    const mnemonicFile = fresh();
    writeFileSync(mnemonicFile, MNEMONIC.replace(/about$/, "zoo"));
    const datadir = fresh();
    assertOneError(
      await cairn(["account", "new", "--mnemonic-file", mnemonicFile, "--count", "1", "--datadir", datadir, "--password-file", passwordFile()]),
      /not a valid BIP-39 English mnemonic/,
    );
    assert.deepEqual(listFiles(datadir), []);
    assertOneError(
      await cairn(["account", "new", "--mnemonic-file", mnemonicFile, "--count", "x", "--datadir", datadir, "--password-file", passwordFile()]),
      /--count: expected a non-negative integer/,
    );
    assertOneError(
      await cairn(["account", "new", "--mnemonic-file", mnemonicFile, "--count", "1", "--datadir", datadir, "--password-file", passwordFile(), "--kdf", "md5"]),
      /--kdf: expected scrypt or pbkdf2/,
    );
  });
});

test("account new --interop writes keystores of the interop keys; --interop and --mnemonic-file exclude each other", async () => {
  const datadir = fresh();
  const r = await cairn(["account", "new", "--interop", "--first-index", "3", "--count", "2", "--datadir", datadir, "--password-file", passwordFile(), "--kdf", "pbkdf2"]);
  assert.equal(r.status, 0, r.stderr);
  const keys = await loadKeystores({ keystoresDir: join(datadir, "keystores"), secretsDir: join(datadir, "secrets") });
  const expected = [3, 4].map((i) => hex(interopSecretKey(i).toPublicKey().toBytes())).sort();
  assert.deepEqual(keys.map((k) => hex(k.pubkey)).sort(), expected);
  const mnemonicFile = join(fresh() + "-m.txt");
  writeFileSync(mnemonicFile, MNEMONIC);
  assertOneError(
    await cairn(["account", "new", "--interop", "--mnemonic-file", mnemonicFile, "--count", "1", "--datadir", fresh(), "--password-file", passwordFile()]),
    /give --mnemonic-file or --interop/,
  );
});
