// The beacon node's store: LevelDB controller, on-disk schema, hot/cold repositories.
export * from "./errors.js";
export * from "./controller.js";
export * from "./schema.js";
export * from "./beaconDb.js";
