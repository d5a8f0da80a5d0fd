// Block proposals: at the start of a slot where one of our validators proposes, sign the RANDAO reveal, have the
// beacon node build the block, check it is the block we were asked for, sign it and publish it.
import { GENESIS_SLOT } from "../../params/index.js";
import type { BeaconBlock } from "../../types/index.js";
import { SigningRefusedError } from "../signer.js";
import { bytesEqual, outcomeOf, reportDuty, type ValidatorContext } from "./context.js";
import type { ProposerDutiesService } from "./proposerDuties.js";

export class BlockService {
  /** `${slot}:${index}` of proposals already attempted, so a clock that steps back does not retry them. */
  private readonly attempted = new Set<string>();

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly duties: ProposerDutiesService,
    private readonly graffiti: Uint8Array,
  ) {}

  async runSlot(slot: number): Promise<void> {
    if (slot === GENESIS_SLOT) return; // the genesis block holds that slot
    await Promise.all(
      this.duties.dutiesAt(slot).map(async (duty) => {
        const key = `${slot}:${duty.validatorIndex}`;
        if (this.attempted.has(key)) return;
        this.attempted.add(key);
        const fields = { slot, validator: duty.validatorIndex };
        try {
          const randaoReveal = await this.ctx.signer.signRandaoReveal(duty.pubkey, slot);
          const block = await this.ctx.api.produceBlock(slot, randaoReveal, this.graffiti);
          checkBlock(block, slot, duty.validatorIndex, randaoReveal);
          const signed = await this.ctx.signer.signBlock(duty.pubkey, block);
          await this.ctx.api.publishBlock(signed);
          reportDuty(this.ctx, "block", "done", fields);
          this.ctx.logger.info("block proposed", fields);
        } catch (e) {
          reportDuty(this.ctx, "block", outcomeOf(e), fields, e);
        }
      }),
    );
  }

  prune(minSlot: number): void {
    for (const k of this.attempted) if (Number(k.split(":")[0]) < minSlot) this.attempted.delete(k);
  }
}

/** A node that returns another slot's block, another proposer's, or a different RANDAO reveal gets no signature. */
function checkBlock(block: BeaconBlock, slot: number, proposerIndex: number, randaoReveal: Uint8Array): void {
  if (block.slot !== slot) throw new SigningRefusedError("invalid", `the beacon node returned a block for slot ${block.slot}, not ${slot}`);
  if (block.proposerIndex !== proposerIndex) {
    throw new SigningRefusedError("invalid", `the beacon node returned a block of proposer ${block.proposerIndex}, not ${proposerIndex}`);
  }
  if (!bytesEqual(block.body.randaoReveal, randaoReveal)) throw new SigningRefusedError("invalid", "the beacon node's block has another RANDAO reveal");
}
