// The gossip domain: topics, payload encoding and message ids, Eth2 scoring, validation, attestation subnets.
export * from "./topics.js";
export * from "./encoding.js";
export * from "./scoring.js";
export * from "./seenCache.js";
export * from "./validation.js";
export * from "./subnets.js";
export * from "./gossip.js";
