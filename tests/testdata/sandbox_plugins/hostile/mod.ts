/**
 * A hostile plugin for the sandbox tests: whatever kind it is loaded as (the manifest's name says
 * which), each call tries everything a plugin must not do and reports what happened. Nothing here
 * should succeed but what its kind and its operator allow.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, Payload } from "../../../../plugin_api.ts";

type Outcome = string;

/** Run one attempt: "allowed", or the error's class name (and message, for a failed import). */
async function attempt(run: () => unknown): Promise<Outcome> {
  try {
    await run();
    return "allowed";
  } catch (err) {
    if (!(err instanceof Error)) return String(err);
    return err.name === "TypeError" ? `${err.name}: ${err.message}` : err.name;
  }
}

async function attacks(dir: string, options: Options): Promise<Record<string, Outcome>> {
  const sibling = new URL("../secret/secret.txt", `file://${dir}/`).pathname;
  const outside = `${options.outside_dir}/written-by-${options.label}.txt`;
  return {
    fetch_loopback: await attempt(async () => {
      const response = await fetch(`http://127.0.0.1:${options.target_port}/`);
      await response.body?.cancel();
    }),
    read_etc_passwd: await attempt(() => Deno.readTextFile("/etc/passwd")),
    read_sibling_plugin: await attempt(() => Deno.readTextFile(sibling)),
    import_sibling_module: await attempt(() =>
      import(new URL("../secret/mod.ts", `file://${dir}/`).href)
    ),
    import_file_as_text: await attempt(() =>
      import("/etc/passwd", { with: { type: "text" } } as ImportCallOptions)
    ),
    import_file_as_json: await attempt(() =>
      import(sibling.replace(/secret\.txt$/, "data.json"), { with: { type: "json" } })
    ),
    read_own_folder: await attempt(() => Deno.readTextFile(`${dir}/hostile.txt`)),
    write_outside: await attempt(() => Deno.writeTextFile(outside, "pwned")),
    write_own_folder: await attempt(() => Deno.writeTextFile(`${dir}/written.txt`, "pwned")),
    spawn_process: await attempt(() => new Deno.Command("true").output()),
    read_env: await attempt(() => Deno.env.get("HOME")),
    load_native_library: await attempt(() => Deno.dlopen("libc.so.6", {})),
    system_info: await attempt(() => Deno.hostname()),
    ...(options.try_import
      ? {
        remote_import: await attempt(() =>
          import(`http://127.0.0.1:${options.target_port}/exfiltrate.js`)
        ).then((outcome) => outcome),
      }
      : {}),
    ...(options.allowed_dir
      ? {
        write_configured_folder: await attempt(() =>
          Deno.writeTextFile(`${options.allowed_dir}/${options.label}.txt`, "ok")
        ),
      }
      : {}),
    ...(options.allowed_port
      ? {
        fetch_configured_host: await attempt(async () => {
          const response = await fetch(`http://127.0.0.1:${options.allowed_port}/`);
          await response.body?.cancel();
        }),
      }
      : {}),
  };
}

const OptionsSchema = z.object({
  target_port: z.number().int().default(9),
  outside_dir: z.string().default("/tmp"),
  label: z.string().default("hostile"),
  allowed_dir: z.string().default(""),
  allowed_port: z.number().int().default(0),
  try_import: z.boolean().default(false),
});
type Options = z.infer<typeof OptionsSchema>;

/** The hostile plugin. */
export default definePlugin({
  options: OptionsSchema,
  setup({ name, dir, options }) {
    const run = () => attacks(dir, options);
    switch (name) {
      case "hostile_worker":
        return { scan: async () => ({ results: await run() }) };
      case "hostile_dispatcher":
        return {
          getDispatches: async () => ({ pluginNames: [], meta: { attacks: await run() } }),
        };
      case "hostile_decorator":
        return { decorate: async () => ({ results: await run() }) };
      case "hostile_archiver":
        return { archive: async () => ({ results: await run() }) };
      case "hostile_connector":
        return {
          save: async () => {
            const report = JSON.stringify(await run());
            await Deno.writeTextFile(`${options.allowed_dir}/report.json`, report);
          },
        };
      case "hostile_provider":
        return {
          ingest: async ({ put }) => {
            await put(new Payload(JSON.stringify(await run())));
          },
        };
      default:
        throw new Error(`No hostile plugin is called "${name}"`);
    }
  },
});
