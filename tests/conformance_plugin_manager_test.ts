/**
 * Conformance with stoQ v3, plugin manager and configuration: discovery, listing, loading, plugin
 * options and their precedence, and the quirks stoq fixes there (spec §g 70-87; §i 16, 18).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { PluginError, PluginNotFoundError, Stoq } from "../mod.ts";
import {
  captureSink,
  CONTENT,
  INVALID_PLUGINS,
  PLUGINS,
  PLUGINS2,
  reset,
  withStoq,
} from "./_conformance.ts";
import { setups as connectorSetups } from "./testdata/plugins/connector/dummy_connector/mod.ts";

const TEST_PLUGINS = [
  "conditional_dispatcher",
  "configurable_worker",
  "dummy_archiver",
  "dummy_connector",
  "dummy_decorator",
  "dummy_dispatcher",
  "dummy_provider",
  "dummy_worker",
  "extract_payload",
  "failing_connector",
  "multiclass_plugin",
  "request_provider",
  "simple_archiver",
  "simple_decorator",
  "simple_dispatcher",
  "simple_provider",
  "simple_provider2",
  "simple_worker",
];
const DUMMY_PLUGINS = [
  "dummy_archiver",
  "dummy_connector",
  "dummy_provider",
  "dummy_worker",
  "dummy_decorator",
];

/** The options configurable_worker reports after one scan. */
async function configurableOptions(stoq: Stoq): Promise<Record<string, unknown>> {
  const response = await stoq.scan(CONTENT, { addStartDispatch: ["configurable_worker"] });
  assert.deepEqual(response.errors, []);
  return (response.results[0].workers.configurable_worker as { options: Record<string, unknown> })
    .options;
}

/** Run `body` with a temporary directory, removed afterwards. */
async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("listPlugins() with an empty plugin directory list is empty", async () => {
  await withStoq({ pluginDirList: [] }, (stoq) => {
    assert.deepEqual(stoq.listPlugins(), {});
  });
});

Deno.test("listPlugins() finds every test plugin without loading any", async () => {
  reset(connectorSetups);
  await withStoq({ pluginDirList: [PLUGINS] }, (stoq) => {
    const listed = stoq.listPlugins();
    assert.deepEqual(Object.keys(listed), TEST_PLUGINS);
    for (const name of DUMMY_PLUGINS) assert.ok(name in listed, name);
    assert.deepEqual(connectorSetups, []);
  });
});

Deno.test("listPlugins() reports kinds, version and description from the manifest", async () => {
  await withStoq({ pluginDirList: [PLUGINS, INVALID_PLUGINS] }, (stoq) => {
    const listed = stoq.listPlugins();
    assert.deepEqual(listed.simple_worker, {
      kinds: ["worker"],
      version: "3.0.0",
      description: "Simple worker: extracts one payload",
      manifest: join(PLUGINS, "worker", "simple_worker", "simple_worker.stoq"),
      isolation: "none",
      permissions: {
        read: [join(PLUGINS, "worker", "simple_worker")],
        write: [],
        net: [],
        env: [],
        run: [],
        ffi: [],
        sys: [],
      },
    });
    assert.deepEqual(listed.multiclass_plugin.kinds, ["worker", "dispatcher"]);
    // No Kinds in the manifest: stoq does not guess from the source.
    assert.deepEqual(listed.missing_config_objects.kinds, ["UNKNOWN"]);
    assert.equal(listed.missing_config_objects.version, "");
    assert.equal(listed.missing_config_objects.description, "");
  });
});

Deno.test("loadPlugin() exposes the plugin's name and its [Documentation]", async () => {
  await withStoq({}, async (stoq) => {
    const plugin = await stoq.loadPlugin("simple_worker");
    assert.equal(plugin.name, "simple_worker");
    assert.deepEqual(plugin.doc, {
      author: "stoq conformance tests",
      version: "3.0.0",
      website: "https://github.com/PUNCH-Cyber/stoq",
      description: "Simple worker: extracts one payload",
    });
  });
});

Deno.test("loadPlugin() gives empty documentation fields to a manifest with only [Core]", async () => {
  await withStoq({ pluginDirList: [INVALID_PLUGINS] }, async (stoq) => {
    const plugin = await stoq.loadPlugin("missing_config_objects");
    assert.equal(plugin.name, "missing_config_objects");
    assert.deepEqual(plugin.doc, { author: "", version: "", website: "", description: "" });
    assert.deepEqual(plugin.kinds, ["worker"]);
  });
});

Deno.test("listPlugins() finds the plugins of every directory", async () => {
  await withStoq({ pluginDirList: [PLUGINS, PLUGINS2] }, (stoq) => {
    assert.deepEqual(Object.keys(stoq.listPlugins()), [...TEST_PLUGINS, "dummy_worker2"].sort());
  });
});

Deno.test("Stoq.create() skips a plugin directory that does not exist, with a warning", async () => {
  await withStoq({ pluginDirList: [PLUGINS, "/no/way/this/exists"] }, (stoq, { lines }) => {
    assert.deepEqual(Object.keys(stoq.listPlugins()), TEST_PLUGINS);
    assert.deepEqual(lines, [
      'WARNING:stoq:Plugin directory "/no/way/this/exists" is not a directory, skipping it',
    ]);
  });
});

Deno.test("listPlugins() leaves out a broken manifest and a manifest whose module is missing, with warnings", async () => {
  await withStoq({ pluginDirList: [INVALID_PLUGINS] }, (stoq, { lines }) => {
    assert.deepEqual(Object.keys(stoq.listPlugins()), [
      "incompatible_min_stoq_version",
      "mismatched_kinds",
      "missing_config_objects",
      "missing_plugin",
    ]);
    const warnings = lines.filter((line) => line.startsWith("WARNING:stoq:"));
    assert.equal(warnings.length, 2);
    assert.ok(
      warnings.some((line) => /invalid_config\.stoq" line 4: expected "key = value"/.test(line)),
      warnings.join("\n"),
    );
    assert.ok(
      warnings.some((line) => /missing_module\.stoq": module "mod" not found/.test(line)),
      warnings.join("\n"),
    );
  });
});

Deno.test("loadPlugin() loads every dummy plugin with the kinds it implements", async () => {
  await withStoq({}, async (stoq) => {
    const kinds: Record<string, readonly string[]> = {};
    for (const name of DUMMY_PLUGINS) kinds[name] = (await stoq.loadPlugin(name)).kinds;
    assert.deepEqual(kinds, {
      dummy_archiver: ["archiver"],
      dummy_connector: ["connector"],
      dummy_provider: ["provider"],
      dummy_worker: ["worker"],
      dummy_decorator: ["decorator"],
    });
  });
});

Deno.test("loadPlugin() of an unknown name rejects with PluginNotFoundError", async () => {
  await withStoq({}, async (stoq) => {
    await assert.rejects(stoq.loadPlugin("this_plugin_does_not_exist"), (err: Error) => {
      assert.ok(err instanceof PluginNotFoundError);
      assert.equal(
        err.message,
        'The plugin "this_plugin_does_not_exist" is invalid or does not exist in your plugin path',
      );
      return true;
    });
  });
});

Deno.test("loadPlugin() rejects a listed module that has no definePlugin() default export", async () => {
  await withStoq({ pluginDirList: [INVALID_PLUGINS] }, async (stoq) => {
    assert.ok("missing_plugin" in stoq.listPlugins());
    await assert.rejects(stoq.loadPlugin("missing_plugin"), (err: Error) => {
      assert.ok(err instanceof PluginError);
      assert.match(
        err.message,
        /^Cannot load plugin "missing_plugin": ".*missing_plugin\/mod\.ts" has no default export made with definePlugin\(\)$/,
      );
      return true;
    });
  });
});

Deno.test("loadPlugin() rejects a listed module that does not implement the kinds its manifest declares", async () => {
  await withStoq({ pluginDirList: [INVALID_PLUGINS] }, async (stoq) => {
    assert.ok("mismatched_kinds" in stoq.listPlugins());
    await assert.rejects(stoq.loadPlugin("mismatched_kinds"), (err: Error) => {
      assert.ok(err instanceof PluginError);
      assert.equal(
        err.message,
        'Cannot load plugin "mismatched_kinds": its manifest declares kinds "worker" but the module implements "dispatcher"',
      );
      return true;
    });
  });
});

Deno.test("loadPlugin() returns the same handle again and sets the plugin up once", async () => {
  reset(connectorSetups);
  await withStoq({}, async (stoq) => {
    const first = await stoq.loadPlugin("dummy_connector");
    const second = await stoq.loadPlugin(" dummy_connector ");
    assert.equal(first, second);
    assert.equal(connectorSetups.length, 1);
  });
});

Deno.test("loadPlugin() gives a plugin the [options] of its manifest, JSON values parsed", async () => {
  await withTempDir(async (dir) => {
    // No stoq.cfg in this base dir: the manifest's values are the ones that count.
    await withStoq({ baseDir: dir, pluginDirList: [PLUGINS] }, async (stoq) => {
      const options = await configurableOptions(stoq);
      assert.equal(options.important_option, "cybercybercyber");
      assert.equal(options.worker_test_option_str, "Manifest Testy McTest Face");
      assert.deepEqual(options.json_list, ["first", "second"]);
      assert.deepEqual(options.json_dict, {
        key: "value",
        "it's": "a single quote",
        'say "hi"': "a double quote",
      });
      assert.deepEqual(options.missing_json, {});
    });
  });
});

Deno.test("loadPlugin() rejects invalid JSON in an option, naming the plugin, the option and where it was set", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "stoq.cfg"), "[configurable_worker]\njson_list = [broken\n");
    await withStoq({ baseDir: dir, pluginDirList: [PLUGINS] }, async (stoq) => {
      await assert.rejects(stoq.loadPlugin("configurable_worker"), (err: Error) => {
        assert.ok(err instanceof PluginError);
        assert.match(
          err.message,
          /^Invalid option "json_list" for plugin "configurable_worker" \(.*stoq\.cfg.* line 2\): /,
        );
        return true;
      });
    });
  });
  await withStoq(
    { pluginOpts: { configurable_worker: { json_dict: "{not json" } } },
    async (stoq) => {
      await assert.rejects(stoq.loadPlugin("configurable_worker"), (err: Error) => {
        assert.ok(err instanceof PluginError);
        assert.match(
          err.message,
          /^Invalid option "json_dict" for plugin "configurable_worker" \(plugin_opts\): .*, got "\{not json"$/,
        );
        return true;
      });
    },
  );
});

Deno.test("loadPlugin() applies pluginOpts, typed by the plugin's schema", async () => {
  for (const value of [16, "16"]) {
    await withStoq({
      pluginOpts: {
        configurable_worker: {
          crazy_runtime_option: value,
          json_dict: '{"a": [1, 2], "b\'s": "c"}',
        },
      },
    }, async (stoq) => {
      const options = await configurableOptions(stoq);
      assert.equal(options.crazy_runtime_option, 16);
      assert.deepEqual(options.json_dict, { a: [1, 2], "b's": "c" });
    });
  }
});

Deno.test("loadPlugin() rejects an option the plugin does not have", async () => {
  await withStoq({ pluginOpts: { dummy_connector: { no_such_option: true } } }, async (stoq) => {
    await assert.rejects(stoq.loadPlugin("dummy_connector"), (err: Error) => {
      assert.ok(err instanceof PluginError);
      assert.match(
        err.message,
        /^Unknown option "no_such_option" for plugin "dummy_connector" \(plugin_opts\): known options are /,
      );
      return true;
    });
  });
});

Deno.test("loadPlugin() gives a plugin its stoq.cfg section, with case-insensitive option names", async () => {
  reset(connectorSetups);
  await withStoq({}, async (stoq) => {
    const options = await configurableOptions(stoq);
    assert.equal(options.worker_test_option_bool, true);
    assert.equal(options.worker_test_option_str, "Worker Testy McTest Face");
    assert.equal(options.worker_test_option_int, 10);
    // Not overridden by stoq.cfg: still the manifest's.
    assert.equal(options.important_option, "cybercybercyber");
    await stoq.loadPlugin("dummy_connector");
    assert.deepEqual(connectorSetups, [{
      raise_exception: false,
      connector_test_option_bool: false,
      connector_test_option_str: "Connector Testy McTest Face",
      connector_test_option_int: 5,
    }]);
  });
});

Deno.test("loadPlugin() lets pluginOpts win over stoq.cfg", async () => {
  await withStoq({
    pluginOpts: {
      configurable_worker: {
        worker_test_option_bool: false,
        worker_test_option_str: "Test string",
        worker_test_option_int: 20,
      },
    },
  }, async (stoq) => {
    const options = await configurableOptions(stoq);
    assert.equal(options.worker_test_option_bool, false);
    assert.equal(options.worker_test_option_str, "Test string");
    assert.equal(options.worker_test_option_int, 20);
  });
});

Deno.test("loadPlugin() keeps a bare % in an option value and expands %% and %(name)s", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "stoq.cfg"),
      "[configurable_worker]\nworker_test_option_str = 100% sure\nimportant_option = %(worker_test_option_str)s, 50%% off\n",
    );
    await withStoq({ baseDir: dir, pluginDirList: [PLUGINS] }, async (stoq) => {
      const options = await configurableOptions(stoq);
      assert.equal(options.worker_test_option_str, "100% sure");
      assert.equal(options.important_option, "100% sure, 50% off");
    });
  });
  await withStoq(
    { pluginOpts: { configurable_worker: { worker_test_option_str: "100%" } } },
    async (stoq) => {
      assert.equal((await configurableOptions(stoq)).worker_test_option_str, "100%");
    },
  );
});

Deno.test("loadPlugin() reads required_workers from a manifest's [options]", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "needs_dummy.stoq"),
      [
        "[Core]",
        "Name = needs_dummy",
        `Module = ${join(PLUGINS, "worker", "simple_worker", "mod.ts")}`,
        "Kinds = worker",
        "",
        "[options]",
        "required_workers = dummy_worker",
        "extracted_payload = from needs_dummy",
        "",
      ].join("\n"),
    );
    await withStoq({ pluginDirList: [PLUGINS, dir] }, async (stoq) => {
      assert.deepEqual([...(await stoq.loadPlugin("needs_dummy")).requiredWorkers], [
        "dummy_worker",
      ]);
      const response = await stoq.scan(CONTENT, { addStartDispatch: ["needs_dummy"] });
      assert.deepEqual(response.results[0].pluginsRun.workers, ["dummy_worker", "needs_dummy"]);
      assert.equal(response.results[1].size, "from needs_dummy".length);
    });
  });
});

Deno.test("loadPlugin() warns about a too-high min_stoq_version and loads the plugin anyway", async () => {
  await withStoq({ pluginDirList: [INVALID_PLUGINS] }, async (stoq, { lines }) => {
    const plugin = await stoq.loadPlugin("incompatible_min_stoq_version");
    assert.deepEqual(plugin.kinds, ["worker"]);
    assert.deepEqual(lines.filter((line) => line.includes("min_stoq_version")), [
      `WARNING:stoq:Plugin "incompatible_min_stoq_version" wants stoq 9999.9999 or later (min_stoq_version), this is stoq ${Stoq.version}: it may not work as expected`,
    ]);
    const response = await stoq.scan(CONTENT, {
      addStartDispatch: ["incompatible_min_stoq_version"],
    });
    assert.deepEqual(response.results[0].pluginsRun.workers, ["incompatible_min_stoq_version"]);
  });
});

Deno.test("Stoq.create() takes a plugin name found in several directories from the last one", async () => {
  await withStoq({ pluginDirList: [PLUGINS, PLUGINS2] }, async (stoq) => {
    const worker = await stoq.loadPlugin("dummy_worker");
    assert.equal(
      worker.entry.manifest,
      join(PLUGINS2, "worker", "dummy_worker", "dummy_worker.stoq"),
    );
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["dummy_worker"] });
    assert.deepEqual(response.results[0].workers, { dummy_worker: { plugins2_dup_marker: true } });
  });
  await withStoq({ pluginDirList: [PLUGINS2, PLUGINS] }, async (stoq) => {
    const worker = await stoq.loadPlugin("dummy_worker");
    assert.equal(
      worker.entry.manifest,
      join(PLUGINS, "worker", "dummy_worker", "dummy_worker.stoq"),
    );
    const response = await stoq.scan(CONTENT, { addStartDispatch: ["dummy_worker"] });
    assert.deepEqual(response.results[0].workers, {});
    assert.ok("dummy_worker2" in stoq.listPlugins());
  });
});

Deno.test("Stoq.create() reads plugin_dir_list from stoq.cfg relative to the file", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(
      join(dir, "stoq.cfg"),
      `[core]\nplugin_dir_list = ${PLUGINS2}, ./nothing-here\n`,
    );
    const lines: string[] = [];
    const stoq = await Stoq.create({ baseDir: dir, logSinks: [captureSink(lines)] });
    try {
      assert.deepEqual(stoq.pluginDirList, [PLUGINS2, join(dir, "nothing-here")]);
      assert.deepEqual(Object.keys(stoq.listPlugins()), ["dummy_worker", "dummy_worker2"]);
      assert.equal(lines.length, 1);
    } finally {
      await stoq.close();
    }
  });
});
