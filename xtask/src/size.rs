//! `cargo xtask bench size` and the size checks of `cargo xtask test`: the JS bundle's page, the
//! widget's marginal weight in a Leptos app (`examples/size-app` built with and without it), where
//! the bytes are, and the limits in `xtask/size-budget.txt`.

use std::path::{Path, PathBuf};

use crate::{
    bindgen_web, bundle, cargo, largest_parts, root, run, short_names, sizes, target, tools,
    wasm_opt, wasm_size, Built, Opt,
};

/// The checked-in size limit for the JS bundle (a size is deterministic, unlike a time).
const SIZE_BUDGET: &str = "xtask/size-budget.txt";

/// What a page downloads for the JS bundle: the classic script and its wasm (the styles are in
/// the wasm), as (raw, gzip) bytes.
pub(crate) fn bundle_page_total(bundle: &Path) -> Result<(usize, usize), String> {
    let (js_raw, js_gz) = sizes(&bundle.join("lock-passwordless.js"))?;
    let (wasm_raw, wasm_gz) = sizes(&bundle.join("lock_passwordless_js_bg.wasm"))?;
    Ok((js_raw + wasm_raw, js_gz + wasm_gz))
}

/// A `name = N` line of the size budget.
fn budget_line(budget: &str, name: &str) -> Result<usize, String> {
    budget
        .lines()
        .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_prefix('='))
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .ok_or_else(|| format!("{SIZE_BUDGET}: no `{name} = N` line"))
}

/// The bundle's first screen and whole login, and the widget's marginal weight in a Leptos app,
/// stay within the checked-in gzip limits; the bundle's JS API holds no server-function stream
/// classes. Returns the number of checks passed.
pub(crate) fn size_checks(t: &tools::Tools, bundle: &Path) -> Result<usize, String> {
    let budget = std::fs::read_to_string(root().join(SIZE_BUDGET))
        .map_err(|e| format!("{SIZE_BUDGET}: {e}"))?;
    let first = bundle_page_total(bundle)?;
    let [a, b] = largest_parts(bundle)?;
    let tables = sizes(&a)?.1 + sizes(&b)?.1;
    let m = marginal(t, false)?;
    let gz = |d: Delta| usize::try_from(d.1).unwrap_or(0);
    let script = sizes(&bundle.join("lock-passwordless.js"))?.1;
    let figures = [
        (
            "drawn_gzip_max",
            "JS bundle, before the drawn phone input takes keys (the script)",
            script,
        ),
        (
            "bundle_gzip_max",
            "JS bundle, before the widget runs (script + wasm)",
            first.1,
        ),
        (
            "login_gzip_max",
            "JS bundle, whole login (+ the two largest parts of the phone tables)",
            first.1 + tables,
        ),
        (
            "app_marginal_gzip_max",
            "the widget in a Leptos app (examples/size-app, with - without)",
            gz(m.compiled_in),
        ),
        (
            "app_fetched_gzip_max",
            "the widget in a Leptos app, phone tables fetched (+ the two largest parts)",
            gz(m.fetched) + tables,
        ),
    ];
    for (name, what, gz) in figures {
        let limit = budget_line(&budget, name)?;
        println!("  {what}: {gz} B gzip (limit {limit} B, {name} in {SIZE_BUDGET})");
        if gz > limit {
            return Err(format!(
                "{what} grew past its budget: {gz} B gzip > {limit} B ({name}, {SIZE_BUDGET}); \
                 shrink it, or raise the limit in the same commit and say why"
            ));
        }
    }
    for file in [
        "lock-passwordless.js",
        "lock_passwordless_js_bg.wasm",
        "lock_passwordless_js_esm.js",
        "lock_passwordless_js_esm_bg.wasm",
    ] {
        let bytes = std::fs::read(bundle.join(file)).map_err(|e| format!("{file}: {e}"))?;
        if bytes
            .windows(14)
            .any(|w| w.eq_ignore_ascii_case(b"intounderlying"))
        {
            return Err(format!(
                "{file} still carries Leptos' server-function stream classes (IntoUnderlying*)"
            ));
        }
    }
    println!("  no IntoUnderlying* stream classes in the bundle's JS or wasm");
    Ok(6)
}

/// The workspace's own crates, whose functions `bench size` also breaks down by module.
const OUR_CRATES: [&str; 3] = [
    "leptos_passwordless",
    "lock_passwordless_js",
    "passwordless_size_app",
];

/// A build of the size app (`examples/size-app`): without the widget, with it, with it and
/// its phone tables fetched from the app's server, or with its logic (tables fetched) under the
/// app's own smallest UI instead of `<LockPasswordless/>`.
#[derive(Clone, Copy)]
enum SizeApp {
    Without,
    Widget,
    Fetched,
    Headless,
}

/// The size app built as an app ships: wasm-release, wasm-bindgen `--target web`, wasm-opt.
fn size_app(t: &tools::Tools, app: SizeApp, names: bool) -> Result<Built, String> {
    let (features, name) = match app {
        SizeApp::Without => ("csr", "without"),
        SizeApp::Widget => ("csr,widget", "with-widget"),
        SizeApp::Fetched => ("csr,fetched", "with-widget-fetched-tables"),
        SizeApp::Headless => ("csr,headless", "headless-fetched-tables"),
    };
    run(cargo().args([
        "build",
        "--package",
        "passwordless-size-app",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm-release",
        "--features",
        features,
    ]))?;
    let dir = target().join("size-app").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    bindgen_web(
        t,
        &target().join("wasm32-unknown-unknown/wasm-release/passwordless-size-app.wasm"),
        "app",
        &dir,
    )?;
    let built = Built {
        js: dir.join("app.js"),
        wasm: dir.join("app_opt.wasm"),
        named: dir.join("app_named.wasm"),
    };
    wasm_opt(t, &dir.join("app_bg.wasm"), &built.wasm, Opt::App, false)?;
    if names {
        wasm_opt(t, &dir.join("app_bg.wasm"), &built.named, Opt::App, true)?;
    }
    Ok(built)
}

/// (raw, gzip, brotli) bytes of a page's files together.
fn page_sizes(files: &[&Path]) -> Result<(usize, usize, usize), String> {
    let mut total = (0, 0, 0);
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| format!("{}: {e}", f.display()))?;
        total.0 += bytes.len();
        total.1 += wasm_size::gzip(&bytes)?;
        total.2 += wasm_size::brotli(&bytes)?;
    }
    Ok(total)
}

/// (raw, gzip, brotli) bytes, as a difference.
type Delta = (i64, i64, i64);

/// What the widget adds to the size app, as (raw, gzip, brotli) bytes of script + wasm, with
/// the tables compiled in and fetched, and the three builds for the breakdown.
struct Marginal {
    compiled_in: Delta,
    fetched: Delta,
    without: Built,
    /// The page without the widget, (raw, gzip, brotli).
    base: (usize, usize, usize),
    with: Built,
    with_fetched: Built,
}

/// What a build of the size app adds to the page without the widget (`base`).
fn added(base: (usize, usize, usize), built: &Built) -> Result<Delta, String> {
    let b = page_sizes(&[&built.js, &built.wasm])?;
    let d = |x: usize, y: usize| y as i64 - x as i64;
    Ok((d(base.0, b.0), d(base.1, b.1), d(base.2, b.2)))
}

fn marginal(t: &tools::Tools, names: bool) -> Result<Marginal, String> {
    let without = size_app(t, SizeApp::Without, names)?;
    let base = page_sizes(&[&without.js, &without.wasm])?;
    let with = size_app(t, SizeApp::Widget, names)?;
    let with_fetched = size_app(t, SizeApp::Fetched, names)?;
    Ok(Marginal {
        compiled_in: added(base, &with)?,
        fetched: added(base, &with_fetched)?,
        without,
        base,
        with,
        with_fetched,
    })
}

fn print_page(title: &str, files: &[&Path]) -> Result<(), String> {
    let (raw, gz, br) = page_sizes(files)?;
    println!("  {title:<52} {raw:>9} B raw {gz:>8} B gzip {br:>8} B brotli");
    Ok(())
}

fn breakdown(path: &Path) -> Result<wasm_size::Breakdown, String> {
    wasm_size::read(&std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
}

/// `cargo xtask bench size`: what the JS bundle's page downloads and what the widget adds to a
/// Leptos app, with where the bytes are by crate and by module (code bytes of the optimised
/// wasm, read from its name section).
pub(crate) fn bench_size() -> Result<(), String> {
    let t = tools::ensure(tools::Need::Build)?;
    bundle(&t)?;
    let dist = root().join("dist/bundle");
    let raw = target().join("bundle-raw/lock_passwordless_js_bg.wasm");
    let named = target().join("bundle-raw/named.wasm");
    wasm_opt(&t, &raw, &named, Opt::Bundle, true)?;
    // Short import and export names as shipped, so the breakdown's other sections are the
    // shipped wasm's.
    short_names::rename(&t.wasm_opt, tools::WASM_FEATURES, &named, &["-g"])?;
    let m = marginal(&t, true)?;
    let headless = size_app(&t, SizeApp::Headless, true)?;
    println!("\nbench size: page totals (script + wasm, as served)");
    print_page(
        "JS bundle: lock-passwordless.js + wasm",
        &[
            &dist.join("lock-passwordless.js"),
            &dist.join("lock_passwordless_js_bg.wasm"),
        ],
    )?;
    print_page(
        "  of which the script",
        &[&dist.join("lock-passwordless.js")],
    )?;
    let [a, b] = largest_parts(&dist)?;
    print_page(
        "  then its phone tables: at most the two largest parts",
        &[&a, &b],
    )?;
    let mut parts: Vec<PathBuf> = std::fs::read_dir(dist.join("phone-tables"))
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    parts.sort();
    print_page(
        &format!("  (all {} parts of phone-tables/, each alone)", parts.len()),
        &parts.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    )?;
    print_page(
        "JS bundle through a whole login (+ those two parts)",
        &[
            &dist.join("lock-passwordless.js"),
            &dist.join("lock_passwordless_js_bg.wasm"),
            &a,
            &b,
        ],
    )?;
    print_page(
        "Leptos app + router, without the widget",
        &[&m.without.js, &m.without.wasm],
    )?;
    print_page(
        "the same app with <LockPasswordless/>",
        &[&m.with.js, &m.with.wasm],
    )?;
    let delta = |title: &str, (r, g, b): Delta| {
        println!("  {title:<52} {r:>9} B raw {g:>8} B gzip {b:>8} B brotli");
    };
    delta(
        "marginal weight of the widget in a Leptos app",
        m.compiled_in,
    );
    print_page(
        "the same, phone tables fetched (fetched-phone-tables)",
        &[&m.with_fetched.js, &m.with_fetched.wasm],
    )?;
    delta("marginal weight with the tables fetched", m.fetched);
    let (pr, pg, pb) = page_sizes(&[&a, &b])?;
    let whole = |d: i64, p: usize| d + i64::try_from(p).unwrap_or(0);
    delta(
        "  through a whole login (+ the two largest parts)",
        (
            whole(m.fetched.0, pr),
            whole(m.fetched.1, pg),
            whole(m.fetched.2, pb),
        ),
    );
    let logic = added(m.base, &headless)?;
    delta(
        "  of which the logic: use_passwordless under 2 inputs",
        logic,
    );
    delta(
        "  and the default UI (the rest)",
        (
            m.fetched.0 - logic.0,
            m.fetched.1 - logic.1,
            m.fetched.2 - logic.2,
        ),
    );
    println!("\nwhere the bytes are (raw bytes of the optimised wasm; gzip shrinks code ~2.5:1):");
    wasm_size::print("JS bundle", &breakdown(&named)?, &OUR_CRATES, 25);
    let without = breakdown(&m.without.named)?;
    let with = breakdown(&m.with.named)?;
    wasm_size::print("Leptos app with the widget", &with, &OUR_CRATES, 25);
    wasm_size::print_difference(
        "what the widget adds, by crate",
        &without,
        &with,
        &OUR_CRATES,
        20,
    );
    let with_fetched = breakdown(&m.with_fetched.named)?;
    wasm_size::print_difference(
        "what the widget adds with its tables fetched, by crate",
        &without,
        &with_fetched,
        &OUR_CRATES,
        20,
    );
    wasm_size::print_difference(
        "what the default UI adds to the logic (headless app to the widget, tables fetched), by crate",
        &breakdown(&headless.named)?,
        &with_fetched,
        &OUR_CRATES,
        20,
    );
    Ok(())
}
