#!/usr/bin/env node
// The `evidence` bin: runs the bundled CLI (evidence-bundle.cjs, beside this file) from V8's code
// cache. Node 20 has no module compile cache of its own, and compiling the bundle is the largest
// start-up cost a no-op run has left: with the cache, a no-op run of a 7-stage pipeline executes
// ~9 % fewer instructions (callgrind: 627 M → 569 M against 501 M for a bare `node -e 0`).
// The cache is written at exit when missing or refused (V8 refuses one made from other source, by
// another node or with other flags), and only beside the bundle: a cache in a shared temp folder
// could be planted by another user. Where the folder cannot be written, the bundle simply compiles.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const filename = path.join(__dirname, 'evidence-bundle.cjs');
const cacheFile = `${filename}.${process.version}.v8cache`;
const source = fs.readFileSync(filename, 'utf8');
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), {
  filename,
  cachedData,
});
// import() inside a script compiled this way has no loader in Node 20; the bundle's run-time ES
// modules (the built-in stages, script stages, chokidar) come through this one (src/import-module.ts).
globalThis[Symbol.for('evidence.import')] = (specifier) => import(specifier);
if (cachedData === undefined || script.cachedDataRejected) {
  // At exit, so that the functions this command compiled lazily are in the cache too.
  process.once('exit', () => {
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // Nothing was written.
      }
    }
  });
}
const bundle = new Module(filename, module);
bundle.filename = filename;
bundle.paths = Module._nodeModulePaths(__dirname);
const bundleRequire = (id) => bundle.require(id);
bundleRequire.resolve = (request, options) => Module._resolveFilename(request, bundle, false, options);
bundleRequire.cache = Module._cache;
bundleRequire.main = require.main;
script.runInThisContext()(bundle.exports, bundleRequire, bundle, filename, __dirname);
