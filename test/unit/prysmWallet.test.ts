// `cairn account import --prysm-wallet`: a Prysm imported-keys wallet is one EIP-2335 file,
// <wallet>/direct/accounts/all-accounts.keystore.json = {crypto, uuid, version: 4, name: "keystore"}, whose plaintext
// is Go's json.MarshalIndent(accountStore, "", "\t") with accountStore { PrivateKeys [][]byte `json:"private_keys"`;
// PublicKeys [][]byte `json:"public_keys"` } (so base64 strings). Fixtures are built here in that format, as
// prysmaticlabs/prysm writes it: validator/keymanager/local/keymanager.go (CreateAccountsKeystoreRepresentation,
// formerly keymanager/imported) and validator/keymanager/types.go (the "direct" directory of Kind Local).
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, defaultPbkdfModule } from "@chainsafe/bls-keystore";
import { command } from "../../src/cli/commands/account.js";
import type { Io } from "../../src/cli/common.js";
import { secretKeyFromBytes } from "../../src/crypto/bls.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";
import { toHex } from "../../src/util/bytes.js";
import { loadKeystores } from "../../src/validator/keystore/index.js";

const PASSWORD = "prysm wallet password";
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "cairn-prysm-"));
  writeFileSync(join(dir, "password.txt"), `${PASSWORD}\n`);
  writeFileSync(join(dir, "wrong.txt"), "not it\n");
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A wallet directory as Prysm writes it, holding `secrets` (their public keys as given, or derived). */
async function prysmWallet(name: string, secrets: Uint8Array[], publicKeys?: Uint8Array[]): Promise<string> {
  const store = {
    private_keys: secrets.map((s) => Buffer.from(s).toString("base64")),
    public_keys: (publicKeys ?? secrets.map((s) => secretKeyFromBytes(s).toPublicKey().toBytes())).map((p) => Buffer.from(p).toString("base64")),
  };
  const kdf = defaultPbkdfModule();
  kdf.params.c = 16; // cheap for the test; Prysm's own is the EIP-2335 default
  // only the crypto section is Prysm's: the pubkey and path that create() records are dropped below
  const { crypto } = await create(PASSWORD, Buffer.from(JSON.stringify(store, null, "\t")), new Uint8Array(48), "", null, kdf);
  const wallet = join(dir, name);
  mkdirSync(join(wallet, "direct", "accounts"), { recursive: true });
  const file = { crypto, uuid: "6f2b4c1e-2a1b-4c5d-8e9f-0a1b2c3d4e5f", version: 4, name: "keystore" };
  writeFileSync(join(wallet, "direct", "accounts", "all-accounts.keystore.json"), JSON.stringify(file));
  return wallet;
}

function io(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) };
}

const importArgs = (wallet: string, datadir: string, password = "password.txt") =>
  ["import", "--prysm-wallet", wallet, "--password-file", join(dir, password), "--datadir", datadir, "--kdf", "pbkdf2"];

describe("cairn account import --prysm-wallet", () => {
  it("imports every key as its own keystore, which decrypts to the same secret key", async () => {
    const secrets = [3, 4, 5].map((i) => interopSecretKeyBytes(i));
    const wallet = await prysmWallet("w1", secrets);
    const datadir = join(dir, "d1");
    const t = io();
    assert.equal(await command.run(importArgs(wallet, datadir), t), 0, t.err.join(""));
    assert.equal(t.out.filter((l) => l.startsWith("imported 0x")).length, 3);
    const loaded = await loadKeystores({ keystoresDir: join(datadir, "keystores"), secretsDir: join(datadir, "secrets"), poolSize: 1 });
    const bySecret = new Set(loaded.map((k) => toHex(k.secretKey)));
    assert.deepEqual(bySecret, new Set(secrets.map((s) => toHex(s))));
    // a second run finds them all present
    const again = io();
    assert.equal(await command.run(importArgs(wallet, datadir), again), 0);
    assert.match(again.err.join(""), /0 key\(s\) imported, 3 already present/);
  });

  it("a wrong password, a missing file or a key that is not its public key's: one error, nothing written", async () => {
    const wallet = await prysmWallet("w2", [interopSecretKeyBytes(1)]);
    const datadir = join(dir, "d2");
    await assert.rejects(async () => command.run(importArgs(wallet, datadir, "wrong.txt"), io()), /all-accounts\.keystore\.json: wrong wallet password/);
    await assert.rejects(async () => command.run(importArgs(join(dir, "nowallet"), datadir), io()), /direct\/accounts\/all-accounts\.keystore\.json: not found \(is this a Prysm wallet/);
    const swapped = await prysmWallet("w3", [interopSecretKeyBytes(1)], [secretKeyFromBytes(interopSecretKeyBytes(2)).toPublicKey().toBytes()]);
    await assert.rejects(async () => command.run(importArgs(swapped, datadir), io()), /private_keys\[0\] belongs to 0x[0-9a-f]{96}, not to public_keys\[0\]/);
    assert.ok(!existsSync(datadir) || readdirSync(datadir).length === 0);
  });
});
