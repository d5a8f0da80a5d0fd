// The API's JSON conventions and request parsing, without a server: strict body reading, uint64 strings,
// content negotiation, graffiti, config/spec, validator statuses.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fromJsonStrict, JsonInputError, parseUint64, u64, UINT64_MAX_STRING } from "../../src/api/json.js";
import { ApiError, prefersSsz, queryList } from "../../src/api/server/context.js";
import { getValidatorStatus } from "../../src/api/server/routes/beacon.js";
import { specJson } from "../../src/api/server/routes/config.js";
import { parseGraffiti } from "../../src/api/server/routes/validator.js";
import { getNamedConfig } from "../../src/config/index.js";
import { FAR_FUTURE_EPOCH } from "../../src/params/index.js";

const config = getNamedConfig("minimal");
const t = config.types;

describe("fromJsonStrict", () => {
  const exit = { message: { epoch: "3", validator_index: "17" }, signature: `0x${"ab".repeat(96)}` };

  it("reads what toJson writes, for nested containers, lists and bitfields", () => {
    const v = fromJsonStrict(t.SignedVoluntaryExit, exit);
    assert.equal(v.message.epoch, 3);
    assert.equal(v.message.validatorIndex, 17);
    assert.deepEqual(t.SignedVoluntaryExit.toJson(v), exit);
    const block = t.SignedBeaconBlock.defaultValue();
    block.message.slot = 12;
    const json = t.SignedBeaconBlock.toJson(block);
    assert.deepEqual(t.SignedBeaconBlock.hashTreeRoot(fromJsonStrict(t.SignedBeaconBlock, json)), t.SignedBeaconBlock.hashTreeRoot(block));
    const att = fromJsonStrict(t.Attestation, { ...(t.Attestation.toJson(t.Attestation.defaultValue()) as object), aggregation_bits: "0x0b" });
    assert.deepEqual(att.aggregationBits.getTrueBitIndexes(), [0, 1]);
  });

  it("takes far future epochs as 2^64-1", () => {
    const v = fromJsonStrict(t.Checkpoint, { epoch: UINT64_MAX_STRING, root: `0x${"00".repeat(32)}` });
    assert.equal(v.epoch, FAR_FUTURE_EPOCH);
    assert.equal(u64(v.epoch), UINT64_MAX_STRING);
  });

  it("names the bad field for what ssz's own fromJson lets through", () => {
    const cases: [unknown, RegExp][] = [
      [{ ...exit, signature: `0x${"zz".repeat(96)}` }, /body\.signature: expected 0x-prefixed hex/],
      [{ ...exit, signature: "0xabcd" }, /body\.signature: expected 96 bytes, got 2/],
      [{ ...exit, message: { epoch: "12abc", validator_index: "1" } }, /body\.message\.epoch: expected a decimal integer/],
      [{ ...exit, message: { epoch: "-1", validator_index: "1" } }, /body\.message\.epoch/],
      [{ ...exit, message: { epoch: "1" } }, /body\.message\.validator_index: missing/],
      [{ ...exit, message: { epoch: "99999999999999999999", validator_index: "1" } }, /too large/],
      [[], /body: expected an object/],
      [null, /body: expected an object/],
    ];
    for (const [json, re] of cases) {
      assert.throws(() => fromJsonStrict(t.SignedVoluntaryExit, json), (e: unknown) => e instanceof JsonInputError && re.test(e.message), re.source);
    }
    const att = t.Attestation.toJson(t.Attestation.defaultValue()) as Record<string, unknown>;
    // a bitlist without its length bit
    assert.throws(() => fromJsonStrict(t.Attestation, { ...att, aggregation_bits: "0x00" }), /aggregation_bits: invalid bitfield/);
    const indexed = t.IndexedAttestation.toJson(t.IndexedAttestation.defaultValue()) as Record<string, unknown>;
    const tooMany = Array.from({ length: config.MAX_VALIDATORS_PER_COMMITTEE + 1 }, (_, i) => String(i));
    assert.throws(() => fromJsonStrict(t.IndexedAttestation, { ...indexed, attesting_indices: tooMany }), /exceed the limit/);
  });

  it("parseUint64 accepts decimal strings and safe integers only", () => {
    assert.equal(parseUint64("0"), 0);
    assert.equal(parseUint64(42), 42);
    assert.throws(() => parseUint64("1.5"), JsonInputError);
    assert.throws(() => parseUint64(-1), JsonInputError);
    assert.throws(() => parseUint64(" 1"), JsonInputError);
    assert.equal(parseUint64(UINT64_MAX_STRING, "x", { allowMax: true }), Infinity);
    assert.throws(() => parseUint64(UINT64_MAX_STRING), /too large/);
  });
});

describe("request helpers", () => {
  it("prefersSsz follows q-values, then order, and defaults to JSON", () => {
    assert.equal(prefersSsz(undefined), false);
    assert.equal(prefersSsz("application/json"), false);
    assert.equal(prefersSsz("*/*"), false);
    assert.equal(prefersSsz("application/octet-stream"), true);
    assert.equal(prefersSsz("application/octet-stream;q=1,application/json;q=0.9"), true);
    assert.equal(prefersSsz("application/json;q=1, application/octet-stream;q=0.5"), false);
    assert.equal(prefersSsz("application/json, application/octet-stream"), false);
    assert.equal(prefersSsz("application/octet-stream, */*"), true);
    assert.equal(prefersSsz("application/octet-stream;q=0"), false);
  });

  it("queryList takes repeated and comma-separated values", () => {
    assert.deepEqual(queryList(["head,block", "attestation"]), ["head", "block", "attestation"]);
    assert.deepEqual(queryList("a, b,,c"), ["a", "b", "c"]);
    assert.deepEqual(queryList(undefined), []);
  });

  it("graffiti from hex or plain text, at most 32 bytes", () => {
    assert.deepEqual(Array.from(parseGraffiti("0x0102").subarray(0, 3)), [1, 2, 0]);
    assert.equal(Buffer.from(parseGraffiti("héllo")).toString("utf8").replace(/\0+$/, ""), "héllo");
    assert.equal(parseGraffiti(undefined).every((b) => b === 0), true);
    assert.equal(parseGraffiti("x".repeat(32)).length, 32);
    assert.throws(() => parseGraffiti("x".repeat(33)), (e: unknown) => e instanceof ApiError && e.statusCode === 400);
    assert.throws(() => parseGraffiti(`0x${"00".repeat(33)}`), ApiError);
  });
});

describe("config/spec and validator status", () => {
  it("serves numbers as strings, bytes as hex, and the spec constants", () => {
    const spec = specJson(config);
    for (const [k, v] of Object.entries(spec)) assert.equal(typeof v, "string", k);
    assert.equal(spec.MAX_EFFECTIVE_BALANCE, "32000000000");
    assert.equal(spec.VALIDATOR_REGISTRY_LIMIT, "1099511627776");
    assert.equal(spec.BLS_WITHDRAWAL_PREFIX, "0x00");
    assert.equal(spec.FAR_FUTURE_EPOCH, UINT64_MAX_STRING);
    assert.equal(spec.PRESET_BASE, "minimal");
    assert.equal("types" in spec, false);
  });

  it("computes each status from the validator's epochs", () => {
    const v = { effectiveBalance: 32e9, slashed: false, activationEligibilityEpoch: 0, activationEpoch: 0, exitEpoch: FAR_FUTURE_EPOCH, withdrawableEpoch: FAR_FUTURE_EPOCH };
    assert.equal(getValidatorStatus({ ...v, activationEpoch: FAR_FUTURE_EPOCH, activationEligibilityEpoch: FAR_FUTURE_EPOCH }, 1, 5), "pending_initialized");
    assert.equal(getValidatorStatus({ ...v, activationEpoch: 9 }, 1, 5), "pending_queued");
    assert.equal(getValidatorStatus(v, 1, 5), "active_ongoing");
    assert.equal(getValidatorStatus({ ...v, exitEpoch: 7, withdrawableEpoch: 9 }, 1, 5), "active_exiting");
    assert.equal(getValidatorStatus({ ...v, slashed: true, exitEpoch: 7, withdrawableEpoch: 9 }, 1, 5), "active_slashed");
    assert.equal(getValidatorStatus({ ...v, exitEpoch: 4, withdrawableEpoch: 9 }, 1, 5), "exited_unslashed");
    assert.equal(getValidatorStatus({ ...v, slashed: true, exitEpoch: 4, withdrawableEpoch: 9 }, 1, 5), "exited_slashed");
    assert.equal(getValidatorStatus({ ...v, exitEpoch: 2, withdrawableEpoch: 4 }, 1, 5), "withdrawal_possible");
    assert.equal(getValidatorStatus({ ...v, exitEpoch: 2, withdrawableEpoch: 4 }, 0, 5), "withdrawal_done");
  });
});
