import assert from "node:assert/strict";
import { test } from "node:test";
import { BitArray } from "@chainsafe/ssz";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { getNamedConfig } from "../../src/config/index.js";
import {
  createLocalEnr,
  decodeEnr,
  enrPeerId,
  enrToTcpMultiaddr,
  readEnrAttnets,
  readEnrForkId,
  setEnrAttnets,
  ENR_ETH2_KEY,
} from "../../src/network/discovery/index.js";
import { computeForkDigest } from "../../src/state-transition/util/domain.js";

const config = getNamedConfig("minimal");
const forkDigest = computeForkDigest(config, config.GENESIS_FORK_VERSION, new Uint8Array(32).fill(7));

function attnetsWith(...subnets: number[]): BitArray {
  const bits = BitArray.fromBitLen(64);
  for (const s of subnets) bits.set(s, true);
  return bits;
}

test("an ENR we produce decodes with its ip/tcp/udp, eth2 and attnets fields and the libp2p peer id", async () => {
  const key = await generateKeyPair("secp256k1");
  const enr = createLocalEnr(config, {
    privateKeyRaw: key.raw,
    forkDigest,
    ip: "127.0.0.1",
    tcpPort: 9000,
    udpPort: 9001,
    attnets: attnetsWith(3, 17, 63),
  });
  const text = enr.encodeTxt();
  assert.match(text, /^enr:/);

  const decoded = decodeEnr(text);
  assert.equal(decoded.ip, "127.0.0.1");
  assert.equal(decoded.tcp, 9000);
  assert.equal(decoded.udp, 9001);
  // the ENR key is the libp2p identity key
  assert.equal(enrPeerId(decoded), peerIdFromPrivateKey(key).toString());

  const forkId = readEnrForkId(config, decoded);
  assert.ok(forkId);
  assert.deepEqual(forkId.forkDigest, forkDigest);
  assert.deepEqual(forkId.nextForkVersion, config.GENESIS_FORK_VERSION);
  assert.equal(forkId.nextForkEpoch, Infinity);
  // 16 bytes: digest, next version, FAR_FUTURE_EPOCH as uint64 little endian
  const raw = decoded.kvs.get(ENR_ETH2_KEY);
  assert.ok(raw);
  assert.equal(raw.length, 16);
  assert.deepEqual([...raw.subarray(8)], new Array(8).fill(0xff));

  const attnets = readEnrAttnets(config, decoded);
  assert.ok(attnets);
  assert.deepEqual(attnets.getTrueBitIndexes(), [3, 17, 63]);

  assert.equal(enrToTcpMultiaddr(decoded), `/ip4/127.0.0.1/tcp/9000/p2p/${peerIdFromPrivateKey(key).toString()}`);
});

test("updating attnets bumps the sequence number and the new record carries the new bits", async () => {
  const key = await generateKeyPair("secp256k1");
  const enr = createLocalEnr(config, { privateKeyRaw: key.raw, forkDigest, ip: "127.0.0.1", tcpPort: 1, udpPort: 2 });
  const before = decodeEnr(enr.encodeTxt());
  assert.deepEqual(readEnrAttnets(config, before)?.getTrueBitIndexes(), []);
  setEnrAttnets(config, enr, attnetsWith(5));
  const after = decodeEnr(enr.encodeTxt());
  assert.ok(after.seq > before.seq);
  assert.deepEqual(readEnrAttnets(config, after)?.getTrueBitIndexes(), [5]);
});

test("a foreign ENR without eth2 or tcp (the EIP-778 example) yields no fork id and no dialable multiaddr", () => {
  // EIP-778 example record: ip 127.0.0.1, udp 30303, no tcp, no eth2
  const enr = decodeEnr(
    "enr:-IS4QHCYrYZbAKWCBRlAy5zzaDZXJBGkcnh4MHcBFZntXNFrdvJjX04jRzjzCBOonrkTfj499SZuOh8R33Ls8RRcy5wBgmlkgnY0gmlwhH8AAAGJc2VjcDI1NmsxoQPKY0yuDUmstAHYpMa2_oxVtw0RW_QAdpzBQA8yWM0xOIN1ZHCCdl8",
  );
  assert.equal(enr.ip, "127.0.0.1");
  assert.equal(enr.udp, 30303);
  assert.equal(enr.seq, 1n);
  assert.equal(readEnrForkId(config, enr), null);
  assert.equal(readEnrAttnets(config, enr), null);
  assert.equal(enrToTcpMultiaddr(enr), null);
});

test("a malformed eth2 field reads as null; a malformed ENR string is a clear error", async () => {
  const key = await generateKeyPair("secp256k1");
  const enr = createLocalEnr(config, { privateKeyRaw: key.raw, forkDigest, ip: "127.0.0.1", tcpPort: 1, udpPort: 2 });
  enr.set(ENR_ETH2_KEY, new Uint8Array(5));
  assert.equal(readEnrForkId(config, decodeEnr(enr.encodeTxt())), null);
  assert.throws(() => decodeEnr("enr:notbase64!!"), /^Error: invalid ENR "enr:notbase64!!"/);
  assert.throws(() => createLocalEnr(config, { privateKeyRaw: new Uint8Array(31), forkDigest }), /32 secp256k1 bytes/);
});
