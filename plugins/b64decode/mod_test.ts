import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { fileURLToPath } from "node:url";
import { Stoq } from "../../mod.ts";
import { b64decode, Base64Error } from "./mod.ts";

const PLUGINS = fileURLToPath(new URL("..", import.meta.url));
const encoder = new TextEncoder();

function randomBytes(size: number, seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length: size }, () => {
    state = (state * 1103515245 + 12345) >>> 0;
    return state >>> 24;
  });
}

Deno.test("b64decode() inverts base64 of every length, with line breaks every 76 characters", () => {
  for (let size = 0; size < 200; size++) {
    const bytes = randomBytes(size, size + 1);
    const encoded = Buffer.from(bytes).toString("base64").replace(/(.{76})/g, "$1\r\n");
    assert.deepEqual(b64decode(encoder.encode(encoded)), bytes, `size ${size}`);
  }
});

Deno.test("b64decode() skips foreign bytes, stops at padding and tolerates missing padding", () => {
  const text = (value: string) => new TextDecoder().decode(b64decode(encoder.encode(value)));
  assert.equal(text('"VGhlIHF1aWNr IGJy\tb3du"'), "The quick brown");
  assert.equal(text("Zm9vYg==Zm9v"), "foob");
  assert.equal(text("Zm9vYg"), "foob");
  assert.equal(text(""), "");
  assert.throws(() => b64decode(encoder.encode("Zm9vY")), Base64Error);
});

Deno.test("b64decode worker extracts the decoded payload", async () => {
  const stoq = await Stoq.create({ pluginDirList: [PLUGINS], logSinks: [] });
  try {
    const response = await stoq.scan("VGhlIHF1aWNrIGJyb3duIGZveA==", {
      addStartDispatch: ["b64decode"],
    });
    const json = response.toJSON();
    assert.equal(json.results.length, 2);
    assert.deepEqual(json.results[1].extracted_by, ["b64decode"]);
    assert.equal(json.results[1].size, "The quick brown fox".length);
    assert.deepEqual(json.errors, []);
  } finally {
    await stoq.close();
  }
});

Deno.test("b64decode worker reports undecodable content as an error, not a crash", async () => {
  const stoq = await Stoq.create({ pluginDirList: [PLUGINS], logSinks: [] });
  try {
    const response = await stoq.scan("Zm9vY", { addStartDispatch: ["b64decode"] });
    const json = response.toJSON();
    assert.equal(json.results.length, 1);
    assert.equal(json.errors.length, 1);
    assert.match(JSON.stringify(json.errors[0]), /dangling/);
  } finally {
    await stoq.close();
  }
});
