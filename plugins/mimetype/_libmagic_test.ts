import assert from "node:assert/strict";
import { Libmagic } from "./_libmagic.ts";

const text = (value: string) => new TextEncoder().encode(value);

Deno.test("Libmagic answers with MIME types, text and binary", () => {
  const magic = Libmagic.open();
  assert.equal(magic.detect(new Uint8Array(0)), "application/x-empty");
  assert.equal(magic.detect(text("hello world\n")), "text/plain");
  assert.equal(
    magic.detect(text("#!/usr/bin/env python3\nimport sys\nprint(sys.argv)\n")),
    "text/x-script.python",
  );
  assert.equal(magic.detect(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3)), "application/gzip");
});

Deno.test("Libmagic keeps answering after a buffer larger than the one it keeps", () => {
  const magic = Libmagic.open();
  const big = new Uint8Array(9 * 1024 * 1024).fill(0x41);
  big.set(text("%PDF-1.4\n"));
  assert.equal(magic.detect(big), "application/pdf");
  assert.equal(magic.detect(text("<html><body>hi</body></html>\n")), "text/html");
  assert.equal(magic.detect(big), "application/pdf");
});

Deno.test("Libmagic instances do not share state", () => {
  const first = Libmagic.open();
  const second = Libmagic.open();
  assert.equal(first.detect(text("hello\n")), "text/plain");
  assert.equal(second.detect(text("%PDF-1.4\n")), "application/pdf");
  assert.equal(first.detect(Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3)), "application/gzip");
  assert.equal(second.detect(text("hello\n")), "text/plain");
});
