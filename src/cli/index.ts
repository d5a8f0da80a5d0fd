// The `cairn` command line: `cairn <command> [options]`. bin/cairn.js calls main().
import { readFileSync } from "node:fs";
import { commands, findCommand } from "./commands/index.js";
import { CliError, EXIT_ERROR, EXIT_OK, errorMessage, processIo, reportError, type Command, type Io } from "./common.js";

export type { Io } from "./common.js";

function version(): string {
  // dist/src/cli/index.js -> package.json at the repository root
  for (const rel of ["../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "cairn" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // try the next location
    }
  }
  return "unknown";
}

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const list = commands.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`).join("\n");
  return `Usage: cairn <command> [options]

Cairn: an Ethereum consensus client (phase 0, spec v0.12.3).

Commands:
${list}

Options:
  -h, --help      show this help; "cairn <command> --help" shows a command's options
  -V, --version   print the version

Errors are reported as one line on stderr with exit status 2; set CAIRN_DEBUG=1 to add a stack trace.
`;
}

const isHelpFlag = (a: string): boolean => a === "--help" || a === "-h";

/** Runs one command line (without the node and script arguments); resolves to the exit status. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr(usage());
    return EXIT_ERROR;
  }
  if (isHelpFlag(first) || first === "help") {
    if (first === "help" && rest[0] !== undefined) return main([rest[0], "--help"], io);
    io.stdout(usage());
    return EXIT_OK;
  }
  if (first === "--version" || first === "-V") {
    io.stdout(`cairn ${version()}\n`);
    return EXIT_OK;
  }
  if (first.startsWith("-")) {
    io.stderr(`cairn: error: unknown option ${JSON.stringify(first)} (usage: cairn <command> [options]; see cairn --help)\n`);
    return EXIT_ERROR;
  }
  const entry = findCommand(first);
  if (!entry) {
    const names = commands.map((c) => c.name).join(", ");
    io.stderr(`cairn: error: unknown command ${JSON.stringify(first)} (commands: ${names}; see cairn --help)\n`);
    return EXIT_ERROR;
  }

  const prefix = `cairn ${entry.name}`;
  let command: Command;
  try {
    command = await entry.load();
  } catch (e) {
    return reportError(io, prefix, new CliError(`cannot load this command: ${errorMessage(e)}`, { cause: e }));
  }

  // `--help` anywhere before a `--` terminator shows the command's help, whatever else is on the line.
  const end = rest.indexOf("--");
  if ((end < 0 ? rest : rest.slice(0, end)).some(isHelpFlag)) {
    io.stdout(command.help);
    return EXIT_OK;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    return reportError(io, prefix, e);
  }
}
