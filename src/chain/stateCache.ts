import type { CachedBeaconState } from "../state-transition/index.js";

/**
 * A bounded map with least-recently-used eviction. States share most of their tree, so a cached state costs only
 * what differs from its neighbours; the bound still keeps a long non-finality period from growing memory.
 */
export class LruCache<V> {
  private readonly map = new Map<string, V>();
  constructor(readonly maxSize: number) {
    if (maxSize < 1) throw new Error("cache size must be at least 1");
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** Read without touching the recency order. */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxSize) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  /** Remove every entry the predicate selects. */
  prune(predicate: (key: string, value: V) => boolean): number {
    let n = 0;
    for (const [k, v] of this.map) {
      if (predicate(k, v)) {
        this.map.delete(k);
        n++;
      }
    }
    return n;
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }
}

/** Post-states of imported blocks, by block root (hex). */
export class BlockStateCache extends LruCache<CachedBeaconState> {}

/** States advanced to the first slot of an epoch on top of a block: key `${epoch}:${rootHex}`. */
export class CheckpointStateCache extends LruCache<CachedBeaconState> {
  static key(epoch: number, rootHex: string): string {
    return `${epoch}:${rootHex}`;
  }

  /** Drop checkpoints older than the finalized epoch. */
  pruneFinalized(finalizedEpoch: number): number {
    return this.prune((key) => Number(key.slice(0, key.indexOf(":"))) < finalizedEpoch);
  }
}
