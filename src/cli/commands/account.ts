// cairn account: import EIP-2335 keystores into a datadir, list them, or derive new ones from a mnemonic.
import { readFileSync } from "node:fs";
import {
  KeystoreError,
  createKeystores,
  decryptKeystoresInDir,
  deriveValidatorSigningKeys,
  findKeystores,
  hasKeystore,
  keystoresDirOf,
  readPasswordFile,
  removeKeystore,
  writeKeystore,
} from "../../validator/keystore/index.js";
import { readPrysmWallet } from "../../validator/keystore/prysm.js";
import { toHex } from "../../util/bytes.js";
import { CliError, EXIT_OK, errorMessage, parseCommandArgs, parseUintArg, processIo, type Command, type Io } from "../common.js";

import { interopSecretKeyBytes } from "../../crypto/interop.js";

const NAME = "account";

const help = `Usage: cairn account <subcommand> [options]

Validator keys (EIP-2335 keystores) in a datadir, in the layout Lighthouse and Lodestar also use:
  <datadir>/keystores/<0xpubkey>/voting-keystore.json
  <datadir>/secrets/<0xpubkey>                          (the keystore's password, mode 0600)

Subcommands:
  import --keystores <DIR> (--password-file <F> | --secrets <DIR>) --datadir <D>
      Decrypts every keystore in DIR first (on all cores, with progress on stderr) and, only if all succeed,
      copies each into the datadir with its password. Keystores already in the datadir are skipped.
      DIR may hold deposit-cli output (keystore-m_12381_3600_<i>_0_0-<time>.json; other JSON files are
      skipped) or <0xpubkey>/voting-keystore.json directories. --password-file: one password for all (a
      trailing newline is ignored); --secrets: one file per keystore, named by its 0x-pubkey or by the
      keystore file's name without ".json".

  import --prysm-wallet <WALLET_DIR> --password-file <F> --datadir <D> [--kdf scrypt|pbkdf2]
      Imports the keys of a Prysm wallet's imported accounts (<WALLET_DIR>/direct/accounts/
      all-accounts.keystore.json, one encrypted file for all keys) with the wallet password in F: each key
      becomes an EIP-2335 keystore in the datadir, encrypted with that password (default KDF scrypt).

  list (--datadir <D> | --keystores <DIR>)
      Prints "<0xpubkey> <path>" for each keystore, without decrypting anything.

  new (--mnemonic-file <F> | --interop) --count <N> --datadir <D> --password-file <P> [--first-index <I>]
      [--kdf scrypt|pbkdf2]
      Derives the signing keys of validators I .. I+N-1 (EIP-2333, path m/12381/3600/<i>/0/0 of EIP-2334;
      default I = 0) from the BIP-39 mnemonic in F, encrypts each with the password in P (default KDF
      scrypt) and writes them into the datadir. Prints each new pubkey. --interop writes the interop keys
      (the deterministic, PUBLIC keys of interop genesis: for local test chains only) instead.

Any error (a wrong or missing password, a malformed keystore, two keystores of one pubkey) is one line naming
the file, exit status 2, and nothing is written.
`;

async function run(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "import":
      return runImport(rest, io);
    case "list":
      return runList(rest, io);
    case "new":
      return runNew(rest, io);
    case undefined:
      throw new CliError(`missing subcommand: import, list or new (see cairn ${NAME} --help)`);
    default:
      throw new CliError(`unknown subcommand ${JSON.stringify(sub)}: expected import, list or new (see cairn ${NAME} --help)`);
  }
}

function required<T extends Record<string, unknown>>(values: T, sub: string, ...names: (keyof T & string)[]): void {
  for (const n of names) {
    if (values[n] === undefined) throw new CliError(`${sub}: missing --${n} (see cairn ${NAME} --help)`);
  }
}

/** KeystoreErrors already name their file; other errors are reported as they are. */
function asCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  return new CliError(errorMessage(e), { cause: e });
}

/**
 * A progress display for `total` jobs on stderr: one line rewritten in place on a terminal, otherwise a line at
 * every tenth of the way (so logs stay short).
 */
export function progressLine(io: Io, label: string): { onProgress: (done: number, total: number) => void; end: () => void } {
  const tty = io === processIo && process.stderr.isTTY === true;
  let lastTenth = -1;
  let open = false;
  return {
    onProgress(done, total) {
      if (tty) {
        io.stderr(`\r${label}: ${done}/${total}`);
        open = true;
        return;
      }
      const tenth = Math.floor((done * 10) / total);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        io.stderr(`${label}: ${done}/${total} (${Math.floor((done * 100) / total)}%)\n`);
      }
    },
    end() {
      if (open) io.stderr("\n");
      open = false;
    },
  };
}

async function runImport(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(NAME, {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      keystores: { type: "string" },
      "prysm-wallet": { type: "string" },
      "password-file": { type: "string" },
      secrets: { type: "string" },
      datadir: { type: "string" },
      kdf: { type: "string" },
    },
  });
  if (values["prysm-wallet"] !== undefined) return importPrysmWallet(values, io);
  required(values, "import", "keystores", "datadir");
  if ((values["password-file"] === undefined) === (values.secrets === undefined)) {
    throw new CliError(`import: give exactly one of --password-file and --secrets (see cairn ${NAME} --help)`);
  }
  const datadir = values.datadir as string;
  const progress = progressLine(io, "decrypting keystores");
  let keys;
  try {
    keys = await decryptKeystoresInDir({
      keystoresDir: values.keystores as string,
      passwordFile: values["password-file"],
      secretsDir: values.secrets,
      onProgress: progress.onProgress,
    });
  } catch (e) {
    throw asCliError(e);
  } finally {
    progress.end();
  }
  if (keys.length === 0) throw new CliError(`import: no EIP-2335 keystores in ${values.keystores as string}`);

  const written: string[] = [];
  let skipped = 0;
  for (const k of keys) {
    const pk = k.file.pubkeyHex;
    if (hasKeystore(datadir, pk)) {
      io.stderr(`note: ${pk} is already in ${keystoresDirOf(datadir)}; skipped\n`);
      skipped++;
      continue;
    }
    try {
      writeKeystore(datadir, pk, k.file.text, k.password);
    } catch (e) {
      // roll back this run's writes, so a failed import leaves the datadir as it was
      for (const done of [pk, ...written]) removeKeystore(datadir, done);
      throw new CliError(`cannot write the keystore of ${pk} (from ${k.path}) into ${datadir}: ${errorMessage(e)}; nothing imported`, { cause: e });
    }
    written.push(pk);
    io.stdout(`imported ${pk} from ${k.path}\n`);
  }
  io.stderr(`${written.length} keystore(s) imported, ${skipped} already present\n`);
  return EXIT_OK;
}

/**
 * A Prysm wallet's imported keys: decrypted with the wallet password, re-encrypted one keystore per key (with that
 * same password, written as each key's secret) into the datadir. All or nothing, like the keystore import.
 */
async function importPrysmWallet(values: Record<string, string | boolean | undefined>, io: Io): Promise<number> {
  required(values, "import", "prysm-wallet", "password-file", "datadir");
  if (values.keystores !== undefined || values.secrets !== undefined) {
    throw new CliError("import: --prysm-wallet takes the wallet password (--password-file), not --keystores or --secrets");
  }
  const kdf = (values.kdf as string | undefined) ?? "scrypt";
  if (kdf !== "scrypt" && kdf !== "pbkdf2") throw new CliError(`--kdf: expected scrypt or pbkdf2, got ${JSON.stringify(kdf)}`);
  const datadir = values.datadir as string;
  let keys;
  let password: string;
  try {
    password = readPasswordFile(values["password-file"] as string);
    keys = await readPrysmWallet(values["prysm-wallet"] as string, password);
  } catch (e) {
    throw asCliError(e);
  }
  if (keys.length === 0) throw new CliError(`import: the Prysm wallet ${values["prysm-wallet"] as string} holds no imported keys`);
  const fresh = keys.filter((k) => {
    const there = hasKeystore(datadir, toHex(k.pubkey));
    if (there) io.stderr(`note: ${toHex(k.pubkey)} is already in ${keystoresDirOf(datadir)}; skipped\n`);
    return !there;
  });
  const progress = progressLine(io, "encrypting keystores");
  let created;
  try {
    // Prysm's imported keys carry no derivation path
    created = await createKeystores(fresh.map((k) => ({ secretKey: k.secretKey, path: "" })), password, { kdf, onProgress: progress.onProgress });
  } catch (e) {
    throw asCliError(e);
  } finally {
    progress.end();
  }
  const written = writeAllOrNothing(datadir, created, password, "nothing imported", (k) => io.stdout(`imported ${k.pubkeyHex} from the Prysm wallet\n`));
  io.stderr(`${written} key(s) imported, ${keys.length - fresh.length} already present\n`);
  return EXIT_OK;
}

async function runList(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(NAME, {
    args,
    strict: true,
    allowPositionals: false,
    options: { datadir: { type: "string" }, keystores: { type: "string" } },
  });
  if ((values.datadir === undefined) === (values.keystores === undefined)) {
    throw new CliError(`list: give exactly one of --datadir and --keystores (see cairn ${NAME} --help)`);
  }
  const dir = values.keystores ?? keystoresDirOf(values.datadir as string);
  let files;
  try {
    files = findKeystores(dir);
  } catch (e) {
    throw asCliError(e);
  }
  for (const f of files) io.stdout(`${f.pubkeyHex} ${f.path}\n`);
  return EXIT_OK;
}

async function runNew(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(NAME, {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      "mnemonic-file": { type: "string" },
      interop: { type: "boolean" },
      count: { type: "string" },
      datadir: { type: "string" },
      "password-file": { type: "string" },
      "first-index": { type: "string" },
      kdf: { type: "string" },
    },
  });
  if ((values["mnemonic-file"] === undefined) === (values.interop !== true)) {
    throw new CliError("new: give --mnemonic-file or --interop (see cairn account --help)");
  }
  required(values, "new", "count", "datadir", "password-file");
  const count = parseUintArg("--count", values.count as string);
  if (count === 0) throw new CliError("--count must be at least 1");
  const firstIndex = values["first-index"] === undefined ? 0 : parseUintArg("--first-index", values["first-index"]);
  if (firstIndex + count > 2 ** 32) throw new CliError("--first-index + --count must not exceed 2^32 (EIP-2334 indices are 32-bit)");
  const kdf = values.kdf ?? "scrypt";
  if (kdf !== "scrypt" && kdf !== "pbkdf2") throw new CliError(`--kdf: expected scrypt or pbkdf2, got ${JSON.stringify(kdf)}`);
  const datadir = values.datadir as string;

  const mnemonicFile = values["mnemonic-file"] ?? "";
  let mnemonic = "";
  if (values.interop !== true) {
    try {
      mnemonic = readFileSync(mnemonicFile, "utf8");
    } catch (e) {
      throw new CliError(`cannot read the mnemonic file ${mnemonicFile}: ${errorMessage(e)}`, { cause: e });
    }
  }
  let password: string;
  let keys;
  try {
    password = readPasswordFile(values["password-file"] as string);
    keys =
      values.interop === true
        ? Array.from({ length: count }, (_, i) => ({ index: firstIndex + i, path: "", secretKey: interopSecretKeyBytes(firstIndex + i) }))
        : deriveValidatorSigningKeys(mnemonic, firstIndex, count);
  } catch (e) {
    if (e instanceof KeystoreError) throw asCliError(e);
    throw new CliError(`${mnemonicFile}: ${errorMessage(e)}`, { cause: e });
  }

  const progress = progressLine(io, "encrypting keystores");
  let created;
  try {
    created = await createKeystores(keys, password, { kdf, onProgress: progress.onProgress });
  } catch (e) {
    throw asCliError(e);
  } finally {
    progress.end();
  }
  const present = created.filter((k) => hasKeystore(datadir, k.pubkeyHex));
  if (present.length > 0) {
    throw new CliError(`${present[0].pubkeyHex} (${present[0].path}) is already in ${keystoresDirOf(datadir)}; nothing written (choose another --first-index)`);
  }
  writeAllOrNothing(datadir, created, password, "nothing written", (k) => io.stdout(`${k.pubkeyHex} ${k.path}\n`));
  return EXIT_OK;
}

export const command: Command = { help, run };

/** Writes every keystore, or, when one fails, removes those written so far: the datadir is left as it was. */
function writeAllOrNothing<K extends { pubkeyHex: string; text: string }>(
  datadir: string,
  created: K[],
  password: string,
  onFailure: string,
  onWritten: (k: K) => void,
): number {
  const written: string[] = [];
  for (const k of created) {
    try {
      writeKeystore(datadir, k.pubkeyHex, k.text, password);
    } catch (e) {
      for (const done of [k.pubkeyHex, ...written]) removeKeystore(datadir, done);
      throw new CliError(`cannot write the keystore of ${k.pubkeyHex} into ${datadir}: ${errorMessage(e)}; ${onFailure}`, { cause: e });
    }
    written.push(k.pubkeyHex);
    onWritten(k);
  }
  return written.length;
}
