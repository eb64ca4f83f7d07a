// `node --import ./spec/electron-stub/register.mjs dist/tray/main.js`: every `electron`, whether
// imported (the tray, electron-store) or required (menubar, electron-positioner), is the stub.
import Module, { register } from 'node:module';

const stub = new URL('./electron.cjs', import.meta.url);
register('data:text/javascript,' + encodeURIComponent(`export async function resolve(specifier, context, next) {
  return specifier === 'electron' ? { url: ${JSON.stringify(stub.href)}, shortCircuit: true } : next(specifier, context);
}`));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === 'electron' ? new URL(stub).pathname : resolveFilename.call(this, request, ...rest);
};
