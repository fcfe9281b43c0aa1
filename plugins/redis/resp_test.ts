import assert from "node:assert/strict";
import { RedisClient, RedisReplyError } from "./resp.ts";

/** A stand-in Redis on loopback answering each command with the next canned reply. */
function fakeRedis(replies: string[]) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: number[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        const buffer = new Uint8Array(4096);
        while ((await conn.read(buffer).catch(() => null)) !== null) {
          seen.push(Date.now());
          const reply = replies.shift() ?? "+OK\r\n";
          await conn.write(new TextEncoder().encode(reply));
        }
        conn.close();
      })();
    }
  })();
  return {
    url: `redis://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    seen,
    close: async () => {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

Deno.test("RedisClient waits out LOADING (a Redis restarting) and runs the command again", async () => {
  const server = fakeRedis([
    "-LOADING Redis is loading the dataset in memory\r\n",
    "-LOADING Redis is loading the dataset in memory\r\n",
    "+OK\r\n",
  ]);
  const retries: string[] = [];
  const client = new RedisClient(server.url, {
    minBackoffMs: 10,
    onRetry: (err) => retries.push(err.message),
  });
  try {
    assert.equal(await client.call("SET", "k", "v"), "OK");
    assert.equal(server.seen.length, 3);
    assert.equal(retries.length, 2);
    assert.match(retries[0], /^LOADING/);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("RedisClient does not retry other error replies", async () => {
  const server = fakeRedis(["-ERR wrong number of arguments\r\n"]);
  const client = new RedisClient(server.url, { minBackoffMs: 10 });
  try {
    await assert.rejects(
      client.call("SET", "k"),
      (err: Error) => err instanceof RedisReplyError && err.code === "ERR",
    );
    assert.equal(server.seen.length, 1);
  } finally {
    client.close();
    await server.close();
  }
});
