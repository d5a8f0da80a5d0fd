#!/usr/bin/env node
// The `cairn` command. The implementation is the compiled TypeScript in dist/ (see src/cli/index.ts).
import { existsSync } from "node:fs";

const entry = new URL("../dist/src/cli/index.js", import.meta.url);

// Output piped into a program that exits early (`cairn ... | head`) is not an error.
process.stdout.on("error", (e) => {
  if (e.code !== "EPIPE") throw e;
});

if (!existsSync(entry)) {
  process.stderr.write("cairn: error: dist/ is missing; run `npm run build` first\n");
  process.exitCode = 2;
} else {
  try {
    const { main } = await import(entry.href);
    process.exitCode = await main(process.argv.slice(2));
  } catch (e) {
    // Only failures to load the CLI itself get here; main() reports its own errors.
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`cairn: error: ${msg.split("\n")[0]} (is dist/ up to date? run \`npm run build\`)\n`);
    if (process.env.CAIRN_DEBUG && process.env.CAIRN_DEBUG !== "0") process.stderr.write(`${e instanceof Error ? e.stack : ""}\n`);
    process.exitCode = 2;
  }
}
