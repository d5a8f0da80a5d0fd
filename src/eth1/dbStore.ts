// The follower's deposits in the beacon database (buckets eth1Deposit and eth1Progress, see src/db/schema.ts).
import type { BeaconDb } from "../db/index.js";
import type { Eth1Store, StoredDeposit } from "./follower.js";

export class DbEth1Store implements Eth1Store {
  constructor(private readonly db: BeaconDb) {}

  load() {
    return this.db.getEth1Deposits();
  }

  append(firstIndex: number, deposits: StoredDeposit[], progress: { depositContract: Uint8Array; followedBlock: number }) {
    return this.db.putEth1Deposits(firstIndex, deposits, progress);
  }
}
