// Cairn's deposit contract on a real EVM (anvil, when installed): deposit() calls as the official contract takes
// them, DepositEvent logs the follower decodes field for field, get_deposit_root() and get_deposit_count() equal to
// Cairn's own deposit tree after every deposit, and the deposits the contract must refuse reverted.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createBeaconConfig, getNamedConfig } from "../../src/config/index.js";
import {
  anvilBinary,
  DEPOSIT_INTERFACE_ID,
  DEPOSIT_SELECTOR,
  DevEth1Chain,
  encodeDepositCall,
  Eth1Follower,
  GET_DEPOSIT_COUNT_SELECTOR,
  GET_DEPOSIT_ROOT_SELECTOR,
  MemoryEth1Store,
  SUPPORTS_INTERFACE_SELECTOR,
  toQuantity,
  waitForReceipt,
} from "../../src/eth1/index.js";
import { DepositTree, interopDepositData } from "../../src/state-transition/index.js";
import type { DepositData } from "../../src/types/index.js";
import { toHex } from "../../src/util/bytes.js";
import { runCairnSync } from "../utils/cli.js";

let installed = true;
try {
  anvilBinary();
} catch {
  installed = false;
}
const skip = installed ? false : "anvil is not installed";
// logs as soon as they are mined
const c = createBeaconConfig({ ...getNamedConfig("minimal"), ETH1_FOLLOW_DISTANCE: 0 });
let chain: DevEth1Chain;

before(async () => {
  // a block per transaction, mined at once: the state after each deposit is the state at its block
  if (installed) chain = await DevEth1Chain.start({ chainId: c.DEPOSIT_CHAIN_ID, blockTime: 0 });
});
after(async () => {
  await chain?.stop();
});

test("deposits through the dev contract come back as the same deposits, in order", { skip, timeout: 60_000 }, async () => {
  const [from] = await chain.accounts();
  const { address, blockNumber } = await chain.deployDepositContract(from);
  const datas = [interopDepositData(c, 0), { ...interopDepositData(c, 1), amount: 1_000_000_000 }, interopDepositData(c, 2)];
  await chain.deposit(from, address, datas.map((data) => ({ data, root: c.types.DepositData.hashTreeRoot(data) })));
  const f = new Eth1Follower({ config: c, rpc: chain.rpc, depositContract: address, depositBlock: blockNumber, store: new MemoryEth1Store() });
  await f.init();
  await f.update();
  assert.equal(f.depositCount, 3);
  const tree = new DepositTree();
  datas.forEach((d, i) => {
    const got = f.getDeposit(i).data;
    assert.equal(toHex(c.types.DepositData.serialize(got)), toHex(c.types.DepositData.serialize(d)), `deposit ${i}`);
    tree.push(c.types.DepositData.hashTreeRoot(d));
  });
  assert.equal(toHex(f.tree.getRoot()), toHex(tree.getRoot()));
  // a call of another size is reverted: nothing is logged
  await assert.rejects(chain.send({ from, to: address, value: 1n, data: "0x22895118" }), /reverted/);
});

const GWEI = 1_000_000_000n;
const word = (n: number | bigint) => n.toString(16).padStart(64, "0");
/** The count as get_deposit_count() returns it: ABI bytes of the 8 bytes little-endian. */
function countAnswer(n: number): string {
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(BigInt(n));
  return "0x" + word(0x20) + word(8) + le.toString("hex").padEnd(64, "0");
}

async function ethCall(to: string, data: string, block: number | "latest" = "latest"): Promise<string> {
  return chain.rpc.request("eth_call", [{ to, data }, block === "latest" ? block : toQuantity(block)], (v) => v as string);
}

function depositCall(d: DepositData, root = c.types.DepositData.hashTreeRoot(d)): string {
  return encodeDepositCall(d.pubkey, d.withdrawalCredentials, d.signature, root);
}

test("the selectors and interface id are those of the deposit contract's functions", { skip }, async () => {
  const selector = async (signature: string) =>
    (await chain.rpc.request("web3_sha3", ["0x" + Buffer.from(signature).toString("hex")], (v) => v as string)).slice(0, 10);
  assert.equal(await selector("deposit(bytes,bytes,bytes,bytes32)"), DEPOSIT_SELECTOR);
  assert.equal(await selector("get_deposit_root()"), GET_DEPOSIT_ROOT_SELECTOR);
  assert.equal(await selector("get_deposit_count()"), GET_DEPOSIT_COUNT_SELECTOR);
  assert.equal(await selector("supportsInterface(bytes4)"), SUPPORTS_INTERFACE_SELECTOR);
  const xor = [DEPOSIT_SELECTOR, GET_DEPOSIT_ROOT_SELECTOR, GET_DEPOSIT_COUNT_SELECTOR].reduce((a, s) => a ^ Number(s), 0) >>> 0;
  assert.equal("0x" + xor.toString(16).padStart(8, "0"), DEPOSIT_INTERFACE_ID);
});

test("100 deposits: after each, get_deposit_root and get_deposit_count equal Cairn's deposit tree; bad deposits revert", { skip, timeout: 120_000 }, async () => {
  const [from] = await chain.accounts();
  const { address, blockNumber: deployBlock } = await chain.deployDepositContract(from);
  const tree = new DepositTree();
  assert.equal(await ethCall(address, GET_DEPOSIT_ROOT_SELECTOR), toHex(tree.getRoot()));
  assert.equal(await ethCall(address, GET_DEPOSIT_COUNT_SELECTOR), countAnswer(0));

  // amounts other than 32 ETH too (the contract does not check signatures; the root covers the amount)
  const datas = Array.from({ length: 100 }, (_, i) => {
    const d = interopDepositData(c, i);
    return i % 3 === 1 ? { ...d, amount: 1_000_000_000 + i * 12_345 } : d;
  });
  // sent one by one (one sender's nonces), then receipts and reads all at once
  const hashes: string[] = [];
  for (const d of datas) hashes.push(await chain.rpc.request("eth_sendTransaction", [{ from, to: address, value: "0x" + (BigInt(d.amount) * GWEI).toString(16), data: depositCall(d), gas: toQuantity(500_000) }], (v) => v as string));
  const blocks = (await Promise.all(hashes.map((h) => waitForReceipt(chain.rpc, h, 20)))).map((r) => r.blockNumber);
  const answers = await Promise.all(blocks.map((b) => Promise.all([ethCall(address, GET_DEPOSIT_ROOT_SELECTOR, b), ethCall(address, GET_DEPOSIT_COUNT_SELECTOR, b)])));
  // anvil mines one transaction a block, but on a loaded machine two can land in one block: the contract is then
  // read after the last deposit of that block
  const lastInBlock = (i: number) => {
    let j = i;
    while (j + 1 < blocks.length && blocks[j + 1] === blocks[i]) j++;
    return j;
  };
  const roots: string[] = [];
  datas.forEach((d, i) => {
    if (i > 0) assert.ok(blocks[i] >= blocks[i - 1], "deposits mined in the order sent");
    tree.push(c.types.DepositData.hashTreeRoot(d));
    roots.push(toHex(tree.getRoot()));
  });
  datas.forEach((_, i) => {
    const j = lastInBlock(i);
    assert.equal(answers[i][0], roots[j], `get_deposit_root after ${j + 1} deposits`);
    assert.equal(answers[i][1], countAnswer(j + 1), `get_deposit_count after ${j + 1} deposits`);
  });
  // the follower reads the same deposits back from the logs
  const f = new Eth1Follower({ config: c, rpc: chain.rpc, depositContract: address, depositBlock: deployBlock, store: new MemoryEth1Store() });
  await f.init();
  await f.update();
  assert.equal(f.depositCount, 100);
  assert.equal(toHex(f.tree.getRoot()), toHex(tree.getRoot()));

  // each of these differs from a good deposit in one thing, and must revert without a trace
  const d = interopDepositData(c, 100);
  const good = depositCall(d);
  const value = BigInt(d.amount) * GWEI;
  const flipped = c.types.DepositData.hashTreeRoot(d);
  flipped[31] ^= 1;
  const small = { ...d, amount: 999_999_999 };
  // the length words of pubkey, withdrawal_credentials and signature in the canonical encoding (hex offsets)
  const lengthAt = (arg: number) => 2 + 8 + 2 * [0x80, 0xe0, 0x120][arg];
  const withLength = (arg: number, n: number) => good.slice(0, lengthAt(arg)) + word(n) + good.slice(lengthAt(arg) + 64);
  const bad: [string, bigint, string][] = [
    ["a wrong deposit_data_root", value, depositCall(d, flipped)],
    ["a pubkey of 47 bytes", value, withLength(0, 47)],
    ["withdrawal credentials of 33 bytes", value, withLength(1, 33)],
    ["a signature of 95 bytes", value, withLength(2, 95)],
    ["less than 1 ETH", BigInt(small.amount) * GWEI, depositCall(small)],
    ["not a whole number of Gwei", value + 1n, good],
    ["calldata cut short", value, good.slice(0, -2)],
    ["no calldata", value, "0x"],
  ];
  for (const [what, v, data] of bad) {
    await assert.rejects(chain.send({ from, to: address, value: v, data }), /reverted/, what);
  }
  assert.equal(await ethCall(address, GET_DEPOSIT_COUNT_SELECTOR), countAnswer(100));
  assert.equal(await ethCall(address, GET_DEPOSIT_ROOT_SELECTOR), toHex(tree.getRoot()));
  // the good one goes in
  await chain.send({ from, to: address, value, data: good });
  tree.push(c.types.DepositData.hashTreeRoot(d));
  assert.equal(await ethCall(address, GET_DEPOSIT_ROOT_SELECTOR), toHex(tree.getRoot()));

  const supports = (id: string) => ethCall(address, SUPPORTS_INTERFACE_SELECTOR + id.slice(2).padEnd(64, "0"));
  assert.equal(await supports(DEPOSIT_INTERFACE_ID), "0x" + word(1));
  assert.equal(await supports(SUPPORTS_INTERFACE_SELECTOR), "0x" + word(1));
  assert.equal(await supports("0xffffffff"), "0x" + word(0));
});

test("cairn deposit refuses to send less than the contract takes, even when the config allows it", () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-deposit-"));
  try {
    writeFileSync(join(dir, "low.yaml"), "PRESET_BASE: minimal\nMIN_DEPOSIT_AMOUNT: 1\n");
    const out = join(dir, "out.json");
    // no eth1 node listens there: the refusal comes before any request
    const args = ["deposit", "--config", join(dir, "low.yaml"), "--interop-index", "0", "--amount", "999999999", "--out", out];
    const r = runCairnSync([...args, "--eth1.endpoint", "http://127.0.0.1:9"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /999999999 Gwei is less than the deposit contract takes \(1000000000 Gwei\); nothing sent$/m);
    assert.equal(existsSync(out), false);
    // a file alone is still written (for the network whose config it is)
    assert.equal(runCairnSync(args).status, 0);
    assert.equal(existsSync(out), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
