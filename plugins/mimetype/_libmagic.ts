/**
 * libmagic as WebAssembly: Debian bookworm's libmagic 5.44 with glibc's regular expressions (from
 * gnulib) and Debian's compiled magic database, built by `libmagic/build.sh`. The same library and
 * database as Debian's `file` 5.44, so the same answers; see `libmagic/README.md`.
 *
 * The module and the database are imported as bytes, so a plugin that uses this needs no
 * permission at all (and `deno compile` embeds both). The module imports a handful of WASI calls;
 * none of them reaches anything outside it: no files, no clock, no environment.
 *
 * @module
 */
import { gunzipSync } from "node:zlib";
import MODULE from "./libmagic/libmagic.wasm" with { type: "bytes" };
import DATABASE from "./libmagic/magic.mgc.gz" with { type: "bytes" };

/** libmagic's `MAGIC_MIME_TYPE` flag: answer with a MIME type (what `file --mime-type` prints). */
export const MAGIC_MIME_TYPE = 0x10;

const ERRNO_BADF = 8;
const ERRNO_NOSYS = 52;
/** Input buffers up to this size are kept for the next call; larger ones are freed after it. */
const KEPT_BUFFER = 8 * 1024 * 1024;

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  stoq_alloc(size: number): number;
  stoq_free(pointer: number): void;
  stoq_open(flags: number, db: number, size: number): number;
  stoq_buffer(bytes: number, size: number): number;
  stoq_error(): number;
}

const decoder = new TextDecoder();
let compiled: WebAssembly.Module | undefined;
let database: Uint8Array | undefined;

/** One libmagic `magic_set`, loaded with the database. Not for use from two threads. */
export class Libmagic {
  readonly #exports: Exports;
  #buffer = 0;
  #capacity = 0;

  private constructor(exports: Exports) {
    this.#exports = exports;
  }

  /** Instantiates the module and loads the database (about 8 MB of the instance's memory). */
  static open(flags: number = MAGIC_MIME_TYPE): Libmagic {
    compiled ??= new WebAssembly.Module(MODULE);
    database ??= new Uint8Array(gunzipSync(DATABASE));
    // The imports run after instantiation, when `exports` is set.
    const module: { exports?: Exports } = {};
    const view = () => new DataView(module.exports!.memory.buffer);
    const nothing = () => ERRNO_NOSYS;
    const wasi: Record<string, (...args: number[]) => number> = {
      environ_sizes_get(count, size) {
        view().setUint32(count, 0, true);
        view().setUint32(size, 0, true);
        return 0;
      },
      environ_get: () => 0,
      // No preopened folders: the startup code's scan for them ends at the first descriptor.
      fd_prestat_get: () => ERRNO_BADF,
      fd_prestat_dir_name: () => ERRNO_BADF,
      // Output (libmagic writes only with MAGIC_DEBUG or MAGIC_CHECK) is counted as written, then
      // dropped.
      fd_write(_fd, iovs, count, written) {
        let total = 0;
        for (let i = 0; i < count; i++) total += view().getUint32(iovs + 8 * i + 4, true);
        view().setUint32(written, total, true);
        return 0;
      },
      proc_exit(code) {
        throw new Error(`libmagic exited with code ${code}`);
      },
      fd_close: nothing,
      fd_fdstat_get: nothing,
      fd_fdstat_set_flags: nothing,
      fd_filestat_get: nothing,
      fd_pread: nothing,
      fd_read: nothing,
      fd_seek: nothing,
      path_open: nothing,
      path_unlink_file: nothing,
      poll_oneoff: nothing,
    };
    const instance = new WebAssembly.Instance(compiled, { wasi_snapshot_preview1: wasi });
    const exports = instance.exports as unknown as Exports;
    module.exports = exports;
    exports._initialize();
    const magic = new Libmagic(exports);
    const db = exports.stoq_alloc(database.length);
    if (db === 0) throw new Error("libmagic: no memory for the magic database");
    new Uint8Array(exports.memory.buffer, db, database.length).set(database);
    if (exports.stoq_open(flags, db, database.length) !== 0) {
      throw new Error(`libmagic: cannot load the magic database: ${magic.#error()}`);
    }
    return magic;
  }

  /** libmagic's answer for `bytes` (`magic_buffer()`). */
  detect(bytes: Uint8Array): string {
    const exports = this.#exports;
    if (bytes.length > this.#capacity || this.#buffer === 0) {
      if (this.#buffer !== 0) exports.stoq_free(this.#buffer);
      this.#capacity = Math.max(bytes.length, 64 * 1024);
      this.#buffer = exports.stoq_alloc(this.#capacity);
      if (this.#buffer === 0) {
        this.#capacity = 0;
        throw new Error(`libmagic: no memory for ${bytes.length} bytes`);
      }
    }
    new Uint8Array(exports.memory.buffer, this.#buffer, bytes.length).set(bytes);
    const answer = exports.stoq_buffer(this.#buffer, bytes.length);
    if (this.#capacity > KEPT_BUFFER) {
      exports.stoq_free(this.#buffer);
      this.#buffer = 0;
      this.#capacity = 0;
    }
    if (answer === 0) throw new Error(`libmagic: ${this.#error()}`);
    return this.#string(answer);
  }

  #error(): string {
    return this.#string(this.#exports.stoq_error()) || "unknown error";
  }

  #string(pointer: number): string {
    const memory = new Uint8Array(this.#exports.memory.buffer);
    const end = memory.indexOf(0, pointer);
    return decoder.decode(memory.subarray(pointer, end));
  }
}
