// <preset>/phase0/genesis: initialize_beacon_state_from_eth1 and is_valid_genesis_state.
import { assert, toNum, type Runner } from "../harness.js";
import { assertStatesEqual, loadState, loadStateTransition } from "../stateUtils.js";

export const genesisRunner: Runner = {
  handlers: {
    async initialization(c) {
      const st = await loadStateTransition();
      const eth1BlockHash = c.bytes("eth1_block_hash.ssz");
      const eth1Timestamp = toNum(c.yaml("eth1_timestamp.yaml"), "eth1_timestamp");
      const count = toNum(c.meta().deposits_count, "deposits_count");
      const deposits = Array.from({ length: count }, (_, i) =>
        c.config.types.Deposit.deserialize(c.bytes(`deposits_${i}.ssz`)),
      );
      const state = st.initializeBeaconStateFromEth1(c.config, eth1BlockHash, eth1Timestamp, deposits);
      assertStatesEqual(c.config, state, loadState(c, "state.ssz"));
    },

    async validity(c) {
      const st = await loadStateTransition();
      const expected = c.yaml("is_valid.yaml");
      assert(typeof expected === "boolean", `is_valid.yaml is not a boolean: ${String(expected)}`);
      const actual = st.isValidGenesisState(c.config, loadState(c, "genesis.ssz"));
      assert(actual === expected, `isValidGenesisState returned ${actual}, expected ${expected}`);
    },
  },
};
