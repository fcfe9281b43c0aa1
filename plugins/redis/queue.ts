/**
 * The layout the redis plugin and `stoq submit` share: key names, how payload bytes are stored (once
 * per SHA-256, with a TTL) and what a work entry in the stream holds.
 *
 * A work entry's fields:
 * - `request_id`: results are saved under it (a re-run overwrites);
 * - `sha256` (bytes stored at `<prefix>payload:<sha256>`) or `content` (the bytes inline);
 * - `payload_meta`: JSON `{extra_data, dispatch_to, should_archive, should_scan}` (optional);
 * - `request_meta`: JSON `{source, extra_data, archive_payloads}` (optional);
 * - or, for a request of several payloads, `payloads`: JSON `[{sha256, payload_meta}, ...]`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Arg, RedisClient } from "./resp.ts";

/** Where things live in Redis for one stream and key prefix. */
export interface Layout {
  /** The work stream. */
  stream: string;
  /** Prefix of payload and result keys. */
  prefix: string;
}

/** The key holding a payload's bytes. */
export function payloadKey(layout: Layout, sha256: string): string {
  return `${layout.prefix}payload:${sha256}`;
}

/** The key holding a request's response (JSON). */
export function resultKey(layout: Layout, requestId: string): string {
  return `${layout.prefix}result:${requestId}`;
}

/** The dead-letter stream. */
export function deadStream(layout: Layout): string {
  return `${layout.stream}:dead`;
}

/** The hash of each pending entry's last error, by entry id. */
export function errorsKey(layout: Layout): string {
  return `${layout.stream}:errors`;
}

/** SHA-256 as hex. */
export function sha256Hex(content: Uint8Array): string {
  return createHash("sha256").update(content).digest("hex");
}

/**
 * Store bytes once under their SHA-256 (`SET NX`); with a TTL, storing them again extends it.
 * Returns the hash.
 */
export async function storePayload(
  client: RedisClient,
  layout: Layout,
  content: Uint8Array,
  ttlSeconds: number,
): Promise<string> {
  const sha256 = sha256Hex(content);
  const key = payloadKey(layout, sha256);
  const args: Arg[] = ["SET", key, content, "NX"];
  if (ttlSeconds > 0) args.push("EX", ttlSeconds);
  const stored = await client.call(...args);
  if (stored === null && ttlSeconds > 0) await client.call("EXPIRE", key, ttlSeconds);
  return sha256;
}

/** What `submitEntry` adds. */
export interface EntryInit {
  /** Results are saved under it. */
  requestId: string;
  /** The stored payload's SHA-256. */
  sha256: string;
  /** stoQ's payload meta JSON (`extra_data`, `dispatch_to`, ...). */
  payloadMeta?: Record<string, unknown>;
  /** stoQ's request meta JSON (`source`, `extra_data`, `archive_payloads`). */
  requestMeta?: Record<string, unknown>;
}

/** Add a work entry referencing stored bytes; returns the entry id. */
export async function addEntry(
  client: RedisClient,
  layout: Layout,
  entry: EntryInit,
): Promise<string> {
  const args: Arg[] = ["XADD", layout.stream, "*", "request_id", entry.requestId];
  args.push("sha256", entry.sha256);
  if (entry.payloadMeta) args.push("payload_meta", JSON.stringify(entry.payloadMeta));
  if (entry.requestMeta) args.push("request_meta", JSON.stringify(entry.requestMeta));
  return String(await client.call(...args));
}
