// A minimal stand-in for the deposit contract, for local eth1 chains (cairn dev --eth1, tests), assembled here from
// the interface in deposit-contract.md: `deposit(bytes pubkey, bytes withdrawal_credentials, bytes signature,
// bytes32 deposit_data_root)` (selector 0x22895118) takes the call exactly as the official contract does and emits
// the same DepositEvent (the five length-prefixed fields; amount = msg.value in Gwei and index, both 8 bytes
// little-endian). It is not the official contract: it keeps no Merkle tree (no get_deposit_root, no
// get_deposit_count) and checks neither the amount nor deposit_data_root, only the call's size. Cairn computes the
// deposit root itself from the logs, so the follower, genesis and block production run exactly as on a real network.
// (The official bytecode is not shipped: the repository holds only code written for it.)
import { DEPOSIT_EVENT_TOPIC } from "./depositLog.js";

/** The 4-byte selector of deposit(bytes,bytes,bytes,bytes32). */
export const DEPOSIT_SELECTOR = "0x22895118";

const OP = {
  STOP: 0x00, ADD: 0x01, DIV: 0x04, EQ: 0x14, BYTE: 0x1a, CALLVALUE: 0x34, CALLDATASIZE: 0x36, CALLDATACOPY: 0x37,
  CODECOPY: 0x39, POP: 0x50, MSTORE: 0x52, MSTORE8: 0x53, SLOAD: 0x54, SSTORE: 0x55, JUMPI: 0x57, JUMPDEST: 0x5b,
  DUP1: 0x80, LOG1: 0xa1, RETURN: 0xf3, REVERT: 0xfd,
} as const;

/** PUSHn of a value in the fewest bytes (at least 1). */
function push(value: bigint | number, width?: number): number[] {
  let v = BigInt(value);
  const bytes: number[] = [];
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  while (width !== undefined && bytes.length < width) bytes.unshift(0);
  return [0x5f + bytes.length, ...bytes];
}

/** The 8 bytes of the word on top of the stack, little-endian, to memory at `at` (the word stays on the stack). */
function storeUint64LE(at: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < 8; k++) out.push(OP.DUP1, ...push(31 - k), OP.BYTE, ...push(at + k, 2), OP.MSTORE8);
  return out;
}

// the DepositEvent data in memory at 0: five offsets, then (length, field) for each field
const EVENT = { pubkey: 0xa0, withdrawalCredentials: 0x100, amount: 0x140, signature: 0x180, index: 0x200, size: 0x240 };
// the canonical calldata of deposit(): selector, three offsets and the root, then each (length, bytes)
const CALL = { pubkey: 4 + 0x80 + 32, withdrawalCredentials: 4 + 0xe0 + 32, signature: 4 + 0x120 + 32, size: 4 + 0x120 + 32 + 96 };

function runtime(): number[] {
  const checkSize = [...push(CALL.size, 2), OP.CALLDATASIZE, OP.EQ];
  const revert = [...push(0), OP.DUP1, OP.REVERT];
  const head = [...checkSize, ...push(0), OP.JUMPI]; // the destination is patched below
  const code: number[] = [...head, ...revert];
  const okAt = code.length;
  code[checkSize.length + 1] = okAt;
  code.push(OP.JUMPDEST);
  const offsets = [EVENT.pubkey, EVENT.withdrawalCredentials, EVENT.amount, EVENT.signature, EVENT.index];
  offsets.forEach((o, k) => code.push(...push(o, 2), ...push(32 * k), OP.MSTORE));
  const lengths = [48, 32, 8, 96, 8];
  offsets.forEach((o, k) => code.push(...push(lengths[k]), ...push(o, 2), OP.MSTORE));
  const copy = (from: number, to: number, size: number) => code.push(...push(size), ...push(from, 2), ...push(to + 32, 2), OP.CALLDATACOPY);
  copy(CALL.pubkey, EVENT.pubkey, 48);
  copy(CALL.withdrawalCredentials, EVENT.withdrawalCredentials, 32);
  copy(CALL.signature, EVENT.signature, 96);
  // amount: msg.value / 1 Gwei
  code.push(...push(1_000_000_000), OP.CALLVALUE, OP.DIV, ...storeUint64LE(EVENT.amount + 32), OP.POP);
  // index: storage slot 0, then incremented
  code.push(...push(0), OP.SLOAD, ...storeUint64LE(EVENT.index + 32), ...push(1), OP.ADD, ...push(0), OP.SSTORE);
  code.push(...push(BigInt(DEPOSIT_EVENT_TOPIC), 32), ...push(EVENT.size, 2), ...push(0), OP.LOG1, OP.STOP);
  return code;
}

/** Creation code: copies the runtime code to memory and returns it. */
export function devDepositContractInitCode(): string {
  const body = runtime();
  const prefixLength = 13; // PUSH2 len, DUP1, PUSH2 offset, PUSH1 0, CODECOPY, PUSH1 0, RETURN
  const init = [...push(body.length, 2), OP.DUP1, ...push(prefixLength, 2), ...push(0), OP.CODECOPY, ...push(0), OP.RETURN];
  if (init.length !== prefixLength) throw new Error("init code prefix length changed");
  return "0x" + Buffer.from([...init, ...body]).toString("hex");
}

/** The calldata of deposit(pubkey, withdrawal_credentials, signature, deposit_data_root), canonical ABI encoding. */
export function encodeDepositCall(pubkey: Uint8Array, withdrawalCredentials: Uint8Array, signature: Uint8Array, depositDataRoot: Uint8Array): string {
  if (pubkey.length !== 48 || withdrawalCredentials.length !== 32 || signature.length !== 96 || depositDataRoot.length !== 32) {
    throw new Error("deposit call: pubkey 48, withdrawal credentials 32, signature 96 and root 32 bytes expected");
  }
  const word = (n: number) => n.toString(16).padStart(64, "0");
  const hex = (b: Uint8Array, padTo: number) => Buffer.from(b).toString("hex").padEnd(padTo * 2, "0");
  return (
    DEPOSIT_SELECTOR +
    word(0x80) + word(0xe0) + word(0x120) + hex(depositDataRoot, 32) +
    word(48) + hex(pubkey, 64) +
    word(32) + hex(withdrawalCredentials, 32) +
    word(96) + hex(signature, 96)
  );
}
