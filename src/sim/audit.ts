// The network-wide slashing audit: every block and attestation any validator signed (from each validator client's
// EIP-3076 export, taken after every kill and at the end) and every block any node saw, checked for the three
// slashable offences: two blocks at one slot, two votes for one target epoch, and a vote surrounding another.
import type { InterchangeJson } from "../validator/slashingProtection/index.js";

export interface SignedRecord {
  validator: string;
  /** where it was seen: "node2 vc export @slot 40", "node0 chain" */
  from: string;
}
export interface BlockRecord extends SignedRecord {
  slot: number;
  /** signing root (exports) or block root (chains); null when unknown */
  root: string | null;
}
export interface VoteRecord extends SignedRecord {
  source: number;
  target: number;
  root: string | null;
}

export interface SlashablePair {
  offence: "double proposal" | "double vote" | "surround vote";
  validator: string;
  a: string;
  b: string;
}

/** Records from one EIP-3076 interchange file; `name` maps a pubkey to how the report names the validator. */
export function recordsFromInterchange(ic: InterchangeJson, from: string, name: (pubkey: string) => string): { blocks: BlockRecord[]; votes: VoteRecord[] } {
  const blocks: BlockRecord[] = [];
  const votes: VoteRecord[] = [];
  const known = (r: string | undefined) => (r === undefined || /^0x0+$/.test(r) ? null : r);
  for (const v of ic.data) {
    const validator = name(v.pubkey.toLowerCase());
    for (const b of v.signed_blocks) blocks.push({ validator, from, slot: Number(b.slot), root: known(b.signing_root) });
    for (const a of v.signed_attestations) votes.push({ validator, from, source: Number(a.source_epoch), target: Number(a.target_epoch), root: known(a.signing_root) });
  }
  return { blocks, votes };
}

const describeBlock = (b: BlockRecord) => `block slot ${b.slot} root ${b.root ?? "?"} (${b.from})`;
const describeVote = (v: VoteRecord) => `vote ${v.source}->${v.target} root ${v.root ?? "?"} (${v.from})`;

/**
 * Every slashable pair. Two records of one validator with the same slot (or target) and different roots are a
 * double proposal (double vote); a record with an unknown root is only compared for surrounds, since it may be the
 * same message. Roots of different kinds (signing roots from exports, block roots from chains) are kept apart.
 */
export function findSlashable(blocks: BlockRecord[], votes: VoteRecord[]): SlashablePair[] {
  const out: SlashablePair[] = [];
  const kindOf = (from: string) => (from.includes("chain") ? "chain" : "export");
  const byValidator = <T extends SignedRecord>(xs: T[]) => {
    const m = new Map<string, T[]>();
    for (const x of xs) {
      const l = m.get(x.validator) ?? [];
      l.push(x);
      m.set(x.validator, l);
    }
    return m;
  };
  for (const [validator, list] of byValidator(blocks)) {
    const seen = new Map<string, BlockRecord>();
    for (const b of list) {
      if (b.root === null) continue;
      const key = `${kindOf(b.from)}:${b.slot}`;
      const first = seen.get(key);
      if (!first) seen.set(key, b);
      else if (first.root !== b.root) out.push({ offence: "double proposal", validator, a: describeBlock(first), b: describeBlock(b) });
    }
  }
  for (const [validator, list] of byValidator(votes)) {
    // the same message exported twice (before and after a kill) is one message
    const unique = [...new Map(list.map((v) => [`${v.source}:${v.target}:${v.root}`, v])).values()];
    const byTarget = new Map<number, VoteRecord>();
    for (const v of unique) {
      if (v.root === null) continue;
      const first = byTarget.get(v.target);
      if (!first) byTarget.set(v.target, v);
      else if (first.root !== v.root) out.push({ offence: "double vote", validator, a: describeVote(first), b: describeVote(v) });
    }
    for (const x of unique) {
      for (const y of unique) {
        if (x.source < y.source && y.target < x.target) out.push({ offence: "surround vote", validator, a: describeVote(x), b: describeVote(y) });
      }
    }
  }
  return out;
}
