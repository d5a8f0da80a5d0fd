// get_latest_attesting_balance's weights: the effective balances of the justified checkpoint state's active
// validators. Fork choice reads them synchronously, so the chain prepares them (through regen) before get_head.
import type { CheckpointHex } from "../fork-choice/index.js";
import type { CachedBeaconState } from "../state-transition/index.js";
import { isActiveValidator } from "../state-transition/util/validator.js";

export class JustifiedBalances {
  private readonly byCheckpoint = new Map<string, number[]>();

  async prepare(cp: CheckpointHex, getState: () => Promise<CachedBeaconState>): Promise<void> {
    const key = `${cp.epoch}:${cp.root}`;
    if (this.byCheckpoint.has(key)) return;
    const state = await getState();
    const balances = state.state.validators.getAllReadonlyValues().map((v) => (isActiveValidator(v, cp.epoch) ? v.effectiveBalance : 0));
    this.byCheckpoint.set(key, balances);
  }

  get(cp: CheckpointHex): number[] {
    const balances = this.byCheckpoint.get(`${cp.epoch}:${cp.root}`);
    if (!balances) throw new Error(`justified balances for ${cp.epoch}:${cp.root} were not prepared`);
    return balances;
  }

  pruneFinalized(finalizedEpoch: number): void {
    for (const key of this.byCheckpoint.keys()) if (Number(key.slice(0, key.indexOf(":"))) < finalizedEpoch) this.byCheckpoint.delete(key);
  }
}
