// Public API of the fork choice (pure: no I/O, no timers).
export * from "./errors.js";
export * from "./protoArray.js";
export * from "./computeDeltas.js";
export * from "./forkChoice.js";
export * from "./reference.js";
