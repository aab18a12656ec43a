//! Generates the widget's phone tables from the `phonenumber` crate's metadata.
//!
//! `phonenumber` is the single source of truth (the tenant validates with it at runtime), but the
//! crate with its regex engine, XML and metadata code weighs ~465 KB gzipped in wasm. So it runs
//! here, natively, at build time: every pattern and rule the parser, validator and formatter use
//! is written to `$OUT_DIR/phone_tables.rs` as static data, and every pattern is compiled by the
//! widget's own small engine (`src/phone/re.rs`) so an unsupported construct fails the build.
//! `tests/phone_differential.rs` then holds the widget to `phonenumber`'s answers.
//!
//! It also writes the stylesheet as it ships, `style/lock.css` minified (`style/minify.rs`), to
//! `$OUT_DIR/lock.min.css`: the widget compiles it in, and `cargo xtask bundle` ships it.

use std::path::Path;

use phonenumber::metadata::{Descriptor, Format, Metadata, DATABASE};

#[allow(dead_code)]
#[path = "src/phone/re.rs"]
mod re;

#[path = "style/minify.rs"]
mod minify;

/// Separators of the table text; no metadata string contains them (checked below), and no
/// pattern starts with `=` (which marks a reference to a national format).
const RECORD: char = '\n';
const FIELD: char = ';';
const ITEM: char = '!';
const PART: char = '@';
const NONE: &str = "~";

/// A string field, checked not to collide with the separators.
fn text(value: &str) -> String {
    assert!(
        !value.contains([RECORD, FIELD, ITEM, PART]) && value != NONE,
        "a metadata string holds a table separator: {value:?}"
    );
    value.to_string()
}

fn pattern(p: &str) -> String {
    let out: String = p.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(!out.starts_with('='), "a pattern starts with `=`: {out}");
    if let Err(e) = re::Regex::new(&out) {
        panic!("the phone pattern engine cannot compile a metadata pattern: {e:?}");
    }
    text(&out)
}

fn opt(value: Option<String>) -> String {
    value.unwrap_or_else(|| NONE.to_string())
}

/// Lengths (all ≤ 17) as base-36 digits, one each.
fn lengths(values: &[u16]) -> String {
    values
        .iter()
        .map(|&v| char::from_digit(u32::from(v), 36).expect("a possible length below 36"))
        .collect()
}

fn desc(d: &Descriptor) -> String {
    [
        pattern(d.national_number().as_str()),
        lengths(d.possible_length()),
        lengths(d.possible_local_length()),
    ]
    .join(&PART.to_string())
}

fn formats(list: &[Format]) -> String {
    list.iter()
        .map(|f| {
            [
                pattern(f.pattern().as_str()),
                text(f.format()),
                // The formatter only ever looks at the last leading-digits pattern.
                opt(f.leading_digits().last().map(|r| pattern(r.as_str()))),
                opt(f.national_prefix().map(text)),
                opt(f.domestic_carrier().map(text)),
            ]
            .join(&PART.to_string())
        })
        .collect::<Vec<_>>()
        .join(&ITEM.to_string())
}

/// International formats are national ones with another format string: written as `=k@fmt`,
/// national format `k` with `fmt` (or in full, should one ever differ otherwise).
fn international_formats(national: &[Format], international: &[Format]) -> String {
    let key = |f: &Format| {
        (
            f.pattern().as_str().to_string(),
            f.leading_digits().last().map(|r| r.as_str().to_string()),
            f.national_prefix().map(str::to_string),
            f.domestic_carrier().map(str::to_string),
        )
    };
    international
        .iter()
        .map(|f| match national.iter().position(|n| key(n) == key(f)) {
            Some(k) => format!("={k}{PART}{}", text(f.format())),
            None => formats(std::slice::from_ref(f)),
        })
        .collect::<Vec<_>>()
        .join(&ITEM.to_string())
}

fn meta(m: &Metadata, with_formats: bool) -> String {
    let d = m.descriptors();
    // Validity asks whether any of these types matches; the order and duplicates do not matter.
    let mut types: Vec<String> = Vec::new();
    for t in [
        d.premium_rate(),
        d.toll_free(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
        d.fixed_line(),
        d.mobile(),
    ]
    .into_iter()
    .flatten()
    {
        let t = desc(t);
        if !types.contains(&t) {
            types.push(t);
        }
    }
    let (national, international) = if with_formats {
        (
            formats(m.formats()),
            international_formats(m.formats(), m.international_formats()),
        )
    } else {
        (String::new(), String::new())
    };
    [
        text(m.id()),
        m.country_code().to_string(),
        opt(m.international_prefix().map(|r| pattern(r.as_str()))),
        opt(m.national_prefix().map(text)),
        opt(m.national_prefix_for_parsing().map(|r| pattern(r.as_str()))),
        opt(m.national_prefix_transform_rule().map(text)),
        desc(d.general()),
        types.join(&ITEM.to_string()),
        opt(m.leading_digits().map(|r| pattern(r.as_str()))),
        opt(d.mobile().and_then(Descriptor::example).map(text)),
        national,
        international,
    ]
    .join(&FIELD.to_string())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/phone/re.rs");
    println!("cargo:rerun-if-changed=style/lock.css");
    println!("cargo:rerun-if-changed=style/minify.rs");

    // Not `DATABASE.iter()`: it walks the entries by ID, and the non-geographic ones all share
    // the ID `001`, so all but one would be missed.
    let codes: Vec<u16> = (1..1000)
        .filter(|c| DATABASE.by_code(c).is_some())
        .collect();

    // One part per calling code: its entries, main region first.
    let mut parts: Vec<(u16, String)> = Vec::new();
    for &code in &codes {
        let list = DATABASE.by_code(&code).expect("a listed code");
        let regions = DATABASE.region(&code).expect("a listed code");
        assert_eq!(list.len(), regions.len());
        let mut lines = Vec::new();
        for (i, m) in list.iter().enumerate() {
            assert_eq!(m.id(), regions[i], "regions and metadata in one order");
            // Formatting always uses the first metadata of a code; the rest need no formats.
            lines.push(meta(m, i == 0));
        }
        parts.push((code, lines.join(&RECORD.to_string())));
    }
    let table = parts
        .iter()
        .map(|(_, part)| part.as_str())
        .collect::<Vec<_>>()
        .join(&RECORD.to_string());
    // A bit a calling code (all are below 1000): 125 bytes instead of ~800 of text.
    let mut code_bits = [0u8; 125];
    for &code in &codes {
        assert!(code < 1000, "calling code {code}");
        code_bits[usize::from(code / 8)] |= 1 << (code % 8);
    }
    // The geographic regions and their calling codes, sorted by ISO code: always compiled in (a
    // couple of KB), so the country list works before fetched tables arrive.
    let mut regions: Vec<(String, u16)> = Vec::new();
    for code in &codes {
        for id in DATABASE.region(code).expect("a listed code") {
            let id = id.to_string();
            if id != "001" {
                regions.push((id, *code));
            }
        }
    }
    regions.sort();
    let regions: Vec<String> = regions.iter().map(|(id, c)| format!("{id}{c}")).collect();
    let regions = regions.join(",");
    let out = format!(
        "/// Every metadata entry, one per line, grouped by calling code in `phonenumber`'s order\n\
         /// (main region first). Fields by `{FIELD}`, list items by `{ITEM}`, parts by `{PART}`,\n\
         /// `{NONE}` for none; lengths as base-36 digits. Written by build.rs.\n\
         /// With `fetched-phone-tables` it is fetched instead, a calling code's part at a time.\n\
         #[cfg(not(feature = \"fetched-phone-tables\"))]\n\
         pub(crate) static TABLE: &str = {table:?};\n\
         /// Every geographic region with its calling code (`NL31`), sorted, by `,`.\n\
         pub(crate) static REGIONS: &str = {regions:?};\n\
         /// Every calling code, non-geographic ones too: bit `code % 8` of byte `code / 8`.\n\
         pub(crate) static CODES: [u8; 125] = {code_bits:?};\n"
    );
    let out_dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    let dir = Path::new(&out_dir);
    std::fs::write(dir.join("phone_tables.rs"), out).expect("write phone tables");
    // What a `fetched-phone-tables` build fetches, a calling code's part at a time, when it needs
    // it (`cargo xtask bundle` ships the folder); the whole text for the tests that install all.
    let part_dir = dir.join("phone-tables");
    let _ = std::fs::remove_dir_all(&part_dir);
    std::fs::create_dir_all(&part_dir).expect("create the phone tables folder");
    for (code, part) in &parts {
        std::fs::write(part_dir.join(format!("{code}.txt")), part)
            .expect("write a phone table part");
    }
    std::fs::write(dir.join("phone-tables.txt"), &table).expect("write phone tables");
    // The regions again, for the JS bundle's loader (it draws the first screen before the wasm).
    std::fs::write(dir.join("regions.txt"), &regions).expect("write the regions");
    let css = std::fs::read_to_string("style/lock.css").expect("read style/lock.css");
    std::fs::write(dir.join("lock.min.css"), minify::minify_css(&css))
        .expect("write the minified stylesheet");
}
