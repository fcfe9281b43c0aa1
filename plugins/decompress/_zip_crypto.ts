/**
 * Zip decryption: traditional PKWARE encryption (ZipCrypto) and WinZip AES (AE-1/AE-2).
 *
 * @module
 */
import { createCipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { CRC_TABLE } from "./_crc32.ts";

const encoder = new TextEncoder();

/**
 * Decrypt ZipCrypto data (the 12-byte header included) with a password. Returns undefined when
 * the header's check byte rules the password out; a passing check byte is right only 255 times in
 * 256, so the caller still checks the CRC.
 */
export function zipCryptoDecrypt(
  data: Uint8Array,
  options: { password: string; check: number },
): Uint8Array | undefined {
  if (data.length < 12) return undefined;
  let k0 = 0x12345678, k1 = 0x23456789, k2 = 0x34567890;
  const update = (byte: number) => {
    k0 = (CRC_TABLE[(k0 ^ byte) & 0xff] ^ (k0 >>> 8)) >>> 0;
    k1 = (k1 + (k0 & 0xff)) >>> 0;
    k1 = (Math.imul(k1, 134775813) + 1) >>> 0;
    k2 = (CRC_TABLE[(k2 ^ (k1 >>> 24)) & 0xff] ^ (k2 >>> 8)) >>> 0;
  };
  for (const byte of encoder.encode(options.password)) update(byte);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const temp = (k2 | 2) & 0xffff;
    const plain = data[i] ^ ((Math.imul(temp, temp ^ 1) >>> 8) & 0xff);
    out[i] = plain;
    update(plain);
    if (i === 11 && plain !== options.check) return undefined;
  }
  return out.subarray(12);
}

/**
 * Decrypt WinZip AES data (salt, password check, ciphertext, 10-byte authentication code).
 * Returns undefined when the password check or the authentication code rules the password out.
 */
export function aesDecrypt(
  data: Uint8Array,
  options: { password: string; strength: number },
): Uint8Array | undefined {
  const keyLength = [0, 16, 24, 32][options.strength];
  if (!keyLength) throw new Error(`unknown AES strength ${options.strength}`);
  const saltLength = keyLength / 2;
  if (data.length < saltLength + 2 + 10) return undefined;
  const salt = data.subarray(0, saltLength);
  const derived = pbkdf2Sync(
    encoder.encode(options.password),
    salt,
    1000,
    2 * keyLength + 2,
    "sha1",
  );
  const verify = data.subarray(saltLength, saltLength + 2);
  if (derived[2 * keyLength] !== verify[0] || derived[2 * keyLength + 1] !== verify[1]) {
    return undefined;
  }
  const cipherText = data.subarray(saltLength + 2, data.length - 10);
  const mac = createHmac("sha1", derived.subarray(keyLength, 2 * keyLength))
    .update(cipherText).digest().subarray(0, 10);
  if (!timingSafeEqual(mac, data.subarray(data.length - 10))) return undefined;
  return ctrLittleEndian(cipherText, derived.subarray(0, keyLength));
}

// WinZip AES is CTR mode with a little-endian counter starting at 1, which node:crypto's CTR
// (big-endian) does not do, so the key stream is made with ECB.
function ctrLittleEndian(data: Uint8Array, key: Uint8Array): Uint8Array {
  const cipher = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  cipher.setAutoPadding(false);
  const out = new Uint8Array(data.length);
  const counter = new Uint8Array(16);
  const blocksPerChunk = 4096;
  const counters = new Uint8Array(blocksPerChunk * 16);
  for (let offset = 0; offset < data.length; offset += blocksPerChunk * 16) {
    const blocks = Math.min(blocksPerChunk, Math.ceil((data.length - offset) / 16));
    for (let b = 0; b < blocks; b++) {
      for (let i = 0; i < 16; i++) {
        if (++counter[i] !== 256) break;
        counter[i] = 0;
      }
      counters.set(counter, b * 16);
    }
    const stream = cipher.update(counters.subarray(0, blocks * 16));
    const end = Math.min(offset + blocks * 16, data.length);
    for (let i = offset; i < end; i++) out[i] = data[i] ^ stream[i - offset];
  }
  return out;
}
