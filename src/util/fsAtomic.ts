// Durable file writes (keystores, passwords, CLI outputs): a temporary file in the same directory, fsynced, renamed
// over the target, then the directory fsynced so the rename itself survives a crash.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

export function writeFileAtomicSync(path: string, data: Uint8Array | string, mode: number): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  let fd: number | undefined;
  try {
    // the mode is set at creation, so a password is never readable by others, not even briefly
    fd = openSync(tmp, "wx", mode);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // keep the first error
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file may not exist
    }
    throw e;
  }
  fsyncDir(dir);
}

/** Creates `path` (and parents) with `mode`, fsyncing the parent so the new entry is durable. */
export function mkdirDurable(path: string, mode = 0o700): void {
  mkdirSync(path, { recursive: true, mode });
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory; the rename is still atomic there
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
