// Every minimized input in test/fuzz/regressions goes through its fuzz target again: the bugs they found stay fixed.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ENR } from "@chainsafe/enr";
import { FuzzSkip, REGRESSIONS_DIR } from "../fuzz/engine.js";
import { findTarget } from "../fuzz/targets/index.js";
import { decodeEnr, enrToTcpMultiaddr } from "../../src/network/discovery/enr.js";

// the differential reproducers run only where Lodestar is installed already (npm run bench or npm run fuzz)
process.env.CAIRN_FUZZ_NO_INSTALL = "1";

describe("fuzz regressions", () => {
  const files = readdirSync(REGRESSIONS_DIR).filter((f) => f.endsWith(".bin"));
  it("has reproducers", () => assert.ok(files.length > 0));
  for (const f of files) {
    it(f, async (t) => {
      const target = findTarget(f.split("--")[0]!);
      try {
        await target.setup?.();
      } catch (e) {
        if (e instanceof FuzzSkip) return t.skip(e.message);
        throw e;
      }
      await target.run(new Uint8Array(readFileSync(join(REGRESSIONS_DIR, f))));
    });
  }

  it("the uint64 reproducers of finding 2 are spec-valid and accepted (decoded exactly: the targets check it)", async () => {
    for (const f of files.filter((x) => /^(op-|block--).*above-2-53\.bin$/.test(x))) {
      const target = findTarget(f.split("--")[0]!);
      await target.setup?.();
      assert.equal(await target.run(new Uint8Array(readFileSync(join(REGRESSIONS_DIR, f)))), "accepted", f);
    }
  });

  it("an ENR whose id is a list: the library throws a TypeError, Cairn's text decoder a plain Error naming the record", () => {
    const bytes = new Uint8Array(readFileSync(join(REGRESSIONS_DIR, "enr--id-as-a-list.bin"))).subarray(1);
    assert.throws(() => ENR.decode(bytes), TypeError);
    const text = `enr:${Buffer.from(bytes).toString("base64url")}`;
    assert.throws(() => decodeEnr(text), (e: Error) => e.constructor === Error && /^invalid ENR "enr:/.test(e.message));
  });

  it("an ENR whose ip field is not 4 bytes has no TCP address (and reading it does not throw)", () => {
    const bytes = new Uint8Array(readFileSync(join(REGRESSIONS_DIR, "enr--ip-of-wrong-length.bin"))).subarray(1);
    const enr = ENR.decode(bytes);
    assert.notEqual(enr.kvs.get("ip")?.length, 4);
    assert.throws(() => enr.ip); // the library's getter: why enrToTcpMultiaddr must guard it
    assert.equal(enrToTcpMultiaddr(enr), null);
  });
});
