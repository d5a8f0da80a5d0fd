// cairn validator exit: sign and publish a voluntary exit for one key, after showing what it will do and asking.
// It holds the datadir's lock (the slashing protection store), so it cannot run beside a validator client using
// the same keys, and it keeps the signed exit in <datadir>/voluntary-exits/ before publishing it.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BeaconApiError, BeaconNodes } from "../../api/client/index.js";
import { secretKeyFromBytes } from "../../crypto/bls.js";
import { DbError } from "../../db/errors.js";
import { toHex } from "../../util/bytes.js";
import { mkdirDurable, writeFileAtomicSync } from "../../util/fsAtomic.js";
import { createLogger } from "../../util/logger.js";
import { sleep } from "../../util/slotClock.js";
import { decryptKeystoreFiles, findKeystores, findPassword, readPasswordFile } from "../../validator/keystore/index.js";
import { SlashingProtection } from "../../validator/slashingProtection/index.js";
import { checkNetwork } from "../../validator/validator.js";
import { canExit, isExitProcessed, signVoluntaryExit } from "../../validator/voluntaryExit.js";
import { CliError, EXIT_OK, errorMessage, loadBeaconConfig, type Io } from "../common.js";
import { custom, flag, logLevel, optionsHelp, parseOptions, str, uint } from "../options.js";

const NAME = "validator exit";
/** The answer exit status when the user declines: nothing was signed or published. */
export const EXIT_DECLINED = 1;

const OPTIONS = {
  "beacon-nodes": str("<URLs>", "Beacon API base URLs, comma-separated, in order of preference"),
  datadir: str("<DIR>", "the validator client's directory"),
  pubkey: custom("<0x...>", "the validator's public key (48 bytes, hex)", (v, f) => {
    if (v === undefined) return undefined;
    if (!/^0x[0-9a-fA-F]{96}$/.test(v)) throw new CliError(`${f}: expected 0x and 96 hex digits, got ${JSON.stringify(v)}`);
    return v.toLowerCase();
  }),
  keystores: str("<DIR>", "EIP-2335 keystores (default <datadir>/keystores)"),
  secrets: str("<DIR>", "one password file per keystore (default <datadir>/secrets)"),
  "password-file": str("<F>", "one password for every keystore (instead of --secrets)"),
  config: str("<C>", "the network's config (default {default}); must match the beacon node's", { default: "mainnet" }),
  yes: flag("publish without asking"),
  "wait-epochs": uint("<N>", "wait up to N epochs for a block to include the exit (default {default}; 0: do not wait)", { default: 2 }),
  "poll-ms": { ...uint("<MS>", ""), hidden: true },
  "log-level": logLevel("warn", "; log lines go to stderr"),
  help: flag("", { short: "h", hidden: true }),
};

export const exitHelp = `Usage: cairn validator exit --beacon-nodes <URL[,URL...]> --datadir <DIR> --pubkey <0x...>
                            [--keystores <DIR>] [--secrets <DIR> | --password-file <F>]
                            [--config <minimal|mainnet|FILE.yaml>] [--yes] [--wait-epochs <N>]

Signs a voluntary exit for one of the datadir's keys at the beacon node's head epoch, shows what it is about to
do and asks for "yes" (or --yes), publishes it through POST /eth/v1/beacon/pool/voluntary_exits and polls the
validator's status until a block includes it. An exit cannot be undone. It takes the datadir's lock: stop the
validator client first. The signed exit is kept in <datadir>/voluntary-exits/<pubkey>.json.

${optionsHelp(OPTIONS)}
Exit status: 0 published (or already exiting), 1 declined (nothing signed), 2 any error (nothing published).
`;

export async function runExit(args: string[], io: Io): Promise<number> {
  const { values, given } = parseOptions(NAME, OPTIONS, args);
  for (const k of ["beacon-nodes", "datadir", "pubkey"] as const) {
    if (!given(k)) throw new CliError(`missing --${k} (see cairn ${NAME} --help)`);
  }
  if (given("secrets") && given("password-file")) throw new CliError("give either --secrets or --password-file, not both");
  const urls = values["beacon-nodes"]!.split(",").map((u) => u.trim()).filter((u) => u !== "");
  const datadir = values.datadir!;
  const pubkeyHex = values.pubkey!;
  const yes = values.yes;
  const waitEpochs = values["wait-epochs"];
  const config = loadBeaconConfig(values.config, (m) => io.stderr(`warning: ${m}\n`));
  const logger = createLogger({ level: values["log-level"], write: (line) => io.stderr(line) });
  const keystoresDir = values.keystores ?? join(datadir, "keystores");
  const passwordFile = values["password-file"];
  const secretsDir = passwordFile === undefined ? (values.secrets ?? join(datadir, "secrets")) : undefined;
  if (!existsSync(keystoresDir)) throw new CliError(`cannot load the keystores in ${keystoresDir}: no such directory`);
  if (!yes && !io.readLine) throw new CliError("--yes is needed where no confirmation can be asked");

  let store: SlashingProtection;
  try {
    store = await SlashingProtection.open(join(datadir, "slashing-protection"));
  } catch (e) {
    if (e instanceof DbError && e.code === "LOCKED") throw new CliError(`--datadir ${datadir} is in use by a validator client: stop it first`, { cause: e });
    throw new CliError(errorMessage(e), { cause: e });
  }
  let api: BeaconNodes | undefined;
  try {
    const file = findKeystores(keystoresDir).find((f) => f.pubkeyHex === pubkeyHex);
    if (!file) throw new CliError(`no keystore for ${pubkeyHex} in ${keystoresDir}`);
    const password = passwordFile !== undefined ? readPasswordFile(passwordFile) : findPassword(file, secretsDir!);
    const [key] = await decryptKeystoreFiles([file], [password], { poolSize: 1 });

    api = new BeaconNodes(urls, config.types);
    const genesis = await api.getGenesis();
    await checkNetwork(api, config, genesis, logger);
    await store.bindGenesisValidatorsRoot(genesis.genesisValidatorsRoot);

    const status = async () => {
      const [v] = await api!.getStateValidators("head", [key.pubkey]);
      if (!v) throw new CliError(`${pubkeyHex} is not a validator on this chain (the beacon node does not know it)`);
      return v;
    };
    const v = await status();
    if (isExitProcessed(v.status)) {
      io.stdout(`validator ${v.index} is already ${v.status}: nothing to do\n`);
      return EXIT_OK;
    }
    if (!canExit(v.status)) throw new CliError(`validator ${v.index} is ${v.status}: only an active validator can exit`);
    const sync = await api.getSyncing();
    const epoch = Math.floor(sync.headSlot / config.SLOTS_PER_EPOCH);

    io.stdout(
      `Voluntary exit\n` +
        `  validator:    ${v.index} (${pubkeyHex})\n` +
        `  status:       ${v.status}, balance ${v.balance} Gwei\n` +
        `  exit epoch:   ${epoch} (the beacon node's head)\n` +
        `  chain:        genesis validators root ${toHex(genesis.genesisValidatorsRoot)}\n` +
        `  beacon node:  ${api.nodes[api.preferredIndex()].url}\n` +
        `An exit cannot be undone: the validator stops validating for good.\n`,
    );
    if (!yes) {
      io.stdout(`Type "yes" to sign and publish it: `);
      const answer = (await io.readLine!())?.trim();
      if (answer !== "yes") {
        io.stdout("declined: nothing was signed or published\n");
        return EXIT_DECLINED;
      }
    }

    const exit = signVoluntaryExit(config, genesis.genesisValidatorsRoot, secretKeyFromBytes(key.secretKey), v.index, epoch);
    const dir = join(datadir, "voluntary-exits");
    mkdirDurable(dir);
    writeFileAtomicSync(join(dir, `${pubkeyHex}.json`), `${JSON.stringify(config.types.SignedVoluntaryExit.toJson(exit), null, 2)}\n`, 0o600);
    try {
      await api.submitPoolVoluntaryExit(exit);
    } catch (e) {
      const why = e instanceof BeaconApiError ? e.reason : errorMessage(e);
      throw new CliError(`the beacon node refused the exit: ${why}`, { cause: e });
    }
    io.stdout(`published the exit of validator ${v.index} at epoch ${epoch}\n`);
    if (waitEpochs === 0) return EXIT_OK;

    const pollMs = values["poll-ms"] ?? config.SECONDS_PER_SLOT * 1000;
    const deadline = Date.now() + waitEpochs * config.SLOTS_PER_EPOCH * config.SECONDS_PER_SLOT * 1000;
    while (Date.now() < deadline) {
      await sleep(pollMs);
      const now = await status().catch(() => undefined); // a passing failure: ask again
      if (now && isExitProcessed(now.status)) {
        io.stdout(`included: validator ${v.index} is now ${now.status}\n`);
        return EXIT_OK;
      }
    }
    io.stdout(`not included within ${waitEpochs} epochs; it stays valid in the node's pool; GET /eth/v1/beacon/states/head/validators/${v.index} shows its status\n`);
    return EXIT_OK;
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(errorMessage(e), { cause: e });
  } finally {
    api?.close();
    await store.close();
  }
}
