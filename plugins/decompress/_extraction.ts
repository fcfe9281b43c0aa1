/**
 * The state of one archive's extraction: the members found so far, the errors, and the limits
 * (`maximum_size`, `maximum_total_size`, `maximum_members`, `maximum_ratio`) every format's reader
 * checks before and while inflating a member.
 *
 * @module
 */

/** The extraction limits, from the plugin's options. */
export interface Limits {
  /** Largest member, in bytes (`maximum_size`). */
  maximumSize: number;
  /** Largest sum of member sizes per scanned payload (`maximum_total_size`). */
  maximumTotalSize: number;
  /** Most members per scanned payload (`maximum_members`). */
  maximumMembers: number;
  /** Largest uncompressed/compressed ratio of a member (`maximum_ratio`). */
  maximumRatio: number;
  /** Members smaller than this are never refused for their ratio (`ratio_threshold`). */
  ratioThreshold: number;
}

/**
 * The error kinds decompress reports (a subset of the core's documented `SCAN_ERROR_KINDS`), so
 * consumers can count limit hits without parsing the text.
 */
export type ErrorKind =
  | "max_member_size"
  | "max_total_size"
  | "max_members"
  | "max_ratio"
  | "overlapping_members"
  | "corrupt"
  | "encrypted"
  | "unsupported";

/** An error entry of the worker response. */
export interface ErrorEntry {
  /** The message, prefixed with the format. */
  error: string;
  /** What went wrong. */
  kind: ErrorKind;
}

/** A limit a member breaks. */
export interface Problem {
  /** The message, without the format prefix. */
  message: string;
  /** Which limit. */
  kind: ErrorKind;
}

/** One extracted member. */
export interface Member {
  /** The member's path inside the archive. */
  path: string;
  /** Its bytes. */
  content: Uint8Array;
  /** More metadata for the child's `extra_data`. */
  extra?: Record<string, unknown>;
}

/** Thrown by a `Sink` to stop a decoder when a limit is hit; the error entry is already recorded. */
export class LimitExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Collects one member's output, refusing it as soon as it passes a limit. */
export class Sink {
  readonly #extraction: Extraction;
  readonly #path: string;
  readonly #packed: number;
  readonly #declared: number | undefined;
  readonly #chunks: Uint8Array[] = [];
  #size = 0;
  #refused = false;

  constructor(
    extraction: Extraction,
    options: { path: string; packed: number; declared?: number },
  ) {
    this.#extraction = extraction;
    this.#path = options.path;
    this.#packed = options.packed;
    this.#declared = options.declared;
  }

  /** Bytes accepted so far. */
  get size(): number {
    return this.#size;
  }

  /** True once a limit refused this member. */
  get refused(): boolean {
    return this.#refused;
  }

  /** The most bytes this member may still grow to under every limit. */
  allowance(): number {
    const limits = this.#extraction.limits;
    return Math.max(
      0,
      Math.min(
        limits.maximumSize,
        this.#extraction.remaining,
        this.#declared ?? Infinity,
        Math.max(limits.ratioThreshold, Math.max(this.#packed, 1) * limits.maximumRatio),
      ),
    );
  }

  /** Refuse the member because its output reached `size` bytes; throws `LimitExceeded`. */
  refuse(size: number): never {
    this.#chunks.length = 0;
    this.#size = 0;
    this.#check(size);
    throw new LimitExceeded(this.#path);
  }

  /**
   * Add output; throws `LimitExceeded` (after recording the error) when a limit is passed. A chunk
   * the decoder hands over for good (`owned`: a new buffer it never writes again) is kept as it
   * is; any other is copied, since decoders reuse their buffers.
   */
  push(chunk: Uint8Array, owned = false): void {
    this.#check(this.#size + chunk.length);
    this.#size += chunk.length;
    this.#chunks.push(owned ? chunk : new Uint8Array(chunk));
  }

  #check(size: number): void {
    if (this.#refused) throw new LimitExceeded(this.#path);
    const problem = this.#extraction.checkRunning({
      path: this.#path,
      size,
      packed: this.#packed,
      declared: this.#declared,
    });
    if (problem) {
      this.#refused = true;
      this.#chunks.length = 0;
      this.#extraction.error(problem.message, problem.kind);
      throw new LimitExceeded(problem.message);
    }
  }

  /** The collected bytes. */
  bytes(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const out = new Uint8Array(this.#size);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

/** Error entries listed per scanned payload before the rest are only counted. */
export const MAX_ERRORS = 100;

/** One archive's extraction: its format, members, errors and running totals. */
export class Extraction {
  /** The archive format id, used as the prefix of error entries. */
  format: string;
  /** The members extracted so far. */
  readonly members: Member[] = [];
  /** Error entries for the worker response. */
  readonly errors: ErrorEntry[] = [];
  /** The password that opened encrypted members, if one did. */
  password: string | undefined;
  readonly #limits: Limits;
  #total = 0;
  #count = 0;
  #countRefused = false;
  readonly #seen = new Set<string>();
  #dropped = 0;

  constructor(format: string, limits: Limits) {
    this.format = format;
    this.#limits = limits;
  }

  /** The limits in force. */
  get limits(): Limits {
    return this.#limits;
  }

  /** Bytes that may still be extracted before `maximum_total_size`. */
  get remaining(): number {
    return this.#limits.maximumTotalSize - this.#total;
  }

  /**
   * Record an error entry, prefixed with the format (kind `corrupt` unless said otherwise). A
   * hostile archive can be made of thousands of broken members, so past `MAX_ERRORS` entries the
   * rest are only counted, in one last entry.
   */
  error(message: string, kind: ErrorKind = "corrupt"): void {
    const error = `${this.format}: ${message}`;
    if (this.#seen.has(error)) return;
    this.#seen.add(error);
    if (this.errors.length < MAX_ERRORS) {
      this.errors.push({ error, kind });
      return;
    }
    this.#dropped++;
    this.errors[MAX_ERRORS] = {
      error: `${this.format}: ${this.#dropped} more error(s) not listed`,
      kind: "corrupt",
    };
  }

  /**
   * Decide, before inflating, whether a member may be extracted, from its declared sizes; records
   * the error entry when it may not. `declared` is the uncompressed size the archive states (if it
   * does), `packed` the compressed size.
   */
  admit(options: { path: string; declared?: number; packed?: number }): boolean {
    const { path, declared, packed } = options;
    if (this.#count >= this.#limits.maximumMembers) {
      if (!this.#countRefused) {
        this.error(
          `member count limit reached: members after ${this.#limits.maximumMembers} skipped (maximum_members = ${this.#limits.maximumMembers})`,
          "max_members",
        );
        this.#countRefused = true;
      }
      return false;
    }
    if (declared !== undefined) {
      const problem = this.checkRunning({ path, size: declared, packed, before: true });
      if (problem) {
        this.error(problem.message, problem.kind);
        return false;
      }
    }
    return true;
  }

  /**
   * The limit a member of `size` bytes breaks, as an error message and kind, or undefined. `before` says
   * the size is the declared one, checked before inflating, rather than the running output.
   */
  checkRunning(
    options: { path: string; size: number; packed?: number; declared?: number; before?: boolean },
  ): Problem | undefined {
    const { path, size, packed, declared } = options;
    const limits = this.#limits;
    const name = JSON.stringify(path);
    const passed = options.before ? `declared size ${size} passes` : "output passed";
    if (size > limits.maximumSize) {
      return {
        message:
          `member ${name} skipped: ${passed} ${limits.maximumSize} bytes (maximum_size = ${limits.maximumSize})`,
        kind: "max_member_size",
      };
    }
    if (size > this.remaining) {
      return {
        message:
          `member ${name} skipped: total extracted bytes would pass ${limits.maximumTotalSize} (maximum_total_size = ${limits.maximumTotalSize})`,
        kind: "max_total_size",
      };
    }
    if (
      packed !== undefined && size > limits.ratioThreshold &&
      size > Math.max(packed, 1) * limits.maximumRatio
    ) {
      return {
        message:
          `member ${name} skipped: compression ratio passed ${limits.maximumRatio} (${size} bytes from ${packed}; maximum_ratio = ${limits.maximumRatio})`,
        kind: "max_ratio",
      };
    }
    if (declared !== undefined && size > declared) {
      return {
        message: `member ${name} skipped: output passed its declared size ${declared}`,
        kind: "corrupt",
      };
    }
    return undefined;
  }

  /** A sink collecting one member's output under the limits. */
  sink(options: { path: string; packed: number; declared?: number }): Sink {
    return new Sink(this, options);
  }

  /**
   * Add an extracted member (its size counts towards `maximum_total_size`). Its bytes are kept as
   * a plain `Uint8Array` over a buffer of their own (a copy when they are part of a larger one, as
   * small outputs of `node:zlib` are), so the sandbox transfers them instead of copying that buffer.
   */
  add(member: Member): boolean {
    if (!this.admit({ path: member.path, declared: member.content.length })) return false;
    this.#count++;
    this.#total += member.content.length;
    this.members.push({ ...member, content: ownBuffer(member.content) });
    return true;
  }
}

/**
 * The bytes as a plain `Uint8Array` over a buffer of their own: a view of a whole buffer (a
 * `node:zlib` result, say) is kept without a copy, a part of a larger one is copied.
 */
function ownBuffer(content: Uint8Array): Uint8Array {
  if (content.byteOffset !== 0 || content.byteLength !== content.buffer.byteLength) {
    return new Uint8Array(content);
  }
  return content.constructor === Uint8Array ? content : new Uint8Array(content.buffer);
}

/** Message of an unknown thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
