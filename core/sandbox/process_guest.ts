/**
 * The entry point of a plugin's subprocess (`isolation = process`). Loaded by the process host;
 * not for plugins. Messages are V8-serialised, each framed by its length (4 bytes, big-endian), on
 * standard input and output. Anything the plugin prints goes to standard error, so it cannot
 * corrupt the frames.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import { type GuestPort, serveGuest } from "./guest.ts";
import { frame, FrameReader } from "./frames.ts";

const stdout = Deno.stdout;
const stderrWrite = (text: string) => Deno.stderr.writeSync(new TextEncoder().encode(text + "\n"));
for (const method of ["log", "info", "debug", "warn", "error", "trace"] as const) {
  console[method] = (...args: unknown[]) =>
    stderrWrite(args.map((a) => typeof a === "string" ? a : Deno.inspect(a)).join(" "));
}
Object.defineProperty(Deno, "stdout", {
  value: Deno.stderr,
  configurable: false,
  writable: false,
});

// A plugin that closes its global scope ends its process, which the host reports as a crash.
Object.defineProperty(globalThis, "close", {
  value: () => Deno.exit(0),
  configurable: false,
  writable: false,
});

let writing: Promise<unknown> = Promise.resolve();
const port: GuestPort = {
  send: (messages) => {
    const bytes = frame(serialize(messages));
    // Frames must not interleave: each write waits for the one before.
    writing = writing.then(() => writeAll(bytes));
  },
  onMessage: (handler) => {
    void (async () => {
      const reader = new FrameReader();
      for await (const chunk of Deno.stdin.readable) {
        for (const body of reader.push(chunk)) handler(deserialize(body));
      }
      // The host went away: nothing left to serve.
      Deno.exit(0);
    })();
  },
  exit: () => {
    void writing.then(() => Deno.exit(0));
  },
};

async function writeAll(bytes: Uint8Array) {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await stdout.write(bytes.subarray(offset));
}

serveGuest(port);
