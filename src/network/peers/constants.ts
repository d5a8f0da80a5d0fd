// Goodbye reasons (p2p-interface.md "Goodbye"): 1-3 from the spec, >= 128 Cairn's own, as other clients use them.
export const GoodbyeReasonCode = {
  clientShutDown: 1n,
  irrelevantNetwork: 2n,
  fault: 3n,
  unableToVerifyNetwork: 128n,
  tooManyPeers: 129n,
  badScore: 250n,
  banned: 251n,
} as const;

export function goodbyeReasonName(reason: bigint): string {
  for (const [name, code] of Object.entries(GoodbyeReasonCode)) if (code === reason) return name;
  return `unknown(${reason})`;
}
