/**
 * redis: many stoq processes sharing work through a Redis stream with a consumer group.
 *
 * - Provider: reads work entries with XREADGROUP, holds at most `max_queue` of them, and
 *   acknowledges one (XACK) only when the core says every connector saved its response (`ack`).
 *   Entries a dead or failing consumer left pending longer than `claim_idle` are taken over with
 *   XAUTOCLAIM; one delivered more than `max_deliveries` times goes to `<stream>:dead` with its last
 *   error.
 * - Archiver: stores payload bytes once per SHA-256 (`SET NX`, `payload_ttl`) and fetches them back.
 * - Connector: saves each response under `<prefix>result:<request_id>` (a re-run overwrites), and
 *   announces the first save of each request on `results_stream` if set.
 *
 * Lost connections are retried with exponential backoff for as long as it takes: the provider and
 * the connector pause, nothing is acknowledged early.
 *
 * @module
 */
import { z } from "zod";
import {
  definePlugin,
  dumps,
  Payload,
  PayloadMeta,
  type ProviderQueue,
  type ProviderReceipt,
  Request,
  RequestMeta,
} from "../../plugin_api.ts";
import {
  deadStream,
  errorsKey,
  type Layout,
  payloadKey,
  resultKey,
  sha256Hex,
  storePayload,
} from "./queue.ts";
import { type Arg, RedisClient, RedisReplyError, type Reply, text } from "./resp.ts";

const Options = z.object({
  url: z.string().optional(),
  stream: z.string().min(1).default("stoq"),
  group: z.string().min(1).default("stoq"),
  consumer: z.string().default(""),
  prefix: z.string().default("stoq:"),
  max_queue: z.number().int().min(1).default(100),
  batch: z.number().int().min(1).default(10),
  block_ms: z.number().int().min(1).default(1000),
  claim_idle: z.number().positive().default(60),
  max_deliveries: z.number().int().min(1).default(3),
  fail_on: z.array(z.string()).default(["crash"]),
  exit_when_idle: z.number().min(0).default(0),
  payload_ttl: z.number().int().min(0).default(604800),
  results_ttl: z.number().int().min(0).default(0),
  results_stream: z.string().default(""),
});

/** Saves a response; announces the first save of a request on the results stream. */
const SAVE_SCRIPT = `
local old = redis.call('SET', KEYS[1], ARGV[1], 'GET')
if tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if KEYS[2] ~= '' and not old then
  redis.call('XADD', KEYS[2], '*', 'request_id', ARGV[3], 'scan_id', ARGV[4], 'key', KEYS[1])
end
return old and 1 or 0`;

const decoder = new TextDecoder();

/** One entry this consumer holds: put on the queue, not yet acknowledged. */
interface Held {
  requestId: string;
}

/** The redis plugin. */
export default definePlugin({
  options: Options,
  setup({ options, log, name }) {
    if (!options.url) {
      throw new Error(
        `Option "url" of plugin "${name}" is not set: set it in stoq.cfg ("[${name}] url = redis://host:6379") or with --plugin-opts ${name}:url=redis://host:6379`,
      );
    }
    const url = options.url;
    const layout: Layout = { stream: options.stream, prefix: options.prefix };
    const consumer = options.consumer || `stoq-${crypto.randomUUID().slice(0, 8)}`;
    let warned = 0;
    const onRetry = (err: Error, wait: number) => {
      // One line per outage, not one per attempt.
      if (Date.now() - warned > 10_000) {
        warned = Date.now();
        log.warning(`Redis unavailable (${err.message}); retrying, backing off up to 5 s`);
      }
      log.debug(`Redis retry in ${wait} ms: ${err.message}`);
    };
    let commands: RedisClient | undefined;
    const client = () => commands ??= new RedisClient(url, { onRetry });

    // Provider state.
    const held = new Map<string, Held>();
    let roomWaiters: (() => void)[] = [];
    let reader: RedisClient | undefined;
    let closing = false;
    const release = (id: string) => {
      if (!held.delete(id)) return false;
      for (const wake of roomWaiters.splice(0)) wake();
      return true;
    };
    const room = async () => {
      while (held.size >= options.max_queue && !closing) {
        await new Promise<void>((resolve) => roomWaiters.push(resolve));
      }
    };
    const receiptId = (receipt: ProviderReceipt): string | undefined => {
      const extra = (receipt.requestMeta?.extra_data ?? {}) as Record<string, unknown>;
      return typeof extra.redis_id === "string" ? extra.redis_id : undefined;
    };

    const ensureGroup = async () => {
      try {
        await client().call("XGROUP", "CREATE", layout.stream, options.group, "0", "MKSTREAM");
      } catch (err) {
        if (!(err instanceof RedisReplyError && err.code === "BUSYGROUP")) throw err;
      }
    };

    /** Move an entry to the dead-letter stream with its error, and acknowledge it. */
    const deadLetter = async (
      id: string,
      fields: Map<string, Reply>,
      deliveries: number,
      error?: string,
    ) => {
      const last = error ?? text(await client().call("HGET", errorsKey(layout), id));
      const why = last ||
        `delivered ${deliveries} times without being acknowledged (its consumer died or stopped)`;
      const args: Arg[] = ["XADD", deadStream(layout), "*", "id", id, "error", why];
      args.push("deliveries", deliveries, "consumer", consumer);
      for (const [key, value] of fields) {
        if (key === "id" || key === "error" || key === "deliveries" || key === "consumer") continue;
        args.push(key, value instanceof Uint8Array ? value : text(value));
      }
      await client().transaction([
        args,
        ["XACK", layout.stream, options.group, id],
        ["HDEL", errorsKey(layout), id],
      ]);
      log.warning(
        `Entry ${id} moved to ${deadStream(layout)} after ${deliveries} deliveries: ${why}`,
      );
    };

    /** Turn an entry into a Request; throws for an entry that can never be scanned. */
    const requestOf = async (id: string, fields: Map<string, Reply>): Promise<Request> => {
      const json = (key: string): Record<string, unknown> | undefined => {
        const value = fields.get(key);
        if (value === undefined) return undefined;
        const parsed = JSON.parse(text(value));
        if (!parsed || typeof parsed !== "object") throw new Error(`"${key}" is not a JSON object`);
        return parsed;
      };
      const bytesOf = async (sha256: string): Promise<Uint8Array> => {
        const content = await client().callBytes("GET", payloadKey(layout, sha256));
        if (!(content instanceof Uint8Array)) {
          throw new Error(`the payload ${sha256} is not in Redis (expired, or never stored)`);
        }
        return content;
      };
      const specs: { sha256?: string; content?: Uint8Array; meta?: Record<string, unknown> }[] = [];
      const list = fields.get("payloads");
      if (list !== undefined) {
        const parsed = JSON.parse(text(list));
        if (!Array.isArray(parsed)) throw new Error(`"payloads" is not a JSON array`);
        for (const item of parsed) specs.push({ sha256: item.sha256, meta: item.payload_meta });
      } else {
        const content = fields.get("content");
        const sha256 = fields.get("sha256");
        specs.push({
          sha256: sha256 === undefined ? undefined : text(sha256),
          content: content === undefined
            ? undefined
            : content instanceof Uint8Array
            ? content
            : new TextEncoder().encode(text(content)),
          meta: json("payload_meta"),
        });
      }
      const payloads: Payload[] = [];
      for (const spec of specs) {
        const content = spec.content ??
          (typeof spec.sha256 === "string" && /^[0-9a-f]{64}$/.test(spec.sha256)
            ? await bytesOf(spec.sha256)
            : undefined);
        if (!content) throw new Error(`the entry has no "sha256" or "content"`);
        const meta = spec.meta ?? {};
        payloads.push(
          new Payload(content, {
            payloadMeta: new PayloadMeta({
              extraData: meta.extra_data as Record<string, unknown> | undefined,
              dispatchTo: meta.dispatch_to as string[] | undefined,
              shouldArchive: meta.should_archive as boolean | undefined,
              shouldScan: meta.should_scan as boolean | undefined,
            }),
          }),
        );
      }
      const rm = json("request_meta") ?? {};
      const requestId = text(fields.get("request_id")) || id;
      return new Request({
        payloads,
        requestMeta: new RequestMeta({
          source: (rm.source as string | undefined) ?? `redis:${layout.stream}`,
          archivePayloads: rm.archive_payloads as boolean | undefined,
          extraData: {
            ...(rm.extra_data as Record<string, unknown> | undefined),
            request_id: requestId,
            redis_id: id,
          },
        }),
      });
    };

    /** Hand one delivered entry to the core (or to the dead-letter stream). */
    const handle = async (
      queue: ProviderQueue,
      id: string,
      fields: Map<string, Reply>,
      deliveries: number,
    ) => {
      if (held.has(id)) return; // already ours and in flight
      if (deliveries > options.max_deliveries) {
        await deadLetter(id, fields, deliveries - 1);
        return;
      }
      let request: Request;
      try {
        request = await requestOf(id, fields);
      } catch (err) {
        await deadLetter(id, fields, deliveries, `cannot read the entry: ${messageOf(err)}`);
        return;
      }
      held.set(id, { requestId: text(fields.get("request_id")) || id });
      await queue.put(request);
    };

    let cursor = "0-0";
    /** Take over entries pending longer than claim_idle (a dead consumer's, or failed ones). */
    const claim = async (queue: ProviderQueue, count: number): Promise<number> => {
      const idleMs = Math.round(options.claim_idle * 1000);
      const reply = await client().callBytes(
        "XAUTOCLAIM",
        layout.stream,
        options.group,
        consumer,
        idleMs,
        cursor,
        "COUNT",
        count,
      ) as Reply[];
      cursor = text(reply[0]);
      const entries = (reply[1] ?? []) as Reply[];
      const deleted = ((reply[2] ?? []) as Reply[]).map((id) => text(id));
      if (deleted.length > 0) {
        // Entries deleted from the stream while pending: nothing left to scan.
        await client().call("XACK", layout.stream, options.group, ...deleted);
      }
      if (entries.length === 0) return 0;
      const ids = entries.map((entry) => text((entry as Reply[])[0]));
      const pending = await client().call(
        "XPENDING",
        layout.stream,
        options.group,
        ids[0],
        ids[ids.length - 1],
        ids.length + held.size,
        consumer,
      ) as Reply[];
      const deliveries = new Map(
        pending.map((p) => [text((p as Reply[])[0]), Number((p as Reply[])[3])]),
      );
      for (const entry of entries) {
        const [rawId, rawFields] = entry as Reply[];
        const id = text(rawId);
        await handle(queue, id, fieldMap(rawFields), deliveries.get(id) ?? 2);
      }
      return entries.length;
    };

    /** Keep the entries we hold from looking idle, so live work is never taken over. */
    const heartbeat = async () => {
      if (held.size === 0) return;
      await client().call(
        "XCLAIM",
        layout.stream,
        options.group,
        consumer,
        0,
        ...held.keys(),
        "JUSTID",
      );
    };

    const settle = async (receipt: ProviderReceipt, error: string | undefined) => {
      const id = receiptId(receipt);
      if (id === undefined || !held.has(id)) {
        log.debug(`An ${error ? "nack" : "ack"} for an entry this consumer does not hold`);
        return;
      }
      try {
        if (error === undefined) {
          await client().transaction([
            ["XACK", layout.stream, options.group, id],
            ["HDEL", errorsKey(layout), id],
          ]);
        } else {
          // Left pending: after claim_idle a consumer takes it over and counts a delivery.
          await client().call("HSET", errorsKey(layout), id, error);
        }
      } finally {
        release(id);
      }
    };

    return {
      ingest: async function redisIngest(queue: ProviderQueue) {
        reader = new RedisClient(url, { onRetry });
        await ensureGroup();
        const claimEvery = Math.max(100, options.claim_idle * 1000 / 2);
        const beatEvery = Math.max(100, options.claim_idle * 1000 / 3);
        let lastClaim = 0;
        let lastBeat = Date.now();
        let lastWork = Date.now();
        log.info(`Consumer "${consumer}" reading "${layout.stream}" (group "${options.group}")`);
        while (!closing) {
          await room();
          if (closing) break;
          const free = Math.min(options.batch, options.max_queue - held.size);
          if (Date.now() - lastBeat >= beatEvery) {
            lastBeat = Date.now();
            await heartbeat();
          }
          if (Date.now() - lastClaim >= claimEvery) {
            if (await claim(queue, free) > 0) {
              lastWork = Date.now();
              continue;
            }
            if (cursor === "0-0") lastClaim = Date.now();
            continue;
          }
          let reply: Reply;
          try {
            reply = await reader.callBytes(
              "XREADGROUP",
              "GROUP",
              options.group,
              consumer,
              "COUNT",
              free,
              "BLOCK",
              options.block_ms,
              "STREAMS",
              layout.stream,
              ">",
            );
          } catch (err) {
            if (closing) break;
            if (err instanceof RedisReplyError && err.code === "NOGROUP") {
              // Redis lost the group (a restart without persistence): make it again.
              await ensureGroup();
              continue;
            }
            throw err;
          }
          const entries = Array.isArray(reply) ? ((reply[0] as Reply[])[1] as Reply[]) : [];
          for (const entry of entries) {
            const [rawId, rawFields] = entry as Reply[];
            if (rawFields === null) continue;
            await handle(queue, text(rawId), fieldMap(rawFields), 1);
          }
          if (entries.length > 0 || held.size > 0) lastWork = Date.now();
          else if (
            options.exit_when_idle > 0 &&
            Date.now() - lastWork >= options.exit_when_idle * 1000
          ) {
            const summary = await client().call("XPENDING", layout.stream, options.group);
            if (Number((summary as Reply[])[0]) === 0) {
              log.info(
                `Nothing to do for ${options.exit_when_idle} s: consumer "${consumer}" stops`,
              );
              return;
            }
            lastWork = Date.now();
          }
        }
      },

      ack: async function redisAck(receipt: ProviderReceipt) {
        const failed = receipt.errors.filter((e) => options.fail_on.includes(String(e.kind)));
        const error = failed.length > 0
          ? failed.map((e) => `${e.plugin_name ?? "?"}: ${e.error}`).join("; ")
          : undefined;
        await settle(receipt, error);
      },

      nack: async function redisNack(receipt: ProviderReceipt) {
        await settle(receipt, receipt.error ?? "not saved");
      },

      archive: async function redisArchive(payload) {
        const sha256 = await storePayload(client(), layout, payload.content, options.payload_ttl);
        return { results: { sha256, key: payloadKey(layout, sha256) } };
      },

      get: async function redisGet(task) {
        const sha256 = task.results?.sha256;
        if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
          throw new Error(`Cannot get a payload: the task has no "sha256"`);
        }
        const content = await client().callBytes("GET", payloadKey(layout, sha256));
        if (!(content instanceof Uint8Array)) {
          throw new Error(`The payload ${sha256} is not in Redis (expired, or never stored)`);
        }
        if (sha256Hex(content) !== sha256) throw new Error(`The payload ${sha256} is corrupt`);
        return { content, payloadMeta: { extraData: { ...task.results } } };
      },

      save: async function redisSave(response) {
        const extra = response.requestMeta.extraData;
        const requestId = typeof extra.request_id === "string" ? extra.request_id : response.scanId;
        await client().call(
          "EVAL",
          SAVE_SCRIPT,
          2,
          resultKey(layout, requestId),
          options.results_stream,
          dumps(response, { compactly: true }),
          options.results_ttl,
          requestId,
          response.scanId,
        );
      },

      close() {
        closing = true;
        for (const wake of roomWaiters.splice(0)) wake();
        roomWaiters = [];
        reader?.close();
        commands?.close();
      },
    };
  },
});

function fieldMap(raw: Reply): Map<string, Reply> {
  const out = new Map<string, Reply>();
  if (!Array.isArray(raw)) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i];
    out.set(key instanceof Uint8Array ? decoder.decode(key) : String(key), raw[i + 1]);
  }
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
