// Protocol ids of the phase 0 req/resp domain: /eth2/beacon_chain/req/<MessageName>/<SchemaVersion>/<Encoding>.

export const PROTOCOL_PREFIX = "/eth2/beacon_chain/req";
export const ENCODING = "ssz_snappy";

/** Message names as the spec spells them in the protocol ids. */
export const Method = {
  status: "status",
  goodbye: "goodbye",
  ping: "ping",
  metadata: "metadata",
  beaconBlocksByRange: "beacon_blocks_by_range",
  beaconBlocksByRoot: "beacon_blocks_by_root",
} as const;
export type Method = (typeof Method)[keyof typeof Method];

export const ALL_METHODS: readonly Method[] = Object.values(Method);

export function protocolId(method: Method): string {
  return `${PROTOCOL_PREFIX}/${method}/1/${ENCODING}`;
}

/** The goodbye reasons of p2p-interface.md (values above 128 are client-specific). */
export const GoodbyeReason = {
  clientShutdown: 1n,
  irrelevantNetwork: 2n,
  faultError: 3n,
} as const;
