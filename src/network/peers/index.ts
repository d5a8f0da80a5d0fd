export * from "./constants.js";
export * from "./gater.js";
export * from "./peerManager.js";
export * from "./score.js";
