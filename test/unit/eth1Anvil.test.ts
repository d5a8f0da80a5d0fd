// The dev deposit contract on a real EVM (anvil, when installed): deposit() calls as the official contract takes
// them, DepositEvent logs the follower decodes field for field, and a malformed call reverted.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createBeaconConfig, getNamedConfig } from "../../src/config/index.js";
import { anvilBinary, DevEth1Chain, Eth1Follower, MemoryEth1Store } from "../../src/eth1/index.js";
import { DepositTree, interopDepositData } from "../../src/state-transition/index.js";
import { toHex } from "../../src/util/bytes.js";

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
  if (installed) chain = await DevEth1Chain.start({ chainId: c.DEPOSIT_CHAIN_ID, blockTime: 1 });
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
