/**
 * The sandbox, with real hostile plugins (tests/testdata/sandbox_plugins) in real Workers and
 * subprocesses: what each kind may and may not do, permission requests beyond a kind's cap,
 * plugins that throw, hang, spin, exit or run out of memory, the pool, and the command line's
 * flags that close Deno's holes.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PermissionDeniedError, Stoq, type StoqOptions } from "../mod.ts";
import { Payload } from "../core/payload.ts";
import { Request } from "../core/request.ts";
import type { IsolationMode } from "../core/sandbox/host.ts";
import { createLogger } from "../core/log.ts";
import { NO_PERMISSIONS } from "../core/sandbox/permissions.ts";
import { payloadCall } from "../core/sandbox/protocol.ts";
import { startSandboxed } from "../core/sandbox/sandbox_host.ts";
import { runCli } from "./_cli.ts";
import { captureSink } from "./_conformance.ts";

const SANDBOX = fileURLToPath(new URL("./testdata/sandbox_plugins", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const API_URL = pathToFileURL(join(ROOT, "plugin_api.ts")).href;

/** A loopback HTTP server counting the requests it gets. */
function listen() {
  const hits: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      hits.push(new URL(request.url).pathname);
      return new Response("export default 1;", {
        headers: { "content-type": "application/javascript" },
      });
    },
  );
  return { hits, port: server.addr.port, close: () => server.shutdown() };
}

/**
 * A worker plugin named `name` whose module holds `body` (after an import of `definePlugin`), in a
 * temporary plugin folder given to `run` and removed after it.
 */
async function withWorkerPlugin(
  name: string,
  body: string,
  run: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: `stoq-${name}-` });
  try {
    await writeWorkerPlugin(dir, name, body);
    await run(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Write a worker plugin named `name` into `dir`: a manifest, and `body` as its module. */
async function writeWorkerPlugin(dir: string, name: string, body: string): Promise<void> {
  await Deno.mkdir(join(dir, name));
  await Deno.writeTextFile(
    join(dir, name, `${name}.stoq`),
    `[Core]\nName = ${name}\nModule = mod\nKinds = worker\n`,
  );
  await Deno.writeTextFile(
    join(dir, name, "mod.ts"),
    `import { definePlugin } from "${API_URL}";\n${body}`,
  );
}

/** Run `body` with a Stoq that sends every payload to the worker `name` in `dir`, one instance. */
async function withOneWorker(
  dir: string,
  name: string,
  body: (stoq: Stoq) => Promise<void>,
): Promise<void> {
  const stoq = await Stoq.create({
    baseDir: dir,
    pluginDirList: [dir],
    alwaysDispatch: [name],
    pluginOpts: { [name]: { concurrency: 1 } },
    logSinks: [],
  });
  try {
    await body(stoq);
  } finally {
    await stoq.close();
  }
}

async function withSandbox<T>(
  options: StoqOptions,
  body: (stoq: Stoq, lines: string[]) => Promise<T>,
): Promise<T> {
  const lines: string[] = [];
  const stoq = await Stoq.create({
    baseDir: SANDBOX,
    pluginDirList: [SANDBOX],
    logSinks: [captureSink(lines)],
    ...options,
  });
  try {
    return await body(stoq, lines);
  } finally {
    await stoq.close();
  }
}

const DENIED_EVERYWHERE = [
  "fetch_loopback",
  "read_etc_passwd",
  "read_sibling_plugin",
  "write_outside",
  "write_own_folder",
  "spawn_process",
  "read_env",
  "load_native_library",
  "system_info",
];

type Attacks = Record<string, string>;

/** Run the hostile plugin of one kind and return what its attempts gave. */
async function attacksOf(
  kind: string,
  isolation: IsolationMode,
  ports: { target: number; allowed: number },
  dirs: { outside: string; allowed: string },
): Promise<Attacks> {
  const name = `hostile_${kind}`;
  const opts: Record<string, unknown> = {
    target_port: ports.target,
    outside_dir: dirs.outside,
    isolation,
  };
  if (kind === "archiver" || kind === "connector") opts.allowed_dir = dirs.allowed;
  if (kind === "connector") opts.allowed_port = ports.allowed;
  const role: Partial<StoqOptions> = {
    worker: { alwaysDispatch: [name] },
    decorator: { decorators: [name] },
    archiver: { destArchivers: [name] },
    connector: { connectors: [name] },
  }[kind] ?? {};
  return await withSandbox({ ...role, pluginOpts: { [name]: opts } }, async (stoq) => {
    switch (kind) {
      case "worker": {
        const response = (await stoq.scan("payload")).toJSON();
        assert.deepEqual(response.errors, []);
        return response.results[0].workers[name] as Attacks;
      }
      case "decorator": {
        const response = (await stoq.scan("payload")).toJSON();
        assert.deepEqual(response.errors, []);
        return (response.decorators as Record<string, Attacks>)[name];
      }
      case "archiver": {
        const response = (await stoq.scan("payload")).toJSON();
        assert.deepEqual(response.errors, []);
        return response.results[0].archivers[name] as Attacks;
      }
      case "connector": {
        const response = (await stoq.scan("payload")).toJSON();
        assert.deepEqual(response.errors, []);
        return JSON.parse(await Deno.readTextFile(join(dirs.allowed, "report.json")));
      }
      case "dispatcher": {
        const handle = await stoq.loadPlugin(name);
        const payload = new Payload("payload");
        const outcome = await handle.getDispatches(payload, new Request({ payloads: [payload] }));
        return (outcome?.meta as { attacks: Attacks }).attacks;
      }
      case "provider": {
        const handle = await stoq.loadPlugin(name);
        const items: Uint8Array[] = [];
        await handle.ingest((item) => {
          if (item.type === "payload") items.push(item.payload.content);
          return Promise.resolve();
        });
        return JSON.parse(new TextDecoder().decode(items[0]));
      }
    }
    throw new Error(`unknown kind ${kind}`);
  });
}

for (const isolation of ["worker", "process"] as const) {
  for (const kind of ["worker", "dispatcher", "decorator", "archiver", "connector", "provider"]) {
    Deno.test(`a hostile ${kind} plugin (isolation ${isolation}) is denied everything its kind does not get`, async () => {
      const target = listen();
      const allowed = listen();
      const outside = await Deno.makeTempDir({ prefix: "stoq-outside-" });
      const allowedDir = await Deno.makeTempDir({ prefix: "stoq-allowed-" });
      try {
        const attacks = await attacksOf(
          kind,
          isolation,
          { target: target.port, allowed: allowed.port },
          { outside, allowed: allowedDir },
        );
        for (const attack of DENIED_EVERYWHERE) {
          assert.equal(attacks[attack], "NotCapable", `${attack}: ${JSON.stringify(attacks)}`);
        }
        // Imports are checked against the Worker's read permission too; how they fail varies.
        for (
          const attack of ["import_sibling_module", "import_file_as_text", "import_file_as_json"]
        ) {
          assert.notEqual(attacks[attack], "allowed", `${attack}: ${JSON.stringify(attacks)}`);
        }
        assert.equal(attacks.read_own_folder, "allowed", JSON.stringify(attacks));
        assert.deepEqual(target.hits, [], "the loopback server was reached");
        assert.deepEqual([...Deno.readDirSync(outside)], [], "a file was written outside");
        if (kind === "archiver" || kind === "connector") {
          assert.equal(attacks.write_configured_folder, "allowed", JSON.stringify(attacks));
          assert.ok(Deno.statSync(join(allowedDir, `${kind}.txt`)).isFile);
        }
        if (kind === "connector") {
          assert.equal(attacks.fetch_configured_host, "allowed", JSON.stringify(attacks));
          assert.deepEqual(allowed.hits, ["/"]);
        }
      } finally {
        await target.close();
        await allowed.close();
        await Deno.remove(outside, { recursive: true });
        await Deno.remove(allowedDir, { recursive: true });
      }
    });
  }
}

/** Write a throwaway plugin whose manifest has the given extra lines. */
async function tempPlugin(name: string, manifestExtra: string, kinds = "worker") {
  const dir = await Deno.makeTempDir({ prefix: "stoq-plugin-" });
  await Deno.mkdir(join(dir, name));
  await Deno.writeTextFile(
    join(dir, name, `${name}.stoq`),
    `[Core]\nName = ${name}\nModule = mod\nKinds = ${kinds}\n\n${manifestExtra}\n`,
  );
  await Deno.writeTextFile(
    join(dir, name, "mod.ts"),
    `import { definePlugin, z } from "${API_URL}";\n` +
      `export default definePlugin({\n` +
      `  options: z.object({ rules: z.string().default("") }),\n` +
      `  setup: () => ({ scan: () => ({ results: { ok: true } }) }),\n});\n`,
  );
  return dir;
}

Deno.test("a manifest asking for more than its kind's cap fails to load, naming the grant", async () => {
  const dir = await tempPlugin("greedy", "[Permissions]\nnet = example.com:443\n");
  try {
    let message = "";
    try {
      await Stoq.create({
        baseDir: dir,
        pluginDirList: [dir],
        alwaysDispatch: ["greedy"],
        logSinks: [],
      });
    } catch (e) {
      assert.ok(e instanceof PermissionDeniedError);
      message = e.message;
    }
    assert.match(message, /^Plugin "greedy" needs net access to "example.com:443"/);
    assert.match(message, /greedy\.stoq" line 7/);
    assert.ok(message.endsWith(`grant it in stoq.cfg with "[greedy] allow_net = example.com:443"`));
    assert.ok(!message.includes("\n"), "one line");

    // The grant the message names makes it load.
    const cfg = join(dir, "stoq.cfg");
    await Deno.writeTextFile(
      cfg,
      "[core]\nplugin_dir_list = .\n\n[greedy]\nallow_net = example.com\n",
    );
    const stoq = await Stoq.create({ configFile: cfg, alwaysDispatch: ["greedy"], logSinks: [] });
    try {
      assert.deepEqual(stoq.listPlugins().greedy.permissions, {
        read: [join(dir, "greedy")],
        write: [],
        net: ["example.com"],
        env: [],
        run: [],
        ffi: [],
        sys: [],
      });
      const response = (await stoq.scan("x")).toJSON();
      assert.deepEqual(response.results[0].workers.greedy, { ok: true });
    } finally {
      await stoq.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a manifest cannot grant its plugin a permission or leave the sandbox, and a bad core option is named", async () => {
  for (
    const [extra, pattern] of [
      ["[options]\nallow_read = /etc\n", /grants itself read access .*only the operator can/],
      ["[options]\nisolation = none\n", /asks to run outside the sandbox .*isolation = none/],
      ["[Permissions]\nenv = HOME\n", /needs env access to "HOME"/],
      ["[Permissions]\nread = /etc/passwd\n", /needs read access to "\/etc\/passwd"/],
      ["[options]\nrequest_scope = everything\n", /"request_scope" .*use payload or full/],
    ] as const
  ) {
    const dir = await tempPlugin("selfish", extra);
    try {
      await assert.rejects(
        Stoq.create({
          baseDir: dir,
          pluginDirList: [dir],
          alwaysDispatch: ["selfish"],
          logSinks: [],
        }),
        (err: Error) => {
          assert.match(err.message, pattern);
          return true;
        },
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});

Deno.test("an unknown permission in a manifest is reported with its file and line", async () => {
  const dir = await tempPlugin("teleporter", "[Permissions]\nteleport = yes\n");
  const lines: string[] = [];
  try {
    await assert.rejects(
      Stoq.create({
        baseDir: dir,
        pluginDirList: [dir],
        alwaysDispatch: ["teleporter"],
        logSinks: [captureSink(lines)],
      }),
      /"teleporter" is invalid or does not exist/,
    );
    assert.ok(
      lines.some((line) =>
        /teleporter\.stoq" line 7: unknown permission "teleport" \(known: read, write/.test(line)
      ),
      lines.join("\n"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an option a manifest names in [Permissions] is granted when the operator sets it", async () => {
  const dir = await tempPlugin("rules_reader", "[Permissions]\nread = ${rules}\n\n[options]\n");
  const rules = await Deno.makeTempDir({ prefix: "stoq-rules-" });
  try {
    // The plugin's own default pointing outside its folder is its own request: refused.
    await Deno.writeTextFile(
      join(dir, "rules_reader", "rules_reader.stoq"),
      `[Core]\nName = rules_reader\nModule = mod\nKinds = worker\n\n[Permissions]\nread = \${rules}\n`,
    );
    await assert.rejects(
      Stoq.create({
        baseDir: dir,
        pluginDirList: [dir],
        alwaysDispatch: ["rules_reader"],
        pluginOpts: {},
        logSinks: [],
        config: undefined,
      }).then(async (stoq) => {
        await stoq.close();
        // No value: nothing to grant, so it loads. Now give it a default outside its folder.
        await Deno.writeTextFile(
          join(dir, "rules_reader", "rules_reader.stoq"),
          `[Core]\nName = rules_reader\nModule = mod\nKinds = worker\n\n[Permissions]\nread = \${rules}\n\n[options]\nrules = ${rules}\n`,
        );
        return Stoq.create({
          baseDir: dir,
          pluginDirList: [dir],
          alwaysDispatch: ["rules_reader"],
          logSinks: [],
        });
      }),
      /needs read access to/,
    );
    // The operator setting the same value grants it (a worker may read configured paths).
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["rules_reader"],
      pluginOpts: { rules_reader: { rules } },
      logSinks: [],
    });
    try {
      assert.ok(
        (stoq.listPlugins().rules_reader.permissions as { read: string[] }).read.includes(rules),
      );
    } finally {
      await stoq.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(rules, { recursive: true });
  }
});

/** Scan with the misbehaving plugin in `mode`, then scan "ok" to show it works again. */
async function misbehave(
  mode: string,
  isolation: IsolationMode,
  extra: Record<string, unknown> = {},
) {
  return await withSandbox({
    alwaysDispatch: ["misbehave"],
    pluginOpts: { misbehave: { mode, isolation, timeout: 2, ...extra } },
  }, async (stoq, lines) => {
    const bad = (await stoq.scan("misbehave")).toJSON();
    const good = (await stoq.scan("ok")).toJSON();
    return { bad, good, lines };
  });
}

for (const isolation of ["worker", "process"] as const) {
  Deno.test(`a plugin that throws (isolation ${isolation}) costs one error with its class and cause`, async () => {
    const { bad, good } = await misbehave("throw", isolation);
    assert.equal(bad.errors.length, 1);
    assert.equal(bad.errors[0].kind, "worker");
    assert.match(bad.errors[0].error, /TypeError: misbehave: thrown on purpose/);
    assert.deepEqual(Object.keys(good.results[0].workers), ["misbehave"]);
    assert.deepEqual(good.errors, []);
  });

  for (const mode of ["hang", "exit", "close", "uncaught"]) {
    Deno.test(`a plugin that does "${mode}" (isolation ${isolation}) costs one typed error and is restarted`, async () => {
      const { bad, good } = await misbehave(mode, isolation);
      assert.equal(bad.errors.length, 1, JSON.stringify(bad.errors));
      const expected = mode === "hang" ? "timeout" : "crash";
      assert.equal(bad.errors[0].kind, expected, bad.errors[0].error);
      assert.equal(bad.errors[0].plugin_name, "misbehave");
      assert.deepEqual(good.errors, []);
      // The fresh instance has seen one call: the "ok" one.
      assert.equal((good.results[0].workers.misbehave as { calls: number }).calls, 1);
    });
  }
}

Deno.test("in-process (isolation none), a throw costs one error and a hang times out", async () => {
  const thrown = await misbehave("throw", "none");
  assert.equal(thrown.bad.errors.length, 1);
  assert.equal(thrown.bad.errors[0].kind, "worker");
  assert.match(thrown.bad.errors[0].error, /TypeError: misbehave: thrown on purpose/);
  assert.deepEqual(thrown.good.errors, []);
  const hung = await misbehave("hang", "none");
  assert.equal(hung.bad.errors.length, 1);
  assert.equal(hung.bad.errors[0].kind, "timeout", hung.bad.errors[0].error);
  assert.deepEqual(hung.good.errors, []);
});

Deno.test("a synchronous infinite loop is stopped with isolation process", async () => {
  const { bad, good } = await misbehave("spin", "process");
  assert.equal(bad.errors[0].kind, "timeout");
  assert.deepEqual(good.errors, []);
});

Deno.test("a plugin that exhausts its memory_limit with isolation process crashes alone", async () => {
  const { bad, good } = await misbehave("oom", "process", { memory_limit: 64, timeout: 60 });
  assert.equal(bad.errors[0].kind, "crash");
  assert.match(bad.errors[0].error, /ran out of memory \(memory_limit = 64 MiB\)/);
  assert.deepEqual(good.errors, []);
});

Deno.test("errors cross the sandbox with their class, stack and cause", async () => {
  await withSandbox({ pluginOpts: { misbehave: { mode: "throw" } } }, async (stoq) => {
    const handle = await stoq.loadPlugin("misbehave");
    const payload = new Payload("misbehave");
    const err = await handle.scan(payload, new Request({ payloads: [payload] })).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(err instanceof TypeError);
    assert.equal(err.message, "misbehave: thrown on purpose");
    assert.ok(err.cause instanceof RangeError);
    assert.equal((err.cause as Error).message, "inner");
    assert.match(err.stack ?? "", /misbehave\/mod\.ts/);
  });
});

Deno.test("a sandboxed plugin reports its time in calls; an in-process one does not", async () => {
  const spin = `export default definePlugin({ setup: () => ({ scan: () => {\n` +
    `  const end = performance.now() + 25; while (performance.now() < end) { /* spin */ }\n` +
    `  return { results: { ok: true } };\n} }) });\n`;
  await withWorkerPlugin("spin", spin, async (dir) => {
    for (const isolation of ["worker", "none"] as const) {
      const stoq = await Stoq.create({
        baseDir: dir,
        pluginDirList: [dir],
        alwaysDispatch: ["spin"],
        isolation,
        logSinks: [],
      });
      try {
        const start = performance.now();
        for (let i = 0; i < 4; i++) await stoq.scan(`payload ${i}`);
        const elapsed = performance.now() - start;
        const busy = (await stoq.loadPlugin("spin")).busyMs();
        if (isolation === "none") {
          assert.equal(busy, undefined);
        } else {
          assert.ok(busy !== undefined && busy >= 4 * 25 && busy <= elapsed, `busy ${busy} ms`);
        }
      } finally {
        await stoq.close();
      }
    }
  });
});

Deno.test("each call queued behind another gets its whole timeout from when it starts", async () => {
  // "600" sleeps 0.6 s; "forever" never answers.
  const sleepy = `export default definePlugin({ setup: () => ({ scan: async (payload) => {\n` +
    `  const text = new TextDecoder().decode(payload.content);\n` +
    `  await new Promise((r) => text === "forever" ? undefined : setTimeout(r, Number(text)));\n` +
    `  return { results: { slept: text } };\n} }) });\n`;
  await withWorkerPlugin("sleepy", sleepy, async (dir) => {
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["sleepy"],
      pluginOpts: { sleepy: { concurrency: 1, timeout: 1 } },
      logSinks: [],
    });
    try {
      const start = performance.now();
      const [first, second] = await Promise.all([
        stoq.scan("600"),
        stoq.scan("forever").then((r) => ({ r, at: performance.now() - start })),
      ]);
      assert.deepEqual(first.errors, []);
      assert.equal(second.r.errors[0].kind, "timeout");
      // The second call started when the first ended (0.6 s) and had its own second after that.
      assert.ok(second.at >= 1_550, `timed out after ${second.at} ms`);
    } finally {
      await stoq.close();
    }
  });
});

/** A worker plugin that sleeps as long as the payload says, in milliseconds. */
const SLOW = `let running = 0;\nconst instance = crypto.randomUUID();\n` +
  `export default definePlugin({ setup: () => ({ scan: async (payload) => {\n` +
  `  const ms = Number(new TextDecoder().decode(payload.content));\n` +
  `  running++; const overlap = running; await new Promise((r) => setTimeout(r, ms)); running--;\n` +
  `  return { results: { instance, overlap } };\n} }) });\n`;

Deno.test("a pool grows under sustained load, up to concurrency; a short burst stays on one instance", async () => {
  const instancesOf = async (dir: string, concurrency: number, calls: number, ms: number) => {
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["slow"],
      pluginOpts: { slow: { concurrency } },
      logSinks: [],
    });
    try {
      const responses = await Promise.all(
        Array.from({ length: calls }, () => stoq.scan(String(ms))),
      );
      const results = responses.map((r) =>
        r.toJSON().results[0].workers.slow as { instance: string; overlap: number }
      );
      // One call at a time per instance.
      assert.ok(results.every((r) => r.overlap === 1));
      return new Set(results.map((r) => r.instance)).size;
    } finally {
      await stoq.close();
    }
  };
  await withWorkerPlugin("slow", SLOW, async (dir) => {
    assert.equal(await instancesOf(dir, 1, 6, 150), 1);
    // Busy for about 2 s on one instance: more start (a new one once calls have waited for most of
    // a quarter second while the machine has room: here it does, the calls sleep), never more
    // than 3.
    const grown = await instancesOf(dir, 3, 8, 250);
    assert.ok(grown >= 2 && grown <= 3, `${grown} instances`);
    // Three calls of 40 ms are over before starting another instance would pay.
    assert.equal(await instancesOf(dir, 3, 3, 40), 1);
  });
});

Deno.test("a pool starts no other instance while the machine has no room for one", async () => {
  await withWorkerPlugin("slow", SLOW, async (dir) => {
    const spec = {
      name: "slow",
      moduleUrl: pathToFileURL(join(dir, "slow", "mod.ts")).href,
      dir: join(dir, "slow"),
      options: {},
    };
    // Eight calls of 250 ms at once, on a pool of up to 3, whose machine has room or not.
    const run = async (room: boolean) => {
      const host = await startSandboxed(spec, createLogger("test", []), {
        isolation: "worker",
        // Its own folder, as the core grants it.
        permissions: { ...NO_PERMISSIONS, read: [spec.dir] },
        concurrency: 3,
        canGrow: () => room,
      });
      try {
        const calls = Array.from({ length: 8 }, (_, i) =>
          host.call(payloadCall({
            method: "scan",
            content: new TextEncoder().encode("250"),
            size: 3,
            payloadId: `p${i}`,
          })));
        const values = (await Promise.all(calls)).map((r) =>
          (r.value as { results: { instance: string } }).results.instance
        );
        const perInstance = new Map<string, number>();
        for (const instance of values) {
          perInstance.set(instance, (perInstance.get(instance) ?? 0) + 1);
        }
        return [...perInstance.values()];
      } finally {
        await host.shutdown();
      }
    };
    assert.deepEqual(await run(false), [8]);
    const spread = await run(true);
    assert.ok(spread.length >= 2 && spread.length <= 3, `${spread.length} instances`);
  });
});

Deno.test("the command line closes remote import() and exits promptly past a spinning plugin", async () => {
  const server = listen();
  try {
    const output = await runCli(
      [
        "scan",
        join(SANDBOX, "hostile", "hostile.txt"),
        "--plugin-dir",
        SANDBOX,
        "-a",
        "misbehave,hostile_worker",
        "--plugin-opts",
        "misbehave:mode=spin",
        "misbehave:timeout=1",
        `hostile_worker:target_port=${server.port}`,
        "hostile_worker:try_import=True",
      ],
      { signal: AbortSignal.timeout(60_000) },
    );
    assert.equal(output.code, 0, output.stderr);
    const response = JSON.parse(output.stdout);
    const attacks = response.results[0].workers.hostile_worker;
    assert.match(attacks.remote_import, /--no-remote|import access/);
    assert.deepEqual(server.hits, []);
    assert.equal(response.errors.length, 1);
    assert.equal(response.errors[0].kind, "timeout");
  } finally {
    await server.close();
  }
});

Deno.test("stoq list shows each plugin's kinds, isolation and permissions", async () => {
  const output = await runCli(["list", "--plugin-dir", SANDBOX]);
  const text = output.stdout;
  assert.equal(output.code, 0, output.stderr);
  const block = text.slice(text.indexOf("hostile_connector"));
  assert.match(block, /- connector/);
  assert.match(block, /isolation: worker/);
  assert.match(block, /read: .*sandbox_plugins\/hostile/);
});

Deno.test("large payloads are shared only with plugins the operator allows; the others get a copy", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stoq-share-" });
  try {
    for (const name of ["mutator", "peeker", "outsider"]) {
      await writeWorkerPlugin(
        dir,
        name,
        `export default definePlugin({ setup: () => ({ scan: (payload) => {\n` +
          `  const shared = payload.content.buffer instanceof SharedArrayBuffer;\n` +
          `  const first = payload.content[0];\n` +
          (name === "mutator" ? `  payload.content[0] = 0x21;\n` : "") +
          `  return { results: { shared, first } };\n} }) });\n`,
      );
    }
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["mutator", "peeker", "outsider"],
      pluginOpts: { peeker: { share_content: true }, outsider: { isolation: "process" } },
      shareThreshold: 0,
      logSinks: [],
    });
    try {
      // Small and large bytes (a large call goes alone, copied by the transport), and bytes the
      // caller has in shared memory already (as `stoq scan` reads a large file).
      const large = new Uint8Array(200 * 1024).fill(97);
      const inShared = new Uint8Array(new SharedArrayBuffer(large.byteLength));
      inShared.set(large);
      for (const content of [new TextEncoder().encode("abc"), large, inShared]) {
        for (let i = 0; i < 3; i++) {
          const response = (await stoq.scan(content)).toJSON();
          assert.deepEqual(response.errors, []);
          const workers = response.results[0].workers;
          assert.deepEqual(workers.mutator, { shared: false, first: 97 });
          assert.deepEqual(workers.peeker, { shared: true, first: 97 });
          assert.deepEqual(workers.outsider, { shared: false, first: 97 });
        }
        assert.equal(content[0], 97, "the caller's bytes are never changed");
      }
    } finally {
      await stoq.close();
    }
    // A plugin cannot ask for shared memory itself.
    await Deno.writeTextFile(
      join(dir, "mutator", "mutator.stoq"),
      "[Core]\nName = mutator\nModule = mod\nKinds = worker\n\n[options]\nshare_content = True\n",
    );
    await assert.rejects(
      Stoq.create({
        baseDir: dir,
        pluginDirList: [dir],
        alwaysDispatch: ["mutator"],
        logSinks: [],
      }),
      /asks for shared payload memory .*only the operator can/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a large payload's call given back by a crashed instance runs again with all its bytes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stoq-retry-" });
  try {
    await writeWorkerPlugin(
      dir,
      "crasher",
      `let calls = 0;\n` +
        `export default definePlugin({ setup: () => ({ scan: (payload) => {\n` +
        `  calls++;\n` +
        `  const bytes = payload.content;\n` +
        `  if (bytes[0] === 0x43) {\n` +
        `    const until = performance.now() + 50;\n` +
        `    while (performance.now() < until);\n` +
        `    Deno.exit(1);\n` +
        `  }\n` +
        `  let sum = 0;\n` +
        `  for (const byte of bytes) sum = (sum + byte) % 1000003;\n` +
        `  return { results: { length: bytes.length, sum, calls } };\n` +
        `} }) });\n`,
    );
    await withOneWorker(dir, "crasher", async (stoq) => {
      const crash = new Uint8Array(100 * 1024).fill(0x43);
      // Bytes of the caller's own, and bytes in shared memory (as `stoq scan` reads a large file).
      const kinds = [new Uint8Array(200 * 1024), new Uint8Array(new SharedArrayBuffer(200 * 1024))];
      for (const large of kinds) {
        // Short calls first, so that the instance is sent calls ahead of the one it runs.
        for (let i = 0; i < 20; i++) await stoq.scan("warm up");
        for (let i = 0; i < large.length; i++) large[i] = i % 251;
        let sum = 0;
        for (const byte of large) sum = (sum + byte) % 1000003;
        const [crashed, retried] = await Promise.all([stoq.scan(crash), stoq.scan(large)]);
        assert.equal(crashed.toJSON().errors[0].kind, "crash");
        const response = retried.toJSON();
        assert.deepEqual(response.errors, []);
        // Run by the fresh instance, with every byte.
        const expected = { length: large.length, sum, calls: 1 };
        assert.deepEqual(response.results[0].workers.crasher, expected);
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plugin that cannot be restarted fails its calls at once, and is tried again later", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stoq-restart-" });
  try {
    await Deno.mkdir(join(dir, "fragile"));
    await Deno.writeTextFile(
      join(dir, "fragile", "fragile.stoq"),
      "[Core]\nName = fragile\nModule = mod\nKinds = worker\n",
    );
    await Deno.writeTextFile(join(dir, "fragile", "ready"), "");
    await Deno.writeTextFile(
      join(dir, "fragile", "mod.ts"),
      `import { definePlugin } from "${API_URL}";\n` +
        `export default definePlugin({ setup: ({ dir }) => {\n` +
        `  Deno.statSync(dir + "/ready");\n` +
        `  return { scan: (payload) => {\n` +
        `    if (new TextDecoder().decode(payload.content) === "crash") Deno.exit(1);\n` +
        `    return { results: { ok: true } };\n` +
        `  } };\n} });\n`,
    );
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["fragile"],
      pluginOpts: { fragile: { concurrency: 1 } },
      logSinks: [],
    });
    try {
      await Deno.remove(join(dir, "fragile", "ready"));
      const crashed = (await stoq.scan("crash")).toJSON();
      assert.equal(crashed.errors[0].kind, "crash");
      // The fresh instance cannot set up: the call fails with the load error instead of waiting.
      const failed = (await stoq.scan("x")).toJSON();
      assert.equal(failed.errors.length, 1);
      assert.match(failed.errors[0].error, /setup\(\) failed/);
      // Once the cause is gone, a later call starts the plugin again.
      await Deno.writeTextFile(join(dir, "fragile", "ready"), "");
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const recovered = (await stoq.scan("x")).toJSON();
      assert.deepEqual(recovered.errors, []);
      assert.deepEqual(recovered.results[0].workers.fragile, { ok: true });
    } finally {
      await stoq.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a result that cannot cross the sandbox fails only its own call, with the reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "stoq-clone-" });
  try {
    await Deno.mkdir(join(dir, "uncloneable"));
    await Deno.writeTextFile(
      join(dir, "uncloneable", "uncloneable.stoq"),
      "[Core]\nName = uncloneable\nModule = mod\nKinds = worker\n",
    );
    await Deno.writeTextFile(
      join(dir, "uncloneable", "mod.ts"),
      `import { definePlugin } from "${API_URL}";\n` +
        `export default definePlugin({ setup: () => ({ scan: (payload) => {\n` +
        `  const bad = new TextDecoder().decode(payload.content) === "bad";\n` +
        `  return { results: bad ? { f: () => 1 } : { ok: true } };\n} }) });\n`,
    );
    const stoq = await Stoq.create({
      baseDir: dir,
      pluginDirList: [dir],
      alwaysDispatch: ["uncloneable"],
      pluginOpts: { uncloneable: { concurrency: 1 } },
      logSinks: [],
    });
    try {
      // Sent together, so their results share one batch.
      const [bad, good] = await Promise.all([stoq.scan("bad"), stoq.scan("good")]);
      assert.equal(bad.errors.length, 1);
      assert.equal(bad.errors[0].kind, "worker");
      assert.match(bad.errors[0].error, /DataCloneError|could not be cloned/);
      assert.deepEqual(good.errors, []);
      assert.deepEqual(good.results[0].workers.uncloneable, { ok: true });
    } finally {
      await stoq.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("results JSON would change cross the sandbox as they were, beside plain ones in the same batch", async () => {
  await withWorkerPlugin(
    "shapes",
    `export default definePlugin({ setup: () => ({ scan: (payload) => {
  const text = new TextDecoder().decode(payload.content);
  if (text !== "odd") return { results: { text } };
  const shared = { x: 1 };
  return { results: {
    text, negativeZero: -0, nan: NaN, missing: undefined, date: new Date(0),
    bytes: new Uint8Array([1, 2]), map: new Map([["a", 1]]), a: shared, b: shared,
  } };
} }) });\n`,
    (dir) =>
      withOneWorker(dir, "shapes", async (stoq) => {
        // Sent together, so their calls and their results share batches.
        const texts = ["first", "odd", "third", "", "fifth"];
        const responses = await Promise.all(texts.map((text) => stoq.scan(text)));
        responses.forEach((response, i) => {
          assert.deepEqual(response.errors, []);
          const results = response.results[0].workers.shapes as Record<string, unknown>;
          assert.equal(results.text, texts[i]);
        });
        const odd = responses[1].results[0].workers.shapes as Record<string, unknown>;
        assert.ok(Object.is(odd.negativeZero, -0));
        assert.ok(Number.isNaN(odd.nan));
        assert.ok("missing" in odd && odd.missing === undefined);
        assert.ok(odd.date instanceof Date && odd.date.getTime() === 0);
        assert.deepEqual(odd.bytes, new Uint8Array([1, 2]));
        assert.ok(odd.map instanceof Map && odd.map.get("a") === 1);
        assert.equal(odd.a, odd.b);
      }),
  );
});

Deno.test("a plugin that posts a malformed message crashes alone and is restarted", async () => {
  await withWorkerPlugin(
    "forger",
    `export default definePlugin({ setup: () => ({ scan: (payload) => {
  const text = new TextDecoder().decode(payload.content);
  const forged = {
    "bad-json": [{ type: "results", json: "[1," }],
    "odd-pairs": [{ type: "results", json: "[1]" }],
    "no-id": [{ type: "results", json: '["x", {}]' }],
    "unknown": [{ type: "bogus" }],
  }[text];
  if (forged) self.postMessage(forged);
  return { results: { text } };
} }) });\n`,
    (dir) =>
      withOneWorker(dir, "forger", async (stoq) => {
        for (const text of ["bad-json", "odd-pairs", "no-id", "unknown"]) {
          const forged = await stoq.scan(text);
          assert.equal(forged.errors.length, 1, text);
          assert.equal(forged.errors[0].kind, "crash", text);
          assert.match(forged.errors[0].error, /malformed message/, text);
          const next = await stoq.scan("fine");
          assert.deepEqual(next.errors, [], text);
          assert.deepEqual(next.results[0].workers.forger, { text: "fine" });
        }
      }),
  );
});

Deno.test("a result whose getter throws on a second read fails only its own call", async () => {
  await withWorkerPlugin(
    "fickle",
    `export default definePlugin({ setup: () => ({ scan: (payload) => {
  if (new TextDecoder().decode(payload.content) !== "fickle") return { results: { ok: true } };
  let reads = 0;
  return { results: { get x() { if (reads++ > 0) throw new Error("read twice"); return 1; } } };
} }) });\n`,
    (dir) =>
      withOneWorker(dir, "fickle", async (stoq) => {
        // Sent together, so their results share one batch.
        const [fickle, good] = await Promise.all([stoq.scan("fickle"), stoq.scan("good")]);
        assert.equal(fickle.errors.length, 1);
        assert.equal(fickle.errors[0].kind, "worker");
        assert.match(fickle.errors[0].error, /read twice/);
        assert.deepEqual(good.errors, []);
        assert.deepEqual(good.results[0].workers.fickle, { ok: true });
      }),
  );
});
