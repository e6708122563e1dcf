#!/usr/bin/env node
// The `knn-pipeline` bin: runs cli/knn-pipeline/main.ts from its esbuild bundle, rebuilt when a source changed
// (cli/launch.cjs; tsx compiles the source instead where esbuild is missing).
'use strict';
require('../launch.cjs').run('knn-pipeline');
