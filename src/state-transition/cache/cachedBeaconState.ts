import type { BeaconConfig } from "../../config/index.js";
import type { BeaconStateView } from "../../types/index.js";
import { EpochContext } from "./epochContext.js";
import { PubkeyCache } from "./pubkeyCache.js";
import { ShufflingCache } from "./shufflingCache.js";

/** A tree-backed state together with the caches derived from it. Every transition function takes one. */
export interface CachedBeaconState {
  readonly config: BeaconConfig;
  state: BeaconStateView;
  epochCtx: EpochContext;
  /**
   * An independent copy: structural sharing of the tree, shared immutable shufflings and pubkey cache.
   * By default the tree views' caches (e.g. the registry's populated node array, which the epoch transition reads
   * whole) move to the copy, which is the state that is about to be processed; the original stays correct but
   * reads cold afterwards. `dontTransferCache` leaves them with the original.
   */
  clone(dontTransferCache?: boolean): CachedBeaconState;
}

class CachedBeaconStateImpl implements CachedBeaconState {
  constructor(
    readonly config: BeaconConfig,
    public state: BeaconStateView,
    public epochCtx: EpochContext,
  ) {}

  clone(dontTransferCache = false): CachedBeaconState {
    // ViewDU changes live in caches until commit; commit so the copy sees them.
    this.state.commit();
    return new CachedBeaconStateImpl(this.config, this.state.clone(dontTransferCache), this.epochCtx.copy());
  }
}

export function createCachedBeaconState(
  config: BeaconConfig,
  state: BeaconStateView,
  opts: { pubkeyCache?: PubkeyCache; shufflingCache?: ShufflingCache } = {},
): CachedBeaconState {
  return new CachedBeaconStateImpl(config, state, EpochContext.createFromState(config, state, opts.pubkeyCache, opts.shufflingCache ?? null));
}

export { EpochContext, PubkeyCache, ShufflingCache };
