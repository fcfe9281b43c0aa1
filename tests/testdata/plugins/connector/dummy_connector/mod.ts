/**
 * dummy_connector: records every response it saves (as JSON) and the options it was loaded with.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin, type StoqResponse } from "../../../../../plugin_api.ts";

const Options = z.object({
  raise_exception: z.boolean().default(false),
  connector_test_option_bool: z.boolean().default(true),
  connector_test_option_str: z.string().default(""),
  connector_test_option_int: z.number().int().default(0),
});

/** The options of each load, in load order. */
export const setups: z.output<typeof Options>[] = [];
/** Every saved response, in save order. */
export const saves: ReturnType<StoqResponse["toJSON"]>[] = [];

/** The dummy_connector test plugin. */
export default definePlugin({
  options: Options,
  setup({ options }) {
    setups.push(structuredClone(options));
    return {
      save: function dummySave(response) {
        if (options.raise_exception) throw new Error("Unexpected exception");
        saves.push(response.toJSON());
      },
    };
  },
});
