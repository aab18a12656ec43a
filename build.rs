//! Generates the widget's phone tables from the `phonenumber` crate's metadata.
//!
//! `phonenumber` is the single source of truth (the tenant validates with it at runtime), but the
//! crate with its regex engine, XML and metadata code weighs ~465 KB gzipped in wasm. So it runs
//! here, natively, at build time: every pattern and rule the parser, validator and formatter use
//! is written to `$OUT_DIR/phone_tables.rs` as static data, and every pattern is compiled by the
//! widget's own small engine (`src/phone/re.rs`) so an unsupported construct fails the build.
//! `tests/phone_differential.rs` then holds the widget to `phonenumber`'s answers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use phonenumber::metadata::{Descriptor, Format, Metadata, DATABASE};

#[allow(dead_code)]
#[path = "src/phone/re.rs"]
mod re;

fn compact(pattern: &str) -> String {
    let out: String = pattern.chars().filter(|c| !c.is_whitespace()).collect();
    if let Err(e) = re::Regex::new(&out) {
        panic!("the phone pattern engine cannot compile a metadata pattern: {e:?}");
    }
    out
}

fn opt(value: Option<String>) -> String {
    match value {
        Some(v) => format!("Some({v:?})"),
        None => "None".into(),
    }
}

fn lengths(values: &[u16]) -> String {
    let mut out = String::from("&[");
    for v in values {
        let v = u8::try_from(*v).expect("a possible length fits a byte");
        write!(out, "{v},").unwrap();
    }
    out.push(']');
    out
}

fn desc(d: &Descriptor) -> String {
    format!(
        "Desc {{ re: {:?}, lens: {}, local: {} }}",
        compact(d.national_number().as_str()),
        lengths(d.possible_length()),
        lengths(d.possible_local_length())
    )
}

fn formats(list: &[Format]) -> String {
    let mut out = String::from("&[");
    for f in list {
        write!(
            out,
            "Fmt {{ re: {:?}, fmt: {:?}, leading: {}, np_rule: {}, carrier_rule: {} }},",
            compact(f.pattern().as_str()),
            f.format(),
            // The formatter only ever looks at the last leading-digits pattern.
            opt(f.leading_digits().last().map(|r| compact(r.as_str()))),
            opt(f.national_prefix().map(str::to_string)),
            opt(f.domestic_carrier().map(str::to_string)),
        )
        .unwrap();
    }
    out.push(']');
    out
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
    let (formats_src, intl_src) = if with_formats {
        (formats(m.formats()), formats(m.international_formats()))
    } else {
        ("&[]".to_string(), "&[]".to_string())
    };
    format!(
        "Meta {{ id: {:?}, code: {}, idd: {}, np: {}, npp: {}, npt: {}, general: {}, types: &[{}], \
         leading: {}, example: {}, formats: {}, intl: {} }}",
        m.id(),
        m.country_code(),
        opt(m.international_prefix().map(|r| compact(r.as_str()))),
        opt(m.national_prefix().map(str::to_string)),
        opt(m.national_prefix_for_parsing().map(|r| compact(r.as_str()))),
        opt(m.national_prefix_transform_rule().map(str::to_string)),
        desc(d.general()),
        types.join(","),
        opt(m.leading_digits().map(|r| compact(r.as_str()))),
        opt(d.mobile().and_then(Descriptor::example).map(str::to_string)),
        formats_src,
        intl_src,
    )
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/phone/re.rs");

    // Not `DATABASE.iter()`: it walks the entries by ID, and the non-geographic ones all share
    // the ID `001`, so all but one would be missed.
    let codes: Vec<u16> = (1..1000)
        .filter(|c| DATABASE.by_code(c).is_some())
        .collect();

    let mut metas = Vec::new();
    let mut by_code = Vec::new();
    let mut geographic = BTreeMap::new();
    for code in codes {
        let list = DATABASE.by_code(&code).expect("a listed code");
        let regions = DATABASE.region(&code).expect("a listed code");
        assert_eq!(list.len(), regions.len());
        let mut indexes = Vec::new();
        for (i, m) in list.iter().enumerate() {
            assert_eq!(m.id(), regions[i], "regions and metadata in one order");
            // Formatting always uses the first metadata of a code; the rest need no formats.
            indexes.push(metas.len());
            if m.id() != "001" {
                geographic.insert(m.id().to_string(), metas.len());
            }
            metas.push(meta(m, i == 0));
        }
        by_code.push((code, indexes));
    }

    let mut out = String::new();
    writeln!(
        out,
        "/// Every metadata entry, grouped by calling code in `phonenumber`'s order."
    )
    .unwrap();
    writeln!(out, "pub(crate) static METAS: &[Meta] = &[").unwrap();
    for m in &metas {
        writeln!(out, "    {m},").unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(
        out,
        "/// Calling codes (sorted) and their entries in `METAS`, main region first."
    )
    .unwrap();
    writeln!(out, "pub(crate) static CODES: &[(u16, &[u16])] = &[").unwrap();
    for (code, idx) in &by_code {
        writeln!(out, "    ({code}, &{idx:?}),").unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(
        out,
        "/// Geographic regions (sorted by ISO code) and their entry in `METAS`."
    )
    .unwrap();
    writeln!(out, "pub(crate) static REGIONS: &[(&str, u16)] = &[").unwrap();
    for (id, i) in &geographic {
        writeln!(out, "    ({id:?}, {i}),").unwrap();
    }
    writeln!(out, "];").unwrap();

    let path = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("phone_tables.rs");
    std::fs::write(path, out).expect("write phone tables");
}
