//! Where a wasm's bytes are: a reader of the code section and the name section (function names,
//! which rustc writes demangled-with-hash and wasm-bindgen and `wasm-opt -g` keep), grouped by
//! crate and, for this workspace's crates, by module. The figures are the optimised module's own
//! bytes when it was optimised with `-g` (names kept), so they add up to what ships.

use std::collections::BTreeMap;
use std::io::Write;

/// One module's sections as (code bytes per function name, data bytes, other bytes).
pub struct Breakdown {
    /// (function name, body bytes) for every defined function.
    pub functions: Vec<(String, usize)>,
    /// Bytes of the data section (static data: strings, tables).
    pub data: usize,
    /// Everything else: types, imports, exports, element and custom sections but `name`.
    pub other: usize,
}

fn leb(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes
            .get(*at)
            .ok_or("wasm: a number runs past the end of the module")?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
        shift += 7;
        if shift > 63 {
            return Err("wasm: a number longer than 64 bits".into());
        }
    }
}

fn size(bytes: &[u8], at: &mut usize) -> Result<usize, String> {
    usize::try_from(leb(bytes, at)?).map_err(|e| e.to_string())
}

fn name_at(bytes: &[u8], at: &mut usize) -> Result<String, String> {
    let len = size(bytes, at)?;
    let s = bytes
        .get(*at..*at + len)
        .ok_or("wasm: a name runs past the end of its section")?;
    *at += len;
    Ok(String::from_utf8_lossy(s).into_owned())
}

/// One import: where from, and its kind (0 a function, 1 a table, 2 a memory, 3 a global, 4 a
/// tag).
pub struct Import {
    pub module: String,
    pub kind: u8,
}

/// The import section's entries, read from its count at `p`.
fn imports(bytes: &[u8], p: &mut usize) -> Result<Vec<Import>, String> {
    let mut all = Vec::new();
    for _ in 0..size(bytes, p)? {
        let module = name_at(bytes, p)?;
        name_at(bytes, p)?;
        let kind = *bytes.get(*p).ok_or("wasm: an import runs past the end")?;
        *p += 1;
        match kind {
            0 => {
                leb(bytes, p)?;
            }
            1 => {
                *p += 1; // reftype
                limits(bytes, p)?;
            }
            2 => limits(bytes, p)?,
            3 => *p += 2, // valtype, mutability
            4 => {
                *p += 1;
                leb(bytes, p)?;
            }
            k => return Err(format!("wasm: unknown import kind {k}")),
        }
        all.push(Import { module, kind });
    }
    Ok(all)
}

/// A module's imports.
pub fn read_imports(bytes: &[u8]) -> Result<Vec<Import>, String> {
    if bytes.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut at = 8;
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let len = size(bytes, &mut at)?;
        if id == 2 {
            return imports(bytes, &mut at);
        }
        at += len;
    }
    Ok(Vec::new())
}

/// Reads a module's function sizes and names.
pub fn read(bytes: &[u8]) -> Result<Breakdown, String> {
    if bytes.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut at = 8;
    let mut imported_functions = 0usize;
    let mut bodies: Vec<usize> = Vec::new();
    let mut names: BTreeMap<usize, String> = BTreeMap::new();
    let (mut data, mut other) = (0usize, 8usize);
    while at < bytes.len() {
        let id = bytes[at];
        at += 1;
        let start_of_size = at;
        let len = size(bytes, &mut at)?;
        let header = at - start_of_size + 1;
        let end = at + len;
        if end > bytes.len() {
            return Err("wasm: a section runs past the end of the module".into());
        }
        let mut p = at;
        match id {
            2 => {
                other += header + len;
                imported_functions += imports(bytes, &mut p)?
                    .iter()
                    .filter(|i| i.kind == 0)
                    .count();
            }
            10 => {
                for _ in 0..size(bytes, &mut p)? {
                    let body_start = p;
                    let body = size(bytes, &mut p)?;
                    p += body;
                    bodies.push(p - body_start);
                }
                // The section's own header and count.
                other += header + len - bodies.iter().sum::<usize>();
            }
            11 => data += header + len,
            0 => {
                let mut q = p;
                if name_at(bytes, &mut q)? == "name" {
                    while q < end {
                        let sub = bytes[q];
                        q += 1;
                        let sub_len = size(bytes, &mut q)?;
                        let sub_end = q + sub_len;
                        if sub == 1 {
                            let mut r = q;
                            for _ in 0..size(bytes, &mut r)? {
                                let index = size(bytes, &mut r)?;
                                names.insert(index, name_at(bytes, &mut r)?);
                            }
                        }
                        q = sub_end;
                    }
                } else {
                    other += header + len;
                }
            }
            _ => other += header + len,
        }
        at = end;
    }
    let functions = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let index = imported_functions + i;
            let name = names
                .remove(&index)
                .unwrap_or_else(|| format!("<function {index} without a name>"));
            (name, body)
        })
        .collect();
    Ok(Breakdown {
        functions,
        data,
        other,
    })
}

fn limits(bytes: &[u8], p: &mut usize) -> Result<(), String> {
    let flags = bytes[*p];
    *p += 1;
    leb(bytes, p)?;
    if flags & 1 != 0 {
        leb(bytes, p)?;
    }
    Ok(())
}

/// The standard library's crates: their generic functions are charged to the first other crate
/// named in their type arguments (`core::ptr::drop_in_place<leptos::…>` is Leptos' weight).
const STD: [&str; 3] = ["core", "alloc", "std"];

/// Crate paths named in a symbol, in order: every `ident::` run that starts a path.
fn crates_in(name: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let starts = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        if starts && (bytes[i].is_ascii_alphabetic() || bytes[i] == b'_') {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            // std's crates carry a disambiguator: `core[c5930c85a12de822]::fmt`.
            let mut k = j;
            if name[j..].starts_with('[') {
                if let Some(close) = name[j..].find(']') {
                    if name[j + 1..j + close]
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit())
                    {
                        k = j + close + 1;
                    }
                }
            }
            if name[k..].starts_with("::") {
                out.push(&name[i..j]);
            }
            i = k;
        } else {
            i += 1;
        }
    }
    out
}

/// A symbol without rustc's `::h0123456789abcdef` hash.
fn without_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            head
        }
        _ => name,
    }
}

/// The crate a function's bytes are charged to, and for this workspace's crates the module.
pub fn owner(name: &str, ours: &[&str]) -> (String, Option<String>) {
    let crates = crates_in(name);
    let Some(&first) = crates.first() else {
        return ("(unnamed: wasm-bindgen, compiler builtins)".into(), None);
    };
    // `<X as Trait>::f` and `<impl Trait for X>`: X's crate owns it, so look at the start.
    let krate = if STD.contains(&first) {
        crates
            .iter()
            .find(|c| !STD.contains(c))
            .map_or(first.to_string(), |c| format!("{c} (std generics)"))
    } else {
        first.to_string()
    };
    let base = krate.split(' ').next().unwrap_or("");
    let module = ours.contains(&base).then(|| {
        // The path after the crate up to the first item that is not a module: lower-case
        // segments are modules by Rust's conventions.
        let at = name.find(&format!("{base}::")).unwrap_or(0) + base.len() + 2;
        let path = without_hash(&name[at..]);
        let all: Vec<&str> = path.split("::").collect();
        // Lower-case segments are modules by Rust's conventions, up to a type, a closure or
        // an impl; when they run to the end, the last one is the function itself.
        let lower = all
            .iter()
            .take_while(|s| {
                s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .count();
        let modules = if lower == all.len() {
            &all[..lower - 1]
        } else {
            &all[..lower]
        };
        if modules.is_empty() {
            format!("{base} (crate root)")
        } else {
            format!("{base}::{}", modules.join("::"))
        }
    });
    (krate, module)
}

/// `gzip -9` of some bytes, through the system's gzip (as the rest of the xtask measures).
pub fn gzip(bytes: &[u8]) -> Result<usize, String> {
    compress(std::process::Command::new("gzip").args(["-9", "-c"]), bytes)
}

/// `brotli -q 11` of some bytes (what a CDN serves to browsers that ask for `br`).
pub fn brotli(bytes: &[u8]) -> Result<usize, String> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out.len())
}

fn compress(cmd: &mut std::process::Command, bytes: &[u8]) -> Result<usize, String> {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("gzip: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("gzip: no stdin")?;
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer
        .join()
        .map_err(|_| "gzip: the writer panicked".to_string())?
        .map_err(|e| e.to_string())?;
    Ok(out.stdout.len())
}

type Groups = BTreeMap<String, (usize, usize)>;

/// Code bytes and function counts by crate and by module of ours.
fn group(b: &Breakdown, ours: &[&str]) -> (Groups, Groups) {
    let mut crates = Groups::new();
    let mut modules = Groups::new();
    for (name, bytes) in &b.functions {
        let (krate, module) = owner(name, ours);
        let e = crates.entry(krate).or_default();
        e.0 += bytes;
        e.1 += 1;
        if let Some(m) = module {
            let e = modules.entry(m).or_default();
            e.0 += bytes;
            e.1 += 1;
        }
    }
    (crates, modules)
}

fn code(b: &Breakdown) -> usize {
    b.functions.iter().map(|f| f.1).sum()
}

/// Rows largest first, the first `top` of them and a line for the rest.
fn table(heading: &str, rows: Vec<(String, i64, usize)>, whole: usize, top: usize) {
    let mut rows = rows;
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    println!(
        "    {heading:<90} {:>9} {:>6} {:>6}",
        "bytes", "share", "fns"
    );
    let shown = rows.len().min(top);
    let share = |n: i64| 100.0 * n as f64 / whole.max(1) as f64;
    for (name, bytes, n) in &rows[..shown] {
        println!("    {name:<90} {bytes:>9} {:>5.1}% {n:>6}", share(*bytes));
    }
    if rows.len() > shown {
        let rest: i64 = rows[shown..].iter().map(|r| r.1).sum();
        let label = format!("({} more)", rows.len() - shown);
        println!("    {label:<90} {rest:>9} {:>5.1}%", share(rest));
    }
}

fn rows(groups: Groups) -> Vec<(String, i64, usize)> {
    groups
        .into_iter()
        .map(|(k, (bytes, n))| (k, bytes as i64, n))
        .collect()
}

/// Prints a breakdown: by crate, then this workspace's modules, largest first, each with its
/// share of the code.
pub fn print(title: &str, b: &Breakdown, ours: &[&str], top: usize) {
    let whole = code(b);
    println!(
        "  {title}: code {whole} B in {} functions, data {} B, other sections {} B",
        b.functions.len(),
        b.data,
        b.other
    );
    let (crates, modules) = group(b, ours);
    table("by crate (code bytes)", rows(crates), whole, top);
    table("by module of ours (code bytes)", rows(modules), whole, top);
    let largest = b
        .functions
        .iter()
        .map(|(name, bytes)| {
            let mut name = without_hash(name).to_string();
            if name.len() > 90 {
                let cut = (0..=87)
                    .rev()
                    .find(|&i| name.is_char_boundary(i))
                    .unwrap_or(0);
                name = format!("{}...", &name[..cut]);
            }
            (name, *bytes as i64, 1)
        })
        .collect();
    table("largest functions", largest, whole, top);
}

/// Prints what `with` has more than `without`, by crate (a crate both share shows what the
/// widget's use of it adds: more instances of Leptos' generics, say).
pub fn print_difference(
    title: &str,
    without: &Breakdown,
    with: &Breakdown,
    ours: &[&str],
    top: usize,
) {
    let whole = code(with) as i64 - code(without) as i64;
    println!(
        "  {title}: code {whole:+} B, data {:+} B, other sections {:+} B",
        with.data as i64 - without.data as i64,
        with.other as i64 - without.other as i64
    );
    let (before, _) = group(without, ours);
    let (after, _) = group(with, ours);
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    let diff = names
        .into_iter()
        .map(|k| {
            let (a, an) = before.get(k).copied().unwrap_or_default();
            let (b, bn) = after.get(k).copied().unwrap_or_default();
            (k.clone(), b as i64 - a as i64, bn.saturating_sub(an))
        })
        .filter(|r| r.1 != 0)
        .collect();
    table(
        "by crate (code bytes added)",
        diff,
        whole.max(1) as usize,
        top,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: [&str; 2] = ["leptos_passwordless", "lock_passwordless_js"];

    #[test]
    fn charges_functions_to_their_crate_and_module() {
        assert_eq!(
            owner(
                "leptos_passwordless::phone::typing::format::h0123456789abcdef",
                &OURS
            ),
            (
                "leptos_passwordless".into(),
                Some("leptos_passwordless::phone::typing".into())
            )
        );
        assert_eq!(
            owner(
                "core::ptr::drop_in_place<leptos_passwordless::lock::Inner>::h0123456789abcdef",
                &OURS
            ),
            (
                "leptos_passwordless (std generics)".into(),
                Some("leptos_passwordless::lock".into())
            )
        );
        assert_eq!(
            owner(
                "<serde_json::error::Error as core::fmt::Display>::fmt::h2",
                &OURS
            ),
            ("serde_json".into(), None)
        );
        assert_eq!(
            owner(
                "leptos_passwordless::hook::Flow::run::{{closure}}::h664c472d0f6c3c74",
                &OURS
            )
            .1,
            Some("leptos_passwordless::hook".into())
        );
        assert_eq!(
            owner(
                "leptos_passwordless::ui::__component_modal::{{closure}}",
                &OURS
            )
            .1,
            Some("leptos_passwordless::ui".into())
        );
        assert_eq!(owner("memcpy", &OURS).1, None);
        assert_eq!(owner("core::fmt::write::h3", &OURS).0, "core");
        assert_eq!(
            owner("<f64 as core[c5930c85a12de822]::fmt::Display>::fmt", &OURS).0,
            "core"
        );
        assert_eq!(
            owner(
                "<dlmalloc[e24a27700634d609]::dlmalloc::Dlmalloc<A>>::malloc",
                &OURS
            )
            .0,
            "dlmalloc"
        );
    }

    #[test]
    fn reads_function_sizes_and_names() {
        // (module (func $a) (func $b nop nop)) with a name section naming both.
        let module: Vec<u8> = [
            &b"\0asm\x01\0\0\0"[..],
            &[1, 4, 1, 0x60, 0, 0],                    // types: one () -> ()
            &[3, 3, 2, 0, 0],                          // two functions of type 0
            &[10, 9, 2, 2, 0, 0x0b, 4, 0, 1, 1, 0x0b], // bodies of 3 and 5 bytes
            &[
                0, 14, 4, b'n', b'a', b'm', b'e', 1, 7, 2, 0, 1, b'a', 1, 1, b'b',
            ],
        ]
        .concat();
        let b = read(&module).unwrap();
        assert_eq!(
            b.functions,
            vec![("a".to_string(), 3), ("b".to_string(), 5)]
        );
        assert_eq!(b.data, 0);
    }
}
