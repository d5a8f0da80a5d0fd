// Doppelganger protection: before our keys sign anything, watch them for a few epochs through the beacon node's
// liveness endpoint (POST /eth/v1/validator/liveness/{epoch}). Since we sign nothing meanwhile, a key seen live
// then is being run by another validator client, and signing beside it would get both slashed.
//
// The epoch we start in is not watched: a previous run of ours (a restart) may have signed in it. Epochs
// start+1 .. start+EPOCHS are; each is asked about during the epoch and once more after it has ended (late
// attestations of its last slot), and signing begins once all of them have passed that final check.
import { BeaconApiError } from "../api/client/index.js";
import { toHex } from "../util/bytes.js";
import type { IndicesService } from "./services/indices.js";
import type { ValidatorContext } from "./services/context.js";

export const DOPPELGANGER_EPOCHS = 2;

export class DoppelgangerError extends Error {
  constructor(readonly live: { index: number; pubkey: string; epoch: number }[]) {
    super(
      `doppelganger: ${live.map((l) => `validator ${l.index} (${l.pubkey}) was live in epoch ${l.epoch}`).join("; ")}; ` +
        "another validator client runs these keys: stop it before starting this one",
    );
    this.name = "DoppelgangerError";
  }
}

/** True when the node answers as one that does not have the endpoint at all. */
export function isLivenessUnsupported(e: unknown): boolean {
  return e instanceof BeaconApiError && (e.status === 404 || e.status === 405 || e.status === 501);
}

export class DoppelgangerWatch {
  private firstEpoch: number;
  private lastEpoch: number;
  /** Epochs that passed their check after they ended. */
  private readonly done = new Set<number>();
  private running: Promise<boolean> | undefined;
  private passed = false;

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly indices: IndicesService,
    startEpoch: number,
    private readonly epochs = DOPPELGANGER_EPOCHS,
  ) {
    this.firstEpoch = startEpoch + 1;
    this.lastEpoch = startEpoch + epochs;
    ctx.logger.info("doppelganger protection: signing nothing until the keys have been watched", {
      epochs: `${this.firstEpoch}-${this.lastEpoch}`,
      signingFromEpoch: this.lastEpoch + 1,
    });
  }

  get released(): boolean {
    return this.passed;
  }

  /**
   * Checks the watched epochs up to `slot`'s; resolves to true once signing may begin. Throws DoppelgangerError
   * when a key was live. A node that cannot answer leaves the keys held; the next call asks again.
   */
  check(slot: number): Promise<boolean> {
    if (this.passed) return Promise.resolve(true);
    this.running ??= this.run(slot).finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(slot: number): Promise<boolean> {
    const epoch = this.ctx.clock.epochAtSlot(Math.max(0, slot));
    const indices = this.indices.indices;
    for (let e = this.firstEpoch; e <= Math.min(epoch, this.lastEpoch); e++) {
      if (this.done.has(e)) continue;
      if (indices.length > 0) {
        let answer;
        try {
          answer = await this.ctx.api.getLiveness(e, indices);
        } catch (err) {
          if (this.ctx.signal.aborted) return false;
          this.ctx.logger.warn("doppelganger protection: liveness unavailable, keys stay held", { epoch: e, error: err });
          // nodes answer for recent epochs only: one missed for long is watched no more, the watch starts over
          if (e < epoch - 1) {
            this.done.clear();
            this.firstEpoch = epoch;
            this.lastEpoch = epoch + this.epochs - 1;
            this.ctx.logger.warn("doppelganger protection: watching again from this epoch", { epochs: `${this.firstEpoch}-${this.lastEpoch}` });
          }
          return false;
        }
        const wanted = new Set(indices);
        const live = answer.filter((l) => l.isLive && wanted.has(l.index));
        if (live.length > 0) {
          throw new DoppelgangerError(live.map((l) => ({ index: l.index, pubkey: toHex(this.indices.pubkeyOf(l.index)!), epoch: e })));
        }
      }
      if (e < epoch) this.done.add(e);
    }
    if (this.done.size < this.lastEpoch - this.firstEpoch + 1) return false;
    this.passed = true;
    this.ctx.logger.info("doppelganger protection: no other client seen, signing begins", { epoch, keys: indices.length });
    return true;
  }
}
