// Eth1: the JSON-RPC client, deposit log decoding, and the deposit follower that feeds block production.
export * from "./jsonRpc.js";
export * from "./depositLog.js";
export * from "./follower.js";
export * from "./dbStore.js";
export * from "./genesis.js";
export * from "./devDepositContract.js";
export * from "./devChain.js";
export * from "./depositData.js";
