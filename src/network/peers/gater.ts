// A libp2p connection gater that refuses banned peers before the connection is upgraded (no streams, no
// handshake). The peer manager also closes such connections when they open; the gater only makes it cheaper.
// The gater must exist when the host is created, before the peer manager: it reads the bans through a callback.
import type { ConnectionGater, PeerId } from "@libp2p/interface";

export function createBanGater(isBanned: (peer: string) => boolean): ConnectionGater {
  const deny = (peerId: PeerId): boolean => isBanned(peerId.toString());
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
  };
}
