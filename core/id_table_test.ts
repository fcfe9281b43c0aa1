import assert from "node:assert/strict";
import { IdTable } from "./id_table.ts";

Deno.test("IdTable keeps values by id, counts them and gives each back once", () => {
  const table = new IdTable<{ n: number }>();
  const values = Array.from({ length: 100 }, (_, n) => ({ n }));
  for (let id = 1; id <= 100; id++) table.set(id, values[id - 1]);
  assert.equal(table.size, 100);
  table.set(5, values[4]); // setting again does not count twice
  assert.equal(table.size, 100);
  assert.equal(table.get(7), values[6]);
  assert.equal(table.take(7), values[6]);
  assert.equal(table.take(7), undefined);
  assert.equal(table.get(7), undefined);
  assert.equal(table.size, 99);
  assert.equal(table.take(1000), undefined);
  assert.equal(table.size, 99);
});

Deno.test("IdTable lists its entries in id order, and can be emptied while listing them", () => {
  const table = new IdTable<string>();
  for (const id of [30, 2, 1_000_000, 7]) table.set(id, `v${id}`);
  const seen: [number, string][] = [];
  for (const [id, value] of table.entries()) {
    seen.push([id, value]);
    table.take(id);
  }
  assert.deepEqual(seen, [[2, "v2"], [7, "v7"], [30, "v30"], [1_000_000, "v1000000"]]);
  assert.equal(table.size, 0);
  assert.deepEqual([...table.entries()], []);
});
