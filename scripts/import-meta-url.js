// Injected into the CommonJS bundles by scripts/build-options.cjs (esbuild `inject`, `define`):
// `import.meta.url` there is the bundle's own file URL, as in ESM; esbuild would leave it empty.
/* global require, __filename */
export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;
