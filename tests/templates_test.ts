/**
 * Templates (`-T NAME`): stoq's text layout, each plugin's own `templates/<NAME>.tpl`, HTML
 * autoescaping, and the CLI.
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Stoq, StoqError } from "../mod.ts";
import { TemplateRenderer } from "../core/templates.ts";
import type { StoqResponseJson } from "../core/schemas.ts";

const PLUGINS = fileURLToPath(new URL("./testdata/seed_plugins", import.meta.url));

async function scanned(): Promise<{ json: StoqResponseJson; dirs: Map<string, string> }> {
  const stoq = await Stoq.create({
    baseDir: PLUGINS,
    pluginDirList: [PLUGINS],
    logSinks: [],
    isolation: "none",
    alwaysDispatch: ["wa", "wb"],
  });
  try {
    const response = await stoq.scan("hello", {
      payloadMeta: { extraData: { filename: "<script>x</script>.txt", tlp: "green" } },
    });
    const dirs = new Map(
      Object.entries(stoq.listPlugins()).map(([name, p]) => [name, dirname(p.manifest)]),
    );
    return { json: response.toJSON(), dirs };
  } finally {
    await stoq.close();
  }
}

Deno.test("text template: payloads, each plugin through its own template or as key: value", async () => {
  const { json, dirs } = await scanned();
  const text = new TemplateRenderer("text", dirs).render(json);
  assert.match(text, new RegExp(`^scan ${json.scan_id}`));
  assert.match(text, /payload 1: <script>x<\/script>\.txt {2}\(5 bytes\)/);
  assert.match(text, /TLP: GREEN/);
  // wa has templates/text.tpl; wb has none.
  assert.match(text, /\[wa\]\n {4}wa saw 0 workers before it \(a big one\)/);
  assert.match(text, /\[wb\]\n {4}saw: \[\]/);
  // The JSON is untouched by rendering.
  assert.equal(json.results[0].payload_meta.extra_data.filename, "<script>x</script>.txt");
});

Deno.test("HTML templates are autoescaped, plugin templates included", async () => {
  const { json, dirs } = await scanned();
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/report.html.tpl`;
    await Deno.writeTextFile(
      file,
      "<h1>{{ results[0].payload_meta.extra_data.filename }}</h1>\n" +
        "{% for r in results %}{% for name, w in r.workers %}" +
        "{{ plugin_template(name, w, r) or '' }}{% endfor %}{% endfor %}\n",
    );
    const html = new TemplateRenderer(file, dirs).render(json);
    assert.match(html, /<h1>&lt;script&gt;x&lt;\/script&gt;\.txt<\/h1>/);
    // wa's report.html.tpl, escaped inside, not escaped twice.
    assert.match(html, /<li>wa on &lt;script&gt;x&lt;\/script&gt;\.txt<\/li>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an unknown template is a StoqError naming it", () => {
  assert.throws(
    () => new TemplateRenderer("no_such_template", new Map()),
    (err: Error) => err instanceof StoqError && /No template "no_such_template"/.test(err.message),
  );
});

Deno.test("stoq scan -T text prints through the template", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/sample.txt`, "hello");
    await Deno.writeTextFile(`${dir}/stoq.cfg`, "[core]\nplugin_dir_list = plugins\n");
    const cli = fileURLToPath(new URL("../cli.ts", import.meta.url));
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-remote",
        "--cached-only",
        cli,
        "scan",
        "--config-file",
        `${dir}/stoq.cfg`,
        "--plugin-dir",
        PLUGINS,
        "--always_dispatch",
        "wa",
        "-T",
        "text",
        `${dir}/sample.txt`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(text, /payload 1: sample\.txt {2}\(5 bytes\)\n {2}\[wa\]\n {4}wa saw 0 workers/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
