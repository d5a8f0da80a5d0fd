export * from "./errors.js";
export * from "./protocols.js";
export * from "./rateLimiter.js";
export { StreamReader, sendBytes } from "./streamIo.js";
export * from "./reqResp.js";
