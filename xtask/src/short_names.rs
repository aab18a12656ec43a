//! The JS bundle's wasm with short import and export names. wasm-bindgen names every import
//! `__wbg_{method}_{16 hex digits}` and every export after its Rust item, and the names sit
//! twice in what a page downloads: in the wasm's import and export sections and in the glue
//! that provides and calls them (~200 imports, the hashes barely compress). `wasm-opt
//! --minify-imports-and-exports-and-modules` renames them all (`a`, `b`, … `$a`) and reports
//! the mapping, with which the glue is rewritten here; anything in the glue the mapping does not
//! account for fails the build rather than ship a page whose imports do not match.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// What wasm-opt renamed: (module, old name, new name) per import, (old, new) per export.
pub struct Mapping {
    imports: Vec<(String, String, String)>,
    exports: Vec<(String, String)>,
}

/// Reads wasm-opt's report: a JSON object of `"imports": [["module", "old", "new"], …]` and
/// `"exports": [["old", "new"], …]`, one entry a line (names are identifiers: no quotes).
fn mapping(report: &str) -> Result<Mapping, String> {
    let mut m = Mapping {
        imports: Vec::new(),
        exports: Vec::new(),
    };
    let mut section = "";
    for line in report.lines() {
        let line = line.trim();
        if line.starts_with("\"imports\"") || line.starts_with("\"exports\"") {
            section = &line[1..8];
            continue;
        }
        let quoted: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        match (section, quoted.as_slice()) {
            (_, []) => {}
            ("imports", [module, old, new]) => {
                m.imports
                    .push((module.to_string(), old.to_string(), new.to_string()))
            }
            ("exports", [old, new]) => m.exports.push((old.to_string(), new.to_string())),
            _ => return Err(format!("wasm-opt's name mapping: unexpected line {line:?}")),
        }
    }
    if m.imports.is_empty() || m.exports.is_empty() {
        return Err("wasm-opt reported no renamed imports or exports".into());
    }
    Ok(m)
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '$'
}

/// Where `word` occurs in `text` as a whole identifier.
fn occurrences(text: &str, word: &str) -> Vec<usize> {
    text.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
        })
        .collect()
}

/// `glue` with the wasm's new names: each import's key in the imports object (it must occur
/// exactly once, as `old:`), the imports' module, and every `wasm.old` call of an export. Every
/// `wasm.…` left must be a new name.
fn rewrite(glue: &str, m: &Mapping, new_module: &str) -> Result<String, String> {
    let mut out = glue.to_string();
    let modules: BTreeSet<&str> = m
        .imports
        .iter()
        .map(|(module, ..)| module.as_str())
        .collect();
    for module in &modules {
        let key = format!("\"{module}\":");
        if out.matches(&key).count() != 1 {
            return Err(format!(
                "the glue names the import module {key} other than once"
            ));
        }
        out = out.replace(&key, &format!("\"{new_module}\":"));
    }
    for (_, old, new) in &m.imports {
        let at = occurrences(&out, old);
        let [at] = at.as_slice() else {
            return Err(format!(
                "the glue names import {old} {} times, not once",
                at.len()
            ));
        };
        if !out[at + old.len()..].starts_with(':') {
            return Err(format!("the glue's import {old} is not an object key"));
        }
        out.replace_range(*at..at + old.len(), &format!("\"{new}\""));
    }
    for (old, new) in &m.exports {
        let call = format!("wasm.{old}");
        for at in occurrences(&out, &call).into_iter().rev() {
            out.replace_range(at..at + call.len(), &format!("wasm.{new}"));
        }
    }
    let renamed: BTreeSet<&str> = m.exports.iter().map(|(_, new)| new.as_str()).collect();
    for (at, _) in out.match_indices("wasm.") {
        if out[..at].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let name: String = out[at + 5..].chars().take_while(|&c| is_ident(c)).collect();
        if !renamed.contains(name.as_str()) {
            return Err(format!(
                "the glue calls wasm.{name}, which wasm-opt did not rename"
            ));
        }
    }
    Ok(out)
}

/// Renames `wasm`'s imports and exports in place (`extra`: more wasm-opt flags, `-g` to keep the
/// name section): what was renamed, and the one module the imports now come from.
pub fn rename(
    wasm_opt: &Path,
    features: &[&str],
    wasm: &Path,
    extra: &[&str],
) -> Result<(Mapping, String), String> {
    let tmp = wasm.with_extension("short.tmp");
    let mut cmd = Command::new(wasm_opt);
    cmd.arg(wasm)
        .arg("--minify-imports-and-exports-and-modules")
        .args(features)
        .args(extra)
        .arg("-o")
        .arg(&tmp);
    println!("$ {cmd:?}");
    let run = cmd.output().map_err(|e| format!("wasm-opt: {e}"))?;
    if !run.status.success() {
        return Err(format!(
            "wasm-opt --minify-imports-and-exports-and-modules failed: {}",
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    let m = mapping(&String::from_utf8_lossy(&run.stdout))?;
    let bytes = std::fs::read(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let modules: BTreeSet<String> = crate::wasm_size::read_imports(&bytes)?
        .into_iter()
        .map(|i| i.module)
        .collect();
    let [module] = Vec::from_iter(modules)
        .try_into()
        .map_err(|all: Vec<String>| {
            format!("the renamed wasm imports from {all:?}, not one module")
        })?;
    std::fs::rename(&tmp, wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    Ok((m, module))
}

/// Renames `wasm`'s imports and exports in place and returns `glue` rewritten to match.
pub fn shorten(
    wasm_opt: &Path,
    features: &[&str],
    wasm: &Path,
    glue: &str,
) -> Result<String, String> {
    let (m, module) = rename(wasm_opt, features, wasm, &[])?;
    rewrite(glue, &m, &module)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = r#"{
 "imports": [
  ["./x_bg.js", "__wbg_item_5b70fe58b24cf84b", "$"],
  ["./x_bg.js", "__wbg_Error_208446807d0d1e30", "a"],
 ],
"exports": [
  ["__wbindgen_malloc", "b"],
  ["memory", "c"],
 ]
}"#;

    #[test]
    fn the_glue_takes_the_new_names_or_the_build_fails() {
        let m = mapping(REPORT).unwrap();
        let glue =
            "const import0 = { __wbg_Error_208446807d0d1e30: function(a) { return Error(a); },\n\
                    __wbg_item_5b70fe58b24cf84b: function(a, b) { return a.item(b); } };\n\
                    return { \"./x_bg.js\": import0 };\n\
                    f(wasm.__wbindgen_malloc, wasm.memory.buffer, mywasm.memory);";
        assert_eq!(
            rewrite(glue, &m, "a").unwrap(),
            "const import0 = { \"a\": function(a) { return Error(a); },\n\
             \"$\": function(a, b) { return a.item(b); } };\n\
             return { \"a\": import0 };\n\
             f(wasm.b, wasm.c.buffer, mywasm.memory);"
        );
        // An export the glue calls that was not renamed, an import the glue lacks or names twice.
        let unknown = format!("{glue} wasm.__wbindgen_free(1);");
        assert!(rewrite(&unknown, &m, "a")
            .unwrap_err()
            .contains("__wbindgen_free"));
        let missing = glue.replace("__wbg_item_5b70fe58b24cf84b", "__wbg_item_other");
        assert!(rewrite(&missing, &m, "a").is_err());
        let twice = format!("{glue} __wbg_Error_208446807d0d1e30: 1");
        assert!(rewrite(&twice, &m, "a").is_err());
    }
}
