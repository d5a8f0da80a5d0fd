// ENRs as Cairn receives them: discv5 hands over records that @chainsafe/enr decoded and whose signature checked,
// and Discovery reads eth2/attnets/ip/tcp from them inside an event handler, where a throw would escape into
// discv5. So: decoding bad bytes throws an Error (not a TypeError), and for every record that decodes, the reads
// Discovery does (readEnrForkId, readEnrAttnets, enrToTcpMultiaddr, enrPeerId, encodeTxt) never throw.
// Mutating signed bytes only tests the signature check, so the generator also signs records whose fields are
// mutated (fixed test key), which is what a hostile peer can send.
import { ENR, SignableENR } from "@chainsafe/enr";
import fc from "fast-check";
import { getNamedConfig } from "../../../src/config/index.js";
import { decodeEnr, enrPeerId, enrToTcpMultiaddr, readEnrAttnets, readEnrForkId } from "../../../src/network/discovery/enr.js";
import { isPlainRejection, mutatedBytes, unexpected, type FuzzTarget } from "../engine.js";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const config = () => getNamedConfig("minimal");

function signedRecord(kvs: [string, Uint8Array][]): Uint8Array {
  const enr = SignableENR.createV4(KEY);
  for (const [k, v] of kvs) enr.set(k, v);
  return enr.encode();
}

function goodKvs(): [string, Uint8Array][] {
  const t = config().types;
  return [
    ["ip", Uint8Array.of(10, 0, 0, 1)],
    ["tcp", Uint8Array.of(0x23, 0x28)],
    ["udp", Uint8Array.of(0x23, 0x28)],
    ["eth2", t.ENRForkID.serialize({ forkDigest: Uint8Array.of(1, 2, 3, 4), nextForkVersion: new Uint8Array(4), nextForkEpoch: Infinity })],
    ["attnets", t.AttestationSubnets.serialize(t.AttestationSubnets.defaultValue())],
  ];
}

const FIELDS = ["ip", "tcp", "udp", "ip6", "tcp6", "udp6", "eth2", "attnets", "secp256k1", "id", "x"];

/** A signed record whose fields are the good ones with some replaced, mutated or dropped. */
const signedArb: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.record({ field: fc.constantFrom(...FIELDS), value: fc.oneof(mutatedBytes(goodKvs().map(([, v]) => v), 3), fc.uint8Array({ maxLength: 40 })), drop: fc.boolean() }),
    { maxLength: 4 },
  )
  .map((edits) => {
    const kvs = new Map(goodKvs());
    for (const e of edits) {
      if (e.drop) kvs.delete(e.field);
      else kvs.set(e.field, e.value);
    }
    // the library refuses to sign some values (e.g. an id that is not "v4"): then the record is sent as is, unsigned
    try {
      return Uint8Array.of(0, ...signedRecord([...kvs]));
    } catch {
      return Uint8Array.of(0, ...[...kvs].flatMap(([k, v]) => [...new TextEncoder().encode(k), ...v]));
    }
  });

const enrTarget: FuzzTarget = {
  name: "enr",
  description: "ENR (RLP and text): decode rejects with an Error; Discovery's reads of an accepted record never throw",
  seeds: () => [Uint8Array.of(0, ...signedRecord(goodKvs())), Uint8Array.of(1, ...new TextEncoder().encode(ENR.decode(signedRecord(goodKvs())).encodeTxt()))],
  arbitrary: (seeds) => fc.oneof(mutatedBytes(seeds), signedArb),
  run(input) {
    // byte 0: 0 = RLP as discv5 receives it, else the enr: text form (bootnodes, the API)
    let enr: ENR;
    try {
      enr = input[0] === 0 ? ENR.decode(input.subarray(1)) : decodeEnr(new TextDecoder().decode(input.subarray(1)));
    } catch (e) {
      if (isPlainRejection(e)) return "rejected";
      // @chainsafe/enr's own decoder throws a TypeError for some malformed records (an `id` that is a list, found
      // by the campaign). discv5 calls it inside try/catch on every path a packet takes (session/service.js: the
      // message decode and establishFromChallenge) and drops the packet, so on the RLP path any Error is a
      // rejection; Cairn's decodeEnr (text) wraps every error into a plain one, so there a TypeError still counts
      if (input[0] === 0 && e instanceof Error) return "rejected (library TypeError)";
      throw unexpected("ENR decode", e);
    }
    const c = config();
    try {
      readEnrForkId(c, enr);
      readEnrAttnets(c, enr);
      enrToTcpMultiaddr(enr);
      enrPeerId(enr);
      enr.encodeTxt();
    } catch (e) {
      throw unexpected("reading an accepted ENR", e);
    }
    return "accepted";
  },
};

export const enrTargets: FuzzTarget[] = [enrTarget];
