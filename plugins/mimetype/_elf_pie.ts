/**
 * Whether an ELF image is a position-independent executable: `DT_FLAGS_1` has `DF_1_PIE` in its
 * dynamic section. libmagic finds this only when it has a file descriptor (`file` does, a buffer
 * scan with `magic_buffer()` does not), and reports `application/x-sharedlib` instead of
 * `application/x-pie-executable` without it.
 *
 * @module
 */

const PT_DYNAMIC = 2;
const DT_NULL = 0n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DF_1_PIE = 0x08000000n;

/** True when `content` is an ELF shared object (ET_DYN) flagged `DF_1_PIE`. */
export function isPieElf(content: Uint8Array): boolean {
  if (content.length < 52 || content[0] !== 0x7f || content[1] !== 0x45) return false;
  if (content[2] !== 0x4c || content[3] !== 0x46) return false;
  const is64 = content[4] === 2;
  const little = content[5] === 1;
  const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
  const u16 = (at: number) => view.getUint16(at, little);
  const word = (at: number) =>
    is64 ? view.getBigUint64(at, little) : BigInt(view.getUint32(at, little));
  try {
    if (u16(16) !== 3) return false;
    const phoff = Number(word(is64 ? 32 : 28));
    const phentsize = u16(is64 ? 54 : 42);
    const phnum = u16(is64 ? 56 : 44);
    for (let i = 0; i < phnum; i++) {
      const ph = phoff + i * phentsize;
      if (view.getUint32(ph, little) !== PT_DYNAMIC) continue;
      const offset = Number(word(is64 ? ph + 8 : ph + 4));
      const size = Number(word(is64 ? ph + 32 : ph + 16));
      const entry = is64 ? 16 : 8;
      for (
        let at = offset;
        at + entry <= offset + size && at + entry <= content.length;
        at += entry
      ) {
        const tag = word(at);
        if (tag === DT_NULL) break;
        if (tag === DT_FLAGS_1) return (word(at + entry / 2) & DF_1_PIE) !== 0n;
      }
    }
  } catch (error) {
    // A header pointing past the end: not something libmagic could call a PIE either.
    if (error instanceof RangeError) return false;
    throw error;
  }
  return false;
}
