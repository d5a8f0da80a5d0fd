// States live in files beside LevelDB, not in it. A state is ~13 MB at 100,000 validators, and LevelDB copies
// every value into its write batch, log buffer, memtable and then into every compaction that touches it: those
// multi-megabyte native allocations fragmented the heap and RSS grew by ~20 MB an epoch during long non-finality.
// In LevelDB a state key now holds a small pointer (format ‖ CRC-32 ‖ length ‖ file name); the file holds raw SSZ.
//
// Crash safety: a file is written to a temporary name, fsynced and renamed before the batch that points to it
// commits; a file whose pointer is deleted or replaced is unlinked after that batch commits. A crash in between
// leaves only an unreferenced file, which `sweep` removes at the next open. The pointer is the truth.
import { randomBytes } from "node:crypto";
import { mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { toHex } from "../util/bytes.js";
import { corruptValue, invalidArgument } from "./errors.js";
import { bucketName, crc32 } from "./schema.js";

/** Format byte of a state pointer value. */
export const STATE_POINTER_FORMAT = 0x02;
const POINTER_HEADER_LENGTH = 1 + 4 + 4;
const NAME_RE = /^[a-z]+-\d+-[0-9a-f]{16}\.ssz$/;

export interface StatePointer {
  crc: number;
  length: number;
  name: string;
}

export function encodeStatePointer(p: StatePointer): Uint8Array {
  const name = Buffer.from(p.name, "utf8");
  const out = new Uint8Array(POINTER_HEADER_LENGTH + name.length);
  const view = new DataView(out.buffer);
  out[0] = STATE_POINTER_FORMAT;
  view.setUint32(1, p.crc);
  view.setUint32(5, p.length);
  out.set(name, POINTER_HEADER_LENGTH);
  return out;
}

export function decodeStatePointer(value: Uint8Array, bucket: number, key: Uint8Array): StatePointer {
  if (value.length <= POINTER_HEADER_LENGTH || value[0] !== STATE_POINTER_FORMAT) {
    throw corruptValue(bucketName(bucket), toHex(key), "not a state pointer");
  }
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const name = Buffer.from(value.buffer, value.byteOffset + POINTER_HEADER_LENGTH, value.length - POINTER_HEADER_LENGTH).toString("utf8");
  if (!NAME_RE.test(name)) throw corruptValue(bucketName(bucket), toHex(key), `bad state file name ${JSON.stringify(name)}`);
  return { crc: view.getUint32(1), length: view.getUint32(5), name };
}

export class StateFiles {
  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<StateFiles> {
    await mkdir(dir, { recursive: true });
    return new StateFiles(dir);
  }

  /** Writes `bytes` durably under a new unique name; returns the pointer to store. */
  async write(kind: "cold" | "hot", slot: number, bytes: Uint8Array): Promise<StatePointer> {
    if (!(bytes instanceof Uint8Array)) throw invalidArgument("a state must be a Uint8Array");
    if (bytes.length >= 2 ** 32) throw invalidArgument(`a state of ${bytes.length} bytes is too large`);
    const name = `${kind}-${slot}-${randomBytes(8).toString("hex")}.ssz`;
    const tmp = join(this.dir, `${name}.tmp`);
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    await this.syncDir();
    return { crc: crc32(bytes), length: bytes.length, name };
  }

  /** The state a pointer names, checked against its length and checksum (CORRUPT_VALUE otherwise). */
  async read(pointer: StatePointer, bucket: number, key: Uint8Array): Promise<Uint8Array> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dir, pointer.name));
    } catch (e) {
      const code = (e as { code?: string }).code;
      throw corruptValue(bucketName(bucket), toHex(key), `state file ${pointer.name} cannot be read (${code ?? (e as Error).message})`, e);
    }
    if (bytes.length !== pointer.length) {
      throw corruptValue(bucketName(bucket), toHex(key), `state file ${pointer.name} has ${bytes.length} bytes, expected ${pointer.length}`);
    }
    if (crc32(bytes) !== pointer.crc) {
      throw corruptValue(bucketName(bucket), toHex(key), `state file ${pointer.name}: checksum mismatch (damaged file)`);
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Best effort: a file left behind is removed by the next sweep. */
  async remove(names: Iterable<string>): Promise<void> {
    for (const name of names) await unlink(join(this.dir, name)).catch(() => undefined);
  }

  /** Deletes every file no pointer references (left by a crash between a file write and its batch, or before an unlink). */
  async sweep(referenced: Set<string>): Promise<number> {
    let removed = 0;
    for (const entry of await readdir(this.dir)) {
      if (referenced.has(entry)) continue;
      if (!NAME_RE.test(entry) && !entry.endsWith(".ssz.tmp")) continue; // not ours: leave it
      await unlink(join(this.dir, entry)).catch(() => undefined);
      removed++;
    }
    return removed;
  }

  private async syncDir(): Promise<void> {
    // the rename is durable only once the directory entry is on disk
    try {
      const fh = await open(this.dir, "r");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    } catch {
      // some filesystems refuse fsync on a directory; the file itself is synced
    }
  }
}
