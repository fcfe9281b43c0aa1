import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createLogger } from "../log.ts";
import { packCall, type RequestWire, unpackCall } from "./protocol.ts";
import { PluginRuntime } from "./runtime.ts";

const API_URL = new URL("../../plugin_api.ts", import.meta.url).href;

/** A worker and dispatcher that report everything it was given, and change the payload's meta. */
const ECHO = `import { definePlugin } from "${API_URL}";
const seen = (payload, request) => ({
  content: [...payload.content],
  results: payload.results.toJSON(),
  dispatchMeta: payload.dispatchMeta,
  payloads: request.payloads.length,
  requestMeta: request.requestMeta.toJSON(),
  errors: request.errors.length,
});
export default definePlugin({ setup: () => ({
  scan: (payload, request) => {
    const results = seen(payload, request);
    payload.payloadMeta.extraData.seen = true;
    return { results };
  },
  getDispatches: (payload, request) => ({ meta: seen(payload, request) }),
}) });
`;

function wire(): RequestWire {
  return {
    payloads: [{
      content: new Uint8Array([7, 8, 9]),
      dispatch_meta: {},
      results: {
        size: 3,
        payload_id: "p1",
        payload_meta: { should_archive: true, should_scan: true, extra_data: {}, dispatch_to: [] },
        plugins_run: { workers: [], archivers: [] },
        extracted_from: [],
        extracted_by: [],
        workers: {},
        archivers: {},
      },
    }],
    request_meta: { archive_payloads: true, source: null, extra_data: {} },
    errors: [],
    index: 0,
  };
}

/** Load a plugin module written to a temporary folder, run `body` with it, remove the folder. */
async function withRuntime(
  name: string,
  source: string,
  body: (runtime: PluginRuntime) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "stoq-runtime-" });
  try {
    await Deno.writeTextFile(join(dir, "mod.ts"), source);
    const runtime = await PluginRuntime.load({
      name,
      moduleUrl: pathToFileURL(join(dir, "mod.ts")).href,
      dir,
      options: {},
    }, createLogger("test", []));
    await body(runtime);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a packed call runs exactly as its unpacked form", async () => {
  await withRuntime("echo", ECHO, async (runtime) => {
    const busy = wire();
    const payload = busy.payloads[0];
    payload.dispatch_meta = { yara: { rule: "r" } };
    payload.results.payload_meta = {
      should_archive: false,
      should_scan: true,
      extra_data: { filename: "a" },
      dispatch_to: ["x"],
    };
    payload.results.plugins_run = { workers: ["hash"], archivers: ["filedir"] };
    payload.results.extracted_from = ["p0"];
    payload.results.extracted_by = ["decompress"];
    payload.results.workers = { hash: { md5: "m" } };
    payload.results.archivers = { filedir: { path: "/x" } };
    busy.request_meta = { archive_payloads: false, source: "s", extra_data: { tlp: "red" } };
    for (const request of [wire(), busy]) {
      for (const method of ["scan", "getDispatches"] as const) {
        const packed = packCall({ type: "call", id: 1, call: { method, request } })!;
        // Each run gets its own copy, as each message would.
        const viaWire = await runtime.invoke(structuredClone(unpackCall(packed).call));
        const viaPacked = await runtime.invokePacked(structuredClone(packed));
        assert.deepEqual(viaPacked, viaWire, method);
      }
    }
    // The meta change goes back in both forms.
    const packed = packCall({ type: "call", id: 1, call: { method: "scan", request: wire() } })!;
    const result = await runtime.invokePacked(packed);
    assert.equal(result.payloadMeta?.extra_data.seen, true);
  });
});

/** Handlers that answer at once, through a promise, through a thenable, or throw. */
const SHAPES = `import { definePlugin } from "${API_URL}";
export default definePlugin({ setup: () => ({
  scan: (payload) => {
    const how = new TextDecoder().decode(payload.content);
    const answer = { results: { how } };
    if (how === "throw") throw new TypeError("thrown at once");
    if (how === "reject") return Promise.reject(new RangeError("rejected later"));
    if (how === "promise") return Promise.resolve().then(() => { payload.payloadMeta.extraData.late = 1; return answer; });
    if (how === "thenable") return { then: (resolve) => resolve(answer) };
    payload.payloadMeta.extraData.now = 1;
    return answer;
  },
}) });
`;

Deno.test("a handler's value is answered at once; a promise or thenable is awaited; a throw propagates", async () => {
  await withRuntime("shapes", SHAPES, async (runtime) => {
    const call = (how: string) => {
      const request = wire();
      request.payloads[0].content = new TextEncoder().encode(how);
      return runtime.invokePacked(
        packCall({ type: "call", id: 1, call: { method: "scan", request } })!,
      );
    };
    // The answer to a call whose handler set one key of the payload's extra_data.
    const answer = (how: string, extraData: Record<string, number>) => ({
      value: { results: { how } },
      payloadMeta: {
        should_archive: true,
        should_scan: true,
        extra_data: extraData,
        dispatch_to: [],
      },
    });
    const now = call("now");
    assert.ok(!(now instanceof Promise), "a value comes back without a promise");
    assert.deepEqual(now, answer("now", { now: 1 }));
    const late = call("promise");
    assert.ok(late instanceof Promise);
    assert.deepEqual(await late, answer("promise", { late: 1 }));
    assert.deepEqual(await call("thenable"), { value: { results: { how: "thenable" } } });
    assert.throws(() => call("throw"), { name: "TypeError", message: "thrown at once" });
    await assert.rejects(Promise.resolve(call("reject")), { name: "RangeError" });
  });
});
