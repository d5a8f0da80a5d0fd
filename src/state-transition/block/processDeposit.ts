import type { BeaconConfig } from "../../config/index.js";
import { DEPOSIT_CONTRACT_TREE_DEPTH, FAR_FUTURE_EPOCH } from "../../params/index.js";
import type { Deposit, Validator } from "../../types/index.js";
import { verify } from "../../crypto/bls.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { UnsupportedValueError, assert } from "../util/assert.js";
import { increaseBalance } from "../util/balance.js";
import { computeDomain, computeSigningRoot } from "../util/domain.js";
import { isValidMerkleBranch } from "../util/merkle.js";

// get_validator_from_deposit
export function getValidatorFromDeposit(c: BeaconConfig, deposit: Deposit): Validator {
  const amount = deposit.data.amount;
  return {
    pubkey: deposit.data.pubkey,
    withdrawalCredentials: deposit.data.withdrawalCredentials,
    activationEligibilityEpoch: FAR_FUTURE_EPOCH,
    activationEpoch: FAR_FUTURE_EPOCH,
    exitEpoch: FAR_FUTURE_EPOCH,
    withdrawableEpoch: FAR_FUTURE_EPOCH,
    effectiveBalance: Math.min(amount - (amount % c.EFFECTIVE_BALANCE_INCREMENT), c.MAX_EFFECTIVE_BALANCE),
    slashed: false,
  };
}

// process_deposit
export function processDeposit(cached: CachedBeaconState, deposit: Deposit): void {
  const { config: c, state, epochCtx } = cached;
  // Balances are numbers (src/types/primitive.ts): an amount from 2^53 Gwei on was rounded when decoded (so its proof
  // cannot be checked), and a balance from 2^53 on would be. Refused before anything changes.
  if (deposit.data.amount > Number.MAX_SAFE_INTEGER) {
    throw new UnsupportedValueError(`deposit amount ${deposit.data.amount} Gwei is at or above 2^53: not supported`);
  }
  assert(
    isValidMerkleBranch(
      c.types.DepositData.hashTreeRoot(deposit.data),
      deposit.proof,
      DEPOSIT_CONTRACT_TREE_DEPTH + 1, // +1 for the List length mix-in
      state.eth1DepositIndex,
      state.eth1Data.depositRoot,
    ),
    "deposit has an invalid merkle proof",
  );
  const { pubkey, amount } = deposit.data;
  const cache = epochCtx.pubkeyCache;
  const known = cache.getIndex(pubkey);
  const validatorCount = state.validators.length;
  // The cache is shared by all forks of the chain and can hold validators this state does not have yet.
  const topUp = known !== undefined && known < validatorCount;
  if (topUp && state.balances.get(known) + amount > Number.MAX_SAFE_INTEGER) {
    throw new UnsupportedValueError(`deposit would raise validator ${known}'s balance to 2^53 Gwei or above: not supported`);
  }
  state.eth1DepositIndex += 1;

  if (topUp) {
    increaseBalance(state, known, amount);
    return;
  }
  // Deposits are valid across forks, so the domain is fork-agnostic.
  const domain = computeDomain(c, c.DOMAIN_DEPOSIT);
  const signingRoot = computeSigningRoot(
    c,
    c.types.DepositMessage,
    { pubkey, withdrawalCredentials: deposit.data.withdrawalCredentials, amount },
    domain,
  );
  if (!verify(pubkey, signingRoot, deposit.data.signature)) return;

  state.validators.push(c.types.Validator.toViewDU(getValidatorFromDeposit(c, deposit)));
  state.balances.push(amount);
  if (validatorCount === cache.size) cache.add(validatorCount, pubkey);
}
