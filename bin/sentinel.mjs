#!/usr/bin/env node
// The `sentinel` command: the bundle of the TypeScript sources in dist/ (rebuilt by bin/build.mjs when
// a source is newer), or the sources through tsx when no bundle can be written.
import { bundlePath } from './build.mjs';

const bundle = bundlePath('sentinel');
let cli;
if (bundle) {
  cli = await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../runner/cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
