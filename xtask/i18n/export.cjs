// Writes i18n/<lang>.json from npm auth0-lock's dictionaries (lib/i18n/*.js), flattened to the
// dotted keys the widget uses, so an existing `languageDictionary` and Lock's translations carry
// over. Run by `cargo xtask i18n`; the JSON files are committed.
//   node export.cjs <peer node_modules> <out dir> <keys.json> [extra.json]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const [modules, out, keysFile, extraFile] = process.argv.slice(2);
const keys = new Set(JSON.parse(fs.readFileSync(keysFile, 'utf8')));
// Our translations of the labels Lock has no key for (country, back, close, countdowns, …);
// Lock's own text wins wherever it has the key.
const extra = extraFile ? JSON.parse(fs.readFileSync(extraFile, 'utf8')) : {};
const dir = path.resolve(modules, 'auth0-lock/lib/i18n');
fs.mkdirSync(out, { recursive: true });
const langs = [];
for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
  const lang = file.replace(/\.js$/, '');
  const mod = require(path.join(dir, file));
  const flat = {};
  (function walk(node, prefix) {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object') walk(v, key);
      else if (typeof v === 'string' && keys.has(key)) flat[key] = v;
    }
  })(mod.default || mod, '');
  for (const [key, text] of Object.entries(extra[lang] || {})) if (!(key in flat)) flat[key] = text;
  fs.writeFileSync(path.join(out, `${lang}.json`), JSON.stringify(flat, Object.keys(flat).sort(), 1) + '\n');
  langs.push(lang);
}
console.log(`i18n: ${langs.length} languages (${langs.join(' ')}) -> ${out}`);
