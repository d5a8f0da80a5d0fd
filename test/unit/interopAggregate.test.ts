import assert from "node:assert/strict";
import { test } from "node:test";
import { aggregateSignatures, fastAggregateVerify, sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import { InteropAggregateSigner } from "../perf/interopAggregate.js";

const message = new Uint8Array(32).fill(7);
const pubkey = (i: number) => interopSecretKey(i).toPublicKey().toBytes();

test("signing with the summed secret keys gives the members' aggregate signature", () => {
  const members = [3, 17, 42, 99, 1000];
  const signer = new InteropAggregateSigner();
  const summed = signer.sign(members, message);
  const aggregated = aggregateSignatures(members.map((i) => sign(interopSecretKey(i), message)));
  assert.deepEqual(summed, aggregated);
  assert.equal(fastAggregateVerify(members.map(pubkey), message, summed), true);
  // not the aggregate of another committee, nor over another message
  assert.equal(fastAggregateVerify([3, 17, 42, 99].map(pubkey), message, summed), false);
  assert.equal(fastAggregateVerify(members.map(pubkey), new Uint8Array(32), summed), false);
});

test("one signer's sum is its own key; no signers is refused", () => {
  const signer = new InteropAggregateSigner();
  assert.deepEqual(signer.sign([5], message), sign(interopSecretKey(5), message));
  assert.throws(() => signer.sumSecretKey([]), /no signers/);
});
