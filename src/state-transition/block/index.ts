import type { BeaconBlock } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { assert } from "../util/assert.js";
import { processAttestation } from "./processAttestation.js";
import { processAttesterSlashing } from "./processAttesterSlashing.js";
import { processBlockHeader } from "./processBlockHeader.js";
import { processDeposit } from "./processDeposit.js";
import { processEth1Data } from "./processEth1Data.js";
import { processProposerSlashing } from "./processProposerSlashing.js";
import { processRandao } from "./processRandao.js";
import { processVoluntaryExit } from "./processVoluntaryExit.js";

export {
  processAttestation,
  processAttesterSlashing,
  processBlockHeader,
  processDeposit,
  processEth1Data,
  processProposerSlashing,
  processRandao,
  processVoluntaryExit,
};
export { isValidIndexedAttestation } from "./isValidIndexedAttestation.js";
export { validateAttestation } from "./processAttestation.js";
export { getValidatorFromDeposit } from "./processDeposit.js";

// process_block
export function processBlock(cached: CachedBeaconState, block: BeaconBlock, verifySignatures = true): void {
  processBlockHeader(cached, block);
  processRandao(cached, block.body, verifySignatures);
  processEth1Data(cached, block.body);
  processOperations(cached, block, verifySignatures);
}

// process_operations
export function processOperations(cached: CachedBeaconState, block: BeaconBlock, verifySignatures = true): void {
  const { config: c, state } = cached;
  const body = block.body;
  // deposit_count is any uint64 a voting majority chose: the difference in bigint; below zero is a uint64 underflow
  const outstanding = state.eth1Data.depositCount - BigInt(state.eth1DepositIndex);
  assert(outstanding >= 0n, `eth1_data.deposit_count ${state.eth1Data.depositCount} is below eth1_deposit_index ${state.eth1DepositIndex}`);
  const expectedDeposits = outstanding < BigInt(c.MAX_DEPOSITS) ? Number(outstanding) : c.MAX_DEPOSITS;
  assert(body.deposits.length === expectedDeposits, `block has ${body.deposits.length} deposits, expected ${expectedDeposits}`);
  for (const op of body.proposerSlashings) processProposerSlashing(cached, op, verifySignatures);
  for (const op of body.attesterSlashings) processAttesterSlashing(cached, op, verifySignatures);
  for (const op of body.attestations) processAttestation(cached, op, verifySignatures);
  for (const op of body.deposits) processDeposit(cached, op);
  for (const op of body.voluntaryExits) processVoluntaryExit(cached, op, verifySignatures);
}
