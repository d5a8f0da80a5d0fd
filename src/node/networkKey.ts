// The node's libp2p identity: a secp256k1 key (discv5 needs that curve) kept in <datadir>/network-key as the libp2p
// protobuf encoding, so the peer id survives restarts. Written atomically with mode 0600.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { PrivateKey } from "@libp2p/interface";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";

export async function loadOrCreateNetworkKey(datadir: string): Promise<PrivateKey> {
  const path = join(datadir, "network-key");
  let bytes: Uint8Array | null = null;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as { code?: string }).code !== "ENOENT") throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  if (bytes) {
    let key: PrivateKey;
    try {
      key = privateKeyFromProtobuf(bytes);
    } catch (e) {
      throw new Error(`${path} is not a libp2p private key (${(e as Error).message}); move it away to create a new identity`);
    }
    if (key.type !== "secp256k1") throw new Error(`${path} holds a ${key.type} key; Cairn needs secp256k1 (discv5)`);
    return key;
  }
  const key = await generateKeyPair("secp256k1");
  await mkdir(datadir, { recursive: true });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  await rename(tmp, path);
  return key;
}
