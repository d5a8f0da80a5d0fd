// A local eth1 chain for development and tests: anvil (Foundry's dev node, the optional dependency
// @foundry-rs/anvil, whose per-platform package ships the binary) on loopback, the dev deposit contract deployed
// from its first unlocked account, and deposits sent with eth_sendTransaction (anvil signs for its dev accounts,
// so Cairn holds no eth1 key and signs nothing).
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import type { DepositData } from "../types/index.js";
import { encodeDepositCall, devDepositContractInitCode } from "./devDepositContract.js";
import { Eth1Rpc, data, quantity, toQuantity } from "./jsonRpc.js";

/** The anvil binary of this platform, or a one-line error saying how to get it. */
export function anvilBinary(): string {
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}`;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`)), "bin", "anvil");
  } catch {
    throw new Error(`no local eth1 node: ${pkg} is not installed (npm install @foundry-rs/anvil; it ships binaries for linux, macOS and Windows on x64/arm64)`);
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface Transaction {
  from: string;
  to?: string;
  value?: bigint;
  data: string;
}

/** Sends a transaction from an account the eth1 node holds unlocked (it signs); returns its hash. */
export async function sendTransaction(rpc: Eth1Rpc, tx: Transaction): Promise<string> {
  const value = tx.value !== undefined ? "0x" + tx.value.toString(16) : undefined;
  return rpc.request("eth_sendTransaction", [{ ...tx, value, gas: toQuantity(3_000_000) }], (v) => {
    data(v, 32);
    return v as string;
  });
}

/** Waits for a transaction's receipt; throws if it reverted. */
export async function waitForReceipt(rpc: Eth1Rpc, hash: string, pollMs = 200): Promise<{ blockNumber: number; contractAddress: string | null }> {
  for (;;) {
    const receipt = await rpc.request("eth_getTransactionReceipt", [hash], (v) => v as { status?: string; blockNumber?: string; contractAddress?: string | null } | null);
    if (receipt) {
      if (receipt.status !== "0x1") throw new Error(`transaction ${hash} reverted`);
      return { blockNumber: quantity(receipt.blockNumber), contractAddress: receipt.contractAddress ?? null };
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The unlocked accounts of the eth1 node. */
export async function eth1Accounts(rpc: Eth1Rpc): Promise<string[]> {
  return rpc.request("eth_accounts", [], (v) => {
    if (!Array.isArray(v) || !v.every((a) => typeof a === "string" && /^0x[0-9a-fA-F]{40}$/.test(a))) throw new Error("eth_accounts: not a list of addresses");
    return v as string[];
  });
}

export interface DevEth1Options {
  chainId: number;
  /** seconds between eth1 blocks */
  blockTime: number;
  port?: number;
}

export class DevEth1Chain {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly rpc: Eth1Rpc,
    private readonly exited: Promise<void>,
  ) {}

  static async start(opts: DevEth1Options): Promise<DevEth1Chain> {
    const bin = anvilBinary();
    const port = opts.port ?? (await freePort());
    const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", String(opts.chainId), "--block-time", String(opts.blockTime), "--silent"];
    const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const rpc = new Eth1Rpc({ endpoints: [url], chainId: opts.chainId, retries: 1, timeoutMs: 5000 });
    const chain = new DevEth1Chain(child, url, rpc, exited);
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`anvil exited with ${child.exitCode}: ${stderr.trim().split("\n").at(-1) ?? ""}`);
      try {
        await rpc.chainId();
        return chain;
      } catch (e) {
        if (i >= 100) {
          await chain.stop();
          throw new Error(`anvil did not answer on ${url}: ${(e as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async accounts(): Promise<string[]> {
    const accounts = await eth1Accounts(this.rpc);
    if (accounts.length === 0) throw new Error("anvil has no accounts");
    return accounts;
  }

  async send(tx: Transaction): Promise<{ blockNumber: number; contractAddress: string | null }> {
    return waitForReceipt(this.rpc, await sendTransaction(this.rpc, tx));
  }

  /** Deploys the dev deposit contract; returns its address and block. */
  async deployDepositContract(from: string): Promise<{ address: string; blockNumber: number }> {
    const { contractAddress, blockNumber } = await this.send({ from, data: devDepositContractInitCode() });
    if (!contractAddress) throw new Error("the deposit contract deployment has no contract address");
    return { address: contractAddress, blockNumber };
  }

  /** Sends deposits (each its own transaction, in this order: one sender's nonces) and waits for them all. */
  async deposit(from: string, contract: string, deposits: { data: DepositData; root: Uint8Array }[]): Promise<number> {
    const hashes: string[] = [];
    for (const { data: d, root } of deposits) {
      const call = encodeDepositCall(d.pubkey, d.withdrawalCredentials, d.signature, root);
      hashes.push(await sendTransaction(this.rpc, { from, to: contract, value: BigInt(d.amount) * 1_000_000_000n, data: call }));
    }
    let last = 0;
    for (const h of hashes) last = Math.max(last, (await waitForReceipt(this.rpc, h)).blockNumber);
    return last;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}
