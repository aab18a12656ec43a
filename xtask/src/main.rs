//! `cargo xtask <command>`: set-up, build, demo, test. Only the standard library, so it builds
//! in seconds on a fresh machine.

mod early;
mod postgres;
mod short_names;
mod size;
mod tools;
mod wasm_size;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Instant;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  demo     install what is missing, build, start the tenant (127.0.0.1:4000) and the demo (127.0.0.1:8080)
  test     install what is missing and run every test: native, browser (wasm), end to end
  bundle   build the prebuilt JS bundle into dist/bundle/ and print its sizes
  screenshots
           run the end-to-end tests and keep the screenshots they take in docs/screenshots/
  bench size
           builds the JS bundle and the demo and prints what a page downloads, raw and gzip
  bench phone
           the phone field's time per keystroke (validate + format + DOM) in headless Chromium:
           p50, p95 and the first keystroke of a page
  bench load [--runs N]
           cold-start time to a usable phone input, ours against Auth0 Lock (npm auth0-lock,
           installed and bundled as a measuring peer only), and the transfer sizes
  bench tenant [--backend sqlite|postgres] [--instances N] [--logins N] [--warm-up N]
           [--concurrency N] [--connections N] [--region CC]
           complete logins against release tenant instances from a separate process (SQLite,
           one instance, first; then PostgreSQL in a throwaway cluster if asked), each from a
           number of its own, every region in turn (or region CC's alone); prints
           logins/s against the RS256 signing floor, latency percentiles, CPU per login,
           peak memory and a drift check
  i18n     regenerate i18n/<lang>.json from npm auth0-lock's 44 dictionaries
  setup    only install what is missing";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(),
        Some("bundle") => tools::ensure(tools::Need::Build).and_then(|t| bundle(&t)),
        Some("setup") => tools::ensure(tools::Need::Test).map(|_| ()),
        Some("i18n") => i18n(),
        Some("screenshots") => screenshots(),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some("tenant") => bench_tenant(&args[2..]),
            Some("size") => size::bench_size(),
            Some("load") => bench_load(&args[2..]),
            Some("phone") => bench_phone(),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The target directory cargo builds into: `CARGO_TARGET_DIR` (relative to the workspace
/// root when relative), else `target/` in the root.
pub fn target() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// What each failed command printed last on stderr, repeated after the test summary: CI keeps
/// only the tail of a long log, and a linker's or compiler's error is otherwise cut off there.
static FAILURES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Lines of a failed command's stderr kept for the summary.
const FAILURE_TAIL: usize = 40;

/// Keeps the last [`FAILURE_TAIL`] lines it is given.
#[derive(Default)]
struct Tail(std::collections::VecDeque<String>);

impl Tail {
    fn push(&mut self, line: String) {
        if self.0.len() == FAILURE_TAIL {
            self.0.pop_front();
        }
        self.0.push_back(line);
    }
}

/// Echoes a child's stderr as it comes and keeps its last lines.
fn tee_stderr(child: &mut Child) -> Option<JoinHandle<Tail>> {
    let err = child.stderr.take()?;
    Some(std::thread::spawn(move || {
        let mut tail = Tail::default();
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            eprintln!("{line}");
            tail.push(line);
        }
        tail
    }))
}

/// Notes a failed command and the last lines it printed, for the summary.
fn note_failure(cmd: &Command, status: std::process::ExitStatus, stream: &str, tail: Tail) {
    let mut note = format!("$ {} ({status}), its last {stream}:", describe(cmd));
    for line in tail.0 {
        note.push_str("\n  ");
        note.push_str(&line);
    }
    FAILURES
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(note);
}

/// Waits for a command with stderr echoed; on failure, notes its last stderr lines.
fn wait_teeing(cmd: &Command, mut child: Child) -> std::io::Result<std::process::ExitStatus> {
    let tail = tee_stderr(&mut child);
    let status = child.wait()?;
    let tail = tail.and_then(|t| t.join().ok()).unwrap_or_default();
    if !status.success() {
        note_failure(cmd, status, "stderr", tail);
    }
    Ok(status)
}

/// Prints and runs a command, failing on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    println!("$ {}", describe(cmd));
    let status = cmd
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|child| wait_teeing(cmd, child))
        .map_err(|e| format!("cannot run {}: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// The target directory's size and the space left on its file system, as `df` and `du` see them
/// (a full disk fails a build with a linker's error, not a clear one).
fn disk_report() -> String {
    let target = target();
    let kib = |out: std::io::Result<std::process::Output>, field: usize| -> Option<f64> {
        let out = out.ok()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let line = text.lines().last()?;
        let v: f64 = line.split_whitespace().nth(field)?.parse().ok()?;
        Some(v / (1024.0 * 1024.0))
    };
    let used = kib(Command::new("du").arg("-sk").arg(&target).output(), 0);
    let free = kib(Command::new("df").arg("-Pk").arg(&target).output(), 3);
    let gib = |v: Option<f64>| v.map_or_else(|| "?".to_string(), |v| format!("{v:.1} GiB"));
    format!(
        "disk: {} holds {}, {} free on its file system",
        target.display(),
        gib(used),
        gib(free)
    )
}

pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().to_string();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Builds `dist/bundle/`: `lock-passwordless.js` (wasm-bindgen glue + loader) and its wasm.
fn bundle(t: &tools::Tools) -> Result<(), String> {
    let root = root();
    let mut build = cargo();
    build.args([
        "build",
        "--package",
        "lock-passwordless-js",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        "--message-format=json-render-diagnostics",
    ]);
    println!("$ {}", describe(&build));
    let built = build
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !built.status.success() {
        return Err("building the bundle's wasm failed".into());
    }
    // The widget's build script writes the phone tables the bundle fetches at run time, and
    // the stylesheet as it ships (minified).
    let widget_out = out_dir(
        &String::from_utf8_lossy(&built.stdout),
        "leptos-passwordless",
    )
    .ok_or("cargo reported no build script output for leptos-passwordless")?;
    let tables = widget_out.join("phone-tables");
    // What the loader draws the first screen with before the wasm arrives.
    let style = widget_out.join("lock.min.css");
    let early = early::script(&root, &widget_out.join("regions.txt"), &style)?;
    let raw = target().join("bundle-raw");
    let wasm = target().join("wasm32-unknown-unknown/wasm-release/lock_passwordless_js.wasm");
    run(Command::new(&t.wasm_bindgen)
        .arg(&wasm)
        .args([
            "--target",
            "no-modules",
            "--no-modules-global",
            "__lpwWasm",
            "--no-typescript",
            "--out-dir",
        ])
        .arg(&raw))?;
    let out = root.join("dist/bundle");
    // Start clean, so a renamed or dropped file never lingers in what is shipped.
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    wasm_opt(
        t,
        &raw.join("lock_passwordless_js_bg.wasm"),
        &out.join("lock_passwordless_js_bg.wasm"),
        Opt::Bundle,
        false,
    )?;
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()));
    let loader = read(root.join("js/loader.js"))?;
    let glue = short_names::shorten(
        &t.wasm_opt,
        tools::WASM_FEATURES,
        &out.join("lock_passwordless_js_bg.wasm"),
        &strip_stream_classes(&read(raw.join("lock_passwordless_js.js"))?)?,
    )?;
    let classic = read(root.join("js/classic.js"))?;
    std::fs::write(
        out.join("lock-passwordless.js"),
        format!("{glue}\n{early}{loader}\n{classic}"),
    )
    .map_err(|e| e.to_string())?;
    minify(t, &out.join("lock-passwordless.js"), false)?;
    // The ES module build: wasm-bindgen's `web` target beside a module wrapper.
    let esm = target().join("bundle-esm");
    bindgen_web(t, &wasm, "lock_passwordless_js_esm", &esm)?;
    wasm_opt(
        t,
        &esm.join("lock_passwordless_js_esm_bg.wasm"),
        &out.join("lock_passwordless_js_esm_bg.wasm"),
        Opt::Bundle,
        false,
    )?;
    std::fs::write(
        out.join("lock_passwordless_js_esm.js"),
        short_names::shorten(
            &t.wasm_opt,
            tools::WASM_FEATURES,
            &out.join("lock_passwordless_js_esm_bg.wasm"),
            &strip_stream_classes(&read(esm.join("lock_passwordless_js_esm.js"))?)?,
        )?,
    )
    .map_err(|e| e.to_string())?;
    let module = read(root.join("js/module.js"))?;
    std::fs::write(
        out.join("lock-passwordless.mjs"),
        format!("{early}{loader}\n{module}"),
    )
    .map_err(|e| e.to_string())?;
    minify(t, &out.join("lock_passwordless_js_esm.js"), true)?;
    minify(t, &out.join("lock-passwordless.mjs"), true)?;
    std::fs::copy(
        root.join("js/lock-passwordless.d.ts"),
        out.join("lock-passwordless.d.ts"),
    )
    .map_err(|e| format!("copy the .d.ts: {e}"))?;
    // For pages with a strict CSP (`strictCsp: true`), which link the styles instead.
    std::fs::copy(&style, out.join("lock-passwordless.css"))
        .map_err(|e| format!("copy the stylesheet: {e}"))?;
    copy_dir(&root.join("i18n"), &out.join("i18n"))?;
    copy_dir(&tables, &out.join("phone-tables"))?;
    println!("\ndist/bundle/ (every file written; a page loads the classic script and its wasm):");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    for name in &names {
        let (raw, gz) = sizes(&out.join(name))?;
        println!("  {name:<34} {raw:>9} B raw {gz:>9} B gzip");
    }
    let total = size::bundle_page_total(&out)?;
    let languages = std::fs::read_dir(out.join("i18n"))
        .map(|d| d.count())
        .unwrap_or(0);
    println!(
        "  {:<34} {languages:>9} files, each fetched only when its language is chosen",
        "i18n/"
    );
    let parts = std::fs::read_dir(out.join("phone-tables"))
        .map(|d| d.count())
        .unwrap_or(0);
    let [largest, _] = largest_parts(&out)?;
    println!(
        "  {:<34} {parts:>9} files, a calling code's each, fetched when needed (largest {}: {} B gzip)",
        "phone-tables/",
        largest.file_name().unwrap_or_default().to_string_lossy(),
        sizes(&largest)?.1
    );
    println!(
        "  {:<34} {:>9} B raw {:>9} B gzip",
        "page total (script + wasm)", total.0, total.1
    );
    npm_package(&out)
}

/// The two largest parts of the bundle's phone tables, largest first (`1.txt`, the NANP's 25
/// regions, then `44.txt` or `91.txt`): a login fetches its country's part, and another when the
/// first screen started on a country the user does not keep, so at most these.
fn largest_parts(bundle: &Path) -> Result<[PathBuf; 2], String> {
    let dir = bundle.join("phone-tables");
    let mut parts: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| (e.metadata().map(|m| m.len()).unwrap_or(0), e.path()))
        .collect();
    parts.sort();
    match (parts.pop(), parts.pop()) {
        (Some((_, a)), Some((_, b))) => Ok([a, b]),
        _ => Err(format!("{} holds fewer than two parts", dir.display())),
    }
}

/// The `out_dir` of a package's build script, from cargo's JSON messages.
fn out_dir(messages: &str, package: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter(|l| l.contains(r#""reason":"build-script-executed""#))
        .filter(|l| l.contains(&format!("#{package}@")) || l.contains(&format!("/{package}#")))
        .find_map(|l| {
            let at = l.find(r#""out_dir":""#)? + r#""out_dir":""#.len();
            let end = l[at..].find('"')?;
            Some(PathBuf::from(&l[at..at + end]))
        })
}

/// Minifies a shipped script in place with esbuild: whitespace, syntax and local names. A classic
/// script keeps its top-level names (the page's globals); a module is parsed as one.
fn minify(t: &tools::Tools, file: &Path, module: bool) -> Result<(), String> {
    let tmp = file.with_extension("min.tmp");
    let mut cmd = Command::new(t.node_modules().join(".bin/esbuild"));
    cmd.arg(file)
        .args(["--minify", "--log-level=warning", "--target=es2020"])
        .arg(format!("--outfile={}", tmp.display()));
    if module {
        cmd.arg("--format=esm");
    }
    run(&mut cmd)?;
    std::fs::rename(&tmp, file).map_err(|e| format!("{}: {e}", file.display()))
}

/// `wasm-bindgen --target web --out-name NAME --no-typescript --out-dir DIR`: the ES module
/// form (the SSR example's `pkg/`, the size app, the bundle's module build).
fn bindgen_web(t: &tools::Tools, wasm: &Path, name: &str, dir: &Path) -> Result<(), String> {
    run(Command::new(&t.wasm_bindgen)
        .arg(wasm)
        .args([
            "--target",
            "web",
            "--out-name",
            name,
            "--no-typescript",
            "--out-dir",
        ])
        .arg(dir))
}

/// Builds the SSR example as cargo-leptos would, without it: the app's library for wasm32 with
/// `hydrate`, through `wasm-bindgen --target web` into `target/ssr-site/pkg/` (the names
/// Leptos' `HydrationScripts` asks for), then the server with `ssr`.
fn ssr_example(t: &tools::Tools) -> Result<(), String> {
    run(cargo().args([
        "build",
        "--package",
        "passwordless-ssr-example",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--features",
        "hydrate",
    ]))?;
    let pkg = target().join("ssr-site/pkg");
    let _ = std::fs::remove_dir_all(&pkg);
    bindgen_web(
        t,
        &target().join("wasm32-unknown-unknown/debug/passwordless_ssr_example.wasm"),
        "passwordless_ssr_example",
        &pkg,
    )?;
    run(cargo().args([
        "build",
        "--package",
        "passwordless-ssr-example",
        "--bin",
        "passwordless-ssr-example",
        "--features",
        "ssr",
    ]))
}

/// Leptos 0.8 always enables `server_fn/browser`, which links wasm-streams, whose
/// `IntoUnderlying*` classes wasm-bindgen exports to JS whether or not anything uses them (a
/// client-only widget never does). wasm-opt drops their exports (and, with -Oz, their code) …
const STREAM_CLASSES: [&str; 3] = [
    "IntoUnderlyingByteSource",
    "IntoUnderlyingSink",
    "IntoUnderlyingSource",
];
const STRIP_STREAM_EXPORTS: [&str; 2] = [
    "--remove-exports",
    "--pass-arg=remove-exports@*intounderlying*",
];

/// … and this drops their classes, finalizers and exports from wasm-bindgen's JS glue (classic
/// and ES module forms). It fails, rather than ships half-stripped glue, if the glue's shape
/// ever changes.
fn strip_stream_classes(glue: &str) -> Result<String, String> {
    let mut out = glue.to_string();
    for name in STREAM_CLASSES {
        let class = format!("class {name} {{");
        let start = out
            .find(&class)
            .ok_or_else(|| format!("wasm-bindgen glue: no `{class}` to strip"))?;
        let start = out[..start]
            .strip_suffix("export ")
            .map_or(start, |kept| kept.len());
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in out[start..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(start + i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| format!("wasm-bindgen glue: `{class}` never closes"))?;
        out.replace_range(start..end, "");
        let finalization = format!("const {name}Finalization = ");
        if let Some(at) = out.find(&finalization) {
            let close = out[at..]
                .find("));")
                .ok_or_else(|| format!("wasm-bindgen glue: `{finalization}` never ends"))?;
            out.replace_range(at..at + close + 3, "");
        }
        out = out
            .lines()
            .filter(|l| {
                let l = l.trim();
                !(l.starts_with(&format!("if (Symbol.dispose) {name}.prototype"))
                    || l == format!("exports.{name} = {name};"))
            })
            .collect::<Vec<_>>()
            .join("\n");
    }
    if out.to_ascii_lowercase().contains("intounderlying") {
        return Err(
            "wasm-bindgen glue: stream classes are still referenced after stripping".into(),
        );
    }
    Ok(out + "\n")
}

/// Copies the files of one folder (not recursive: the language files are flat).
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if let (true, Some(name)) = (path.is_file(), path.file_name()) {
            std::fs::copy(&path, to.join(name)).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// `cargo xtask i18n`: regenerates i18n/<lang>.json from npm auth0-lock's dictionaries.
fn i18n() -> Result<(), String> {
    let peer = tools::ensure_lock_peer()?;
    let root = root();
    run(Command::new("node")
        .arg(root.join("xtask/i18n/export.cjs"))
        .arg(&peer)
        .arg(root.join("i18n"))
        .arg(root.join("xtask/i18n/keys.json"))
        .arg(root.join("xtask/i18n/extra.json")))?;
    // English is built into the widget.
    let _ = std::fs::remove_file(root.join("i18n/en.json"));
    Ok(())
}

/// `dist/npm/`: the bundle as an npm package (`npm publish dist/npm`).
fn npm_package(bundle: &Path) -> Result<(), String> {
    let dir = root().join("dist/npm");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let files = [
        "lock-passwordless.js",
        "lock_passwordless_js_bg.wasm",
        "lock-passwordless.mjs",
        "lock_passwordless_js_esm.js",
        "lock_passwordless_js_esm_bg.wasm",
        "lock-passwordless.d.ts",
        "lock-passwordless.css",
    ];
    for f in files {
        std::fs::copy(bundle.join(f), dir.join(f)).map_err(|e| format!("{f}: {e}"))?;
    }
    copy_dir(&bundle.join("i18n"), &dir.join("i18n"))?;
    copy_dir(&bundle.join("phone-tables"), &dir.join("phone-tables"))?;
    let manifest = format!(
        r#"{{
  "name": "lock-passwordless",
  "version": "{version}",
  "description": "Auth0 Lock Passwordless (SMS) as a drop-in, built with Rust, Leptos and WebAssembly",
  "license": "MIT",
  "main": "lock-passwordless.js",
  "browser": "lock-passwordless.js",
  "module": "lock-passwordless.mjs",
  "exports": {{ ".": {{ "types": "./lock-passwordless.d.ts", "import": "./lock-passwordless.mjs", "default": "./lock-passwordless.js" }} }},
  "types": "lock-passwordless.d.ts",
  "files": ["lock-passwordless.js", "lock_passwordless_js_bg.wasm", "phone-tables", "lock-passwordless.mjs", "lock_passwordless_js_esm.js", "lock_passwordless_js_esm_bg.wasm", "lock-passwordless.d.ts", "lock-passwordless.css", "i18n", "README.md"],
  "keywords": ["auth0", "lock", "passwordless", "sms", "login", "wasm"]
}}
"#,
        version = env!("CARGO_PKG_VERSION")
    );
    std::fs::write(dir.join("package.json"), manifest).map_err(|e| e.to_string())?;
    let readme = "# lock-passwordless\n\nAuth0 Lock Passwordless for SMS, as one script. Serve \
        `lock-passwordless.js` and `lock_passwordless_js_bg.wasm` from one folder and load the script:\n\n\
        ```html\n<script src=\"/lock-passwordless.js\"></script>\n<script>\n  var lock = new Auth0LockPasswordless('CLIENT_ID', \
        'tenant.eu.auth0.com', {allowedConnections: ['sms']});\n  lock.on('authenticated', function (r) { /* r.idToken */ });\n  \
        lock.show();\n</script>\n```\n\nTypes: `lock-passwordless.d.ts`. Source and docs: the leptos-passwordless repository.\n";
    std::fs::write(dir.join("README.md"), readme).map_err(|e| e.to_string())?;
    println!("dist/npm/: package.json, README.md, {}", files.join(", "));
    Ok(())
}

/// One built page's files: what the browser downloads (`js`, `wasm`) and a copy of the wasm
/// optimised the same way but with its names kept (`wasm-opt -g`), for the breakdown.
struct Built {
    js: PathBuf,
    wasm: PathBuf,
    named: PathBuf,
}

/// How a wasm is optimised: as an app's own build tool does it (trunk's `data-wasm-opt="z"`,
/// cargo-leptos: `-Oz`), for the size app whose marginal weight is what a Leptos app's user gets;
/// or as hard as measures best, for the JS bundle, which we build and ship ourselves.
#[derive(Clone, Copy)]
enum Opt {
    App,
    Bundle,
}

/// wasm-opt for the JS bundle: `--flatten --rereloop` rebuilds every function's control flow from
/// scratch, and three `-Oz` rounds after it fold what that exposes. Measured on the bundle's wasm
/// (wasm-opt 132, gzip -9): `-Oz` 208,367 B; `-Oz --converge` 207,438; `-Oz -Oz` 207,574;
/// `--flatten --rereloop -Oz -Oz` 206,527; this 206,110 (~25 s instead of ~10). The producers and
/// target-features custom sections, which no browser reads, go too (141 B gzip).
const BUNDLE_OPT: [&str; 7] = [
    "--flatten",
    "--rereloop",
    "-Oz",
    "-Oz",
    "-Oz",
    "--strip-producers",
    "--strip-target-features",
];

/// wasm-opt as everything shipped is optimised (see [`Opt`]; the stream classes' exports
/// removed); with `keep_names` (`-g`) the name section stays, for `bench size`'s breakdown.
fn wasm_opt(
    t: &tools::Tools,
    input: &Path,
    output: &Path,
    opt: Opt,
    keep_names: bool,
) -> Result<(), String> {
    let mut cmd = Command::new(&t.wasm_opt);
    cmd.args(STRIP_STREAM_EXPORTS);
    match opt {
        Opt::App => cmd.arg("-Oz"),
        Opt::Bundle => cmd.args(BUNDLE_OPT),
    };
    cmd.args(tools::WASM_FEATURES);
    if keep_names {
        cmd.arg("-g");
    }
    run(cmd.arg(input).arg("-o").arg(output))
}

/// `cargo xtask screenshots`: the end-to-end run, keeping its screenshots for the README.
fn screenshots() -> Result<(), String> {
    let t = tools::ensure(tools::Need::Test)?;
    let root = root();
    bundle(&t)?;
    run(&mut trunk(&t, &["build", "--offline"]))?;
    run(cargo().args(["build", "--package", "passwordless-tenant"]))?;
    let scratch = target().join("xtask-scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let shots = root.join("docs/screenshots");
    std::fs::create_dir_all(&shots).map_err(|e| e.to_string())?;
    run(e2e_command(&t, &root, &scratch).env("LPW_SCREENSHOTS", &shots))?;
    println!("screenshots in {}", shots.display());
    Ok(())
}

/// The end-to-end suite against the built demo, bundle and tenant.
fn e2e_command(t: &tools::Tools, root: &Path, scratch: &Path) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(root.join("tests/e2e/e2e.cjs"))
        .current_dir(root)
        .env("NODE_PATH", t.node_modules())
        .env("LPW_TENANT_BIN", target().join("debug/passwordless-tenant"))
        .env("LPW_DEMO_DIST", root.join("dist/demo"))
        .env(
            "LPW_SSR_BIN",
            target().join("debug/passwordless-ssr-example"),
        )
        .env("LPW_SSR_SITE", target().join("ssr-site"))
        .env("LPW_SCRATCH", scratch)
        .env("LPW_CHROMIUM", tools::CHROMIUM)
        .env("TMPDIR", scratch);
    cmd
}

/// `cargo xtask bench phone`: the phone field's time per keystroke in headless Chromium.
fn bench_phone() -> Result<(), String> {
    let t = tools::ensure(tools::Need::Test)?;
    bundle(&t)?;
    let root = root();
    let scratch = target().join("xtask-scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    run(Command::new("node")
        .arg(root.join("xtask/bench/phone.cjs"))
        .current_dir(&root)
        .env("NODE_PATH", t.node_modules())
        .env("LPW_BUNDLE_DIR", root.join("dist/bundle"))
        .env("LPW_CHROMIUM", tools::CHROMIUM)
        .env("TMPDIR", &scratch))
}

/// `cargo xtask bench load`: ours against Auth0 Lock, in the same headless Chromium.
fn bench_load(extra: &[String]) -> Result<(), String> {
    let usage = "usage: cargo xtask bench load [--runs N] [--mobile-runs N]";
    let (mut runs, mut mobile_runs) = ("20".to_string(), "8".to_string());
    for pair in extra.chunks(2) {
        match pair {
            [flag, n] if n.parse::<u32>().is_ok_and(|n| n > 0) => match flag.as_str() {
                "--runs" => runs = n.clone(),
                "--mobile-runs" => mobile_runs = n.clone(),
                _ => return Err(usage.into()),
            },
            _ => return Err(usage.into()),
        }
    }
    let t = tools::ensure(tools::Need::Test)?;
    let peer = tools::ensure_lock_peer()?;
    let root = root();
    let lock_dir = target().join("bench-lock");
    run(Command::new("node")
        .arg(root.join("xtask/bench/build-lock.cjs"))
        .arg(&peer)
        .arg(&lock_dir)
        .env("NODE_PATH", &peer))?;
    bundle(&t)?;
    run(cargo().args(["build", "--package", "passwordless-tenant"]))?;
    let scratch = target().join("xtask-scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    run(Command::new("node")
        .arg(root.join("xtask/bench/load.cjs"))
        .current_dir(&root)
        .env("NODE_PATH", t.node_modules())
        .env("LPW_TENANT_BIN", target().join("debug/passwordless-tenant"))
        .env("LPW_BUNDLE_DIR", root.join("dist/bundle"))
        .env("LPW_LOCK_DIR", &lock_dir)
        .env("LPW_SCRATCH", &scratch)
        .env("LPW_CHROMIUM", tools::CHROMIUM)
        .env("LPW_RUNS", runs)
        .env("LPW_MOBILE_RUNS", mobile_runs)
        .env("TMPDIR", &scratch))
}

/// `cargo xtask bench tenant`: release tenant instances and the load generator, separate processes.
fn bench_tenant(extra: &[String]) -> Result<(), String> {
    let mut backend = "sqlite".to_string();
    let mut instances = "1".to_string();
    let mut rest = Vec::new();
    let mut it = extra.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--backend" => {
                backend = it
                    .next()
                    .ok_or("--backend needs sqlite or postgres")?
                    .clone()
            }
            "--instances" => instances = it.next().ok_or("--instances needs a number")?.clone(),
            _ => rest.push(flag.clone()),
        }
    }
    if backend != "sqlite" && backend != "postgres" {
        return Err(format!(
            "--backend must be sqlite or postgres, got {backend}"
        ));
    }
    run(cargo().args([
        "build",
        "--release",
        "--package",
        "passwordless-tenant",
        "--bins",
    ]))?;
    let release = target().join("release");
    let bench = |args: &[String]| {
        run(Command::new(release.join("tenant-bench"))
            .arg("--tenant-bin")
            .arg(release.join("passwordless-tenant"))
            .args(&rest)
            .args(args))
    };
    // The embedded default, one instance: the figure every other one is read beside.
    let sqlite = if backend == "sqlite" {
        instances.clone()
    } else {
        "1".into()
    };
    bench(&["--instances".into(), sqlite])?;
    if backend == "postgres" {
        let cluster = postgres::Cluster::start(&target().join("xtask-scratch/bench-postgres"))?;
        let database = cluster.create_database("bench")?;
        bench(&[
            "--instances".into(),
            instances,
            "--database".into(),
            database,
        ])?;
    }
    Ok(())
}

/// Raw and `gzip -9` sizes of a file.
fn sizes(path: &Path) -> Result<(usize, usize), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((bytes.len(), wasm_size::gzip(&bytes)?))
}

fn trunk(t: &tools::Tools, args: &[&str]) -> Command {
    let mut c = Command::new(&t.trunk);
    c.current_dir(root()).args(args).env("PATH", t.path_env());
    c
}

/// Kills children when dropped, so Ctrl-C or an early error never leaves servers behind.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn demo() -> Result<(), String> {
    let t = tools::ensure(tools::Need::Build)?;
    bundle(&t)?;
    ssr_example(&t)?;
    run(cargo().args(["build", "--package", "passwordless-tenant"]))?;
    let root = root();
    let mut children = Children(Vec::new());
    children.0.push(
        Command::new(target().join("debug/passwordless-ssr-example"))
            .env("LEPTOS_SITE_ADDR", "127.0.0.1:3000")
            .env("LEPTOS_SITE_ROOT", target().join("ssr-site"))
            .env("LPW_TENANT", "http://127.0.0.1:4000")
            .current_dir(&root)
            .spawn()
            .map_err(|e| format!("cannot start the SSR example: {e}"))?,
    );
    children.0.push(
        Command::new(target().join("debug/passwordless-tenant"))
            .args(["--config", "tenant/demo.toml", "--listen", "127.0.0.1:4000"])
            .current_dir(&root)
            .spawn()
            .map_err(|e| format!("cannot start the tenant: {e}"))?,
    );
    println!(
        "$ trunk serve --offline (builds the demo first; this takes a few minutes the first time)"
    );
    children.0.push(
        trunk(
            &t,
            &[
                "serve",
                "--offline",
                "--address",
                "127.0.0.1",
                "--port",
                "8080",
            ],
        )
        .spawn()
        .map_err(|e| format!("cannot start trunk: {e}"))?,
    );
    println!(
        "\n  Demo:        http://127.0.0.1:8080/  (JS bundle page: http://127.0.0.1:8080/lock.html)\
         \n  SSR example: http://127.0.0.1:3000/  (leptos_axum + leptos_router, hydrated)\
         \n  Tenant:      http://127.0.0.1:4000/\
         \n  SMS codes:   http://127.0.0.1:4000/dev/sms.html (and in the tenant's log below)\
         \n  Ctrl-C stops them all.\n"
    );
    loop {
        for c in &mut children.0 {
            if let Ok(Some(status)) = c.try_wait() {
                return Err(format!("a server exited ({status}); stopping"));
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// One step of `cargo xtask test`.
struct Outcome {
    name: &'static str,
    ok: bool,
    tests: usize,
    secs: f64,
}

/// The tenant's test executables (its unit tests and every file in `tenant/tests`), as
/// `cargo test --workspace` builds them.
fn tenant_test_binaries() -> Result<Vec<PathBuf>, String> {
    let out = cargo()
        .args(["test", "--workspace", "--no-run", "--message-format=json"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cargo test --no-run: {e}"))?;
    if !out.status.success() {
        return Err("cargo test --workspace --no-run failed".into());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
        .filter(|l| l.contains("/tenant#") || l.contains("#passwordless-tenant@"))
        .filter_map(|l| {
            let at = l.find(r#""executable":""#)? + r#""executable":""#.len();
            let end = l[at..].find('"')?;
            Some(PathBuf::from(&l[at..at + end]))
        })
        // Test harnesses live in deps/; the real binaries (a server) beside them must not run.
        .filter(|exe| exe.parent().is_some_and(|d| d.ends_with("deps")))
        .collect())
}

/// Runs a command, echoing its output and counting `N passed` from test summaries.
fn run_counting(cmd: &mut Command) -> (bool, usize) {
    println!("$ {}", describe(cmd));
    let mut child = match cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("cannot run {}: {e}", describe(cmd));
            return (false, 0);
        }
    };
    let out = child.stdout.take();
    let counting = std::thread::spawn(move || {
        let (mut passed, mut tail) = (0, Tail::default());
        for line in out
            .into_iter()
            .flat_map(|o| BufReader::new(o).lines().map_while(Result::ok))
        {
            println!("{line}");
            passed += count_passed(&line);
            tail.push(line);
        }
        (passed, tail)
    });
    let status = wait_teeing(cmd, child);
    let (passed, tail) = counting.join().unwrap_or_default();
    match status {
        Ok(s) if s.success() => (true, passed),
        Ok(s) => {
            // Test harnesses print their failures on stdout.
            note_failure(cmd, s, "stdout", tail);
            (false, passed)
        }
        Err(_) => (false, passed),
    }
}

/// `test result: ok. 12 passed; …` (cargo, wasm-bindgen-test) or `e2e: 4 passed, …`.
fn count_passed(line: &str) -> usize {
    let l = line.trim();
    if !(l.starts_with("test result:") || l.starts_with("e2e:")) {
        return 0;
    }
    l.split([';', ','])
        .filter_map(|part| part.trim().strip_suffix(" passed"))
        .filter_map(|n| n.rsplit(' ').next()?.parse::<usize>().ok())
        .sum()
}

fn test() -> Result<(), String> {
    let started = Instant::now();
    let t = tools::ensure(tools::Need::Test)?;
    let root = root();
    let scratch = target().join("xtask-scratch");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut() -> (bool, usize)| {
        println!("\n==> {name}");
        let t0 = Instant::now();
        let (ok, tests) = f();
        outcomes.push(Outcome {
            name,
            ok,
            tests,
            secs: t0.elapsed().as_secs_f64(),
        });
    };

    step("rustfmt", &mut || {
        run_counting(cargo().args(["fmt", "--all", "--check"]))
    });
    step("clippy (native)", &mut || {
        run_counting(cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    step("clippy (wasm32)", &mut || {
        let ok = run_counting(cargo().args([
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "--package",
            "leptos-passwordless",
            "--package",
            "lock-passwordless-js",
            "--features",
            "leptos-passwordless/csr,leptos-passwordless/router",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
        .0 && run_counting(cargo().args([
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "--package",
            "passwordless-ssr-example",
            "--features",
            "hydrate",
            "--lib",
            "--",
            "-D",
            "warnings",
        ]))
        .0;
        (ok, 0)
    });
    step("clippy (server rendering: ssr)", &mut || {
        run_counting(cargo().args([
            "clippy",
            "--package",
            "leptos-passwordless",
            "--package",
            "passwordless-ssr-example",
            "--features",
            "leptos-passwordless/ssr,leptos-passwordless/router,passwordless-ssr-example/ssr",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    });
    step("native tests", &mut || {
        let all = run_counting(cargo().args(["test", "--workspace"]));
        // The JS bundle's build of the library: phone tables fetched, not compiled in.
        let fetched = run_counting(cargo().args([
            "test",
            "--package",
            "leptos-passwordless",
            "--features",
            "fetched-phone-tables",
            "--test",
            "fetched_tables",
        ]));
        (all.0 && fetched.0, all.1 + fetched.1)
    });
    step(
        "tenant suite on PostgreSQL (throwaway cluster, two instances per database)",
        &mut || {
            // The binaries `cargo test --workspace` built (a `--package` build would resolve
            // features anew and rebuild half the dependency tree), run again on PostgreSQL.
            let binaries = match tenant_test_binaries() {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("{e}");
                    return (false, 0);
                }
            };
            let cluster = match postgres::Cluster::start(&scratch.join("postgres")) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("{e}");
                    return (false, 0);
                }
            };
            let (mut ok, mut passed) = (!binaries.is_empty(), 0);
            for binary in &binaries {
                let (o, p) = run_counting(
                    Command::new(binary)
                        .current_dir(root.join("tenant"))
                        .env("LPW_TEST_POSTGRES", cluster.url()),
                );
                ok &= o;
                passed += p;
            }
            (ok, passed)
        },
    );
    step(
        "server rendering tests (ssr: the widget rendered to HTML, doctests)",
        &mut || {
            let render = run_counting(cargo().args([
                "test",
                "--package",
                "leptos-passwordless",
                "--features",
                "ssr,router",
                "--test",
                "ssr",
            ]));
            let docs = run_counting(cargo().args([
                "test",
                "--package",
                "leptos-passwordless",
                "--features",
                "ssr,router",
                "--doc",
            ]));
            (render.0 && docs.0, render.1 + docs.1)
        },
    );
    step(
        "publishing: cargo package, docs as docs.rs builds them (wasm32, csr + router)",
        &mut || {
            // Packs the crate as crates.io would get it and builds it from the package alone.
            let package = run_counting(cargo().args([
                "package",
                "--package",
                "leptos-passwordless",
                "--allow-dirty",
            ]));
            // `[package.metadata.docs.rs]`: wasm32 with csr and router (docs.rs adds
            // `--cfg docsrs`, which needs nightly; the rest is the same). Broken links fail.
            let docs = run_counting(
                cargo()
                    .args([
                        "doc",
                        "--package",
                        "leptos-passwordless",
                        "--no-deps",
                        "--target",
                        "wasm32-unknown-unknown",
                        "--features",
                        "csr,router",
                    ])
                    .env("RUSTDOCFLAGS", "-D warnings"),
            );
            (package.0 && docs.0, 0)
        },
    );
    let webdriver = scratch.join("webdriver.json");
    let profile = scratch.join("chromium-profile");
    let config = format!(
        r#"{{"goog:chromeOptions":{{"binary":"{}","args":["--headless=new","--no-sandbox","--disable-gpu","--disable-quic","--no-first-run","--disable-background-networking","--disable-component-update","--disable-sync","--disable-dev-shm-usage","--user-data-dir={}"]}}}}"#,
        tools::CHROMIUM,
        profile.display()
    );
    std::fs::write(&webdriver, config).map_err(|e| e.to_string())?;
    step(
        "browser tests (wasm-bindgen-test, headless Chromium)",
        &mut || {
            run_counting(
                cargo()
                    .args([
                        "test",
                        "--target",
                        "wasm32-unknown-unknown",
                        "--package",
                        "leptos-passwordless",
                        "--features",
                        "csr",
                        "--test",
                        "browser",
                        "--test",
                        "token_matrix",
                    ])
                    .env("PATH", t.path_env())
                    .env(
                        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                        "wasm-bindgen-test-runner",
                    )
                    .env("CHROMEDRIVER", tools::CHROMEDRIVER)
                    .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &webdriver)
                    .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
                    .env("TMPDIR", &scratch),
            )
        },
    );
    let tsc = t.node_modules().join(".bin/tsc");
    step("TypeScript declarations (tsc)", &mut || {
        let good = run_counting(
            Command::new(&tsc)
                .args(["-p", "tests/types"])
                .current_dir(&root),
        );
        // The negative sample must fail, or the declarations constrain nothing.
        println!("$ tsc --noEmit --strict tests/types/bad.ts (must fail with 3 errors)");
        let bad = Command::new(&tsc)
            .args([
                "--noEmit",
                "--strict",
                "--lib",
                "es2020,dom",
                "tests/types/bad.ts",
            ])
            .current_dir(&root)
            .output();
        let errors = bad
            .map(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .matches("error TS")
                    .count()
            })
            .unwrap_or(0);
        println!("  {errors} errors in bad.ts");
        (
            good.0 && errors == 3,
            if good.0 { 1 } else { 0 } + usize::from(errors == 3),
        )
    });
    let mut built = true;
    step(
        "build: JS bundle, demo (trunk), SSR example, tenant",
        &mut || {
            let ok = bundle(&t)
                .and_then(|_| run(&mut trunk(&t, &["build", "--offline"])))
                .and_then(|_| ssr_example(&t))
                .and_then(|_| run(cargo().args(["build", "--package", "passwordless-tenant"])));
            if let Err(e) = &ok {
                eprintln!("{e}");
            }
            built = ok.is_ok();
            (built, 0)
        },
    );
    if built {
        step(
            "size budget and shipped API (checked-in limit)",
            &mut || match size::size_checks(&t, &root.join("dist/bundle")) {
                Ok(passed) => (true, passed),
                Err(e) => {
                    eprintln!("{e}");
                    (false, 0)
                }
            },
        );
        step(
            "end to end (Playwright, headless Chromium, real tenant)",
            &mut || run_counting(&mut e2e_command(&t, &root, &scratch)),
        );
    }

    println!("\n==> summary");
    for o in &outcomes {
        let count = if o.tests > 0 {
            format!("{} tests passed", o.tests)
        } else {
            String::new()
        };
        println!(
            "  {} {:<58} {:>6.1}s  {count}",
            if o.ok { "ok  " } else { "FAIL" },
            o.name,
            o.secs
        );
    }
    let failed: Vec<&str> = outcomes.iter().filter(|o| !o.ok).map(|o| o.name).collect();
    let failures = std::mem::take(&mut *FAILURES.lock().unwrap_or_else(|p| p.into_inner()));
    if !failures.is_empty() {
        println!("\n==> what the failed commands printed last (stderr)");
        for f in failures {
            println!("{f}");
        }
    }
    println!("{}", disk_report());
    let total: usize = outcomes.iter().map(|o| o.tests).sum();
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    if failed.is_empty() && built {
        println!(
            "xtask test: PASSED — {} steps, {total} tests, {minutes:.1} min",
            outcomes.len()
        );
        Ok(())
    } else {
        println!(
            "xtask test: FAILED — {} of {} steps failed ({}), {minutes:.1} min",
            failed.len(),
            outcomes.len(),
            failed.join(", ")
        );
        Err("tests failed".into())
    }
}

#[cfg(test)]
mod tests {
    use super::{count_passed, strip_stream_classes};

    #[test]
    fn stream_classes_leave_the_glue_and_nothing_else_does() {
        let mut glue = String::from("let wasm;\n");
        for name in super::STREAM_CLASSES {
            let lower = name.to_ascii_lowercase();
            glue.push_str(&format!(
                "    class {name} {{\n        free() {{ if (x) {{ wasm.__wbg_{lower}_free(1); }} }}\n    }}\n    \
                 if (Symbol.dispose) {name}.prototype[Symbol.dispose] = {name}.prototype.free;\n    \
                 exports.{name} = {name};\n    const {name}Finalization = (typeof FinalizationRegistry === 'undefined')\n        \
                 ? {{ register: () => {{}} }}\n        : new FinalizationRegistry(ptr => wasm.__wbg_{lower}_free(ptr, 1));\n"
            ));
        }
        glue.push_str("    class LockHandle {\n        show() {}\n    }\n    exports.LockHandle = LockHandle;\n");
        let stripped = strip_stream_classes(&glue).unwrap();
        assert!(
            !stripped.to_ascii_lowercase().contains("intounderlying"),
            "{stripped}"
        );
        assert!(stripped.contains("class LockHandle {\n        show() {}\n    }"));
        assert!(stripped.contains("exports.LockHandle = LockHandle;"));
        let esm = "export class IntoUnderlyingSink {\n}\nexport class IntoUnderlyingSource {\n}\nexport class IntoUnderlyingByteSource {\n}\nexport class Keep {\n}\n";
        assert_eq!(
            strip_stream_classes(esm).unwrap().trim(),
            "export class Keep {\n}"
        );
        assert!(
            strip_stream_classes("class Other {}").is_err(),
            "a changed glue shape fails"
        );
    }

    #[test]
    fn counts_passed_tests_in_summaries() {
        assert_eq!(
            count_passed("test result: ok. 22 passed; 0 failed; 0 ignored"),
            22
        );
        assert_eq!(count_passed("test result: FAILED. 3 passed; 1 failed;"), 3);
        assert_eq!(count_passed("e2e: 4 passed, 0 failed"), 4);
        assert_eq!(count_passed("running 4 tests"), 0);
    }
}
