// What the network offers the layers above it (the REST API reads and publishes through these): its peers, its
// sync status, and gossip for accepted objects. Declared here so the network needs nothing from the API.
import type { Attestation, AttesterSlashing, ProposerSlashing, SignedAggregateAndProof, SignedBeaconBlock, SignedVoluntaryExit } from "../types/index.js";

export interface PeerInfo {
  peerId: string;
  enr?: string | null;
  lastSeenP2pAddress?: string;
  state: "disconnected" | "connecting" | "connected" | "disconnecting";
  direction: "inbound" | "outbound";
}

export interface SyncStatus {
  headSlot: number;
  syncDistance: number;
  isSyncing: boolean;
}

/** Where accepted objects go on to the network (gossip); absent without networking. */
export interface Publisher {
  block(signed: SignedBeaconBlock): void;
  attestation(att: Attestation): void;
  aggregate(agg: SignedAggregateAndProof): void;
  voluntaryExit(exit: SignedVoluntaryExit): void;
  proposerSlashing(s: ProposerSlashing): void;
  attesterSlashing(s: AttesterSlashing): void;
  /** committees the validator client needs (duties): join their subnets ahead of the slot */
  committeeSubscriptions(subs: { validatorIndex: number; committeeIndex: number; committeesAtSlot: number; slot: number; isAggregator: boolean }[]): void;
}
