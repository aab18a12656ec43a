// `cargo xtask bench load`: time from script start to "the phone input is shown, focused and
// taking keys", ours against Auth0 Lock (npm auth0-lock bundled by build-lock.cjs: a measuring
// peer, never shipped), alternating, each run in a fresh browser context (cold cache), both
// served gzip-compressed from loopback, against the local tenant (Lock's client config and geo
// lookup come from it via configurationBaseUrl, its dictionary via languageBaseUrl).
//   LPW_TENANT_BIN LPW_BUNDLE_DIR LPW_LOCK_DIR LPW_SCRATCH LPW_CHROMIUM [LPW_RUNS=20]
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const zlib = require('node:zlib');
const { chromium } = require('playwright-core');

const env = (k) => { if (!process.env[k]) throw new Error(`${k} is not set; run cargo xtask bench load`); return process.env[k]; };
const RUNS = Number(process.env.LPW_RUNS || 20);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Ready: a visible phone input. Lock does not autofocus it, so the harness focuses it (both
// pages alike) and types a key, which must land.
function page(script, options) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>load</title>
<script>
window.__ready = new Promise(function (resolve) {
  var t0 = performance.now();
  (function poll() {
    var input = document.querySelector('input[type=tel]');
    if (input && input.offsetParent !== null) resolve(performance.now() - t0);
    else requestAnimationFrame(poll);
  })();
});
</script>
<script src="${script}"></script></head><body>
<script>
var lock = new Auth0LockPasswordless('bench-client', window.TENANT, ${options});
lock.show();
</script></body></html>`;
}

(async () => {
  const scratch = env('LPW_SCRATCH');
  const [tenantPort, webPort] = [await freePort(), await freePort()];
  const web = `http://127.0.0.1:${webPort}`;
  const tenant = `http://127.0.0.1:${tenantPort}`;
  const config = path.join(scratch, 'bench-load.toml');
  fs.rmSync(path.join(scratch, 'bench-load.db'), { force: true });
  fs.writeFileSync(config, `[tenant]\nname = "bench"\nissuer = "${tenant}"\ndatabase = "bench-load.db"\n\n[[clients]]\nclient_id = "bench-client"\nname = "Bench"\ncallbacks = ["${web}/"]\nweb_origins = ["${web}"]\n\n[sms]\nenabled_clients = ["bench-client"]\n`);
  const child = spawn(env('LPW_TENANT_BIN'), ['--config', config, '--listen', `127.0.0.1:${tenantPort}`], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(`${tenant}/.well-known/jwks.json`)).ok) break; } catch (_) { await new Promise((r) => setTimeout(r, 100)); }
  }
  const bundle = env('LPW_BUNDLE_DIR');
  const lockDir = env('LPW_LOCK_DIR');
  const lockVersion = fs.readdirSync(path.join(lockDir, 'js/lock'))[0];
  const common = `{ allowedConnections: ['sms'], auth: { redirectUrl: location.origin + '/' }`;
  const files = {
    '/ours.html': page('/lock-passwordless.js', `${common} }`),
    '/lock.html': page('/auth0-lock.js', `${common}, configurationBaseUrl: window.TENANT, languageBaseUrl: location.origin }`),
    '/lock-passwordless.js': fs.readFileSync(path.join(bundle, 'lock-passwordless.js')),
    '/lock_passwordless_js_bg.wasm': fs.readFileSync(path.join(bundle, 'lock_passwordless_js_bg.wasm')),
    '/auth0-lock.js': fs.readFileSync(path.join(lockDir, 'auth0-lock.js')),
    [`/js/lock/${lockVersion}/en.js`]: fs.readFileSync(path.join(lockDir, 'js/lock', lockVersion, 'en.js')),
  };
  for (const p of ['/ours.html', '/lock.html']) files[p] = Buffer.from(files[p].replace('<script>\nvar lock', `<script>window.TENANT = '${tenant}';</script>\n<script>\nvar lock`));
  const gz = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, zlib.gzipSync(v, { level: 9 })]));
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, web).pathname;
    if (!gz[p]) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { 'content-type': types[path.extname(p)], 'content-encoding': 'gzip', 'cache-control': 'no-store' });
    res.end(gz[p]);
  });
  await new Promise((r) => server.listen(webPort, '127.0.0.1', r));
  const browser = await chromium.launch({ executablePath: env('LPW_CHROMIUM'), args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
  const times = { ours: [], lock: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const which of ['ours', 'lock']) {
        const context = await browser.newContext();
        const tab = await context.newPage();
        await tab.goto(`${web}/${which}.html`);
        const ms = await Promise.race([
          tab.evaluate(() => window.__ready),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`${which}: no phone input within 20 s`)), 20000)),
        ]);
        // A functional check, not timed: the input must take keys (Lock may still be animating in).
        let took = false;
        for (let attempt = 0; attempt < 30 && !took; attempt++) {
          await tab.focus('input[type=tel]');
          await tab.keyboard.type('5');
          took = (await tab.inputValue('input[type=tel]')).includes('5');
          if (!took) await tab.waitForTimeout(100);
        }
        if (!took) throw new Error(`${which}: the phone input did not take a key`);
        times[which].push(ms);
        await context.close();
      }
    }
  } finally {
    await browser.close();
    child.kill();
    server.close();
  }
  const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
  const kb = (...names) => names.reduce((n, f) => n + gz[f].length, 0) / 1024;
  const ours = kb('/lock-passwordless.js', '/lock_passwordless_js_bg.wasm');
  const lock = kb('/auth0-lock.js', `/js/lock/${lockVersion}/en.js`);
  const row = (name, t, size) => console.log(`  ${name.padEnd(22)} median ${median(t).toFixed(1).padStart(7)} ms  (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)})  transfer ${size.toFixed(1)} KB gzip`);
  console.log(`bench load: ${RUNS} cold runs each, alternating, headless Chromium; script start -> phone input shown`);
  row('leptos-passwordless', times.ours, ours);
  row(`Auth0 Lock ${lockVersion}`, times.lock, lock);
  console.log(`  ratio (ours / Lock): time ${(median(times.ours) / median(times.lock)).toFixed(2)} (target <= 0.5), transfer ${(ours / lock).toFixed(2)} (target: ours <= 120 KB)`);
})().catch((e) => { console.error(e); process.exit(1); });
