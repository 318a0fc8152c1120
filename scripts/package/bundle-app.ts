import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { PackageError, type PackageFile } from './package-contents.js';

/** The worker provides it at run time (`require('@azure/functions-core')`); it is on no registry. */
const PROVIDED_BY_WORKER = ['@azure/functions-core'];

/**
 * Each output file is an ES module, but the CommonJS code bundled into it (the @azure/functions library, the
 * OpenTelemetry packages) calls `require` for Node's modules and for @azure/functions-core: a real `require`,
 * through Node's module loader, where the worker (and the local host) answer for @azure/functions-core.
 */
export const REQUIRE_BANNER = "import { createRequire as __packageCreateRequire } from 'node:module'; const require = __packageCreateRequire(import.meta.url);";

export interface BundleOptions {
  /** The repository, built: dist/functions/*.js are the entry points (package.json `main`). */
  readonly root: string;
  /** An empty folder to write into (emptied first): `dist/functions/*.js` and `dist/chunks/*.js`. */
  readonly outDir: string;
}

const toPosix = (path: string) => path.split(sep).join(posix.sep);

/**
 * Bundles the built app with its production dependencies (Azure Monitor's distro included, loaded only when
 * Application Insights is configured): one ES module per dist/functions/*.js, the code they share in
 * dist/chunks/, outside the folder package.json `main` names, so that the host imports the function files only.
 * No source maps: none are shipped.
 */
export async function bundleApp(options: BundleOptions): Promise<PackageFile[]> {
  const functionsDir = join(options.root, 'dist', 'functions');
  if (!existsSync(functionsDir)) throw new PackageError('dist/functions is missing: run npm run build first');
  const entryPoints = readdirSync(functionsDir)
    .filter((name) => name.endsWith('.js'))
    .map((name) => join(functionsDir, name));
  if (entryPoints.length === 0) throw new PackageError('dist/functions has no function file: run npm run build first');
  rmSync(options.outDir, { recursive: true, force: true });
  let metafile: Metafile;
  try {
    ({ metafile } = await build({
      absWorkingDir: options.root,
      entryPoints,
      outdir: join(options.outDir, 'dist'),
      entryNames: 'functions/[name]',
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      // A package without an exports map that has an ES module build (`module`: @peculiar/x509 and its asn1
      // packages, tsyringe, OpenTelemetry's) is bundled from it rather than from its CommonJS build: tree-shaken,
      // and loaded without CommonJS wrappers (0.8 MB less, and measured faster to import).
      mainFields: ['module', 'main'],
      external: PROVIDED_BY_WORKER,
      banner: { js: REQUIRE_BANNER },
      // Minified, it loads a little faster than not (its source is compiled on every cold start) and zips to 1.3
      // MB rather than 1.8; keepNames keeps function and class names in stack traces.
      minify: true,
      keepNames: true,
      sourcemap: false,
      metafile: true,
      logLevel: 'silent',
    }));
  } catch (e) {
    const errors = (e as { errors?: { text: string }[] }).errors;
    throw new PackageError(`bundling failed: ${errors ? errors.map((x) => x.text).join('; ') : (e as Error).message}`);
  }
  return Object.keys(metafile.outputs).map((output) => {
    const source = join(options.root, output);
    return { source, path: toPosix(relative(options.outDir, source)) };
  });
}
