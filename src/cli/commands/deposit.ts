// cairn deposit: deposit data (a deposit CLI file, or the interop keys for local chains), checked, then written to a
// file and/or sent to the deposit contract from an account the eth1 node holds unlocked (anvil, ganache, geth --dev:
// the node signs; Cairn holds no eth1 key). A pubkey that already has a deposit is refused unless --top-up.
import { readFileSync, writeFileSync } from "node:fs";
import { digest } from "@chainsafe/as-sha256";
import { interopSecretKey } from "../../crypto/interop.js";
import { sign } from "../../crypto/bls.js";
import {
  DEPOSIT_EVENT_TOPIC,
  decodeDepositLog,
  depositDataJson,
  encodeDepositCall,
  eth1Accounts,
  Eth1Rpc,
  parseDepositDataJson,
  sendTransaction,
  waitForReceipt,
} from "../../eth1/index.js";
import { computeDomain, computeSigningRoot } from "../../state-transition/util/domain.js";
import type { BeaconConfig } from "../../config/index.js";
import type { DepositData } from "../../types/index.js";
import { toHex } from "../../util/bytes.js";
import { CliError, EXIT_OK, loadBeaconConfig, parseUintArg, type Command, type Io } from "../common.js";
import { flag, list, optionsHelp, parseOptions, str, uint } from "../options.js";

const NAME = "deposit";

const OPTIONS = {
  config: str("<C>", "minimal, mainnet, or a config YAML file: its GENESIS_FORK_VERSION signs deposits"),
  "deposit-data": str("<FILE.json>", "deposits from a deposit data file (the deposit CLI's deposit_data-*.json)"),
  "interop-index": list("<I,...>", "or deposits for interop keys (local chains only: the keys are public)"),
  amount: uint("<GWEI>", "with --interop-index: the amount (default MAX_EFFECTIVE_BALANCE)"),
  out: str("<FILE.json>", "write the deposit data file"),
  "eth1.endpoint": str("<URL>", "send the deposits through this eth1 node"),
  "deposit-contract": str("<ADDR>", "to this deposit contract (default: the config's DEPOSIT_CONTRACT_ADDRESS)"),
  "deposit-block": uint("<N>", "the contract's deployment block: earlier deposits are looked for from it (default 0)"),
  from: str("<ADDR>", "the sending account, unlocked in the eth1 node (default: its first account)"),
  "top-up": flag("allow deposits for pubkeys that already have one (adds to their balance)"),
};

const help = `Usage: cairn deposit --config <C> (--deposit-data <FILE.json> | --interop-index <I,...> [--amount <GWEI>])
                     [--out <FILE.json>] [--eth1.endpoint <URL> [--deposit-contract <ADDR>] [--deposit-block <N>]
                     [--from <ADDR>] [--top-up]]

Checks deposits (signature on this network's fork, roots, amount) and writes them as a deposit data file
and/or sends each to the deposit contract (one transaction each, from an account the eth1 node signs for:
a development node such as anvil; for a public network use the deposit launchpad with the file). A pubkey
that already has a deposit in the contract's logs is refused unless --top-up.

${optionsHelp(OPTIONS)}`;

function interopDeposit(c: BeaconConfig, index: number, amount: number): DepositData {
  const sk = interopSecretKey(index);
  const pubkey = sk.toPublicKey().toBytes();
  const withdrawalCredentials = digest(pubkey);
  withdrawalCredentials.set(c.BLS_WITHDRAWAL_PREFIX, 0);
  const message = { pubkey, withdrawalCredentials, amount };
  return { ...message, signature: sign(sk, computeSigningRoot(c, c.types.DepositMessage, message, computeDomain(c, c.DOMAIN_DEPOSIT))) };
}

async function run(args: string[], io: Io): Promise<number> {
  const { values: v } = parseOptions(NAME, OPTIONS, args);
  if (v.config === undefined) throw new CliError("--config is required: the network's GENESIS_FORK_VERSION is part of what a deposit signs");
  const c = loadBeaconConfig(v.config, (m) => io.stderr(`warning: ${m}\n`));
  const fromFile = v["deposit-data"];
  const indices = v["interop-index"];
  if ((fromFile === undefined) === (indices.length === 0)) throw new CliError("give exactly one of --deposit-data and --interop-index");
  if (v.out === undefined && v["eth1.endpoint"] === undefined) throw new CliError("nothing to do: give --out and/or --eth1.endpoint");

  let deposits: { data: DepositData; root: Uint8Array }[];
  if (fromFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(fromFile, "utf8");
    } catch (e) {
      throw new CliError(`cannot read ${fromFile}: ${(e as Error).message}`);
    }
    try {
      deposits = parseDepositDataJson(c, text);
    } catch (e) {
      throw new CliError(`${fromFile}: ${(e as Error).message}`);
    }
  } else {
    const amount = v.amount ?? c.MAX_EFFECTIVE_BALANCE;
    if (amount < c.MIN_DEPOSIT_AMOUNT) throw new CliError(`--amount: at least MIN_DEPOSIT_AMOUNT (${c.MIN_DEPOSIT_AMOUNT} Gwei)`);
    deposits = indices.map((s) => {
      const data = interopDeposit(c, parseUintArg("--interop-index", s), amount);
      return { data, root: c.types.DepositData.hashTreeRoot(data) };
    });
  }
  if (v.out !== undefined) {
    writeFileSync(v.out, JSON.stringify(deposits.map((d) => depositDataJson(c, d.data)), null, 2) + "\n");
    io.stdout(`wrote ${deposits.length} deposit(s) to ${v.out}\n`);
  }
  const endpoint = v["eth1.endpoint"];
  if (endpoint === undefined) return EXIT_OK;

  const contract = v["deposit-contract"] ?? toHex(c.DEPOSIT_CONTRACT_ADDRESS);
  if (!/^0x[0-9a-fA-F]{40}$/.test(contract)) throw new CliError(`--deposit-contract: expected a 0x address of 20 bytes, got ${JSON.stringify(contract)}`);
  try {
    const rpc = new Eth1Rpc({ endpoints: [endpoint], chainId: c.DEPOSIT_CHAIN_ID, retries: 2 });
    // the pubkeys that already have a deposit: a second one is a top-up, which must be meant
    const seen = new Set<string>();
    if (!v["top-up"]) {
      const head = await rpc.blockNumber();
      for (const log of await rpc.getLogs(contract, DEPOSIT_EVENT_TOPIC, v["deposit-block"] ?? 0, head)) seen.add(toHex(decodeDepositLog(log).data.pubkey));
      for (const { data } of deposits) {
        const key = toHex(data.pubkey);
        if (seen.has(key)) throw new CliError(`${key} already has a deposit (or has two here): refused without --top-up`);
        seen.add(key);
      }
    }
    const from = v.from ?? (await eth1Accounts(rpc))[0];
    if (from === undefined) throw new CliError(`${endpoint} holds no unlocked account: give --from`);
    const hashes: string[] = [];
    for (const { data, root } of deposits) {
      const call = encodeDepositCall(data.pubkey, data.withdrawalCredentials, data.signature, root);
      hashes.push(await sendTransaction(rpc, { from, to: contract, value: BigInt(data.amount) * 1_000_000_000n, data: call }));
    }
    for (const [i, hash] of hashes.entries()) {
      const { blockNumber } = await waitForReceipt(rpc, hash);
      io.stdout(`deposit ${toHex(deposits[i].data.pubkey)} ${deposits[i].data.amount} Gwei: block ${blockNumber}, tx ${hash}\n`);
    }
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message, { cause: e });
  }
  return EXIT_OK;
}

export const command: Command = { help, run };
