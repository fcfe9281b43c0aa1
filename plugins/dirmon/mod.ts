/**
 * dirmon: watch a folder (`Deno.watchFs`) and ingest each new file, once, after it is completely
 * written, as stoQ v3's `dirmon` provider does for newly created files.
 *
 * @module
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { z } from "zod";
import { definePlugin, type ProviderQueue } from "../../plugin_api.ts";

const Options = z.object({
  source_dir: z.string().min(1, "the folder to watch is required"),
  recursive: z.boolean().default(false),
  process_existing: z.boolean().default(false),
  settle_ms: z.number().int().positive().default(1000),
});

interface Pending {
  size: number;
  mtime: number;
  /** When the size, the mtime or an event last changed. */
  changedAt: number;
}

/** The dirmon plugin. */
export default definePlugin({
  options: Options,
  async setup({ options, log }) {
    const root = resolve(options.source_dir);
    const info = await Deno.stat(root).catch(() => null);
    if (!info?.isDirectory) {
      throw new Error(`Cannot watch "${root}": source_dir is not an existing folder`);
    }
    let watcher: Deno.FsWatcher | undefined;
    let stopped = false;
    let stop = () => {};
    const stoppedSignal = new Promise<void>((resolve) => (stop = resolve));

    /** Whether a path is one dirmon ingests: under the root, no dot in its names. */
    const wanted = (path: string) => {
      const rel = relative(root, path);
      if (rel === "" || rel.startsWith("..")) return false;
      const parts = rel.split("/");
      if (!options.recursive && parts.length > 1) return false;
      return parts.every((part) => !part.startsWith("."));
    };

    return {
      ingest: async function dirmonIngest(queue: ProviderQueue) {
        const pending = new Map<string, Pending>();
        const done = new Set<string>();
        const touch = (path: string) => {
          const entry = pending.get(path);
          if (entry) entry.changedAt = Date.now();
          else pending.set(path, { size: -1, mtime: -1, changedAt: Date.now() });
        };
        watcher = Deno.watchFs(root, { recursive: options.recursive });
        const existing = await listFiles(root, options.recursive, wanted);
        for (const path of existing) {
          if (options.process_existing) touch(path);
          else {
            const key = await identity(path);
            if (key) done.add(key);
          }
        }
        const events = (async () => {
          for await (const event of watcher!) {
            if (event.kind === "remove" || event.kind === "access") continue;
            for (const path of event.paths) {
              if (!wanted(path)) continue;
              const stat = await Deno.stat(path).catch(() => null);
              if (stat?.isDirectory && options.recursive) {
                // Files moved in with a folder send no events of their own.
                for (const file of await listFiles(path, true, wanted)) touch(file);
              } else if (!stat || stat.isFile) touch(path);
            }
          }
        })();
        log.info(`Monitoring "${root}" for new files`);
        const tick = Math.max(10, Math.floor(options.settle_ms / 4));
        while (!stopped) {
          await Promise.race([sleep(tick), stoppedSignal]);
          for (const [path, entry] of pending) {
            if (stopped) break;
            const stat = await Deno.stat(path).catch(() => null);
            if (!stat?.isFile) {
              pending.delete(path); // vanished, or not a file
              continue;
            }
            const key = `${path}\0${stat.ino ?? stat.birthtime?.getTime() ?? ""}`;
            if (done.has(key)) {
              pending.delete(path);
              continue;
            }
            const mtime = stat.mtime?.getTime() ?? 0;
            const now = Date.now();
            if (stat.size !== entry.size || mtime !== entry.mtime) {
              Object.assign(entry, { size: stat.size, mtime, changedAt: now });
              continue;
            }
            if (now - entry.changedAt < options.settle_ms) continue;
            pending.delete(path);
            let content: Uint8Array;
            try {
              content = await Deno.readFile(path);
            } catch (err) {
              if (err instanceof Deno.errors.NotFound) continue;
              throw err;
            }
            if (content.length !== stat.size) {
              touch(path); // it changed while being read: wait again
              continue;
            }
            done.add(key);
            await queue.put({
              content,
              payloadMeta: { extraData: { filename: basename(path), source_dir: dirname(path) } },
            });
          }
        }
        await events.catch(() => {});
      },
      close: function dirmonClose() {
        stopped = true;
        stop();
        try {
          watcher?.close();
        } catch { /* already closed */ }
      },
    };
  },
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function identity(path: string): Promise<string | null> {
  const stat = await Deno.stat(path).catch(() => null);
  return stat ? `${path}\0${stat.ino ?? stat.birthtime?.getTime() ?? ""}` : null;
}

async function listFiles(
  dir: string,
  recursive: boolean,
  wanted: (path: string) => boolean,
): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (!wanted(path)) continue;
    if (entry.isFile) out.push(path);
    else if (entry.isDirectory && recursive) out.push(...await listFiles(path, true, wanted));
  }
  return out.sort();
}
