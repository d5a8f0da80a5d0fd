// Fetch and unpack the official v0.12.3 spec test vectors into a cache directory outside the repository.
//
//   node dist/test/spec/download.js [--preset minimal|mainnet]
//
// Cache: $CAIRN_SPEC_TESTS_DIR or ~/.cache/cairn/spec-tests/v0.12.3, holding the npm tarball, tests/<preset>/phase0
// and one marker file per extracted preset (written last, so an interrupted extraction is redone).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";

export const SPEC_VERSION = "0.12.3";
const PACKAGE_SPEC = `@chainsafe/eth2-spec-tests@${SPEC_VERSION}`;
const TARBALL_NAME = `chainsafe-eth2-spec-tests-${SPEC_VERSION}.tgz`;
const TARBALL_SIZE = 130_537_836;
// `npm view @chainsafe/eth2-spec-tests@0.12.3 dist.integrity`; a published version never changes.
const TARBALL_INTEGRITY =
  "sha512-1MPLUSuW5RoSobf2p6/h5d3nDPYChkFcC7217f5cYO0Y8aUnPN4we3OYSHzyRTTUzB5DWXDjLe0RczCeBZX7Sg==";

/** "general" holds the preset-independent tests (bls, ssz_generic). */
export type TestPreset = "general" | "minimal" | "mainnet";

export function specTestsCacheDir(): string {
  return process.env.CAIRN_SPEC_TESTS_DIR || join(homedir(), ".cache", "cairn", "spec-tests", `v${SPEC_VERSION}`);
}

const log = (msg: string) => process.stderr.write(`[spec-tests] ${msg}\n`);
const mb = (n: number) => (n / 1e6).toFixed(1);

/** Make sure tests/<preset>/phase0 exists for every preset; returns the `tests` directory. */
export async function ensureSpecTests(presets: TestPreset[], cacheDir = specTestsCacheDir()): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const testsDir = join(cacheDir, "tests");
  const marker = (p: TestPreset) => join(cacheDir, `.extracted-${p}-phase0`);
  const missing = presets.filter((p) => !existsSync(marker(p)));
  if (missing.length === 0) return testsDir;

  const tarball = join(cacheDir, TARBALL_NAME);
  for (let attempt = 1; ; attempt++) {
    await ensureTarball(tarball, cacheDir);
    try {
      await extract(tarball, cacheDir, missing);
      break;
    } catch (e) {
      // A tarball that passed the checks but does not extract: fetch it once more, then give up.
      if (attempt >= 2) throw e;
      log(`extraction failed (${(e as Error).message}); downloading the tarball again`);
      rmSync(tarball, { force: true });
    }
  }
  for (const p of missing) {
    writeFileSync(marker(p), `${PACKAGE_SPEC} tests/${p}/phase0 extracted ${new Date().toISOString()}\n`);
  }
  return testsDir;
}

async function ensureTarball(tarball: string, cacheDir: string): Promise<void> {
  if (existsSync(tarball)) {
    if (await tarballValid(tarball)) return;
    log(`${tarball} is incomplete or corrupt; downloading again`);
    rmSync(tarball, { force: true });
  }
  await npmPack(cacheDir, tarball);
  if (!(await tarballValid(tarball))) {
    throw new Error(`downloaded ${tarball} does not match size ${TARBALL_SIZE} / ${TARBALL_INTEGRITY}`);
  }
}

async function tarballValid(tarball: string): Promise<boolean> {
  if (statSync(tarball).size !== TARBALL_SIZE) return false;
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(tarball)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest("base64")}` === TARBALL_INTEGRITY;
}

/**
 * `npm pack <pkg> --pack-destination <dir>`, reporting the size of the growing file. npm (v9 to v11) buffers the
 * whole tarball in memory and writes it in one go, and then fails listing its contents (ERR_BUFFER_TOO_LARGE:
 * the package unpacks to more than 4 GiB). So the exit code is not trusted and progress may sit at 0% until the end;
 * the caller checks size and sha512 instead.
 */
async function npmPack(cacheDir: string, tarball: string): Promise<void> {
  log(`downloading ${PACKAGE_SPEC} (${mb(TARBALL_SIZE)} MB) with npm pack into ${cacheDir}`);
  const child = spawn("npm", ["pack", PACKAGE_SPEC, "--pack-destination", cacheDir, "--silent"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const start = Date.now();
  let lastReport = 0;
  let lastSize = -1;
  const timer = setInterval(() => {
    const size = existsSync(tarball) ? statSync(tarball).size : 0;
    const now = Date.now();
    if (size !== lastSize || now - lastReport >= 10_000) {
      const pct = Math.min(100, (100 * size) / TARBALL_SIZE).toFixed(0);
      log(`download: ${pct}% (${mb(size)} of ${mb(TARBALL_SIZE)} MB, ${((now - start) / 1000).toFixed(0)}s)`);
      lastSize = size;
      lastReport = now;
    }
  }, 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  }).finally(() => clearInterval(timer));
  const size = existsSync(tarball) ? statSync(tarball).size : 0;
  if (size !== TARBALL_SIZE) {
    throw new Error(`npm pack exited with ${code} leaving ${size} of ${TARBALL_SIZE} bytes:\n${stderr.trim()}`);
  }
  const note = code === 0 ? "" : ` (npm exited with ${code} after writing the file; ignored)`;
  log(`download: 100% (${mb(size)} MB)${note}`);
}

/** Extract package/tests/<preset>/phase0 for each preset in one pass of system tar, fed through a byte counter. */
async function extract(tarball: string, cacheDir: string, presets: TestPreset[]): Promise<void> {
  for (const p of presets) rmSync(join(cacheDir, "tests", p, "phase0"), { recursive: true, force: true });
  const members = presets.map((p) => `package/tests/${p}/phase0`);
  log(`extracting ${members.join(", ")} into ${join(cacheDir, "tests")}`);

  const tar = spawn("tar", ["-xzf", "-", "-C", cacheDir, "--strip-components=1", ...members], {
    stdio: ["pipe", "ignore", "pipe"],
  });
  let stderr = "";
  tar.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    tar.on("error", reject);
    tar.on("close", resolve);
  });

  let read = 0;
  let lastPct = -1;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      read += chunk.length;
      const pct = Math.floor((100 * read) / TARBALL_SIZE / 10) * 10;
      if (pct !== lastPct) {
        log(`extract: ${pct}%`);
        lastPct = pct;
      }
      done(null, chunk);
    },
  });
  // If tar dies early the pipe breaks; its exit status and stderr are the better error.
  const piped = pipeline(createReadStream(tarball), counter, tar.stdin).catch((e: Error) => e);
  const [code, pipeError] = await Promise.all([exited, piped]);
  if (code !== 0) throw new Error(`tar exited with ${code}: ${stderr.trim()}`);
  if (pipeError) throw pipeError;
  for (const p of presets) {
    if (!existsSync(join(cacheDir, "tests", p, "phase0"))) throw new Error(`tarball has no tests/${p}/phase0`);
  }
  log("extract: done");
}

// CLI: download and extract without running anything.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mainnet = process.argv.includes("mainnet") || process.argv.includes("--preset=mainnet");
  ensureSpecTests(mainnet ? ["mainnet"] : ["general", "minimal"]).then(
    (dir) => console.log(dir),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
