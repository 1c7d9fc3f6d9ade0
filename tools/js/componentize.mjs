// Builds a Premia JavaScript plugin into a WebAssembly component with
// componentize-js, with every WASI feature disabled (no clock, randomness,
// stdio or network: the component imports only the Premia host interface).
//
//   node tools/js/componentize.mjs <source.js> <wit-dir> <world> <out.wasm>
import { componentize } from '@bytecodealliance/componentize-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

const [source, witDir, world, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: node componentize.mjs <source.js> <wit-dir> <world> <out.wasm>');
  process.exit(2);
}
try {
  const { component } = await componentize({
    sourcePath: resolve(source),
    witPath: resolve(witDir),
    worldName: world,
    disableFeatures: ['stdio', 'random', 'clocks', 'http', 'fetch-event'],
  });
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(resolve(out), component);
} catch (error) {
  console.error(`componentize-js failed for ${source}: ${error?.stack ?? error}`);
  process.exit(1);
}
