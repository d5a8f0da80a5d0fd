// In-process mutual exclusion per key (a validator's pubkey): a check-and-insert reads, decides and writes, and two
// of them for one validator must not interleave, or both could pass the check before either writes.

export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Waits for every earlier holder of `key`; the returned function releases it. */
  async acquire(key: string): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }

  /** Acquires several keys in sorted order (so two multi-key holders cannot deadlock). */
  async acquireAll(keys: Iterable<string>): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const key of [...new Set(keys)].sort()) releases.push(await this.acquire(key));
    return () => {
      for (const r of releases.reverse()) r();
    };
  }

  /** Resolves when every current holder and waiter is done. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all(this.tails.values());
  }
}
