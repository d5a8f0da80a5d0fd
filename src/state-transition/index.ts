// Public API of the pure state transition. (Bodies land in the files named below; this file only re-exports.)
export * from "./cache/cachedBeaconState.js";
export * from "./stateTransition.js";
export * from "./block/index.js";
export * from "./epoch/index.js";
export * from "./genesis/index.js";
export * from "./genesis/interop.js";
export * from "./signatureSets/index.js";
export * from "./eth1/depositTree.js";
export * from "./eth1/eth1Vote.js";
export { checkAnchorState } from "./util/anchorState.js";
