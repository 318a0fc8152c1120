import Module from 'node:module';

const CORE_MODULE = '@azure/functions-core';

/**
 * Makes `require('@azure/functions-core')` return `coreModule`, as the real worker does. Only CommonJS
 * `require` is intercepted (the @azure/functions library is CommonJS). Must run before any function file
 * is loaded, or the library switches to its test mode for good.
 */
export function installCoreModule(coreModule: unknown): () => void {
  const mod = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const original = mod._load;
  mod._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === CORE_MODULE) return coreModule;
    return original.call(this, request, parent, isMain);
  };
  return () => {
    mod._load = original;
  };
}
