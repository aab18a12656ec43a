// `cargo xtask bench load`: time from navigation start to "the phone input is shown and takes a
// key", ours against Auth0 Lock (npm auth0-lock bundled by build-lock.cjs: a measuring peer,
// never shipped), alternating, each run in a fresh browser context (cold cache), against the
// local tenant (Lock's client config and geo lookup come from it via configurationBaseUrl, its
// dictionary via languageBaseUrl). Two profiles, both served compressed as a CDN serves them
// (brotli to a browser that asks for it, else gzip):
//   loopback  no throttling;
//   mobile    Lighthouse's mobile profile through the DevTools protocol: 150 ms round trip,
//             1.6 Mbps down, 750 kbps up, CPU 4x slower.
//   LPW_TENANT_BIN LPW_BUNDLE_DIR LPW_LOCK_DIR LPW_SCRATCH LPW_CHROMIUM [LPW_RUNS=20]
//   [LPW_MOBILE_RUNS=8]
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
const MOBILE_RUNS = Number(process.env.LPW_MOBILE_RUNS || 8);
const PROFILES = [
  { name: 'loopback', runs: RUNS, network: null, cpu: 1 },
  { name: 'mobile', runs: MOBILE_RUNS, cpu: 4,
    network: { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 } },
];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// Ready: a visible phone input. Lock does not autofocus it, so the harness focuses it (both
// pages alike) and types a key, which must land. Ours first shows the screen its loader draws
// before the wasm (`.lpw-early`), which takes keys and hands them to the widget; the time to the
// widget's own input (wasm loaded and running, `__live`) is measured too. For Lock both are one.
function page(script, options) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>load</title>
<script>
function __visible(drawnToo) {
  return new Promise(function (resolve) {
    (function poll() {
      var found = [].some.call(document.querySelectorAll('input[type=tel]'), function (input) {
        return input.offsetParent !== null && (drawnToo || !input.closest('.lpw-early'));
      });
      // performance.now() counts from navigation start: the page, the script and the wasm.
      if (found) resolve(performance.now());
      else requestAnimationFrame(poll);
    })();
  });
}
window.__ready = __visible(true);
window.__live = __visible(false);
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
  // The phone tables, a calling code's part at a time, fetched from the first screen on (the
  // largest, the US's, is counted in the whole-login transfer below).
  for (const name of fs.readdirSync(path.join(bundle, 'phone-tables'))) {
    files[`/phone-tables/${name}`] = fs.readFileSync(path.join(bundle, 'phone-tables', name));
  }
  for (const p of ['/ours.html', '/lock.html']) files[p] = Buffer.from(files[p].replace('<script>\nvar lock', `<script>window.TENANT = '${tenant}';</script>\n<script>\nvar lock`));
  const gz = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, zlib.gzipSync(v, { level: 9 })]));
  const br = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, zlib.brotliCompressSync(v, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: v.length } })]));
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.txt': 'text/plain' };
  const server = http.createServer((req, res) => {
    const p = new URL(req.url, web).pathname;
    if (!gz[p]) { res.writeHead(404); return res.end(); }
    const brotli = /\bbr\b/.test(req.headers['accept-encoding'] || '');
    res.writeHead(200, { 'content-type': types[path.extname(p)], 'content-encoding': brotli ? 'br' : 'gzip',
      'cache-control': 'no-store', vary: 'accept-encoding' });
    res.end(brotli ? br[p] : gz[p]);
  });
  await new Promise((r) => server.listen(webPort, '127.0.0.1', r));
  const browser = await chromium.launch({ executablePath: env('LPW_CHROMIUM'), args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
  const results = [];
  const pageErrors = [];
  try {
    for (const profile of PROFILES) {
      const times = { ours: [], lock: [], oursLive: [], lockLive: [] };
      for (let i = 0; i < profile.runs; i++) {
        for (const which of ['ours', 'lock']) {
          const context = await browser.newContext();
          const tab = await context.newPage();
          tab.on('pageerror', (e) => pageErrors.push(`${which}: ${e.message}`));
          if (profile.network) {
            const cdp = await context.newCDPSession(tab);
            await cdp.send('Network.enable');
            await cdp.send('Network.emulateNetworkConditions', profile.network);
            await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpu });
          }
          await tab.goto(`${web}/${which}.html`);
          const ms = await Promise.race([
            tab.evaluate(() => window.__ready),
            new Promise((_, reject) => setTimeout(() => reject(new Error(`${which}: no phone input within 60 s`)), 60000)),
          ]);
          const live = await tab.evaluate(() => window.__live);
          // A functional check, not timed: the input must take keys (Lock may still be animating in).
          let took = false;
          for (let attempt = 0; attempt < 50 && !took; attempt++) {
            await tab.focus('input[type=tel]');
            await tab.keyboard.type('5');
            took = (await tab.inputValue('input[type=tel]')).includes('5');
            if (!took) await tab.waitForTimeout(100);
          }
          if (!took) throw new Error(`${which}: the phone input did not take a key`);
          times[which].push(ms);
          times[`${which}Live`].push(live);
          await context.close();
        }
      }
      results.push({ profile, times });
      // A page that failed (a file it needs missing, say) would measure nothing honest.
      if (pageErrors.length) throw new Error(`page errors during the runs:\n  ${pageErrors.join('\n  ')}`);
    }
  } finally {
    await browser.close();
    child.kill();
    server.close();
  }
  const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
  const kb = (table, ...names) => names.reduce((n, f) => n + table[f].length, 0) / 1024;
  const oursFiles = ['/lock-passwordless.js', '/lock_passwordless_js_bg.wasm'];
  const lockFiles = ['/auth0-lock.js', `/js/lock/${lockVersion}/en.js`];
  console.log('bench load: cold runs, alternating, headless Chromium; navigation start -> phone input shown (then it must take a key)');
  console.log(`  transfer: ours ${kb(gz, oursFiles[0]).toFixed(1)} KB gzip / ${kb(br, oursFiles[0]).toFixed(1)} KB brotli before the drawn phone input, ` +
    `${kb(gz, ...oursFiles).toFixed(1)} KB gzip / ${kb(br, ...oursFiles).toFixed(1)} KB brotli before the widget runs ` +
    `(+ the US's phone tables: ${kb(gz, ...oursFiles, '/phone-tables/1.txt').toFixed(1)} / ${kb(br, ...oursFiles, '/phone-tables/1.txt').toFixed(1)} KB); ` +
    `Lock ${lockVersion} ${kb(gz, ...lockFiles).toFixed(1)} KB gzip / ${kb(br, ...lockFiles).toFixed(1)} KB brotli (ours <= 120 KB is the goal)`);
  for (const { profile, times } of results) {
    const row = (name, t) => console.log(`    ${name.padEnd(22)} median ${median(t).toFixed(1).padStart(7)} ms  (min ${Math.min(...t).toFixed(1)}, max ${Math.max(...t).toFixed(1)})`);
    const what = profile.network ? '150 ms RTT, 1.6 Mbps down, 750 kbps up, CPU 4x slower' : 'no throttling';
    console.log(`  ${profile.name} (${what}), ${profile.runs} runs each:`);
    row('leptos-passwordless', times.ours);
    row('  its widget running', times.oursLive);
    row(`Auth0 Lock ${lockVersion}`, times.lock);
    const goal = profile.network ? ' (goal <= 0.35)' : '';
    console.log(`    ratio (ours / Lock): ${(median(times.ours) / median(times.lock)).toFixed(2)}${goal}; ` +
      `the widget running / Lock: ${(median(times.oursLive) / median(times.lock)).toFixed(2)}`);
  }
})().catch((e) => { console.error(e); process.exit(1); });
