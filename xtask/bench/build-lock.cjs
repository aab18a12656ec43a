// Bundles npm auth0-lock's Auth0LockPasswordless with esbuild (a measuring peer, never shipped),
// and writes its English dictionary in the CDN's format so the page needs no network.
//   node build-lock.cjs <peer node_modules> <out dir>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const [modules, out] = process.argv.slice(2);
const esbuild = require(path.join(modules, 'esbuild'));
fs.mkdirSync(out, { recursive: true });
const entry = path.join(out, 'entry.js');
fs.writeFileSync(entry, "import { Auth0LockPasswordless } from 'auth0-lock';\nwindow.Auth0LockPasswordless = Auth0LockPasswordless;\n");
const shim = (file) => () => ({ path: path.join(__dirname, file) });
esbuild.build({
  entryPoints: [entry], bundle: true, minify: true, format: 'iife', outfile: path.join(out, 'auth0-lock.js'),
  nodePaths: [modules], logLevel: 'error',
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  plugins: [{
    name: 'auth0-js-umd',
    setup(b) {
      b.onResolve({ filter: /^auth0-js$/ }, (a) => (a.importer.endsWith('auth0-js-shim.cjs') ? undefined : shim('auth0-js-shim.cjs')()));
      b.onResolve({ filter: /^auth0-js\/dist\/cordova-auth0-plugin\.min\.js$/ }, (a) => (a.importer.endsWith('cordova-shim.cjs') ? undefined : shim('cordova-shim.cjs')()));
    },
  }],
}).then(() => {
  const en = require(path.join(modules, 'auth0-lock/lib/i18n/en.js'));
  const version = require(path.join(modules, 'auth0-lock/package.json')).version;
  const dir = path.join(out, 'js/lock', version);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'en.js'), `Auth0.registerLanguageDictionary('en', ${JSON.stringify(en.default || en)});`);
}).catch((e) => { console.error(e); process.exit(1); });
