/**
 * `ssdeepHash()`: the ssdeep (spamsum, context-triggered piecewise hashing) digest of some bytes,
 * identical to what `ssdeep -b` 2.14 prints.
 *
 * The digest is `BLOCKSIZE:PART1:PART2`. A rolling hash over the last 7 bytes picks "trigger" points
 * (where it is -1 modulo the block size); at each one, a 6-bit FNV-style hash of the bytes since the
 * previous trigger is emitted as one base64 character. PART1 uses the block size, PART2 twice it.
 * The block size starts at the smallest `3 * 2^n` with `blocksize * 64 >= length` and is halved while
 * PART1 would be shorter than 32 characters. Instead of hashing again for each halving (the original
 * spamsum), all block sizes are tracked in one pass, as libfuzzy 2.13+ does; the output is the same.
 * Like libfuzzy's `fuzzy_hash_buf()` (and unlike `fuzzy_compare()`), runs of identical characters are
 * kept in the digest.
 *
 * @module
 */

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_CODES = Uint8Array.from(B64, (ch) => ch.charCodeAt(0));
const ROLLING_WINDOW = 7;
const MIN_BLOCKSIZE = 3;
const SPAMSUM_LENGTH = 64;
const NUM_BLOCKHASHES = 31;
/** FNV offset basis 0x28021967, reduced to the 6 bits the digest uses. */
const HASH_INIT = 0x27;
/** FNV prime 0x01000193 modulo 64: only the low 6 bits of the sum hash ever reach the digest. */
const HASH_PRIME_LOW = 0x13;
/** The largest input libfuzzy accepts: the biggest block size times 64. */
const TOTAL_SIZE_MAX = (MIN_BLOCKSIZE * 2 ** (NUM_BLOCKHASHES - 1)) * SPAMSUM_LENGTH;

/** `SUM_TABLE[h * 64 + (c & 63)]`: the next 6-bit sum hash. */
const SUM_TABLE = (() => {
  const table = new Uint8Array(64 * 64);
  for (let h = 0; h < 64; h++) {
    for (let c = 0; c < 64; c++) table[h * 64 + c] = ((h * HASH_PRIME_LOW) & 63) ^ c;
  }
  return table;
})();

function blockSize(index: number): number {
  return MIN_BLOCKSIZE * 2 ** index;
}

/**
 * The ssdeep digest of `content`, as `ssdeep -b` 2.14 and libfuzzy's `fuzzy_hash_buf()` give it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ssdeepHash } from "./ssdeep_hash.ts";
 * assert.equal(ssdeepHash(new Uint8Array()), "3::");
 * assert.equal(ssdeepHash(new TextEncoder().encode("The quick brown fox")), "3:FJKX:Fs");
 * ```
 */
export function ssdeepHash(content: Uint8Array): string {
  const total = content.length;
  if (total > TOTAL_SIZE_MAX) {
    throw new RangeError(`Cannot ssdeep-hash ${total} bytes: more than ${TOTAL_SIZE_MAX}`);
  }

  // Per block size: the running sum hash (`h`), the one that stops resetting once the digest is
  // half full (`halfh`, for the truncated PART2), the digest so far and its length.
  const h = new Uint8Array(NUM_BLOCKHASHES);
  const halfh = new Uint8Array(NUM_BLOCKHASHES);
  const halfDigest = new Uint8Array(NUM_BLOCKHASHES);
  const dindex = new Uint8Array(NUM_BLOCKHASHES);
  const digest = new Uint8Array(NUM_BLOCKHASHES * SPAMSUM_LENGTH);
  h[0] = HASH_INIT;
  halfh[0] = HASH_INIT;

  // Block sizes are only forked up to one past the initial estimate for a known length.
  let estimate = 0;
  while (blockSize(estimate) * SPAMSUM_LENGTH < total) {
    estimate++;
    if (estimate === NUM_BLOCKHASHES - 2) break;
  }
  const bhEndLimit = estimate + 1;
  let bhStart = 0;
  let bhEnd = 1;
  let reduceBorder = MIN_BLOCKSIZE * SPAMSUM_LENGTH;
  let rollMask = 0;
  let needLastHash = false;
  let lastHash = 0;

  const window = new Uint8Array(ROLLING_WINDOW);
  let windowPos = 0;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;

  for (let pos = 0; pos < total; pos++) {
    const c = content[pos];
    // Rolling hash (Adler-like sums h1/h2 plus a shift/xor h3), all modulo 2^32.
    h2 = (h2 - h1 + ROLLING_WINDOW * c) >>> 0;
    h1 = (h1 + c - window[windowPos]) >>> 0;
    window[windowPos] = c;
    windowPos = windowPos === ROLLING_WINDOW - 1 ? 0 : windowPos + 1;
    h3 = ((h3 << 5) ^ c) >>> 0;

    const c6 = c & 63;
    for (let i = bhStart; i < bhEnd; i++) {
      h[i] = SUM_TABLE[h[i] * 64 + c6];
      halfh[i] = SUM_TABLE[halfh[i] * 64 + c6];
    }
    if (needLastHash) lastHash = SUM_TABLE[lastHash * 64 + c6];

    // A trigger for block size 3*2^i is rollsum % (3*2^i) == 3*2^i - 1, i.e. (rollsum + 1)
    // divisible by 3 * 2^i. rollsum + 1 wraps to 0 for 0xffffffff, which is not -1 mod 3.
    const hOrig = (h1 + h2 + h3 + 1) >>> 0;
    if (hOrig === 0) continue;
    let q = Math.floor(hOrig / MIN_BLOCKSIZE);
    if ((q & rollMask) !== 0) continue;
    if (hOrig % MIN_BLOCKSIZE !== 0) continue;
    q = q >>> bhStart;

    let i = bhStart;
    do {
      if (dindex[i] === 0) {
        // First trigger of this block size: start tracking the next one from the same state.
        if (bhEnd <= bhEndLimit) {
          const n = bhEnd;
          h[n] = h[n - 1];
          halfh[n] = halfh[n - 1];
          halfDigest[n] = 0;
          dindex[n] = 0;
          bhEnd++;
        } else if (bhEnd === NUM_BLOCKHASHES && !needLastHash) {
          needLastHash = true;
          lastHash = h[bhEnd - 1];
        }
      }
      digest[i * SPAMSUM_LENGTH + dindex[i]] = B64_CODES[h[i]];
      halfDigest[i] = B64_CODES[halfh[i]];
      if (dindex[i] < SPAMSUM_LENGTH - 1) {
        // Only reset while there is room: the tail of the input folds into the last character.
        dindex[i]++;
        digest[i * SPAMSUM_LENGTH + dindex[i]] = 0;
        h[i] = HASH_INIT;
        if (dindex[i] < SPAMSUM_LENGTH / 2) {
          halfh[i] = HASH_INIT;
          halfDigest[i] = 0;
        }
      } else if (
        bhEnd - bhStart >= 2 && reduceBorder < total &&
        dindex[bhStart + 1] >= SPAMSUM_LENGTH / 2
      ) {
        // The smallest block size can no longer be chosen: stop tracking it.
        bhStart++;
        reduceBorder *= 2;
        rollMask = rollMask * 2 + 1;
      }
      if (q & 1) break;
      q = q >>> 1;
    } while (++i < bhEnd);
  }

  const rollSum = (h1 + h2 + h3) >>> 0;
  let bi = bhStart;
  while (blockSize(bi) * SPAMSUM_LENGTH < total) bi++;
  if (bi >= bhEnd) bi = bhEnd - 1;
  while (bi > bhStart && dindex[bi] < SPAMSUM_LENGTH / 2) bi--;

  let out = `${blockSize(bi)}:`;
  out += String.fromCharCode(
    ...digest.subarray(bi * SPAMSUM_LENGTH, bi * SPAMSUM_LENGTH + dindex[bi]),
  );
  if (rollSum !== 0) {
    out += B64[h[bi]];
  } else if (digest[bi * SPAMSUM_LENGTH + dindex[bi]] !== 0) {
    // The digest is full: its last character was already written past dindex.
    out += String.fromCharCode(digest[bi * SPAMSUM_LENGTH + dindex[bi]]);
  }
  out += ":";
  if (bi < bhEnd - 1) {
    const next = bi + 1;
    const length = Math.min(dindex[next], SPAMSUM_LENGTH / 2 - 1);
    out += String.fromCharCode(
      ...digest.subarray(next * SPAMSUM_LENGTH, next * SPAMSUM_LENGTH + length),
    );
    if (rollSum !== 0) out += B64[halfh[next]];
    else if (halfDigest[next] !== 0) out += String.fromCharCode(halfDigest[next]);
  } else if (rollSum !== 0) {
    out += bi === 0 ? B64[h[bi]] : B64[lastHash];
  }
  return out;
}
