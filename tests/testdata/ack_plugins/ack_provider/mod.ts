import { z } from "zod";
import { definePlugin, Payload, Request, RequestMeta } from "../../../../plugin_api.ts";

export default definePlugin({
  options: z.object({ count: z.number().int().default(3) }),
  setup({ options }) {
    const acked: number[] = [];
    const nacked: { n: number; error: string }[] = [];
    let done = () => {};
    const settled = new Promise<void>((resolve) => done = resolve);
    const check = () => {
      if (acked.length + nacked.length >= options.count) done();
    };
    const nOf = (meta: Record<string, unknown> | null) =>
      Number((meta?.extra_data as Record<string, unknown> | undefined)?.n);
    return {
      ingest: async function ackIngest(queue) {
        for (let n = 0; n < options.count; n++) {
          await queue.put(
            new Request({
              payloads: [new Payload(`item ${n}`)],
              requestMeta: new RequestMeta({ extraData: { n } }),
            }),
          );
        }
        await Promise.race([settled, new Promise((r) => setTimeout(r, 10_000))]);
        await queue.put(
          new Request({
            payloads: [new Payload("summary")],
            requestMeta: new RequestMeta({ extraData: { summary: { acked, nacked } } }),
          }),
        );
      },
      ack(receipt) {
        const n = nOf(receipt.requestMeta);
        if (Number.isInteger(n)) acked.push(n);
        check();
      },
      nack(receipt) {
        const n = nOf(receipt.requestMeta);
        if (Number.isInteger(n)) nacked.push({ n, error: receipt.error ?? "" });
        check();
      },
    };
  },
});
