/**
 * What a Lambda Node.js runtime gives a function besides its zip, for the bundle tests: only
 * the packages it provides for sure, copied into the unpacked task root's node_modules. A
 * bundle that needs any other package then fails to load there, as it would on Lambda.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './fixtures.ts';

interface PackageJson {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

/** Node's lookup of package `name` from directory `from`: the nearest node_modules that has it. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Copies `packages` and everything they depend on (as installed in this project) into
 * `taskRoot/node_modules`, keeping each package's place in the tree; returns the packages
 * copied, relative to node_modules.
 *
 * @throws Error when a package or one of its dependencies is not installed.
 */
export function provideRuntimePackages(taskRoot: string, packages: readonly string[]): string[] {
  const modules = join(ROOT, 'node_modules');
  const seen = new Set<string>();
  const walk = (name: string, from: string) => {
    const dir = packageDir(name, from);
    if (dir === undefined) throw new Error(`${name} (needed from ${from}) is not installed`);
    if (seen.has(dir)) return;
    seen.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }))
      if (packageDir(dep, dir) !== undefined || pkg.optionalDependencies?.[dep] === undefined)
        walk(dep, dir);
  };
  for (const name of packages) walk(name, ROOT);
  const copied = [...seen].map((dir) => relative(modules, dir)).sort();
  for (const rel of copied) {
    const to = join(taskRoot, 'node_modules', rel);
    if (existsSync(to)) continue; // inside a package copied before (its own node_modules)
    mkdirSync(dirname(to), { recursive: true });
    cpSync(join(modules, rel), to, { recursive: true, dereference: true });
  }
  return copied;
}

const BUILTIN = new Set(builtinModules);
/** An npm package name, optionally with a subpath: what a bare specifier can be. */
const PACKAGE_SPECIFIER = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(?:\/[\w./-]*)?$/i;

/**
 * The packages a bundle loads at run time: the bare specifiers of its static and dynamic
 * `import`s and of its `require()` calls (esbuild's `__require` too), less Node's own modules.
 * A `require("...")` or `import '...'` quoted inside a message (the AWS SDK's
 * "[require(...)] or [import ...]" hints) is not one.
 */
export function packagesLoadedBy(code: string): string[] {
  const found = new Set<string>();
  const patterns = [
    /\bfrom\s*["']([^"']+)["']/g,
    /(?<![\w$["'`])import\s*\(\s*["']([^"']+)["']\s*\)/g,
    /(?<![\w$["'`])import\s*["']([^"']+)["']/g,
    /(?<![\w$["'`])(?:__)?require\s*\(\s*["']([^"']+)["']\s*\)/g,
    // lib/aws's loader of the runtime's SDK clients (createRequire, on first use).
    /(?<![\w$["'`])runtimeRequire\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns)
    for (const m of code.matchAll(pattern)) {
      const specifier = m[1] ?? '';
      if (specifier.startsWith('node:') || !PACKAGE_SPECIFIER.test(specifier)) continue;
      const parts = specifier.split('/');
      const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
      if (!BUILTIN.has(name)) found.add(name);
    }
  return [...found].sort();
}

/**
 * The files of a bundle (scripts/build-options.cjs splits it into an entry and chunks): those
 * an import of `entry` reads (it and, transitively, the relative modules it imports
 * statically), and every file it can load (with the chunks `import()` brings in later).
 *
 * @throws Error when a relative import names a file that is not there (a chunk left out).
 */
export function bundleFiles(entry: string): { imported: string[]; all: string[] } {
  const reach = (withDynamic: boolean): string[] => {
    const seen = new Set<string>();
    const queue = [entry];
    for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
      if (seen.has(file)) continue;
      if (!existsSync(file)) throw new Error(`${file}, imported by the bundle, is missing`);
      seen.add(file);
      for (const m of readFileSync(file, 'utf8').matchAll(
        /(?<![\w$.])(?:from|import)\s*(\(?)\s*["'](\.{1,2}\/[^"']+)["']/g,
      ))
        if (withDynamic || m[1] !== '(') queue.push(resolve(dirname(file), m[2] ?? ''));
    }
    return [...seen].sort();
  };
  return { imported: reach(false), all: reach(true) };
}
