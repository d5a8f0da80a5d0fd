// Our keys' validator indices, as the beacon node's head state knows them. Keys it does not know yet (deposits
// not yet processed) are asked about again at every epoch.
import { toHex as hexKey } from "../../util/bytes.js";
import type { ValidatorContext } from "./context.js";

export class IndicesService {
  private readonly indexByPubkey = new Map<string, number>();
  private readonly pubkeyByIndex = new Map<number, Uint8Array>();

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly pubkeys: readonly Uint8Array[],
  ) {}

  get indices(): number[] {
    return [...this.pubkeyByIndex.keys()];
  }

  get unknownCount(): number {
    return this.pubkeys.length - this.indexByPubkey.size;
  }

  indexOf(pubkey: Uint8Array): number | undefined {
    return this.indexByPubkey.get(hexKey(pubkey));
  }

  pubkeyOf(index: number): Uint8Array | undefined {
    return this.pubkeyByIndex.get(index);
  }

  /** Asks the beacon node about the keys without an index; resolves to the indices found this time. */
  async refresh(): Promise<number[]> {
    const unknown = this.pubkeys.filter((p) => !this.indexByPubkey.has(hexKey(p)));
    if (unknown.length === 0) return [];
    const found: number[] = [];
    for (const v of await this.ctx.api.getStateValidators("head", unknown)) {
      const hex = hexKey(v.pubkey);
      // only keys we asked about: a node that answers with others must not make us sign for them
      if (this.indexByPubkey.has(hex) || !unknown.some((p) => hexKey(p) === hex)) continue;
      this.indexByPubkey.set(hex, v.index);
      this.pubkeyByIndex.set(v.index, v.pubkey);
      found.push(v.index);
    }
    this.ctx.metrics?.knownIndices.set(this.indexByPubkey.size);
    if (found.length > 0) this.ctx.logger.info("validator indices found", { count: found.length, unknown: this.unknownCount });
    return found;
  }
}
