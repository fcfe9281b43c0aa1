/**
 * CPU time of this process and of its threads, from Linux's /proc, for the benchmarks.
 *
 * @module
 */

/** User + system seconds of a /proc stat file (`/proc/self/stat`, or one thread's). */
export function cpuSeconds(path: string): number {
  return statSeconds(Deno.readTextFileSync(path));
}

/**
 * CPU seconds of this process's threads by kind (empty where /proc is missing): the core's own
 * thread, the plugins' Workers, V8's helper threads (garbage collection, compilation), others.
 */
export function threadCpuByKind(): Map<string, number> {
  const kinds = new Map<string, number>();
  try {
    for (const entry of Deno.readDirSync("/proc/self/task")) {
      const stat = Deno.readTextFileSync(`/proc/self/task/${entry.name}/stat`);
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const kind = entry.name === String(Deno.pid)
        ? "core thread"
        : name.startsWith("worker-")
        ? "plugin Workers"
        : name.startsWith("V8")
        ? "V8 helpers"
        : "other";
      kinds.set(kind, (kinds.get(kind) ?? 0) + statSeconds(stat));
    }
  } catch {
    // Not Linux, or a thread ended while it was read: no breakdown.
  }
  return kinds;
}

function statSeconds(stat: string): number {
  // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
