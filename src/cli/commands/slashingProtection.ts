// cairn slashing-protection: import/export EIP-3076 interchange files, and check-and-record a block or an
// attestation through the same code path the validator client signs with.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex } from "../../util/bytes.js";
import { SlashingProtection, SlashingProtectionError } from "../../validator/slashingProtection/index.js";
import { CliError, EXIT_OK, errorMessage, parseCommandArgs, parseUintArg, writeFileAtomic, type Command, type Io } from "../common.js";

const NAME = "slashing-protection";
/** The exit status of a refused signing request (bad arguments and other errors exit 2). */
export const EXIT_REFUSED = 1;

const help = `Usage: cairn slashing-protection <subcommand> --datadir <D> [options]

The slashing protection store of a validator client lives in <datadir>/slashing-protection/.

Subcommands:
  import --datadir <D> --file <F> [--genesis-validators-root <R>]
      Imports an EIP-3076 interchange file (format version 5). Everything is checked first and written in
      one atomic step: a malformed file, or one for another chain, changes nothing. The file's genesis
      validators root must match the store's (and R when given); a new store adopts it.

  export --datadir <D> --file <F> [--pubkeys <P1,P2,...>] [--genesis-validators-root <R>]
      Writes every record (or those of the given pubkeys) as an EIP-3076 v5 interchange file (atomically).

  check-block --datadir <D> --pubkey <P> --slot <S> [--signing-root <R>] [--genesis-validators-root <R>]
  check-attestation --datadir <D> --pubkey <P> --source-epoch <A> --target-epoch <B> [--signing-root <R>]
                    [--genesis-validators-root <R>]
      Checks a block proposal or an attestation exactly as before signing it: when it is safe, records it and
      exits 0; when it could be slashable, records nothing, prints why and exits 1. Without --signing-root
      the signing root is unknown, which conflicts with anything already signed at that slot or target.

Exit status: 0 done, 1 refused (check-*), 2 any other error (bad arguments, malformed file, other chain).
`;

async function run(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case "import":
      return runImport(rest, io);
    case "export":
      return runExport(rest, io);
    case "check-block":
    case "check-attestation":
      return runCheck(sub, rest, io);
    case undefined:
      throw new CliError(`missing subcommand: import, export, check-block or check-attestation (see cairn ${NAME} --help)`);
    default:
      throw new CliError(`unknown subcommand ${JSON.stringify(sub)}: expected import, export, check-block or check-attestation (see cairn ${NAME} --help)`);
  }
}

function parseHexArg(flag: string, value: string, bytes: number): Uint8Array {
  if (!/^0x[0-9a-fA-F]*$/.test(value) || value.length !== 2 + 2 * bytes) {
    throw new CliError(`${flag}: expected 0x-prefixed hex of ${bytes} bytes, got ${JSON.stringify(value.length > 120 ? `${value.slice(0, 117)}...` : value)}`);
  }
  return fromHex(value);
}

function need(values: Record<string, unknown>, sub: string, ...names: string[]): void {
  for (const n of names) {
    if (values[n] === undefined) throw new CliError(`${sub}: missing --${n} (see cairn ${NAME} --help)`);
  }
}

const common = {
  datadir: { type: "string" },
  "genesis-validators-root": { type: "string" },
} as const;

async function openStore(values: { datadir?: string; "genesis-validators-root"?: string }): Promise<SlashingProtection> {
  const gvr = values["genesis-validators-root"];
  const genesisValidatorsRoot = gvr === undefined ? undefined : parseHexArg("--genesis-validators-root", gvr, 32);
  try {
    return await SlashingProtection.open(join(values.datadir as string, "slashing-protection"), { genesisValidatorsRoot });
  } catch (e) {
    throw new CliError(errorMessage(e), { cause: e });
  }
}

async function runImport(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(NAME, { args, strict: true, allowPositionals: false, options: { ...common, file: { type: "string" } } });
  need(values, "import", "datadir", "file");
  const file = values.file as string;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`cannot read the interchange file ${file}: ${errorMessage(e)}`, { cause: e });
  }
  const store = await openStore(values);
  try {
    const r = await store.importInterchange(text);
    io.stdout(`imported ${file}: ${r.validators} validator(s), ${r.blocks} block(s), ${r.attestations} attestation(s)\n`);
    return EXIT_OK;
  } catch (e) {
    throw new CliError(`${file}: ${errorMessage(e)}`, { cause: e });
  } finally {
    await store.close();
  }
}

async function runExport(args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(NAME, {
    args,
    strict: true,
    allowPositionals: false,
    options: { ...common, file: { type: "string" }, pubkeys: { type: "string" } },
  });
  need(values, "export", "datadir", "file");
  const pubkeys = values.pubkeys === undefined ? undefined : values.pubkeys.split(",").map((p) => parseHexArg("--pubkeys", p.trim(), 48));
  const store = await openStore(values);
  let interchange;
  try {
    interchange = await store.exportInterchange({ pubkeys });
  } catch (e) {
    throw new CliError(errorMessage(e), { cause: e });
  } finally {
    await store.close();
  }
  const file = values.file as string;
  writeFileAtomic(file, Buffer.from(`${JSON.stringify(interchange, null, 2)}\n`, "utf8"), `the interchange file ${file}`);
  const blocks = interchange.data.reduce((n, v) => n + v.signed_blocks.length, 0);
  const atts = interchange.data.reduce((n, v) => n + v.signed_attestations.length, 0);
  io.stdout(`exported ${interchange.data.length} validator(s), ${blocks} block(s), ${atts} attestation(s) to ${file}\n`);
  return EXIT_OK;
}

async function runCheck(sub: "check-block" | "check-attestation", args: string[], io: Io): Promise<number> {
  const { values } = parseCommandArgs(NAME, {
    args,
    strict: true,
    allowPositionals: false,
    options: {
      ...common,
      pubkey: { type: "string" },
      slot: { type: "string" },
      "source-epoch": { type: "string" },
      "target-epoch": { type: "string" },
      "signing-root": { type: "string" },
    },
  });
  const isBlock = sub === "check-block";
  need(values, sub, "datadir", "pubkey", ...(isBlock ? ["slot"] : ["source-epoch", "target-epoch"]));
  for (const flag of isBlock ? ["source-epoch", "target-epoch"] : ["slot"]) {
    if ((values as Record<string, unknown>)[flag] !== undefined) throw new CliError(`${sub}: --${flag} does not apply (see cairn ${NAME} --help)`);
  }
  const pubkey = parseHexArg("--pubkey", values.pubkey as string, 48);
  const root = values["signing-root"] === undefined ? null : parseHexArg("--signing-root", values["signing-root"], 32);
  const slot = isBlock ? parseUintArg("--slot", values.slot as string) : 0;
  const source = isBlock ? 0 : parseUintArg("--source-epoch", values["source-epoch"] as string);
  const target = isBlock ? 0 : parseUintArg("--target-epoch", values["target-epoch"] as string);

  const store = await openStore(values);
  try {
    if (isBlock) await store.checkAndInsertBlockProposal(pubkey, slot, root);
    else await store.checkAndInsertAttestation(pubkey, source, target, root);
  } catch (e) {
    if (e instanceof SlashingProtectionError && e.isRefusal) {
      io.stderr(`cairn ${NAME}: refused: ${e.code}: ${errorMessage(e)}\n`);
      return EXIT_REFUSED;
    }
    throw new CliError(errorMessage(e), { cause: e });
  } finally {
    await store.close();
  }
  io.stdout(isBlock ? `ok: block at slot ${slot} recorded\n` : `ok: attestation ${source} -> ${target} recorded\n`);
  return EXIT_OK;
}

export const command: Command = { help, run };
