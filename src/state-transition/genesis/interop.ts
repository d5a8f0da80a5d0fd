// Interop genesis ("mocked start"): N validators from the interop keys, each with a 32 ETH deposit, run through
// the spec's initialize_beacon_state_from_eth1 with real deposit proofs. Eth1 block hash 0x42..42 and timestamp
// 2^40 as the interop spec says; the genesis time is then set by the caller's choice.
import { digest } from "@chainsafe/as-sha256";
import { Tree } from "@chainsafe/persistent-merkle-tree";
import { ListCompositeType } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../config/index.js";
import { sign } from "../../crypto/bls.js";
import { interopSecretKey } from "../../crypto/interop.js";
import { DEPOSIT_CONTRACT_TREE_DEPTH } from "../../params/index.js";
import type { BeaconStateView, Deposit, DepositData } from "../../types/index.js";
import { computeDomain, computeSigningRoot } from "../util/domain.js";
import { initializeBeaconStateFromEth1 } from "./index.js";

export const INTEROP_ETH1_BLOCK_HASH = new Uint8Array(32).fill(0x42);
export const INTEROP_ETH1_TIMESTAMP = 2 ** 40;

export function interopDepositData(c: BeaconConfig, index: number): DepositData {
  const sk = interopSecretKey(index);
  const pubkey = sk.toPublicKey().toBytes();
  const withdrawalCredentials = digest(pubkey);
  withdrawalCredentials.set(c.BLS_WITHDRAWAL_PREFIX, 0);
  const message = { pubkey, withdrawalCredentials, amount: c.MAX_EFFECTIVE_BALANCE };
  const signingRoot = computeSigningRoot(c, c.types.DepositMessage, message, computeDomain(c, c.DOMAIN_DEPOSIT));
  return { ...message, signature: sign(sk, signingRoot) };
}

/** Deposits whose proofs are valid against the deposit root after each one, as genesis processing checks them. */
export function depositsWithProofs(c: BeaconConfig, depositData: DepositData[]): Deposit[] {
  const listType = new ListCompositeType(c.types.DepositData, 2 ** DEPOSIT_CONTRACT_TREE_DEPTH);
  const list = listType.defaultViewDU();
  const deposits: Deposit[] = [];
  for (let i = 0; i < depositData.length; i++) {
    list.push(c.types.DepositData.toViewDU(depositData[i]));
    list.commit();
    // data chunk i of a list sits under the left child of the length mix-in: gindex 2^(depth+1) + i
    const gindex = BigInt(2) ** BigInt(DEPOSIT_CONTRACT_TREE_DEPTH + 1) + BigInt(i);
    const proof = new Tree(list.node).getSingleProof(gindex);
    // getSingleProof lists siblings leaf-to-root; the last sibling is the length chunk (the mix-in)
    deposits.push({ proof, data: depositData[i] });
  }
  return deposits;
}

export function createInteropGenesisState(c: BeaconConfig, validatorCount: number, genesisTime?: number): BeaconStateView {
  const data = Array.from({ length: validatorCount }, (_, i) => interopDepositData(c, i));
  const state = initializeBeaconStateFromEth1(c, INTEROP_ETH1_BLOCK_HASH, INTEROP_ETH1_TIMESTAMP, depositsWithProofs(c, data));
  if (genesisTime !== undefined) {
    state.genesisTime = genesisTime;
    state.commit();
  }
  return state;
}

/**
 * The state initializeBeaconStateFromEth1 produces for the interop deposits, built directly: no per-deposit proof,
 * root or signature check, so 100,000 validators take seconds instead of minutes. With `signDeposits: false` the
 * deposit signatures (which only enter the deposit root) are left empty: for harness runs that never check signatures;
 * `pubkeys` then gives the interop public keys already derived (a scalar multiplication each: the benchmarks cache them).
 */
export function createInteropGenesisStateFast(
  c: BeaconConfig,
  validatorCount: number,
  genesisTime: number,
  opts: { signDeposits: boolean; pubkeys?: Uint8Array[] } = { signDeposits: true },
): BeaconStateView {
  const t = c.types;
  if (opts.pubkeys && opts.pubkeys.length < validatorCount) throw new Error(`${opts.pubkeys.length} pubkeys given for ${validatorCount} validators`);
  const depositData: DepositData[] = [];
  for (let i = 0; i < validatorCount; i++) {
    if (opts.signDeposits) {
      depositData.push(interopDepositData(c, i));
    } else {
      const pubkey = opts.pubkeys?.[i] ?? interopSecretKey(i).toPublicKey().toBytes();
      const withdrawalCredentials = digest(pubkey);
      withdrawalCredentials.set(c.BLS_WITHDRAWAL_PREFIX, 0);
      depositData.push({ pubkey, withdrawalCredentials, amount: c.MAX_EFFECTIVE_BALANCE, signature: new Uint8Array(96) });
    }
  }
  const depositRoot = new ListCompositeType(t.DepositData, 2 ** DEPOSIT_CONTRACT_TREE_DEPTH).hashTreeRoot(depositData);
  const state = t.BeaconState.defaultViewDU();
  state.genesisTime = genesisTime;
  state.fork = t.Fork.toViewDU({ previousVersion: c.GENESIS_FORK_VERSION, currentVersion: c.GENESIS_FORK_VERSION, epoch: 0 });
  state.eth1Data = t.Eth1Data.toViewDU({ depositRoot, depositCount: BigInt(validatorCount), blockHash: INTEROP_ETH1_BLOCK_HASH });
  state.eth1DepositIndex = validatorCount;
  state.latestBlockHeader = t.BeaconBlockHeader.toViewDU({
    ...t.BeaconBlockHeader.defaultValue(),
    bodyRoot: t.BeaconBlockBody.hashTreeRoot(t.BeaconBlockBody.defaultValue()),
  });
  for (let i = 0; i < c.EPOCHS_PER_HISTORICAL_VECTOR; i++) state.randaoMixes.set(i, INTEROP_ETH1_BLOCK_HASH);
  state.validators = t.BeaconState.fields.validators.toViewDU(
    depositData.map((d) => ({
      pubkey: d.pubkey,
      withdrawalCredentials: d.withdrawalCredentials,
      effectiveBalance: c.MAX_EFFECTIVE_BALANCE,
      slashed: false,
      activationEligibilityEpoch: 0,
      activationEpoch: 0,
      exitEpoch: Infinity,
      withdrawableEpoch: Infinity,
    })),
  );
  state.balances = t.BeaconState.fields.balances.toViewDU(depositData.map(() => c.MAX_EFFECTIVE_BALANCE));
  state.genesisValidatorsRoot = state.validators.hashTreeRoot();
  state.commit();
  return state;
}
