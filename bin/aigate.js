#!/usr/bin/env node
// The `aigate` command: runs the bundle `npm run build` made (npm install runs it through `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('aigate: the CLI is not built yet; run `npm install` (or `npm run build`) in the AI Gate folder first\n');
  process.exit(1);
}
const { run } = await import(bundle);
await run();
