// Child process of the slashing protection kill -9 test (test/unit/slashingProtection.test.ts): records one block
// proposal and one attestation, prints "signed" (as a validator client would then release the signatures) and
// waits until the parent kills it with SIGKILL.
//
//   node dist/test/utils/slashingKillChild.js <storeDir> <0xgenesisValidatorsRoot> <0xpubkey> <0xsigningRoot>
import { SlashingProtection } from "../../src/validator/slashingProtection/index.js";

async function main(): Promise<void> {
  const [dir, gvrHex, pubkeyHex, rootHex] = process.argv.slice(2);
  if (!dir || !gvrHex || !pubkeyHex || !rootHex) throw new Error("usage: slashingKillChild <storeDir> <0xgenesisValidatorsRoot> <0xpubkey> <0xsigningRoot>");
  const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.slice(2), "hex"));
  const store = await SlashingProtection.open(dir, { genesisValidatorsRoot: bytes(gvrHex) });
  await store.checkAndInsertBlockProposal(bytes(pubkeyHex), 100, bytes(rootHex));
  await store.checkAndInsertAttestation(bytes(pubkeyHex), 10, 11, bytes(rootHex));
  // stdout to a pipe is synchronous on Linux: the line is out before the parent can kill us
  process.stdout.write("signed\n");
  setInterval(() => {}, 60_000);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
