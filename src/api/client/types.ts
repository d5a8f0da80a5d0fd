// Typed results of the Beacon API calls a validator client makes, and their parsers from the API's JSON.
import { asArray, asObject, asString, hexToBytes, parseBool, parseUint, uintToJson } from "./json.js";

export interface Genesis {
  /** Unix seconds. */
  genesisTime: number;
  genesisValidatorsRoot: Uint8Array;
  genesisForkVersion: Uint8Array;
}

export interface SyncingStatus {
  headSlot: number;
  syncDistance: number;
  isSyncing: boolean;
}

/** One entry of `/eth/v1/beacon/states/{state_id}/validators`, reduced to what a validator client needs. */
export interface ValidatorResponse {
  index: number;
  balance: number;
  status: string;
  pubkey: Uint8Array;
}

export interface ProposerDuty {
  pubkey: Uint8Array;
  validatorIndex: number;
  slot: number;
}

export interface AttesterDuty {
  pubkey: Uint8Array;
  validatorIndex: number;
  committeeIndex: number;
  committeeLength: number;
  committeesAtSlot: number;
  validatorCommitteeIndex: number;
  slot: number;
}

/** Duties come with the block root they depend on: a different root for the same epoch means a re-org. */
export interface DutiesResponse<T> {
  dependentRoot: Uint8Array;
  data: T[];
}

export interface BeaconCommitteeSubscription {
  validatorIndex: number;
  committeeIndex: number;
  committeesAtSlot: number;
  slot: number;
  isAggregator: boolean;
}

/** The `head` event of `/eth/v1/events`. */
export interface HeadEvent {
  slot: number;
  block: Uint8Array;
  state: Uint8Array;
  epochTransition: boolean;
  /** Dependent root of the attester duties of the head's epoch. */
  previousDutyDependentRoot: Uint8Array | null;
  /** Dependent root of the proposer duties of the head's epoch and of the attester duties of the next. */
  currentDutyDependentRoot: Uint8Array | null;
}

export function parseGenesis(json: unknown): Genesis {
  const o = asObject(json, "data");
  return {
    genesisTime: parseUint(o["genesis_time"], "genesis_time"),
    genesisValidatorsRoot: hexToBytes(o["genesis_validators_root"], "genesis_validators_root", 32),
    genesisForkVersion: hexToBytes(o["genesis_fork_version"], "genesis_fork_version", 4),
  };
}

export function parseSyncing(json: unknown): SyncingStatus {
  const o = asObject(json, "data");
  return {
    headSlot: parseUint(o["head_slot"], "head_slot"),
    syncDistance: parseUint(o["sync_distance"], "sync_distance"),
    isSyncing: parseBool(o["is_syncing"], "is_syncing"),
  };
}

export function parseValidators(json: unknown): ValidatorResponse[] {
  return asArray(json, "data").map((item, i) => {
    const o = asObject(item, `data[${i}]`);
    const v = asObject(o["validator"], `data[${i}].validator`);
    return {
      index: parseUint(o["index"], `data[${i}].index`),
      balance: parseUint(o["balance"], `data[${i}].balance`),
      status: asString(o["status"], `data[${i}].status`),
      pubkey: hexToBytes(v["pubkey"], `data[${i}].validator.pubkey`, 48),
    };
  });
}

export interface Liveness {
  index: number;
  isLive: boolean;
}

export function parseLiveness(json: unknown): Liveness[] {
  return asArray(json, "data").map((item, i) => {
    const o = asObject(item, `data[${i}]`);
    return { index: parseUint(o["index"], `data[${i}].index`), isLive: parseBool(o["is_live"], `data[${i}].is_live`) };
  });
}

export function parseProposerDuties(json: unknown): ProposerDuty[] {
  return asArray(json, "data").map((item, i) => {
    const o = asObject(item, `data[${i}]`);
    return {
      pubkey: hexToBytes(o["pubkey"], `data[${i}].pubkey`, 48),
      validatorIndex: parseUint(o["validator_index"], `data[${i}].validator_index`),
      slot: parseUint(o["slot"], `data[${i}].slot`),
    };
  });
}

export function parseAttesterDuties(json: unknown): AttesterDuty[] {
  return asArray(json, "data").map((item, i) => {
    const o = asObject(item, `data[${i}]`);
    const f = (k: string): number => parseUint(o[k], `data[${i}].${k}`);
    return {
      pubkey: hexToBytes(o["pubkey"], `data[${i}].pubkey`, 48),
      validatorIndex: f("validator_index"),
      committeeIndex: f("committee_index"),
      committeeLength: f("committee_length"),
      committeesAtSlot: f("committees_at_slot"),
      validatorCommitteeIndex: f("validator_committee_index"),
      slot: f("slot"),
    };
  });
}

export function parseHeadEvent(json: unknown): HeadEvent {
  const o = asObject(json, "head event");
  const optRoot = (k: string): Uint8Array | null => (o[k] === undefined || o[k] === null ? null : hexToBytes(o[k], k, 32));
  return {
    slot: parseUint(o["slot"], "slot"),
    block: hexToBytes(o["block"], "block", 32),
    state: hexToBytes(o["state"], "state", 32),
    epochTransition: o["epoch_transition"] === true,
    previousDutyDependentRoot: optRoot("previous_duty_dependent_root"),
    currentDutyDependentRoot: optRoot("current_duty_dependent_root"),
  };
}

export function subscriptionToJson(s: BeaconCommitteeSubscription): Record<string, unknown> {
  return {
    validator_index: uintToJson(s.validatorIndex),
    committee_index: uintToJson(s.committeeIndex),
    committees_at_slot: uintToJson(s.committeesAtSlot),
    slot: uintToJson(s.slot),
    is_aggregator: s.isAggregator,
  };
}
