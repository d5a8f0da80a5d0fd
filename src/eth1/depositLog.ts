// DepositEvent(bytes pubkey, bytes withdrawal_credentials, bytes amount, bytes signature, bytes index) of the
// deposit contract, decoded by hand. The contract always emits the same canonical ABI layout (five offsets, then
// five length-prefixed, zero-padded fields of fixed sizes), so anything else is refused, not interpreted.
import type { DepositData } from "../types/index.js";
import { bytesEqual, fromHex, toHex } from "../util/bytes.js";
import type { Eth1Log } from "./jsonRpc.js";

/** keccak256("DepositEvent(bytes,bytes,bytes,bytes,bytes)") */
export const DEPOSIT_EVENT_TOPIC = "0x649bbc62d0e31342afea4e5cd82d4049e7e1ee912fc0889aa790803be39038c5";

export interface DepositEvent {
  index: number;
  blockNumber: number;
  data: DepositData;
}

/** Field sizes in emit order, and their offsets in the canonical encoding. */
const SIZES = [48, 32, 8, 96, 8];
const padded = (n: number) => Math.ceil(n / 32) * 32;
const OFFSETS: number[] = [];
let end = 32 * SIZES.length;
for (const size of SIZES) {
  OFFSETS.push(end);
  end += 32 + padded(size);
}
const EVENT_LENGTH = end; // 576

function word(data: Uint8Array, at: number): number {
  // a 32-byte big-endian word that must fit in 4 bytes here
  for (let i = at; i < at + 28; i++) if (data[i] !== 0) throw new Error(`word at ${at} is too large`);
  return new DataView(data.buffer, data.byteOffset + at + 28, 4).getUint32(0);
}

function readUint64LE(bytes: Uint8Array, what: string): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} ${v} is beyond 2^53`);
  return Number(v);
}

/** Decodes a DepositEvent log; throws a one-line error on anything but the contract's exact layout. */
export function decodeDepositLog(log: Eth1Log): DepositEvent {
  const where = `deposit log ${log.logIndex} of block ${log.blockNumber}`;
  try {
    if (log.topics.length !== 1 || !bytesEqual(log.topics[0], fromHex(DEPOSIT_EVENT_TOPIC))) throw new Error("not a DepositEvent");
    const d = log.data;
    if (d.length !== EVENT_LENGTH) throw new Error(`data is ${d.length} bytes, expected ${EVENT_LENGTH}`);
    const fields = SIZES.map((size, k) => {
      const offset = word(d, 32 * k);
      if (offset !== OFFSETS[k]) throw new Error(`field ${k} at offset ${offset}, expected ${OFFSETS[k]}`);
      const length = word(d, offset);
      if (length !== size) throw new Error(`field ${k} is ${length} bytes, expected ${size}`);
      for (let i = offset + 32 + size; i < offset + 32 + padded(size); i++) if (d[i] !== 0) throw new Error(`field ${k} has nonzero padding`);
      return d.slice(offset + 32, offset + 32 + size);
    });
    const [pubkey, withdrawalCredentials, amountBytes, signature, indexBytes] = fields;
    return {
      index: readUint64LE(indexBytes, "index"),
      blockNumber: log.blockNumber,
      data: { pubkey, withdrawalCredentials, amount: readUint64LE(amountBytes, "amount"), signature },
    };
  } catch (e) {
    throw new Error(`${where} (tx ${toHex(log.transactionHash)}): ${(e as Error).message}`);
  }
}

/** The data of a DepositEvent log for `deposit` (what the contract emits; for tests and local tooling). */
export function encodeDepositLogData(data: DepositData, index: number): Uint8Array {
  const out = new Uint8Array(EVENT_LENGTH);
  const dv = new DataView(out.buffer);
  const le = (n: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    return b;
  };
  const values = [data.pubkey, data.withdrawalCredentials, le(data.amount), data.signature, le(index)];
  values.forEach((v, k) => {
    dv.setUint32(32 * k + 28, OFFSETS[k]);
    dv.setUint32(OFFSETS[k] + 28, v.length);
    out.set(v, OFFSETS[k] + 32);
  });
  return out;
}
