// <preset>/phase0/rewards: the five attestation-component deltas of get_attestation_deltas, compared per validator.
import { ContainerType, ListBasicType } from "@chainsafe/ssz";
import { primitive } from "../../../src/types/index.js";
import type { BeaconConfig } from "../../../src/config/index.js";
import { assert, type CaseFn, type Runner } from "../harness.js";
import { loadState, loadStateTransition } from "../stateUtils.js";

// Deltas files in the order of the spec, with the component name of getAttestationComponentDeltas.
const COMPONENTS = [
  ["source_deltas", "source"],
  ["target_deltas", "target"],
  ["head_deltas", "head"],
  ["inclusion_delay_deltas", "inclusionDelay"],
  ["inactivity_penalty_deltas", "inactivityPenalty"],
] as const;

const deltasTypes = new Map<number, ReturnType<typeof createDeltasType>>();
function createDeltasType(limit: number) {
  const list = new ListBasicType(primitive.Gwei, limit);
  return new ContainerType({ rewards: list, penalties: list }, { typeName: "Deltas", jsonCase: "snake" });
}
/** The test-only `Deltas` container of tests/formats/rewards/README.md. */
function getDeltasType(config: BeaconConfig) {
  let t = deltasTypes.get(config.VALIDATOR_REGISTRY_LIMIT);
  if (!t) {
    t = createDeltasType(config.VALIDATOR_REGISTRY_LIMIT);
    deltasTypes.set(config.VALIDATOR_REGISTRY_LIMIT, t);
  }
  return t;
}

function assertListEqual(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert(actual.length === expected.length, `${what}: ${actual.length} entries, expected ${expected.length}`);
  const wrong: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) wrong.push(`[${i}] got ${actual[i]}, expected ${expected[i]}`);
  }
  assert(wrong.length === 0, `${what}: ${wrong.length} wrong, first: ${wrong.slice(0, 3).join(", ")}`);
}

const rewardsCase: CaseFn = async (c) => {
  const st = await loadStateTransition();
  const cached = st.createCachedBeaconState(c.config, loadState(c, "pre.ssz"));
  const deltas = st.getAttestationComponentDeltas(cached, st.beforeProcessEpoch(cached));
  const Deltas = getDeltasType(c.config);
  const errors: string[] = [];
  for (const [file, component] of COMPONENTS) {
    const expected = Deltas.deserialize(c.bytes(`${file}.ssz`));
    try {
      assertListEqual(deltas[component].rewards, expected.rewards, `${file}.rewards`);
      assertListEqual(deltas[component].penalties, expected.penalties, `${file}.penalties`);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  // Report every wrong component at once: which ones disagree is the useful debugging signal.
  assert(errors.length === 0, errors.join("; "));
};

export const rewardsRunner: Runner = {
  handlers: { basic: rewardsCase, leak: rewardsCase, random: rewardsCase },
};
