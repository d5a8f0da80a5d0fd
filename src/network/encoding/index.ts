export * from "./errors.js";
export * from "./varint.js";
export * from "./crc32c.js";
export * from "./snappyBlock.js";
export * from "./snappyFrames.js";
export * from "./sszSnappy.js";
