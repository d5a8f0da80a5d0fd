// Deposit data files as the deposit CLI writes them (deposit_data-*.json: an array of {pubkey,
// withdrawal_credentials, amount, signature, deposit_message_root, deposit_data_root, fork_version, ...}, hex
// without 0x), read strictly: a deposit whose signature or roots do not check out would burn its ether, so it is
// refused before anything is sent.
import type { BeaconConfig } from "../config/index.js";
import { verify } from "../crypto/bls.js";
import { computeDomain, computeSigningRoot } from "../state-transition/util/domain.js";
import type { DepositData } from "../types/index.js";
import { bytesEqual, toHex } from "../util/bytes.js";

export interface DepositDataJson {
  pubkey: string;
  withdrawal_credentials: string;
  amount: number;
  signature: string;
  deposit_message_root: string;
  deposit_data_root: string;
  fork_version: string;
}

function hexField(o: Record<string, unknown>, key: string, length: number, where: string): Uint8Array {
  const v = o[key];
  if (typeof v !== "string" || !/^(0x)?[0-9a-fA-F]*$/.test(v)) throw new Error(`${where}: ${key} is not hex`);
  const bytes = Uint8Array.from(Buffer.from(v.replace(/^0x/, ""), "hex"));
  if (bytes.length !== length || v.replace(/^0x/, "").length !== 2 * length) throw new Error(`${where}: ${key} is not ${length} bytes`);
  return bytes;
}

/** The deposit's signing root check: signed by its pubkey over DepositMessage with the config's genesis fork. */
export function isValidDepositSignature(c: BeaconConfig, d: DepositData): boolean {
  const message = { pubkey: d.pubkey, withdrawalCredentials: d.withdrawalCredentials, amount: d.amount };
  try {
    return verify(d.pubkey, computeSigningRoot(c, c.types.DepositMessage, message, computeDomain(c, c.DOMAIN_DEPOSIT)), d.signature);
  } catch {
    return false; // not a valid public key or signature encoding
  }
}

/** Parses and checks a deposit data file's text; throws a one-line error naming the entry at fault. */
export function parseDepositDataJson(c: BeaconConfig, text: string): { data: DepositData; root: Uint8Array }[] {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch (e) {
    throw new Error(`not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(list) || list.length === 0) throw new Error("expected a non-empty JSON array of deposits");
  return list.map((entry, i) => {
    const where = `deposit ${i}`;
    if (typeof entry !== "object" || entry === null) throw new Error(`${where}: not an object`);
    const o = entry as Record<string, unknown>;
    const amount = o.amount;
    if (typeof amount !== "number" || !Number.isSafeInteger(amount) || amount < c.MIN_DEPOSIT_AMOUNT) {
      throw new Error(`${where}: amount must be an integer of at least MIN_DEPOSIT_AMOUNT (${c.MIN_DEPOSIT_AMOUNT} Gwei)`);
    }
    const data: DepositData = {
      pubkey: hexField(o, "pubkey", 48, where),
      withdrawalCredentials: hexField(o, "withdrawal_credentials", 32, where),
      amount,
      signature: hexField(o, "signature", 96, where),
    };
    if (o.fork_version !== undefined && !bytesEqual(hexField(o, "fork_version", 4, where), c.GENESIS_FORK_VERSION)) {
      throw new Error(`${where}: fork_version ${String(o.fork_version)} is not this network's GENESIS_FORK_VERSION ${toHex(c.GENESIS_FORK_VERSION)}`);
    }
    const root = c.types.DepositData.hashTreeRoot(data);
    if (o.deposit_data_root !== undefined && !bytesEqual(hexField(o, "deposit_data_root", 32, where), root)) {
      throw new Error(`${where}: deposit_data_root does not match the deposit's fields`);
    }
    const messageRoot = c.types.DepositMessage.hashTreeRoot({ pubkey: data.pubkey, withdrawalCredentials: data.withdrawalCredentials, amount });
    if (o.deposit_message_root !== undefined && !bytesEqual(hexField(o, "deposit_message_root", 32, where), messageRoot)) {
      throw new Error(`${where}: deposit_message_root does not match the deposit's fields`);
    }
    if (!isValidDepositSignature(c, data)) throw new Error(`${where}: the signature is not valid for ${toHex(data.pubkey)} on this network (the deposit would be lost)`);
    return { data, root };
  });
}

/** A deposit data file entry (the deposit CLI's fields). */
export function depositDataJson(c: BeaconConfig, data: DepositData): DepositDataJson {
  const hex = (b: Uint8Array) => toHex(b).slice(2);
  return {
    pubkey: hex(data.pubkey),
    withdrawal_credentials: hex(data.withdrawalCredentials),
    amount: data.amount,
    signature: hex(data.signature),
    deposit_message_root: hex(c.types.DepositMessage.hashTreeRoot({ pubkey: data.pubkey, withdrawalCredentials: data.withdrawalCredentials, amount: data.amount })),
    deposit_data_root: hex(c.types.DepositData.hashTreeRoot(data)),
    fork_version: hex(c.GENESIS_FORK_VERSION),
  };
}
