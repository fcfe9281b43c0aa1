/**
 * A small `strftime` for folder names: `%Y %m %d %H %M %S %j %y %%`, in local time, as Python's
 * `datetime.now().strftime()` gives them.
 *
 * @module
 */

/**
 * Format a date.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strftime } from "./_strftime.ts";
 * assert.equal(strftime("%Y/%m/%d %%", new Date(2024, 0, 5)), "2024/01/05 %");
 * ```
 */
export function strftime(format: string, date: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const start = new Date(date.getFullYear(), 0, 1);
  const day = Math.floor((date.getTime() - start.getTime()) / 86_400_000) + 1;
  const fields: Record<string, string> = {
    Y: String(date.getFullYear()),
    y: pad(date.getFullYear() % 100),
    m: pad(date.getMonth() + 1),
    d: pad(date.getDate()),
    H: pad(date.getHours()),
    M: pad(date.getMinutes()),
    S: pad(date.getSeconds()),
    j: pad(day, 3),
    "%": "%",
  };
  return format.replace(/%(.)/g, (all, key: string) => fields[key] ?? all);
}
