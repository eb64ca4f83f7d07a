// Bundles AI Gate with esbuild: the CLI and the tray's main process for Node/Electron, the popovers for the browser.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const common = { bundle: true, sourcemap: true, logLevel: 'warning', legalComments: 'none' };
const node = { ...common, platform: 'node', target: 'node20', format: 'esm', packages: 'external' };

const builds = [
  { ...node, entryPoints: { 'cli/main': 'src/cli/main.ts' }, outdir: 'dist' },
];
if (existsSync('src/tray/main.ts')) {
  builds.push({ ...node, entryPoints: { 'tray/main': 'src/tray/main.ts' }, outdir: 'dist', external: ['electron'] });
}
if (existsSync('src/tray/preload.ts')) {
  // Electron loads sandboxed preloads as CommonJS scripts.
  builds.push({ ...common, platform: 'node', format: 'cjs', target: 'node20', entryPoints: { 'tray/preload': 'src/tray/preload.ts' }, outdir: 'dist', outExtension: { '.js': '.cjs' }, external: ['electron'] });
}
if (existsSync('src/windows/index.tsx')) {
  builds.push({
    ...common,
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    entryPoints: { 'windows/app': 'src/windows/index.tsx' },
    outdir: 'dist',
    minify: true,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.css': 'css' },
  });
}

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
// The popovers' shell goes beside app.js and app.css, where the gateway serves them from (and the packaged app has them).
if (existsSync('src/windows/index.html')) {
  mkdirSync('dist/windows', { recursive: true });
  copyFileSync('src/windows/index.html', 'dist/windows/index.html');
}
