/**
 * The redis plugin against a real redis-server (started on a free port in a temporary folder) and
 * real `stoq run` processes: a consumer killed with SIGKILL mid-scan, Redis restarted mid-run, a
 * poison payload, and `stoq submit --wait`. Skipped, with the reason in the test name, only when
 * `redis-server` is not installed.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { addEntry, deadStream, type Layout, resultKey, storePayload } from "./queue.ts";
import { RedisClient, type Reply, text } from "./resp.ts";

const HERE = fileURLToPath(new URL(".", import.meta.url));
const CLI = fileURLToPath(new URL("../../cli.ts", import.meta.url));
const TEST_PLUGINS = `${HERE}testdata/plugins`;
const LAYOUT: Layout = { stream: "stoq", prefix: "stoq:" };

const HAVE_REDIS = (() => {
  try {
    return new Deno.Command("redis-server", { args: ["--version"], stdout: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

function redisTest(name: string, fn: () => Promise<void>) {
  Deno.test({
    name: HAVE_REDIS ? name : `${name} (skipped: redis-server is not installed)`,
    ignore: !HAVE_REDIS,
    sanitizeResources: false,
    sanitizeOps: false,
    fn,
  });
}

/** A redis-server of our own: free port, temporary folder, AOF so a restart keeps the data. */
class TestRedis {
  readonly dir = Deno.makeTempDirSync({ prefix: "stoq-redis-" });
  readonly port: number;
  #child?: Deno.ChildProcess;

  constructor() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (listener.addr as Deno.NetAddr).port;
    listener.close();
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start() {
    this.#child = new Deno.Command("redis-server", {
      args: [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--dir",
        this.dir,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 100; i++) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: this.port });
        conn.close();
        return;
      } catch {
        await sleep(50);
      }
    }
    throw new Error("redis-server did not start");
  }

  async stop(signal: Deno.Signal = "SIGTERM") {
    if (!this.#child) return;
    this.#child.kill(signal);
    await this.#child.status;
    this.#child = undefined;
  }

  async cleanup() {
    await this.stop();
    Deno.removeSync(this.dir, { recursive: true });
  }
}

/** A `stoq run -P redis -C redis` consumer process. */
function consumer(
  redis: TestRedis,
  name: string,
  options: Record<string, string | number>,
  sleepMs = 0,
) {
  const cfg = `${redis.dir}/${name}.cfg`;
  Deno.writeTextFileSync(
    cfg,
    [
      "[core]",
      "providers = redis",
      "connectors = redis",
      "always_dispatch = redis_testworker",
      `plugin_dir_list = ${TEST_PLUGINS}`,
      "provider_consumers = 4",
      "[redis]",
      `url = ${redis.url}`,
      `consumer = ${name}`,
      "results_stream = stoq:results",
      ...Object.entries(options).map(([k, v]) => `${k} = ${v}`),
      "[redis_testworker]",
      `sleep_ms = ${sleepMs}`,
      "",
    ].join("\n"),
  );
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-remote",
      "--cached-only",
      CLI,
      "run",
      "--config-file",
      cfg,
      "--plugin-dir",
      TEST_PLUGINS,
      "--log-level",
      "warning",
    ],
    cwd: redis.dir,
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

async function submitMany(client: RedisClient, count: number, poison = 0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count + poison; i++) {
    const content = new TextEncoder().encode(i < count ? `payload number ${i}\n` : `POISON ${i}`);
    const sha256 = await storePayload(client, LAYOUT, content, 3600);
    const requestId = `req-${i}`;
    await addEntry(client, LAYOUT, { requestId, sha256, payloadMeta: { extra_data: { i } } });
    ids.push(requestId);
  }
  return ids;
}

async function countResults(client: RedisClient, ids: string[]): Promise<number> {
  const values = await client.call("MGET", ...ids.map((id) => resultKey(LAYOUT, id))) as Reply[];
  return values.filter((v) => v !== null).length;
}

async function waitFor(what: string, check: () => Promise<boolean>, seconds: number) {
  const end = Date.now() + seconds * 1000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Every request has exactly one saved result, one announcement, nothing pending or dead. */
async function assertExactlyOnce(client: RedisClient, ids: string[]) {
  assert.equal(await countResults(client, ids), ids.length);
  for (const id of ids.slice(0, 5)) {
    const json = JSON.parse(text(await client.call("GET", resultKey(LAYOUT, id))));
    assert.equal(json.request_meta.extra_data.request_id, id);
    assert.ok(json.results[0].workers.redis_testworker.size > 0);
  }
  const announced = await client.call("XRANGE", "stoq:results", "-", "+") as Reply[];
  const announcedIds = announced.map((e) => {
    const f = (e as Reply[])[1] as Reply[];
    return text(f[f.indexOf("request_id") + 1]);
  });
  assert.equal(announcedIds.length, ids.length, "one announcement per request");
  assert.deepEqual(new Set(announcedIds), new Set(ids));
  const pending = await client.call("XPENDING", "stoq", "stoq") as Reply[];
  assert.equal(pending[0], 0, "nothing left pending");
  assert.equal(await client.call("XLEN", deadStream(LAYOUT)), 0, "nothing dead");
}

/** Entries each consumer of the group holds (read, not acknowledged). */
async function pendingOf(client: RedisClient): Promise<Map<string, number>> {
  const consumers = await client.call("XINFO", "CONSUMERS", "stoq", "stoq") as Reply[];
  return new Map(consumers.map((c) => {
    const f = c as Reply[];
    return [text(f[f.indexOf("name") + 1]), Number(f[f.indexOf("pending") + 1])];
  }));
}

async function finish(procs: Deno.ChildProcess[], seconds: number) {
  const timer = setTimeout(() => {
    for (const p of procs) {
      try {
        p.kill("SIGKILL");
      } catch { /* gone */ }
    }
  }, seconds * 1000);
  const out = await Promise.all(procs.map(async (p) => {
    const [status, stderr] = await Promise.all([p.status, new Response(p.stderr).text()]);
    return { status, stderr };
  }));
  clearTimeout(timer);
  return out;
}

redisTest(
  "redis: three consumers, one killed with SIGKILL mid-scan: every request saved once",
  async () => {
    const redis = new TestRedis();
    await redis.start();
    const client = new RedisClient(redis.url);
    try {
      const ids = await submitMany(client, 300);
      const options = { claim_idle: 2, exit_when_idle: 4, max_queue: 20 };
      const procs = [0, 1, 2].map((i) => consumer(redis, `c${i}`, options, 20));
      await waitFor("the first results", async () => await countResults(client, ids) >= 40, 60);
      procs[0].kill("SIGKILL");
      // The victim held entries when it died (read, not acknowledged), or nothing would be tested.
      assert.ok((await pendingOf(client)).get("c0")! > 0, "the killed consumer held entries");
      const outcomes = await finish(procs, 120);
      assert.equal(outcomes[0].status.signal, "SIGKILL");
      for (const { status, stderr } of outcomes.slice(1)) assert.equal(status.code, 0, stderr);
      assert.equal((await pendingOf(client)).get("c0"), 0, "its entries were taken over");
      await assertExactlyOnce(client, ids);
    } finally {
      client.close();
      await redis.cleanup();
    }
  },
);

redisTest("redis: Redis restarted mid-run: consumers pause and resume, nothing lost", async () => {
  const redis = new TestRedis();
  await redis.start();
  const client = new RedisClient(redis.url);
  try {
    const ids = await submitMany(client, 200);
    const procs = [0, 1].map((i) =>
      consumer(redis, `c${i}`, { claim_idle: 2, exit_when_idle: 4, max_queue: 10 }, 10)
    );
    await waitFor("the first results", async () => await countResults(client, ids) >= 30, 60);
    await redis.stop("SIGKILL"); // appendfsync always: what was acknowledged is on disk
    await sleep(1500);
    await redis.start();
    const outcomes = await finish(procs, 120);
    for (const { status, stderr } of outcomes) assert.equal(status.code, 0, stderr);
    assert.ok(outcomes.some((o) => o.stderr.includes("Redis unavailable")), "a retry was logged");
    await assertExactlyOnce(client, ids);
  } finally {
    client.close();
    await redis.cleanup();
  }
});

redisTest(
  "redis: a poison payload that crashes a plugin every time ends in the dead-letter stream",
  async () => {
    const redis = new TestRedis();
    await redis.start();
    const client = new RedisClient(redis.url);
    try {
      const ids = await submitMany(client, 5, 1);
      const proc = consumer(redis, "c0", { claim_idle: 0.5, exit_when_idle: 3, max_deliveries: 2 });
      const [outcome] = await finish([proc], 90);
      assert.equal(outcome.status.code, 0, outcome.stderr);
      const dead = await client.call("XRANGE", deadStream(LAYOUT), "-", "+") as Reply[];
      assert.equal(dead.length, 1);
      const fields = (dead[0] as Reply[])[1] as Reply[];
      const get = (k: string) => text(fields[fields.indexOf(k) + 1]);
      assert.equal(get("request_id"), "req-5");
      assert.equal(get("deliveries"), "2");
      assert.match(get("error"), /redis_testworker/);
      assert.equal(await countResults(client, ids.slice(0, 5)), 5);
      const pending = await client.call("XPENDING", "stoq", "stoq") as Reply[];
      assert.equal(pending[0], 0);
    } finally {
      client.close();
      await redis.cleanup();
    }
  },
);

redisTest(
  "redis: stoq submit --wait stores, queues and prints each response in order",
  async () => {
    const redis = new TestRedis();
    await redis.start();
    try {
      const files = [0, 1, 2].map((i) => {
        const path = `${redis.dir}/f${i}.txt`;
        Deno.writeTextFileSync(path, `file ${i}`);
        return path;
      });
      const proc = consumer(redis, "c0", { exit_when_idle: 3 });
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--no-remote",
          "--cached-only",
          CLI,
          "submit",
          ...files,
          "--to",
          redis.url,
        ]
          .concat(["--wait", "--wait-timeout", "60", "--request-source", "t"]),
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.deepEqual(lines.map((r) => r.results[0].payload_meta.extra_data.filename), [
        "f0.txt",
        "f1.txt",
        "f2.txt",
      ]);
      assert.equal(lines[0].request_meta.source, "t");
      await finish([proc], 60);
      const client = new RedisClient(redis.url);
      try {
        // Stored once per content: three distinct files, three payload keys.
        assert.equal((await client.call("KEYS", "stoq:payload:*") as Reply[]).length, 3);
      } finally {
        client.close();
      }
    } finally {
      await redis.cleanup();
    }
  },
);

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
