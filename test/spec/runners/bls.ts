// general/phase0/bls: the five BLS handlers, exercised only through src/crypto/bls.ts.
import * as bls from "../../../src/crypto/bls.js";
import { assert, assertBytesEqual, expectThrow, fromHex, type Runner, type SpecCase } from "../harness.js";

interface BlsData {
  input: Record<string, unknown> | unknown[];
  output: unknown;
}

function readData(c: SpecCase): BlsData {
  return c.yaml("data.yaml") as BlsData;
}

function hexList(x: unknown): Uint8Array[] {
  assert(Array.isArray(x), "expected a list of hex strings");
  return x.map(fromHex);
}

function expectBool(actual: boolean, output: unknown): void {
  assert(typeof output === "boolean", `output is not a boolean: ${String(output)}`);
  assert(actual === output, `got ${actual}, expected ${output}`);
}

export const blsRunner: Runner = {
  handlers: {
    async sign(c) {
      const { input, output } = readData(c);
      const { privkey, message } = input as Record<string, unknown>;
      // No output means signing must fail (e.g. a zero secret key).
      if (output === null || output === undefined) {
        await expectThrow(() => bls.sign(fromHex(privkey), fromHex(message)), "sign");
        return;
      }
      assertBytesEqual(bls.sign(fromHex(privkey), fromHex(message)), fromHex(output), "signature");
    },

    verify(c) {
      const { input, output } = readData(c);
      const { pubkey, message, signature } = input as Record<string, unknown>;
      expectBool(bls.verify(fromHex(pubkey), fromHex(message), fromHex(signature)), output);
    },

    async aggregate(c) {
      const { input, output } = readData(c);
      const sigs = hexList(input);
      // No output means the input must be rejected (e.g. an empty list).
      if (output === null || output === undefined) {
        await expectThrow(() => bls.aggregateSignatures(sigs), "aggregate");
        return;
      }
      assertBytesEqual(bls.aggregateSignatures(sigs), fromHex(output), "aggregate signature");
    },

    fast_aggregate_verify(c) {
      const { input, output } = readData(c);
      const { pubkeys, message, signature } = input as Record<string, unknown>;
      expectBool(bls.fastAggregateVerify(hexList(pubkeys), fromHex(message), fromHex(signature)), output);
    },

    aggregate_verify(c) {
      const { input, output } = readData(c);
      const { pubkeys, messages, signature } = input as Record<string, unknown>;
      expectBool(bls.aggregateVerify(hexList(pubkeys), hexList(messages), fromHex(signature)), output);
    },
  },
};
