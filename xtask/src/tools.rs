//! Installs what the commands need, idempotently: each check is a version probe, and an install
//! runs only when the probe fails. Every install says what it installs and why.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{describe, root, run};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const BINARYEN_VERSION: &str = "132";
pub const PLAYWRIGHT_VERSION: &str = "1.65.1";
pub const TYPESCRIPT_VERSION: &str = "5.9.3";
pub const AXE_VERSION: &str = "4.10.3";
pub const ESBUILD_VERSION: &str = "0.25.12";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Debian's fonts-noto-color-emoji: the flags in headless screenshots and the flag tests.
pub const EMOJI_FONT: &str = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf";
/// Features rustc's wasm32 target emits; wasm-opt must accept them.
pub const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// What a command needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Building the demo and bundle.
    Build,
    /// Also browsers and the end-to-end driver.
    Test,
}

/// Paths of the installed tools.
pub struct Tools {
    pub trunk: PathBuf,
    pub wasm_bindgen: PathBuf,
    pub wasm_opt: PathBuf,
    cargo_bin: PathBuf,
    node_dir: PathBuf,
}

impl Tools {
    /// `PATH` with the tools first (Trunk looks wasm-bindgen and wasm-opt up there).
    pub fn path_env(&self) -> String {
        format!(
            "{}:{}:{}",
            self.node_dir.join("node_modules/.bin").display(),
            self.cargo_bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    pub fn node_modules(&self) -> PathBuf {
        self.node_dir.join("node_modules")
    }
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"))
        .join("bin")
}

/// The wasm-bindgen version pinned in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

/// Installs Debian packages (through sudo when not root); nothing when `packages` is empty.
pub fn apt_install(packages: &[&str], why: &str) -> Result<(), String> {
    if packages.is_empty() {
        return Ok(());
    }
    let sudo = output(Command::new("id").arg("-u")).is_some_and(|u| u.trim() != "0");
    let apt = |args: &[&str]| {
        let mut c = if sudo {
            Command::new("sudo")
        } else {
            Command::new("apt-get")
        };
        if sudo {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    println!(
        "xtask: installing {} from Debian ({why})",
        packages.join(", ")
    );
    run(&mut apt(&["update"]))?;
    let mut c = apt(&["install", "-y"]);
    c.args(packages);
    run(&mut c).map_err(|e| format!("{e} (while running {})", describe(&c)))
}

fn install(why: &str, cmd: &mut Command) -> Result<(), String> {
    println!("xtask: installing {why}");
    run(cmd)
}

pub const LOCK_PEER: &str = r#"{"private": true, "dependencies": {"auth0-lock": "12.5.1", "esbuild": "0.25.12", "events": "3.3.0"}}"#;

/// Installs Auth0 Lock and esbuild (only for `bench load`, never shipped); returns their
/// node_modules.
pub fn ensure_lock_peer() -> Result<PathBuf, String> {
    let dir = crate::target().join("xtask-tools/peer");
    let modules = dir.join("node_modules");
    let manifest = dir.join("package.json");
    let installed =
        std::fs::read_to_string(modules.join("auth0-lock/package.json")).unwrap_or_default();
    let current = std::fs::read_to_string(&manifest).unwrap_or_default() == LOCK_PEER;
    if !(current
        && installed.contains("\"version\": \"12.5.1\"")
        && modules.join("esbuild").exists())
    {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(&manifest, LOCK_PEER).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("npm");
        cmd.args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir);
        install("auth0-lock@12.5.1 and esbuild from npm (a measuring peer for bench load; never shipped)", &mut cmd)?;
    }
    Ok(modules)
}

/// Ensures everything `need` requires is present; installs what is missing.
pub fn ensure(need: Need) -> Result<Tools, String> {
    let cargo_bin = cargo_bin();
    let node_dir = crate::target().join("xtask-tools");

    let targets =
        output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !targets
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        install(
            "the wasm32-unknown-unknown target (the widget compiles to WebAssembly)",
            Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]),
        )?;
    }

    let trunk = cargo_bin.join("trunk");
    let want = format!("trunk {TRUNK_VERSION}");
    if output(Command::new(&trunk).arg("--version")).is_none_or(|v| v.trim() != want) {
        // 0.22 needs a newer rustc than this machine's; 0.21.14 builds the demo the same way.
        install(
            &format!("trunk {TRUNK_VERSION} (builds and serves the demo; ~9 min once)"),
            Command::new("cargo").args(["install", "--locked", &format!("trunk@{TRUNK_VERSION}")]),
        )?;
    }

    let wb_version = locked_wasm_bindgen()?;
    let wasm_bindgen = cargo_bin.join("wasm-bindgen");
    let runner = cargo_bin.join("wasm-bindgen-test-runner");
    let have = output(Command::new(&wasm_bindgen).arg("--version")).unwrap_or_default();
    if have.trim() != format!("wasm-bindgen {wb_version}") || !runner.exists() {
        // Without --locked: its lockfile can pin versions the registry mirror lacks.
        install(
            &format!(
                "wasm-bindgen-cli {wb_version} (must equal Cargo.lock's wasm-bindgen; ~4 min once)"
            ),
            Command::new("cargo").args([
                "install",
                "wasm-bindgen-cli",
                "--version",
                &wb_version,
                "--force",
            ]),
        )?;
    }

    let bin = node_dir.join("node_modules/.bin");
    let wasm_opt = bin.join("wasm-opt");
    let wasm_opt_ok = output(Command::new(&wasm_opt).arg("--version"))
        .is_some_and(|v| v.contains(&format!("version_{BINARYEN_VERSION}")));
    let pw = std::fs::read_to_string(node_dir.join("node_modules/playwright-core/package.json"))
        .unwrap_or_default();
    let pw_ok = pw.contains(&format!("\"version\": \"{PLAYWRIGHT_VERSION}\""));
    let ts = std::fs::read_to_string(node_dir.join("node_modules/typescript/package.json"))
        .unwrap_or_default();
    let ts_ok = ts.contains(&format!("\"version\": \"{TYPESCRIPT_VERSION}\""));
    let axe = std::fs::read_to_string(node_dir.join("node_modules/axe-core/package.json"))
        .unwrap_or_default();
    let axe_ok = axe.contains(&format!("\"version\": \"{AXE_VERSION}\""));
    let esbuild = std::fs::read_to_string(node_dir.join("node_modules/esbuild/package.json"))
        .unwrap_or_default();
    let esbuild_ok = esbuild.contains(&format!("\"version\": \"{ESBUILD_VERSION}\""));
    if !wasm_opt_ok || !pw_ok || !ts_ok || !axe_ok || !esbuild_ok {
        // One package.json for both, so installing one never prunes the other. Debian's binaryen
        // (108) corrupts wasm-bindgen output; npm's is current.
        std::fs::create_dir_all(&node_dir).map_err(|e| e.to_string())?;
        let manifest = format!(
            r#"{{"private": true, "dependencies": {{"binaryen": "{BINARYEN_VERSION}.0.0", "playwright-core": "{PLAYWRIGHT_VERSION}", "typescript": "{TYPESCRIPT_VERSION}", "axe-core": "{AXE_VERSION}", "esbuild": "{ESBUILD_VERSION}"}}}}"#
        );
        std::fs::write(node_dir.join("package.json"), manifest).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("npm");
        cmd.args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&node_dir);
        install(
            &format!(
                "binaryen@{BINARYEN_VERSION} (wasm-opt), playwright-core@{PLAYWRIGHT_VERSION} (end-to-end driver) \
                 typescript@{TYPESCRIPT_VERSION} (checks the bundle's .d.ts) and axe-core@{AXE_VERSION} \
                 (accessibility checks in the end-to-end tests) and esbuild@{ESBUILD_VERSION} (minifies the \
                 bundle's JavaScript) from npm"
            ),
            &mut cmd,
        )?;
    }

    // Debian packages, each installed only when the file it provides is missing: the browser
    // and its driver, a colour emoji font so the widget's flags are drawn (the end-to-end
    // tests check both ways, and the README's screenshots show flags), and PostgreSQL, the
    // tenant's shared backend, which the tenant suite runs against a second time.
    let mut debian: Vec<&str> = [
        (CHROMIUM, "chromium"),
        (CHROMEDRIVER, "chromium-driver"),
        (EMOJI_FONT, "fonts-noto-color-emoji"),
    ]
    .into_iter()
    .filter(|(file, _)| need == Need::Test && !Path::new(file).exists())
    .map(|(_, package)| package)
    .collect();
    if need == Need::Test && crate::postgres::bin_dir().is_none() {
        debian.push("postgresql");
    }
    apt_install(&debian, "browser, end-to-end and PostgreSQL tests")?;

    Ok(Tools {
        trunk,
        wasm_bindgen,
        wasm_opt,
        cargo_bin,
        node_dir,
    })
}
