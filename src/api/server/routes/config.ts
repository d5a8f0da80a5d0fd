// /eth/v1/config/*: every config value and spec constant as a string (validator clients compare them with their
// own and stop on a difference), the fork schedule, the deposit contract.
import type { FastifyInstance } from "fastify";
import type { BeaconConfig } from "../../../config/index.js";
import {
  BASE_REWARDS_PER_EPOCH,
  DEPOSIT_CONTRACT_TREE_DEPTH,
  FAR_FUTURE_EPOCH,
  GENESIS_EPOCH,
  GENESIS_SLOT,
  JUSTIFICATION_BITS_LENGTH,
} from "../../../params/index.js";
import { toHex, u64 } from "../../json.js";
import type { ApiContext } from "../context.js";

/** config/spec's data: numbers as decimal strings (2^64-1 for far future), bytes as 0x-hex. */
export function specJson(config: BeaconConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (key === "types") continue;
    if (value instanceof Uint8Array) out[key] = toHex(value);
    else if (typeof value === "number" || typeof value === "bigint") out[key] = u64(value);
    else if (typeof value === "string" || typeof value === "boolean") out[key] = String(value);
  }
  if (config.CONFIG_NAME === "mainnet" || config.CONFIG_NAME === "minimal") out.PRESET_BASE ??= config.CONFIG_NAME;
  const constants = { GENESIS_SLOT, GENESIS_EPOCH, FAR_FUTURE_EPOCH, BASE_REWARDS_PER_EPOCH, DEPOSIT_CONTRACT_TREE_DEPTH, JUSTIFICATION_BITS_LENGTH };
  for (const [key, value] of Object.entries(constants)) out[key] = u64(value);
  return out;
}

export function registerConfigRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const c = ctx.config;
  const spec = specJson(c);

  app.get("/eth/v1/config/spec", async () => ({ data: spec }));

  // phase 0 only: the genesis fork
  app.get("/eth/v1/config/fork_schedule", async () => ({
    data: [{ previous_version: toHex(c.GENESIS_FORK_VERSION), current_version: toHex(c.GENESIS_FORK_VERSION), epoch: u64(GENESIS_EPOCH) }],
  }));

  app.get("/eth/v1/config/deposit_contract", async () => ({
    data: { chain_id: u64(c.DEPOSIT_CHAIN_ID), address: (ctx.node.depositContract ?? toHex(c.DEPOSIT_CONTRACT_ADDRESS)).toLowerCase() },
  }));
}
