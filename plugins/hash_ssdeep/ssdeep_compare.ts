/**
 * `ssdeepCompare()`: the 0–100 match score of two ssdeep digests, as libfuzzy 2.14's
 * `fuzzy_compare()` (and `ssdeep -d`/`-k`) computes it.
 *
 * @module
 */

const ROLLING_WINDOW = 7;
const MIN_BLOCKSIZE = 3;
const SPAMSUM_LENGTH = 64;

interface Parsed {
  blockSize: number;
  part1: string;
  part2: string;
}

/** Drop the 4th and later characters of every run of identical characters. */
function eliminateSequences(text: string): string {
  let out = "";
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    run = i > 0 && text[i] === text[i - 1] ? run + 1 : 0;
    if (run < 3) out += text[i];
  }
  return out;
}

function parse(digest: string): Parsed | null {
  const match = /^(\d+):([^:]*):([^,]*)/.exec(digest);
  if (match === null) return null;
  const part1 = eliminateSequences(match[2]);
  const part2 = eliminateSequences(match[3]);
  if (part1.length > SPAMSUM_LENGTH || part2.length > SPAMSUM_LENGTH) return null;
  return { blockSize: Number(match[1]), part1, part2 };
}

function hasCommonSubstring(a: string, b: string): boolean {
  if (a.length < ROLLING_WINDOW || b.length < ROLLING_WINDOW) return false;
  for (let i = 0; i + ROLLING_WINDOW <= b.length; i++) {
    if (a.includes(b.slice(i, i + ROLLING_WINDOW))) return true;
  }
  return false;
}

/** Edit distance with insert and delete costing 1 and replace costing 2, as ssdeep's. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 0; i < a.length; i++) {
    const current = [i + 1];
    for (let j = 0; j < b.length; j++) {
      current.push(Math.min(
        previous[j + 1] + 1,
        current[j] + 1,
        previous[j] + (a[i] === b[j] ? 0 : 2),
      ));
    }
    previous = current;
  }
  return previous[b.length];
}

function scoreStrings(a: string, b: string, blockSize: number): number {
  if (!hasCommonSubstring(a, b)) return 0;
  let score = Math.floor((editDistance(a, b) * SPAMSUM_LENGTH) / (a.length + b.length));
  score = Math.floor((100 * score) / SPAMSUM_LENGTH);
  if (score >= 100) return 0;
  score = 100 - score;
  // Small block sizes cannot claim a strong match on short digests.
  if (blockSize >= Math.floor((99 + ROLLING_WINDOW) / ROLLING_WINDOW) * MIN_BLOCKSIZE) return score;
  const cap = Math.floor(blockSize / MIN_BLOCKSIZE) * Math.min(a.length, b.length);
  return Math.min(score, cap);
}

/**
 * The match score of two ssdeep digests: 0 (no match) to 100 (identical), or -1 when either is
 * not a well-formed digest. Digests whose block sizes differ by more than a factor of two score 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ssdeepCompare } from "./ssdeep_compare.ts";
 * const a = "96:KQhaGCVZGhr83h3bc0ok3892m12wzgnMyuTgtL:KnZGN83h3bc0ok3892mYnWTg9";
 * assert.equal(ssdeepCompare(a, a), 100);
 * assert.equal(ssdeepCompare(a, "3::"), 0);
 * assert.equal(ssdeepCompare(a, "not a digest"), -1);
 * ```
 */
export function ssdeepCompare(a: string, b: string): number {
  const one = parse(a);
  const two = parse(b);
  if (one === null || two === null) return -1;
  const bs1 = one.blockSize;
  const bs2 = two.blockSize;
  if (bs1 !== bs2 && bs1 * 2 !== bs2 && bs2 * 2 !== bs1) return 0;
  if (bs1 === bs2 && one.part1 === two.part1 && one.part2 === two.part2) return 100;
  if (bs1 === bs2) {
    return Math.max(
      scoreStrings(one.part1, two.part1, bs1),
      scoreStrings(one.part2, two.part2, bs1 * 2),
    );
  }
  if (bs1 * 2 === bs2) return scoreStrings(two.part1, one.part2, bs2);
  return scoreStrings(one.part1, two.part2, bs1);
}
