// Slashing protection: a durable per-validator record of signed blocks and attestations (EIP-3076 rules and
// interchange format), checked and written before every signature.
export { SlashingProtection } from "./slashingProtection.js";
export type { ImportResult } from "./slashingProtection.js";
export { SlashingProtectionError } from "./errors.js";
export type { SlashingProtectionErrorCode, SlashingRefusalCode } from "./errors.js";
export { INTERCHANGE_FORMAT_VERSION, parseInterchange } from "./interchange.js";
export type { InterchangeJson, ParsedInterchange, InterchangeValidator } from "./interchange.js";
