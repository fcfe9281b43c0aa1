/**
 * `stoq list`: every plugin found in the plugin directories, with its version, description and
 * kinds, in stoQ's layout, and what each would be allowed to do in the sandbox.
 *
 * @module
 */
import { describePermissions } from "../sandbox/permissions.ts";
import { Stoq } from "../stoq.ts";
import type { ParsedArgs } from "./args.ts";
import type { Output } from "./scan.ts";
import { loadCliConfig, stoqOptions } from "./setup.ts";

/** Run `stoq list`; returns the exit code. */
export async function listCommand(args: ParsedArgs, output: Output): Promise<number> {
  const options = stoqOptions(args, loadCliConfig(args));
  // Listing loads nothing: no roles, so a configured plugin that is broken does not hide the list.
  const stoq = await Stoq.create({
    ...options,
    providers: [],
    sourceArchivers: [],
    destArchivers: [],
    connectors: [],
    dispatchers: [],
    decorators: [],
    alwaysDispatch: [],
  });
  try {
    const banner = `stoq :: v${Stoq.version} :: an automated analysis framework`;
    const lines = [banner, "-".repeat(banner.length)];
    for (const [name, plugin] of Object.entries(stoq.listPlugins())) {
      lines.push(`${name.padEnd(20)} v${plugin.version.padEnd(10)}${plugin.description}`);
      lines.push(`\t\t\t\t- ${plugin.kinds.join(", ")}`);
      lines.push(`\t\t\t\t  isolation: ${plugin.isolation}`);
      const permissions = plugin.permissions;
      if ("error" in permissions) {
        lines.push(`\t\t\t\t  cannot load: ${permissions.error}`);
      } else {
        for (const line of describePermissions(permissions)) lines.push(`\t\t\t\t  ${line}`);
      }
    }
    output.out(lines.join("\n"));
    return 0;
  } finally {
    await stoq.close();
  }
}
