import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Stoq } from "../../mod.ts";

const PLUGINS = fileURLToPath(new URL("..", import.meta.url));

async function iocs(text: string, options: Record<string, unknown> = {}) {
  const stoq = await Stoq.create({
    pluginDirList: [PLUGINS],
    alwaysDispatch: ["iocextract"],
    pluginOpts: { iocextract: options },
    logSinks: [],
  });
  try {
    const json = (await stoq.scan(text)).toJSON();
    assert.deepEqual(json.errors, []);
    return json.results[0].workers.iocextract as Record<string, string[]>;
  } finally {
    await stoq.close();
  }
}

const SAMPLE = `
Dropper d41d8cd98f00b204e9800998ecf8427e and da39a3ee5e6b4b0d3255bfef95601890afd80709
sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.
C2 at 198.51.100[.]7 and 203.0.113.9, fallback 2001:db8::1 and fe80::1ff:fe23:4567:890a.
Beacon to hxxp://evil-domain[.]com/path/Gate.php?id=1 and hxxps://CDN.Bad-Site.ru:8443/x
Mail attacker(at)phish[dot]co.uk or ops[@]Evil-Domain.com, MAC 00:1A:2b:3c:4D:5e.
Not domains: file.exe, version 1.2, foo.notatld. Local: 127.0.0.1, http://www.example.com/a
`;

Deno.test("iocextract finds and refangs every indicator type", async () => {
  const result = await iocs(SAMPLE);
  assert.deepEqual(result.md5, ["d41d8cd98f00b204e9800998ecf8427e"]);
  assert.deepEqual(result.sha1, ["da39a3ee5e6b4b0d3255bfef95601890afd80709"]);
  assert.deepEqual(result.sha256, [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  ]);
  assert.deepEqual(result.ipv4, ["198.51.100.7", "203.0.113.9"]);
  assert.deepEqual(result.ipv6, ["2001:db8::1", "fe80::1ff:fe23:4567:890a"]);
  assert.deepEqual(result.mac_address, ["00:1a:2b:3c:4d:5e"]);
  assert.deepEqual(result.email, ["attacker@phish.co.uk", "ops@evil-domain.com"]);
  assert.deepEqual(result.url, [
    "http://evil-domain.com/path/Gate.php?id=1",
    "https://cdn.bad-site.ru:8443/x",
  ]);
  assert.deepEqual(result.domain, ["cdn.bad-site.ru", "evil-domain.com", "phish.co.uk"]);
  assert.equal(result.sha512, undefined);
});

Deno.test("iocextract accepts only IANA TLDs (file.exe, foo.notatld are not domains)", async () => {
  const result = await iocs(
    "see file.exe and foo.notatld and report.pdf, but also xn--80ak6aa92e.com",
  );
  assert.deepEqual(result, { domain: ["xn--80ak6aa92e.com"] });
});

Deno.test("iocextract drops allow-listed indicators from the file and the option", async () => {
  const result = await iocs(SAMPLE, {
    allowlist:
      "domain:.bad-site.ru, ipv4:203.0.113.0/24, ipv6:2001:db8::/32, md5:D41D8CD98F00B204E9800998ECF8427E",
  });
  assert.deepEqual(result.ipv4, ["198.51.100.7"]); // 127.0.0.1 by allowlist.txt
  assert.deepEqual(result.ipv6, ["fe80::1ff:fe23:4567:890a"]);
  assert.deepEqual(result.url, ["http://evil-domain.com/path/Gate.php?id=1"]);
  assert.deepEqual(result.domain, ["evil-domain.com", "phish.co.uk"]);
  assert.equal(result.md5, undefined);
});

Deno.test("iocextract returns no keys for text without indicators", async () => {
  assert.deepEqual(await iocs("nothing to see here, 12:30:45"), {});
});
