// The phase 0 presets as published with spec v1.0 (configs/{mainnet,minimal}/phase0.yaml at v1.0.0).
// They differ from the v0.12.3 values in src/params (which the spec tests of this client target) in the
// slashing/inactivity penalties and, on mainnet, in the launch parameters of the real network.
// A config file written in the newer layout (`PRESET_BASE: mainnet|minimal` plus runtime keys) starts from these.
import { mainnetConfig, minimalConfig, type ChainConfig } from "../params/index.js";
import { fromHex } from "../util/bytes.js";

/** configs/mainnet/phase0.yaml at v1.0.0 (the launched Ethereum beacon chain). */
export const mainnetV1Config: ChainConfig = {
  ...mainnetConfig,
  CONFIG_NAME: "mainnet",
  MIN_GENESIS_TIME: 1606824000,
  ETH1_FOLLOW_DISTANCE: 2048,
  DEPOSIT_CONTRACT_ADDRESS: fromHex("00000000219ab540356cbb839cbe05303d7705fa"),
  GENESIS_DELAY: 604800,
  EPOCHS_PER_ETH1_VOTING_PERIOD: 64,
  INACTIVITY_PENALTY_QUOTIENT: 67108864,
  MIN_SLASHING_PENALTY_QUOTIENT: 128,
  PROPORTIONAL_SLASHING_MULTIPLIER: 1,
};

/** configs/minimal/phase0.yaml at v1.0.0. */
export const minimalV1Config: ChainConfig = {
  ...minimalConfig,
  CONFIG_NAME: "minimal",
  INACTIVITY_PENALTY_QUOTIENT: 33554432,
  MIN_SLASHING_PENALTY_QUOTIENT: 64,
  PROPORTIONAL_SLASHING_MULTIPLIER: 2,
};

/** The values a `PRESET_BASE: <name>` config file starts from. */
export const presetBases: Readonly<Record<string, ChainConfig>> = Object.freeze({
  mainnet: mainnetV1Config,
  minimal: minimalV1Config,
});
