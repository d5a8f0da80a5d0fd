// <preset>/phase0/operations: one block operation applied to pre.ssz (tests/formats/operations/README.md).
import type { Phase0Types } from "../../../src/types/index.js";
import type { CaseFn, Runner } from "../harness.js";
import { stateCase, verifySignatures, type CachedBeaconState, type StateTransitionModule } from "../stateUtils.js";

/** An operation handler: the input file (`<input>.ssz`), its SSZ type, and the processing call. */
function operationCase<T>(
  input: string,
  getType: (types: Phase0Types) => { deserialize(bytes: Uint8Array): T },
  apply: (st: StateTransitionModule, cached: CachedBeaconState, op: T, verify: boolean) => void,
): CaseFn {
  return stateCase((st, cached, c) => {
    const op = getType(c.config.types).deserialize(c.bytes(`${input}.ssz`));
    apply(st, cached, op, verifySignatures(c));
  });
}

export const operationsRunner: Runner = {
  handlers: {
    attestation: operationCase(
      "attestation",
      (t) => t.Attestation,
      (st, s, op, verify) => st.processAttestation(s, op, verify),
    ),
    attester_slashing: operationCase(
      "attester_slashing",
      (t) => t.AttesterSlashing,
      (st, s, op, verify) => st.processAttesterSlashing(s, op, verify),
    ),
    // Not strictly an operation: a full BeaconBlock whose header is processed (no signature involved).
    block_header: operationCase(
      "block",
      (t) => t.BeaconBlock,
      (st, s, op) => st.processBlockHeader(s, op),
    ),
    // Deposit signatures are always checked (proof of possession); a bad one skips the deposit, it does not throw.
    deposit: operationCase(
      "deposit",
      (t) => t.Deposit,
      (st, s, op) => st.processDeposit(s, op),
    ),
    proposer_slashing: operationCase(
      "proposer_slashing",
      (t) => t.ProposerSlashing,
      (st, s, op, verify) => st.processProposerSlashing(s, op, verify),
    ),
    voluntary_exit: operationCase(
      "voluntary_exit",
      (t) => t.SignedVoluntaryExit,
      (st, s, op, verify) => st.processVoluntaryExit(s, op, verify),
    ),
  },
};
