// SHA-256 of short messages (at most 55 bytes: one compression) that all start with the same 32 bytes, such as
// the swap-or-not shuffle's hash(seed ++ round ++ position // 256). The first eight rounds of the compression
// read only those 32 bytes, so they run once per prefix; each hash then costs the other 56 rounds, in plain
// JavaScript with no call into WebAssembly (whose per-call overhead is larger than the hash itself here).
//
// Words are SHA-256's own: word i holds message (or digest) bytes 4i..4i+3, big-endian.

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = Int32Array.from([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);

const PREFIX_LENGTH = 32;
/** The longest message one compression holds: 64 bytes less the 0x80 marker and the 8-byte length. */
export const MAX_SEEDED_MESSAGE_LENGTH = 55;

export class SeededSha256 {
  /** the working variables a..h after rounds 0..7 */
  private readonly mid = new Int32Array(8);
  /** the message schedule; words 0..7 (the prefix) are fixed */
  private readonly w = new Int32Array(64);

  constructor(prefix: Uint8Array) {
    if (prefix.length !== PREFIX_LENGTH) throw new Error(`SeededSha256: prefix must be ${PREFIX_LENGTH} bytes, got ${prefix.length}`);
    const w = this.w;
    for (let i = 0; i < 8; i++) {
      w[i] = (prefix[4 * i] << 24) | (prefix[4 * i + 1] << 16) | (prefix[4 * i + 2] << 8) | prefix[4 * i + 3];
    }
    let a = IV[0], b = IV[1], c = IV[2], d = IV[3], e = IV[4], f = IV[5], g = IV[6], h = IV[7];
    for (let t = 0; t < 8; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const m = this.mid;
    m[0] = a; m[1] = b; m[2] = c; m[3] = d; m[4] = e; m[5] = f; m[6] = g; m[7] = h;
  }

  /**
   * The digest of prefix ++ tail, where the caller gives the message block's words 8..15 already padded
   * (tail bytes, then 0x80, zeros, and the message length in bits as the last word). Writes the 8 digest words
   * to `out`.
   */
  hashWords(w8: number, w9: number, w10: number, w11: number, w12: number, w13: number, w14: number, w15: number, out: Int32Array): void {
    const w = this.w;
    w[8] = w8; w[9] = w9; w[10] = w10; w[11] = w11; w[12] = w12; w[13] = w13; w[14] = w14; w[15] = w15;
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[t] = (s1 + w[t - 7] + s0 + w[t - 16]) | 0;
    }
    const m = this.mid;
    let a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7];
    for (let t = 8; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[t] + w[t]) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    out[0] = (IV[0] + a) | 0;
    out[1] = (IV[1] + b) | 0;
    out[2] = (IV[2] + c) | 0;
    out[3] = (IV[3] + d) | 0;
    out[4] = (IV[4] + e) | 0;
    out[5] = (IV[5] + f) | 0;
    out[6] = (IV[6] + g) | 0;
    out[7] = (IV[7] + h) | 0;
  }

  /** sha256(prefix ++ tail) as bytes, for a tail of at most 23 bytes (the general form of hashWords). */
  digest(tail: Uint8Array): Uint8Array {
    const length = PREFIX_LENGTH + tail.length;
    if (length > MAX_SEEDED_MESSAGE_LENGTH) throw new Error(`SeededSha256: message of ${length} bytes needs more than one block`);
    const block = new Uint8Array(32);
    block.set(tail);
    block[tail.length] = 0x80;
    const words = new Int32Array(8);
    for (let i = 0; i < 7; i++) words[i] = (block[4 * i] << 24) | (block[4 * i + 1] << 16) | (block[4 * i + 2] << 8) | block[4 * i + 3];
    words[7] = length * 8;
    const out = new Int32Array(8);
    this.hashWords(words[0], words[1], words[2], words[3], words[4], words[5], words[6], words[7], out);
    const bytes = new Uint8Array(32);
    for (let i = 0; i < 32; i++) bytes[i] = (out[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff;
    return bytes;
  }
}
