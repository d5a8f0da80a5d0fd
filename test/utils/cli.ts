// Running the `cairn` command as a child process, the way a user runs it (node bin/cairn.js ...), from the
// repository root. CAIRN_DEBUG is removed from the child's environment unless a test sets it: a developer's
// shell must not turn the one-line errors the tests expect into stack traces.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

// compiled to dist/test/utils/
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const cairnBin = join(repoRoot, "bin/cairn.js");

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env["CAIRN_DEBUG"] === undefined) delete out["CAIRN_DEBUG"];
  return out;
}

/** Runs cairn to completion, blocking (killed after 60 s). `script` replaces bin/cairn.js. */
export function runCairnSync(args: string[], env: Record<string, string> = {}, script = cairnBin): CliResult {
  const r = spawnSync(process.execPath, [script, ...args], { cwd: repoRoot, env: childEnv(env), encoding: "utf8", timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs cairn to completion without blocking the test's event loop (for commands that talk to it); killed after 60 s. */
export function runCairn(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cairnBin, ...args], { cwd: repoRoot, env: childEnv({}), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
