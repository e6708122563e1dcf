#!/usr/bin/env node
// The `knn-pipeline` bin: runs the TypeScript source directly (tsx, a pinned dependency, compiles it on load).
'use strict';
const path = require('node:path');
require('tsx/cjs/api').register();
require(path.join(__dirname, 'main.ts')).main(process.argv.slice(2));
