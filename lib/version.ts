/** The toolkit's version and runtime, recorded in every output file. @module */
import config from "../deno.json" with { type: "json" };

/** The toolkit version from deno.json. */
export const TOOLKIT_VERSION: string = config.version;

/** `"deno <version> (<os>-<arch>)"`. */
export function runtimeDescription(): string {
  return `deno ${Deno.version.deno} (${Deno.build.os}-${Deno.build.arch})`;
}
