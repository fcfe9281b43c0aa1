/**
 * The in-process host: runs a plugin in the core's own isolate, behind the same interface as the
 * sandboxed hosts. For trusted plugins, debugging and tests (`sandbox = off`).
 *
 * @module
 */
import { PluginTimeoutError } from "../errors.ts";
import { callDeadlines } from "./deadlines.ts";
import type { Logger } from "../log.ts";
import type { CallOptions, PluginHost, PluginSpec } from "./host.ts";
import { type Call, type CallResult, packedFields } from "./protocol.ts";
import { PluginRuntime } from "./runtime.ts";

/**
 * Start a plugin in-process.
 *
 * @example
 * ```ts ignore
 * import { startInProcess } from "./in_process.ts";
 * const host = await startInProcess(spec, log);
 * const { value } = await host.call({ method: "ingest" }, { onPut: async (item) => {} });
 * ```
 */
export async function startInProcess(spec: PluginSpec, log: Logger): Promise<PluginHost> {
  const runtime = await PluginRuntime.load(spec, log);
  let closed = false;
  return {
    name: spec.name,
    kinds: runtime.kinds,
    call(call: Call, options: CallOptions = {}): Promise<CallResult> {
      const fields = packedFields(call);
      let running: CallResult | Promise<CallResult>;
      try {
        running = fields !== undefined
          ? runtime.invokePacked({ type: "packed", id: 0, ...fields })
          : runtime.invoke(call, options.onPut);
      } catch (err) {
        return Promise.reject(err);
      }
      // A handler that answered at once has nothing left to time.
      if (!(running instanceof Promise)) return Promise.resolve(running);
      return options.timeoutMs
        ? withTimeout(running, spec.name, call.method, options.timeoutMs)
        : running;
    },
    async shutdown() {
      if (closed) return;
      closed = true;
      await runtime.close();
    },
  };
}

/** Reject with `PluginTimeoutError` when `promise` does not settle within `ms`. */
export function withTimeout<T>(
  promise: Promise<T>,
  plugin: string,
  method: string,
  ms: number,
): Promise<T> {
  let cancel = () => {};
  const timeout = new Promise<never>((_, reject) => {
    cancel = callDeadlines.add(ms, () => {
      reject(
        new PluginTimeoutError(
          plugin,
          `Plugin "${plugin}" did not finish "${method}" within ${ms / 1000} s`,
        ),
      );
    });
  });
  return Promise.race([promise, timeout]).finally(cancel);
}
