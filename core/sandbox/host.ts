/**
 * The host interface: how the core calls a plugin without knowing whether it runs in-process, in a
 * Worker or in a subprocess.
 *
 * @module
 */
import type { Kind } from "../plugin.ts";
import type { RawOptions } from "../options.ts";
import type { Permissions } from "./permissions.ts";
import type { Call, CallResult, ProviderItemWire } from "./protocol.ts";

/** How a plugin is isolated: its own Worker (default), its own subprocess, or none (in-process). */
export type IsolationMode = "worker" | "process" | "none";

/** What a host needs to start a plugin. */
export interface PluginSpec {
  /** The plugin's name. */
  readonly name: string;
  /** The module's URL (`file:` or `https:`). */
  readonly moduleUrl: string;
  /** The plugin's folder as a path (empty for a remote plugin). */
  readonly dir: string;
  /** The merged options, before coercion (the plugin's schema coerces them in its own realm). */
  readonly options: RawOptions;
  /** The kinds the manifest declares, if it declares any. */
  readonly declaredKinds?: readonly Kind[];
  /** How to isolate it (default `worker`). */
  readonly isolation?: IsolationMode;
  /** What it may do when sandboxed (default: nothing). */
  readonly permissions?: Permissions;
  /** At most this many instances at once (sandboxed only; default: one per core). */
  readonly concurrency?: number;
  /** The heap cap of a subprocess, in MiB. */
  readonly memoryLimitMb?: number;
  /**
   * Payload bytes in shared memory reach it shared (`share_content`; Workers only). Otherwise the
   * transport gives it a copy of its own.
   */
  readonly shareContent?: boolean;
  /** Give up loading after this many milliseconds. */
  readonly loadTimeoutMs?: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Fail with `PluginTimeoutError` after this many milliseconds (none when absent). */
  timeoutMs?: number;
  /** For `ingest`: receives each item the provider puts; the provider waits for it to resolve. */
  onPut?: (item: ProviderItemWire) => Promise<void>;
  /**
   * Calls with the same key go to the same instance of a pool while it has room, so that what an
   * instance keeps per payload (the yara dispatcher's matches, say) is found again next round.
   */
  affinity?: string;
}

/** A running plugin. */
export interface PluginHost {
  /** The plugin's name. */
  readonly name: string;
  /** The kinds the plugin implements. */
  readonly kinds: readonly Kind[];
  /** Call a handler. Rejects with the plugin's error, rebuilt, or a `PluginTimeoutError`. */
  call(call: Call, options?: CallOptions): Promise<CallResult>;
  /** Stop the plugin (calls its `close` handler when it has one). */
  shutdown(): Promise<void>;
  /**
   * Milliseconds the plugin's instances spent running calls so far, as they reported it
   * (sandboxed hosts; in-process hosts do not count).
   */
  busyMs?(): number;
}

/** Starts a host for a plugin. Rejects with a `PluginError` naming the plugin when it cannot load. */
export type HostFactory = (spec: PluginSpec) => Promise<PluginHost>;
