// Slashing protection: the EIP-3076 interchange test vectors, the signing rules, imports, exports, durability
// (kill -9) and the `cairn slashing-protection` command.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createPrng } from "../../src/util/prng.js";
import { DbController } from "../../src/db/controller.js";
import { fromHex, toHex as hex } from "../../src/util/bytes.js";
import { SlashingProtection, SlashingProtectionError, type InterchangeJson, type SlashingProtectionErrorCode } from "../../src/validator/slashingProtection/index.js";
import { repoRoot, runCairn as cairn, type CliResult as Result } from "../utils/cli.js";
import { fileTempDir } from "../utils/tempDir.js";

const vectorsDir = join(repoRoot, "test/fixtures/eip3076");
const tmpRoot = fileTempDir("cairn-slashing-test-");
let dirCount = 0;
const freshDir = (): string => join(tmpRoot, `s${dirCount++}`);

const pubkey = (i: number): Uint8Array => new Uint8Array(48).fill(0xa0 + i);
const root = (i: number): Uint8Array => new Uint8Array(32).fill(i);
const GVR = root(0x42);
const OTHER_GVR = root(0x43);

/** Runs `fn` on the store in `dir`, opened for the chain `gvr` (null: without telling it a chain). */
async function withStore<T>(dir: string, fn: (s: SlashingProtection) => Promise<T>, gvr: Uint8Array | null = GVR): Promise<T> {
  const store = await SlashingProtection.open(dir, gvr === null ? {} : { genesisValidatorsRoot: gvr });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** The refusal code of a request, or "ok" when it was recorded. */
async function outcome(p: Promise<void>): Promise<"ok" | SlashingProtectionErrorCode> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof SlashingProtectionError) return e.code;
    throw e;
  }
}

async function rejectsCode(p: Promise<unknown>, code: SlashingProtectionErrorCode, re?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SlashingProtectionError, `expected a SlashingProtectionError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** Every key and value of a (closed) store, hex-encoded. */
async function dumpDb(dir: string): Promise<[string, string][]> {
  const db = await DbController.open(dir, { createIfMissing: false });
  try {
    return (await db.entries({})).map((e) => [hex(e.key), hex(e.value)]);
  } finally {
    await db.close();
  }
}

function interchange(gvr: Uint8Array, data: InterchangeJson["data"]): InterchangeJson {
  return { metadata: { interchange_format_version: "5", genesis_validators_root: hex(gvr) }, data };
}

// ---------------------------------------------------------------------------------------------------------------
// EIP-3076 interchange test vectors (eth-clients/slashing-protection-interchange-tests v5.3.0)

interface VectorFile {
  name: string;
  genesis_validators_root: string;
  steps: {
    should_succeed: boolean;
    contains_slashable_data: boolean;
    interchange: unknown;
    blocks: { pubkey: string; slot: string; signing_root?: string; should_succeed: boolean }[];
    attestations: { pubkey: string; source_epoch: string; target_epoch: string; signing_root?: string; should_succeed: boolean }[];
  }[];
}

describe("EIP-3076 interchange test vectors", () => {
  const files = readdirSync(vectorsDir).filter((f) => f.endsWith(".json")).sort();
  test("the vectors are present", () => assert.ok(files.length >= 38, `found ${files.length} vector files`));

  for (const file of files) {
    test(file.replace(/\.json$/, ""), async () => {
      const v = JSON.parse(readFileSync(join(vectorsDir, file), "utf8")) as VectorFile;
      assert.ok(Array.isArray(v.steps) && v.steps.length > 0, "a vector has steps");
      const gvr = fromHex(v.genesis_validators_root);
      await withStore(
        freshDir(),
        async (store) => {
          for (const [i, step] of v.steps.entries()) {
            // Cairn imports slashable data too (it keeps every record and raises the watermarks), so an import
            // that should succeed must succeed, whatever contains_slashable_data says
            const imported = await outcome(store.importInterchange(step.interchange, { genesisValidatorsRoot: gvr }).then(() => undefined));
            if (step.should_succeed) assert.equal(imported, "ok", `step ${i}: the import should succeed`);
            else assert.notEqual(imported, "ok", `step ${i}: the import should fail`);
            // Cairn applies the minimal strategy to imported data (watermarks), so `should_succeed` is the expectation
            for (const [j, b] of step.blocks.entries()) {
              const got = await outcome(store.checkAndInsertBlockProposal(fromHex(b.pubkey), Number(b.slot), b.signing_root ? fromHex(b.signing_root) : null));
              assert.equal(got === "ok", b.should_succeed, `step ${i} block ${j} (slot ${b.slot}): got ${got}`);
            }
            for (const [j, a] of step.attestations.entries()) {
              const got = await outcome(
                store.checkAndInsertAttestation(fromHex(a.pubkey), Number(a.source_epoch), Number(a.target_epoch), a.signing_root ? fromHex(a.signing_root) : null),
              );
              assert.equal(got === "ok", a.should_succeed, `step ${i} attestation ${j} (${a.source_epoch} -> ${a.target_epoch}): got ${got}`);
            }
          }
        },
        gvr,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Signing rules

describe("signing rules", () => {
  test("blocks: a second block at a slot is refused unless it has the same signing root", async () => {
    await withStore(freshDir(), async (s) => {
      await s.checkAndInsertBlockProposal(pubkey(1), 10, root(1));
      await s.checkAndInsertBlockProposal(pubkey(1), 10, root(1));
      await rejectsCode(s.checkAndInsertBlockProposal(pubkey(1), 10, root(2)), "DOUBLE_BLOCK_PROPOSAL", /slot 10/);
      await rejectsCode(s.checkAndInsertBlockProposal(pubkey(1), 10, null), "DOUBLE_BLOCK_PROPOSAL");
      // an all-zero root is unknown, like a missing one
      await rejectsCode(s.checkAndInsertBlockProposal(pubkey(1), 10, new Uint8Array(32)), "DOUBLE_BLOCK_PROPOSAL");
      // an unknown root conflicts even with itself
      await s.checkAndInsertBlockProposal(pubkey(1), 11, null);
      await rejectsCode(s.checkAndInsertBlockProposal(pubkey(1), 11, null), "DOUBLE_BLOCK_PROPOSAL");
      // other slots (also earlier ones) and other validators are independent
      await s.checkAndInsertBlockProposal(pubkey(1), 9, root(3));
      await s.checkAndInsertBlockProposal(pubkey(2), 10, root(2));
    });
  });

  test("attestations: double votes and surround votes both ways are refused", async () => {
    await withStore(freshDir(), async (s) => {
      const pk = pubkey(1);
      await s.checkAndInsertAttestation(pk, 0, 0, root(9)); // genesis: source == target
      await s.checkAndInsertAttestation(pk, 10, 20, root(1));
      await s.checkAndInsertAttestation(pk, 10, 20, root(1)); // the same vote again
      await rejectsCode(s.checkAndInsertAttestation(pk, 10, 20, root(2)), "DOUBLE_VOTE");
      await rejectsCode(s.checkAndInsertAttestation(pk, 11, 20, root(1)), "DOUBLE_VOTE");
      await rejectsCode(s.checkAndInsertAttestation(pk, 10, 20, null), "DOUBLE_VOTE");
      await rejectsCode(s.checkAndInsertAttestation(pk, 11, 19, root(3)), "SURROUNDED_VOTE", /surrounded by the signed vote 10 -> 20/);
      await rejectsCode(s.checkAndInsertAttestation(pk, 9, 21, root(3)), "SURROUNDING_VOTE", /surrounds the signed vote 10 -> 20/);
      await rejectsCode(s.checkAndInsertAttestation(pk, 5, 4, root(3)), "INVALID_ATTESTATION");
      // touching intervals are not surrounds
      await s.checkAndInsertAttestation(pk, 10, 21, root(4));
      await s.checkAndInsertAttestation(pk, 12, 22, root(5));
      await s.checkAndInsertAttestation(pk, 9, 19, root(6));
      await rejectsCode(s.checkAndInsertAttestation(pk, 11, 23, root(7)), "SURROUNDING_VOTE", /12 -> 22/);
      // another validator is not affected
      await s.checkAndInsertAttestation(pubkey(2), 11, 19, root(3));
    });
  });

  test("surround checks agree with a brute-force reference on random votes", async () => {
    type Vote = { s: number; t: number; r: number | null };
    const reference = (votes: Vote[], s: number, t: number, r: number | null): "ok" | SlashingProtectionErrorCode => {
      if (s > t) return "INVALID_ATTESTATION";
      const same = votes.find((v) => v.t === t);
      if (same) return same.s === s && same.r !== null && same.r === r ? "ok" : "DOUBLE_VOTE";
      if (votes.some((v) => v.s < s && v.t > t)) return "SURROUNDED_VOTE";
      if (votes.some((v) => v.s > s && v.t < t)) return "SURROUNDING_VOTE";
      votes.push({ s, t, r });
      return "ok";
    };
    for (const seed of [1, 2, 3]) {
      const rand = createPrng(seed);
      const int = (n: number): number => Math.floor(rand() * n);
      const votes: Vote[] = [];
      const counts = new Map<string, number>();
      await withStore(freshDir(), async (store) => {
        for (let i = 0; i < 250; i++) {
          const s = int(40);
          const t = rand() < 0.05 ? int(40) : s + int(12);
          const r = rand() < 0.1 ? null : 1 + int(2);
          const want = reference(votes, s, t, r);
          const got = await outcome(store.checkAndInsertAttestation(pubkey(3), s, t, r === null ? null : root(r)));
          assert.equal(got, want, `seed ${seed}, vote ${i}: ${s} -> ${t} (root ${r})`);
          counts.set(got, (counts.get(got) ?? 0) + 1);
        }
      });
      // the sequence exercised every rule
      for (const code of ["ok", "DOUBLE_VOTE", "SURROUNDED_VOTE", "SURROUNDING_VOTE"]) assert.ok((counts.get(code) ?? 0) > 0, `seed ${seed}: no ${code}`);
    }
  });

  test("concurrent requests for one validator cannot both pass", async () => {
    await withStore(freshDir(), async (s) => {
      const blocks = await Promise.all(Array.from({ length: 12 }, (_, i) => outcome(s.checkAndInsertBlockProposal(pubkey(1), 5, root(i + 1)))));
      assert.equal(blocks.filter((o) => o === "ok").length, 1);
      assert.equal(blocks.filter((o) => o === "DOUBLE_BLOCK_PROPOSAL").length, 11);
      // surround pairs racing: (10, 20) against (11, 19), many times over
      const atts = await Promise.all(
        Array.from({ length: 12 }, (_, i) => outcome(i % 2 === 0 ? s.checkAndInsertAttestation(pubkey(1), 10, 20, root(1)) : s.checkAndInsertAttestation(pubkey(1), 11, 19, root(2)))),
      );
      const first = atts[0] === "ok" ? 0 : 1;
      atts.forEach((o, i) => assert.equal(o, i % 2 === first ? "ok" : first === 0 ? "SURROUNDED_VOTE" : "SURROUNDING_VOTE", `request ${i}`));
    });
  });

  test("bad arguments are INVALID_ARGUMENT and record nothing", async () => {
    const dir = freshDir();
    await withStore(dir, async (s) => {
      await rejectsCode(s.checkAndInsertBlockProposal(new Uint8Array(47), 1, root(1)), "INVALID_ARGUMENT", /pubkey must be 48 bytes/);
      await rejectsCode(s.checkAndInsertBlockProposal(pubkey(1), -1, root(1)), "INVALID_ARGUMENT");
      await rejectsCode(s.checkAndInsertBlockProposal(pubkey(1), 1.5, root(1)), "INVALID_ARGUMENT");
      await rejectsCode(s.checkAndInsertAttestation(pubkey(1), 1, 2, new Uint8Array(31)), "INVALID_ARGUMENT", /signingRoot/);
      const exported = await s.exportInterchange();
      assert.deepEqual(exported.data, []);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Genesis validators root, import, export

describe("interchange import and export", () => {
  test("a store is for one chain", async () => {
    const dir = freshDir();
    await withStore(dir, async () => undefined, null);
    await withStore(dir, async (s) => assert.equal(s.getGenesisValidatorsRoot(), null), null);
    await withStore(dir, async (s) => assert.equal(hex(s.getGenesisValidatorsRoot()!), hex(GVR)));
    await rejectsCode(SlashingProtection.open(dir, { genesisValidatorsRoot: OTHER_GVR }), "GENESIS_VALIDATORS_ROOT_MISMATCH", /0x4242/);
    // the refused open released the database
    await withStore(dir, async (s) => {
      await rejectsCode(s.importInterchange(interchange(OTHER_GVR, [])), "GENESIS_VALIDATORS_ROOT_MISMATCH", /nothing imported/);
      await rejectsCode(s.importInterchange(interchange(GVR, []), { genesisValidatorsRoot: OTHER_GVR }), "GENESIS_VALIDATORS_ROOT_MISMATCH");
    });
    // a store without a root adopts the first import's; export needs one
    const fresh = freshDir();
    await withStore(
      fresh,
      async (s) => {
        await rejectsCode(s.exportInterchange(), "GENESIS_VALIDATORS_ROOT_UNKNOWN");
        await s.importInterchange(interchange(OTHER_GVR, []));
        assert.equal((await s.exportInterchange()).metadata.genesis_validators_root, hex(OTHER_GVR));
      },
      null,
    );
    await rejectsCode(SlashingProtection.open(fresh, { genesisValidatorsRoot: GVR }), "GENESIS_VALIDATORS_ROOT_MISMATCH");
  });

  test("an import leaves low watermarks at the highest slot and epochs known (and merges with what is there)", async () => {
    await withStore(freshDir(), async (s) => {
      const pk = pubkey(1);
      await s.checkAndInsertBlockProposal(pk, 60, root(1));
      const r = await s.importInterchange(
        interchange(GVR, [
          {
            pubkey: hex(pk),
            signed_blocks: [{ slot: "50" }, { slot: "55", signing_root: hex(root(5)) }],
            signed_attestations: [
              { source_epoch: "10", target_epoch: "20" },
              { source_epoch: "8", target_epoch: "9", signing_root: hex(root(6)) },
            ],
          },
        ]),
      );
      assert.deepEqual(r, { validators: 1, blocks: 2, attestations: 2 });
      // the block watermark is the store's own 60, above the imported 55
      for (const slot of [50, 55, 58, 60]) await rejectsCode(s.checkAndInsertBlockProposal(pk, slot, root(5)), "BLOCK_BELOW_WATERMARK", new RegExp(`slot ${slot} `));
      await s.checkAndInsertBlockProposal(pk, 61, root(2));
      await rejectsCode(s.checkAndInsertAttestation(pk, 9, 21, root(2)), "SOURCE_BELOW_WATERMARK");
      await rejectsCode(s.checkAndInsertAttestation(pk, 10, 20, root(2)), "TARGET_BELOW_WATERMARK");
      await rejectsCode(s.checkAndInsertAttestation(pk, 12, 15, root(2)), "TARGET_BELOW_WATERMARK");
      await s.checkAndInsertAttestation(pk, 10, 21, root(2));

      // a later, older interchange does not lower them
      await s.importInterchange(interchange(GVR, [{ pubkey: hex(pk), signed_blocks: [{ slot: "3" }], signed_attestations: [{ source_epoch: "1", target_epoch: "2" }] }]));
      await rejectsCode(s.checkAndInsertBlockProposal(pk, 61, root(3)), "BLOCK_BELOW_WATERMARK");
      await rejectsCode(s.checkAndInsertAttestation(pk, 11, 21, root(3)), "TARGET_BELOW_WATERMARK");
      await s.checkAndInsertBlockProposal(pk, 62, root(3));

      const exported = await s.exportInterchange();
      assert.deepEqual(exported.data[0].signed_blocks, [
        { slot: "3" },
        { slot: "50" },
        { slot: "55", signing_root: hex(root(5)) },
        { slot: "60", signing_root: hex(root(1)) },
        { slot: "61", signing_root: hex(root(2)) },
        { slot: "62", signing_root: hex(root(3)) },
      ]);
      assert.deepEqual(exported.data[0].signed_attestations, [
        { source_epoch: "1", target_epoch: "2" },
        { source_epoch: "8", target_epoch: "9", signing_root: hex(root(6)) },
        { source_epoch: "10", target_epoch: "20" },
        { source_epoch: "10", target_epoch: "21", signing_root: hex(root(2)) },
      ]);
    });
  });

  test("round trip: export, import into a fresh store, export again gives the same interchange", async () => {
    const first = await withStore(freshDir(), async (s) => {
      await s.importInterchange(
        interchange(GVR, [
          { pubkey: hex(pubkey(2)), signed_blocks: [{ slot: "7" }, { slot: "7", signing_root: hex(root(1)) }], signed_attestations: [{ source_epoch: "3", target_epoch: "4" }] },
          { pubkey: hex(pubkey(4)), signed_blocks: [], signed_attestations: [] },
        ]),
      );
      await s.checkAndInsertBlockProposal(pubkey(1), 5, root(1));
      await s.checkAndInsertBlockProposal(pubkey(1), 6, null);
      await s.checkAndInsertAttestation(pubkey(1), 1, 2, root(2));
      await s.checkAndInsertAttestation(pubkey(1), 2, 3, root(3));
      await s.checkAndInsertAttestation(pubkey(3), 0, 9, root(4));
      return s.exportInterchange();
    });
    assert.deepEqual(
      first.data.map((d) => d.pubkey),
      [1, 2, 3, 4].map((i) => hex(pubkey(i))),
    );
    // conflicting roots for one slot merged into one record with an unknown root
    assert.deepEqual(first.data[1].signed_blocks, [{ slot: "7" }]);
    const second = await withStore(
      freshDir(),
      async (s) => {
        await s.importInterchange(JSON.stringify(first));
        return s.exportInterchange();
      },
      null,
    );
    assert.deepEqual(second, first);
    // a subset by pubkey
    const only = await withStore(freshDir(), async (s) => {
      await s.importInterchange(first);
      return s.exportInterchange({ pubkeys: [pubkey(3), pubkey(9)] });
    });
    assert.deepEqual(only.data, [first.data[2]]);
  });

  test("a malformed interchange, or one for another chain, changes nothing and says why", async () => {
    const dir = freshDir();
    const pk = hex(pubkey(1));
    await withStore(dir, async (s) => {
      await s.importInterchange(interchange(GVR, [{ pubkey: pk, signed_blocks: [{ slot: "10" }], signed_attestations: [{ source_epoch: "2", target_epoch: "3" }] }]));
      await s.checkAndInsertAttestation(pubkey(1), 3, 4, root(1));
    });
    const before = await dumpDb(dir);
    const good = (over: Partial<InterchangeJson["data"][number]> = {}): InterchangeJson["data"][number] => ({
      pubkey: hex(pubkey(2)),
      signed_blocks: [{ slot: "100" }],
      signed_attestations: [{ source_epoch: "50", target_epoch: "60" }],
      ...over,
    });
    const bad: [unknown, SlashingProtectionErrorCode, RegExp][] = [
      ["{ not json", "INVALID_INTERCHANGE", /not valid JSON/],
      [[], "INVALID_INTERCHANGE", /\(top level\): expected an object/],
      [{ ...interchange(GVR, []), metadata: { interchange_format_version: "4", genesis_validators_root: hex(GVR) } }, "INVALID_INTERCHANGE", /interchange_format_version: expected "5", got "4"/],
      [{ metadata: { interchange_format_version: "5", genesis_validators_root: hex(GVR) } }, "INVALID_INTERCHANGE", /data: expected an array/],
      [{ metadata: { interchange_format_version: "5", genesis_validators_root: "0x1234" }, data: [] }, "INVALID_INTERCHANGE", /genesis_validators_root: expected 32 bytes/],
      [interchange(GVR, [good(), good({ pubkey: `${pk}00` })]), "INVALID_INTERCHANGE", /data\[1\]\.pubkey: expected 48 bytes/],
      [interchange(GVR, [good(), good({ pubkey: pk.replace(/.$/, "g") })]), "INVALID_INTERCHANGE", /data\[1\]\.pubkey: expected 0x-prefixed hex/],
      [interchange(GVR, [good({ signed_blocks: [{ slot: "1", signing_root: "0xzz" }] })]), "INVALID_INTERCHANGE", /signed_blocks\[0\]\.signing_root/],
      [interchange(GVR, [good({ signed_blocks: [{ slot: 5 as unknown as string }] })]), "INVALID_INTERCHANGE", /signed_blocks\[0\]\.slot: expected a decimal string, got 5/],
      [interchange(GVR, [good({ signed_blocks: [{ slot: "-1" }] })]), "INVALID_INTERCHANGE", /expected a decimal string/],
      [interchange(GVR, [good({ signed_attestations: [{ source_epoch: "1", target_epoch: "18446744073709551616" }] })]), "INVALID_INTERCHANGE", /does not fit in a uint64/],
      [interchange(GVR, [good({ signed_attestations: [{ source_epoch: "1" } as never] })]), "INVALID_INTERCHANGE", /target_epoch: expected a decimal string, got nothing/],
      [interchange(OTHER_GVR, [good()]), "GENESIS_VALIDATORS_ROOT_MISMATCH", /0x4343.*0x4242/],
    ];
    await withStore(dir, async (s) => {
      for (const [input, code, re] of bad) await rejectsCode(s.importInterchange(input), code, re);
    });
    assert.deepEqual(await dumpDb(dir), before, "the database is byte for byte unchanged");
    await withStore(dir, async (s) => {
      // and behaves as before: validator 2 is unknown, validator 1's watermarks and records are intact
      await s.checkAndInsertBlockProposal(pubkey(2), 1, root(1));
      await rejectsCode(s.checkAndInsertBlockProposal(pubkey(1), 10, root(1)), "BLOCK_BELOW_WATERMARK");
      await rejectsCode(s.checkAndInsertAttestation(pubkey(1), 3, 4, root(2)), "DOUBLE_VOTE");
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Durability

test("kill -9 right after signing: the records survive", { timeout: 60_000 }, async () => {
  const dir = freshDir();
  const script = join(repoRoot, "dist/test/utils/slashingKillChild.js");
  const pk = pubkey(5);
  const child = spawn(process.execPath, [script, dir, hex(GVR), hex(pk), hex(root(1))], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code)));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no "signed" from the child; stderr: ${stderr}`)), 30_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (out.includes("signed\n")) {
        clearTimeout(timer);
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.on("exit", () => {
      clearTimeout(timer);
      if (!out.includes("signed\n")) reject(new Error(`the child exited early; stderr: ${stderr}`));
    });
  });
  assert.equal(await exited, "SIGKILL");
  await withStore(dir, async (s) => {
    await rejectsCode(s.checkAndInsertBlockProposal(pk, 100, root(2)), "DOUBLE_BLOCK_PROPOSAL");
    await rejectsCode(s.checkAndInsertAttestation(pk, 10, 11, root(2)), "DOUBLE_VOTE");
    await rejectsCode(s.checkAndInsertAttestation(pk, 9, 12, root(2)), "SURROUNDING_VOTE");
    // the very same requests are still allowed (re-signing identical data)
    await s.checkAndInsertBlockProposal(pk, 100, root(1));
    await s.checkAndInsertAttestation(pk, 10, 11, root(1));
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The command line

function assertOneLine(r: Result, status: number, re: RegExp): void {
  assert.equal(r.status, status, `exit status; stderr: ${r.stderr}`);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `stderr: ${r.stderr}`);
  assert.match(lines[0], re);
}

describe("cairn slashing-protection", () => {
  test("check-block / check-attestation: 0 and recorded when safe, 1 and nothing recorded when refused, 2 for bad arguments", async () => {
    const datadir = freshDir();
    const pk = hex(pubkey(1));
    const ok = await cairn(["slashing-protection", "check-block", "--datadir", datadir, "--pubkey", pk, "--slot", "10", "--signing-root", hex(root(1))]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: block at slot 10 recorded$/m);
    const same = await cairn(["slashing-protection", "check-block", "--datadir", datadir, "--pubkey", pk, "--slot", "10", "--signing-root", hex(root(1))]);
    assert.equal(same.status, 0, same.stderr);
    assertOneLine(
      await cairn(["slashing-protection", "check-block", "--datadir", datadir, "--pubkey", pk, "--slot", "10"]),
      1,
      /^cairn slashing-protection: refused: DOUBLE_BLOCK_PROPOSAL: .*unknown signing root/,
    );
    assert.equal((await cairn(["slashing-protection", "check-attestation", "--datadir", datadir, "--pubkey", pk, "--source-epoch", "5", "--target-epoch", "8"])).status, 0);
    assertOneLine(
      await cairn(["slashing-protection", "check-attestation", "--datadir", datadir, "--pubkey", pk, "--source-epoch", "4", "--target-epoch", "9"]),
      1,
      /refused: SURROUNDING_VOTE/,
    );
    assertOneLine(
      await cairn(["slashing-protection", "check-attestation", "--datadir", datadir, "--pubkey", pk, "--source-epoch", "6", "--target-epoch", "7"]),
      1,
      /refused: SURROUNDED_VOTE/,
    );
    assertOneLine(await cairn(["slashing-protection", "check-block", "--datadir", datadir, "--pubkey", "0x1234", "--slot", "1"]), 2, /--pubkey: expected 0x-prefixed hex of 48 bytes/);
    assertOneLine(await cairn(["slashing-protection", "check-block", "--datadir", datadir, "--pubkey", pk, "--slot", "ten"]), 2, /--slot: expected a non-negative integer/);
    assertOneLine(await cairn(["slashing-protection", "check-attestation", "--datadir", datadir, "--pubkey", pk, "--source-epoch", "1"]), 2, /missing --target-epoch/);
    assertOneLine(await cairn(["slashing-protection", "frob"]), 2, /unknown subcommand "frob"/);

    // exactly the two accepted records were kept
    const file = join(freshDir() + "-export.json");
    const exp = await cairn(["slashing-protection", "export", "--datadir", datadir, "--file", file, "--genesis-validators-root", hex(GVR)]);
    assert.equal(exp.status, 0, exp.stderr);
    const exported = JSON.parse(readFileSync(file, "utf8")) as InterchangeJson;
    assert.deepEqual(exported, interchange(GVR, [{ pubkey: pk, signed_blocks: [{ slot: "10", signing_root: hex(root(1)) }], signed_attestations: [{ source_epoch: "5", target_epoch: "8" }] }]));
  });

  test("import and export", async () => {
    const datadir = freshDir();
    const file = `${freshDir()}.json`;
    const data = interchange(GVR, [
      { pubkey: hex(pubkey(1)), signed_blocks: [{ slot: "20" }], signed_attestations: [{ source_epoch: "3", target_epoch: "4" }] },
      { pubkey: hex(pubkey(2)), signed_blocks: [{ slot: "21", signing_root: hex(root(7)) }], signed_attestations: [] },
    ]);
    writeFileSync(file, JSON.stringify(data));
    const imp = await cairn(["slashing-protection", "import", "--datadir", datadir, "--file", file]);
    assert.equal(imp.status, 0, imp.stderr);
    assert.match(imp.stdout, /2 validator\(s\), 2 block\(s\), 1 attestation\(s\)/);
    assertOneLine(await cairn(["slashing-protection", "check-block", "--datadir", datadir, "--pubkey", hex(pubkey(1)), "--slot", "20", "--signing-root", hex(root(1))]), 1, /BLOCK_BELOW_WATERMARK/);

    const out = `${freshDir()}.json`;
    const exp = await cairn(["slashing-protection", "export", "--datadir", datadir, "--file", out, "--pubkeys", hex(pubkey(2))]);
    assert.equal(exp.status, 0, exp.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, "utf8")), interchange(GVR, [data.data[1]]));

    // malformed and other-chain files: exit 2, one line, nothing changes
    const bad = `${freshDir()}.json`;
    writeFileSync(bad, JSON.stringify({ ...data, metadata: { ...data.metadata, interchange_format_version: "3" } }));
    assertOneLine(await cairn(["slashing-protection", "import", "--datadir", datadir, "--file", bad]), 2, /interchange_format_version: expected "5", got "3"/);
    writeFileSync(bad, JSON.stringify(interchange(OTHER_GVR, [])));
    assertOneLine(await cairn(["slashing-protection", "import", "--datadir", datadir, "--file", bad]), 2, /genesis validators root/);
    assertOneLine(await cairn(["slashing-protection", "import", "--datadir", datadir, "--file", `${bad}.missing`]), 2, /cannot read the interchange file/);
    const all = `${freshDir()}.json`;
    assert.equal((await cairn(["slashing-protection", "export", "--datadir", datadir, "--file", all])).status, 0);
    assert.deepEqual(JSON.parse(readFileSync(all, "utf8")), data);
  });
});
