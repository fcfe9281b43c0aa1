/**
 * filedir: files and folders, after stoQ v3's `filedir`. As a provider it ingests a file or the
 * files of a folder; as a connector it writes each response to a JSON file; as an archiver it stores
 * payloads under their SHA-1 (dest) and reads them back (source).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join, resolve, sep as SEPARATOR } from "node:path";
import { z } from "zod";
import { definePlugin, dumps, type ProviderQueue } from "../../plugin_api.ts";
import { strftime } from "./_strftime.ts";

const Options = z.object({
  source_dir: z.string().optional(),
  recursive: z.boolean().default(false),
  results_dir: z.string().optional(),
  date_mode: z.boolean().default(false),
  date_format: z.string().default("%Y/%m/%d"),
  compactly: z.boolean().default(true),
  archive_dir: z.string().optional(),
  use_sha: z.boolean().default(true),
});

/** The filedir plugin. */
export default definePlugin({
  options: Options,
  setup({ options }) {
    const required = (name: "source_dir" | "results_dir" | "archive_dir"): string => {
      const value = options[name];
      if (!value) throw new Error(`Option "${name}" of plugin "filedir" is not set`);
      return resolve(value);
    };
    return {
      ingest: async function filedirIngest(queue: ProviderQueue) {
        const source = required("source_dir");
        const info = await Deno.stat(source);
        if (info.isFile) {
          await put(queue, source);
          return;
        }
        if (!info.isDirectory) {
          throw new Error(`Cannot ingest "${source}": not a file or a folder`);
        }
        for await (const path of walk(source, options.recursive)) await put(queue, path);
      },

      save: async function filedirSave(response) {
        let dir = required("results_dir");
        if (options.date_mode) dir = join(dir, strftime(options.date_format, new Date()));
        await Deno.mkdir(dir, { recursive: true });
        const text = `${dumps(response, { compactly: options.compactly })}\n`;
        const path = within(required("results_dir"), join(dir, response.scanId));
        await writeAtomically(path, new TextEncoder().encode(text));
      },

      archive: async function filedirArchive(payload) {
        let dir = required("archive_dir");
        let name = payload.payloadId;
        if (options.use_sha) {
          name = createHash("sha1").update(payload.content).digest("hex");
          dir = join(dir, ...name.slice(0, 5));
        } else if (options.date_mode) {
          dir = join(dir, strftime(options.date_format, new Date()));
        }
        await Deno.mkdir(dir, { recursive: true });
        const path = within(required("archive_dir"), join(dir, name));
        if (!(await exists(path))) await writeAtomically(path, payload.content);
        return { results: { path } };
      },

      get: async function filedirGet(task) {
        const path = task.results?.path;
        if (typeof path !== "string" || path === "") {
          throw new Error(`Cannot get a payload: the task has no "path"`);
        }
        const content = await Deno.readFile(resolve(path));
        return { content, payloadMeta: { extraData: { ...task.results } } };
      },
    };
  },
});

async function put(queue: ProviderQueue, path: string): Promise<void> {
  const content = await Deno.readFile(path);
  await queue.put({
    content,
    payloadMeta: { extraData: { filename: basename(path), source_dir: dirname(path) } },
  });
}

/** The files of a folder (and of its sub-folders), sorted, skipping names that start with a dot. */
async function* walk(dir: string, recursive: boolean): AsyncGenerator<string> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.startsWith(".")) entries.push(entry);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    const info = entry.isSymlink ? await Deno.stat(path).catch(() => null) : entry;
    if (info?.isFile) yield path;
    else if (info?.isDirectory && recursive) yield* walk(path, recursive);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * `path` if it is inside `root`, else an error: names come from payload ids and scan ids, which a
 * provider or an archive can choose, and must never lead the archiver out of its folder.
 */
function within(root: string, path: string): string {
  const full = resolve(path);
  if (full.startsWith(`${resolve(root)}${SEPARATOR}`)) return full;
  throw new Error(
    `Refusing to write ${JSON.stringify(full)}: it is outside ${JSON.stringify(root)}`,
  );
}

/** Write to a temporary file beside `path`, then rename it: readers never see half a file. */
async function writeAtomically(path: string, data: Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeFile(temp, data, { createNew: true });
    await Deno.rename(temp, path);
  } catch (err) {
    await Deno.remove(temp).catch(() => {});
    throw err;
  }
}
