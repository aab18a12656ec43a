//! What the JS bundle's loader draws the first screen with before the wasm arrives
//! (`__lpwEarly`): the widget's English texts for the keys the loader asks for (`t('key')` in
//! js/loader.js, read from src/i18n.rs so the two never differ), its stylesheet (minified), and
//! the regions with their calling codes (both written by the widget's build script).

use std::path::Path;

/// The `var __lpwEarly = {…};` line the bundle's scripts start the loader with.
pub fn script(root: &Path, regions: &Path, style: &Path) -> Result<String, String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let loader = read(&root.join("js/loader.js"))?;
    let i18n = read(&root.join("src/i18n.rs"))?;
    let mut texts = Vec::new();
    for key in asked_keys(&loader) {
        let text = english(&i18n, &key).ok_or_else(|| {
            format!("js/loader.js asks for the text {key:?}, which src/i18n.rs's English dictionary lacks")
        })?;
        texts.push(format!("{}:{}", json(&key), json(&text)));
    }
    Ok(format!(
        "var __lpwEarly = {{en:{{{}}},css:{},regions:{}}};\n",
        texts.join(","),
        json(&read(style)?),
        json(read(regions)?.trim())
    ))
}

/// The keys in `t('key')` calls (a `t` that is a whole name, not the end of `split`).
fn asked_keys(source: &str) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("t('") {
        let before = rest[..at].chars().next_back();
        let tail = &rest[at + 3..];
        if !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            if let Some(end) = tail.find("')") {
                keys.push(tail[..end].to_string());
            }
        }
        rest = tail;
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The text of `key` in the `EN` table of src/i18n.rs (one-line entries, `\"` and `\\` escapes).
fn english(source: &str, key: &str) -> Option<String> {
    let block = &source[source.find("const EN:")?..];
    let block = &block[..block.find("\n];")?];
    let pattern = format!("(\"{key}\",");
    let at = block.find(&pattern)? + pattern.len();
    let mut chars = block[at..].trim_start().strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// A JSON (and so JavaScript) string literal.
fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_keys_the_loader_asks_for_and_their_english() {
        let loader = "var a = x.split(','); t('title') + t('countryLabel'); t('title');";
        assert_eq!(asked_keys(loader), ["countryLabel", "title"]);
        let i18n = "const EN: &[(&str, &str)] = &[\n    (\"title\", \"Log \\\"in\\\"\"),\n    (\"x\", \"y\"),\n];";
        assert_eq!(english(i18n, "title").as_deref(), Some("Log \"in\""));
        assert_eq!(english(i18n, "missing"), None);
        assert_eq!(json("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
