// The types of esbuild-plugins.js, which stays CommonJS because serverless-esbuild loads it from serverless.yml.
import type { Plugin } from 'esbuild';

declare const plugins: Plugin[];
export = plugins;
