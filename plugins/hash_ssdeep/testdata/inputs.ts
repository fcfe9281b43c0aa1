/**
 * The golden inputs of the ssdeep tests, generated deterministically so nothing large is committed.
 * `regenerate.ts` writes them to files, runs Debian's `ssdeep -b` on them and records the digests in
 * `expected.json`; `../mod_test.ts` regenerates them and compares. Changing a generator changes the
 * recorded sha256 of its input, so the test fails loudly instead of comparing against stale values.
 *
 * @module
 */

/** One named golden input. */
export interface GoldenInput {
  /** File name used when recording. */
  name: string;
  /** The bytes. */
  content: Uint8Array;
}

/** A xorshift32 generator: the same stream for the same seed, everywhere. */
export function prng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return function next(): number {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

/** `size` pseudo-random bytes from `seed`. */
export function randomBytes(size: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = next() & 0xff;
  return out;
}

const WORDS = (
  "the of and to in a is that for it as was with be by on not he this are or his from at which " +
  "but have an they you were her she there been one all we their has would when if so no will " +
  "payload archive dispatcher worker plugin yara scan extract decode connector provider"
).split(" ");

/** `size` bytes of pseudo-random English-looking text with line breaks. */
export function text(size: number, seed: number): Uint8Array {
  const next = prng(seed);
  let out = "";
  let line = 0;
  while (out.length < size) {
    const word = WORDS[next() % WORDS.length];
    out += word;
    line += word.length + 1;
    if (line > 60 + (next() % 20)) {
      out += next() % 7 === 0 ? ".\n\n" : "\n";
      line = 0;
    } else {
      out += " ";
    }
  }
  return new TextEncoder().encode(out.slice(0, size));
}

/**
 * `size` bytes shaped like an executable: runs of zeros, little-endian tables, ASCII strings and
 * high-entropy blocks, in pseudo-random order.
 */
export function binaryLike(size: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(size);
  let pos = 0;
  while (pos < size) {
    const length = Math.min(size - pos, 16 + (next() % 2048));
    const kind = next() % 4;
    for (let i = 0; i < length; i++) {
      if (kind === 0) out[pos + i] = 0;
      else if (kind === 1) out[pos + i] = i % 4 === 0 ? next() & 0xff : i % 4 === 1 ? 0x40 : 0;
      else if (kind === 2) out[pos + i] = 0x20 + (next() % 95);
      else out[pos + i] = next() & 0xff;
    }
    pos += length;
  }
  return out;
}

/** A copy of `content` with `edits` pseudo-random overwrites, inserts and deletes. */
export function mutate(content: Uint8Array, edits: number, seed: number): Uint8Array {
  const next = prng(seed);
  const bytes = Array.from(content);
  for (let e = 0; e < edits; e++) {
    const at = next() % Math.max(1, bytes.length);
    const length = 1 + (next() % 64);
    const filler = Array.from({ length }, () => next() & 0xff);
    const op = next() % 3;
    if (op === 0) bytes.splice(at, length, ...filler);
    else if (op === 1) bytes.splice(at, 0, ...filler);
    else bytes.splice(at, length);
  }
  return Uint8Array.from(bytes);
}

const encoder = new TextEncoder();

/** Every golden input, in a stable order. */
export function goldenInputs(): GoldenInput[] {
  const inputs: GoldenInput[] = [
    { name: "empty", content: new Uint8Array() },
    { name: "fox", content: encoder.encode("The quick brown fox") },
    { name: "zeros-100000", content: new Uint8Array(100_000) },
    { name: "ff-5000", content: new Uint8Array(5_000).fill(0xff) },
    { name: "abc-repeat-30000", content: encoder.encode("abcdefg\n".repeat(3_750)) },
  ];
  for (let size = 1; size <= 12; size++) {
    inputs.push({ name: `tiny-${size}`, content: randomBytes(size, 1000 + size) });
  }
  for (
    const size of [
      7,
      63,
      64,
      100,
      191,
      192,
      193,
      383,
      384,
      385,
      1_000,
      4_096,
      10_000,
      65_536,
      100_000,
      262_144,
      1_048_576,
      3_000_001,
    ]
  ) {
    inputs.push({ name: `random-${size}`, content: randomBytes(size, size) });
  }
  for (const size of [500, 5_000, 50_000, 400_000]) {
    inputs.push({ name: `text-${size}`, content: text(size, 7 + size) });
  }
  for (const size of [3_000, 30_000, 300_000, 2_000_000]) {
    inputs.push({ name: `binary-${size}`, content: binaryLike(size, 11 + size) });
  }
  return inputs;
}

/** Pairs for the comparison golden test: a base input and mutated copies of it. */
export function compareInputs(): GoldenInput[] {
  const out: GoldenInput[] = [];
  const bases = [
    { name: "cmp-text", content: text(20_000, 99) },
    { name: "cmp-binary", content: binaryLike(40_000, 98) },
    { name: "cmp-small", content: text(1_500, 97) },
  ];
  for (const base of bases) {
    out.push(base);
    for (const edits of [1, 4, 16, 64]) {
      out.push({ name: `${base.name}-m${edits}`, content: mutate(base.content, edits, edits) });
    }
  }
  return out;
}
