/**
 * Jest (on Node below 24.9) cannot require an ES module, and NestJS 12 ships only ES modules. For
 * the NestJS 12 pass, this compiles those packages' files to CommonJS as Jest loads them: the
 * TypeScript compiler rewrites import/export, and the few uses of import.meta become their
 * CommonJS equivalents. Our own code and the packages that are CommonJS already are untouched.
 */
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const ts = require('typescript');

/** Output depends on this file and the compiler too: either changing invalidates Jest's cache. */
const VERSION = createHash('sha1')
  .update(readFileSync(__filename))
  .update(ts.version)
  .digest('hex');

const IMPORT_META = [
  // a module's own require: Jest's, so that it resolves through Jest's registry like every other
  [/^\s*const require = createRequire\(import\.meta\.url\);?\s*$/gm, ''],
  [/import\.meta\.url/g, "require('node:url').pathToFileURL(__filename).href"],
  [/import\.meta\.resolve\(/g, 'require.resolve('],
  [/import\.meta\.dirname/g, '__dirname'],
  [/import\.meta\.filename/g, '__filename'],
];

module.exports = {
  getCacheKey(source, path) {
    return createHash('sha1')
      .update(VERSION)
      .update(path)
      .update('\0')
      .update(source)
      .digest('hex');
  },
  process(source, path) {
    const text = IMPORT_META.reduce(
      (code, [pattern, replacement]) => code.replace(pattern, replacement),
      source,
    );
    const { outputText } = ts.transpileModule(text, {
      fileName: path,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        allowJs: true,
        sourceMap: false,
      },
    });
    return { code: outputText };
  },
};
