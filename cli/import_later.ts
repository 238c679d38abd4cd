/**
 * `import()` of a module that only some runs need, e.g. `importLater<typeof import("./x.ts")>(new URL("./x.ts",
 * import.meta.url))`. The specifier is built at run time on purpose: Deno prepares the whole module graph behind
 * every literal `import("…")` as soon as the importing module loads, whether the import is taken or not.
 * @module
 */

/** Imports `url` when called (see the module comment); `T` is the module's type. */
export function importLater<T>(url: URL): Promise<T> {
  return import(url.href);
}
