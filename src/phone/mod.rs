//! Phone numbers: the country list, parsing to E.164, display formats and as-you-type
//! formatting, all from libphonenumber's metadata.
//!
//! The `phonenumber` crate is the source of truth (the tenant validates with it), but it is far
//! too heavy for the widget's wasm. So `build.rs` runs it at build time and writes the patterns
//! and rules as static tables; this module replays `phonenumber`'s parser, validator and formatter
//! over those tables with a small regex engine ([`re`]). `tests/phone_differential.rs` checks the
//! answers (valid or not, region, E.164, national and international format) against
//! `phonenumber` on every example number of the metadata and mutations of each.
//!
//! Parse, don't validate: the rest of the crate only ever sees a [`PhoneNumber`].

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

pub mod re;

mod data {
    use std::cell::Cell;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    include!(concat!(env!("OUT_DIR"), "/phone_tables.rs"));

    /// A number type's pattern and lengths (base-36 digits, ascending).
    pub struct Desc {
        pub re: &'static str,
        pub lens: &'static str,
        pub local: &'static str,
    }

    /// A format rule.
    pub struct Fmt {
        pub re: &'static str,
        pub fmt: &'static str,
        pub leading: Option<&'static str>,
        pub np_rule: Option<&'static str>,
        pub carrier_rule: Option<&'static str>,
    }

    /// A metadata entry (a region, or a non-geographic calling code).
    pub struct Meta {
        pub id: &'static str,
        pub code: u16,
        pub idd: Option<&'static str>,
        pub np: Option<&'static str>,
        pub npp: Option<&'static str>,
        pub npt: Option<&'static str>,
        pub general: Desc,
        pub types: Vec<Desc>,
        pub leading: Option<&'static str>,
        pub example: Option<&'static str>,
        pub formats: Vec<Fmt>,
        pub intl: Vec<Fmt>,
    }

    fn opt(field: &'static str) -> Option<&'static str> {
        (field != "~").then_some(field)
    }

    fn list<T>(field: &'static str, item: fn(&'static str) -> T) -> Vec<T> {
        if field.is_empty() {
            return Vec::new();
        }
        field.split('!').map(item).collect()
    }

    fn desc(item: &'static str) -> Desc {
        let mut parts = item.split('@');
        let mut next = || parts.next().unwrap_or("");
        Desc {
            re: next(),
            lens: next(),
            local: next(),
        }
    }

    fn fmt(item: &'static str) -> Fmt {
        let mut parts = item.split('@');
        let mut next = || parts.next().unwrap_or("~");
        Fmt {
            re: next(),
            fmt: next(),
            leading: opt(next()),
            np_rule: opt(next()),
            carrier_rule: opt(next()),
        }
    }

    /// An international format: `=k@fmt` is national format `k` with another format string.
    fn intl(field: &'static str, national: &[Fmt]) -> Vec<Fmt> {
        list(field, |item| item)
            .into_iter()
            .map(|item| {
                let Some(reference) = item.strip_prefix('=') else {
                    return fmt(item);
                };
                let (k, text) = reference.split_once('@').unwrap_or((reference, ""));
                let base = k.parse().ok().and_then(|k: usize| national.get(k));
                match base {
                    Some(n) => Fmt {
                        re: n.re,
                        fmt: text,
                        leading: n.leading,
                        np_rule: n.np_rule,
                        carrier_rule: n.carrier_rule,
                    },
                    // build.rs only writes references to formats it wrote.
                    None => fmt(item),
                }
            })
            .collect()
    }

    fn meta(line: &'static str) -> Meta {
        let mut fields = line.split(';');
        let mut next = || fields.next().unwrap_or("");
        let head = [next(), next(), next(), next(), next(), next()];
        let (general, types, leading, example) = (next(), next(), next(), next());
        let formats = list(next(), fmt);
        let intl = intl(next(), &formats);
        let [id, code, idd, np, npp, npt] = head;
        Meta {
            id,
            code: code.parse().unwrap_or(0),
            idd: opt(idd),
            np: opt(np),
            npp: opt(npp),
            npt: opt(npt),
            general: desc(general),
            types: list(types, desc),
            leading: opt(leading),
            example: opt(example),
            formats,
            intl,
        }
    }

    /// The installed parts: each calling code's entries (main region first), sorted by code.
    static PARTS: Mutex<Vec<(u16, &'static [Meta])>> = Mutex::new(Vec::new());

    thread_local! {
        /// The first calling code asked for since [`take_missed`] whose part is not installed.
        static MISSED: Cell<Option<u16>> = const { Cell::new(None) };
    }

    /// The whole table where a fetched build has it too: natively (a server serves its parts,
    /// see `table_part`) and in the unit tests.
    #[cfg(all(
        feature = "fetched-phone-tables",
        any(test, not(target_arch = "wasm32"))
    ))]
    static TABLE: &str = include_str!(concat!(env!("OUT_DIR"), "/phone-tables.txt"));

    fn installed() -> MutexGuard<'static, Vec<(u16, &'static [Meta])>> {
        // Compiled in (and in the unit tests of a fetched build, which a workspace build
        // unifies with the JS bundle's features): every part, once, on first use.
        #[cfg(any(not(feature = "fetched-phone-tables"), test))]
        {
            static ALL: std::sync::Once = std::sync::Once::new();
            ALL.call_once(|| {
                let lines: Vec<&'static str> = TABLE.split('\n').collect();
                for part in lines.chunk_by(|a, b| code_of(a) == code_of(b)) {
                    let metas: Vec<Meta> = part.iter().copied().map(meta).collect();
                    add(Box::leak(metas.into_boxed_slice()));
                }
            });
        }
        PARTS.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn code_of(line: &str) -> Option<u16> {
        line.split(';').nth(1)?.parse().ok()
    }

    fn add(metas: &'static [Meta]) {
        let Some(code) = metas.first().map(|m| m.code) else {
            return;
        };
        let mut parts = PARTS.lock().unwrap_or_else(PoisonError::into_inner);
        // A second install of a part keeps the first.
        if let Err(at) = parts.binary_search_by_key(&code, |(c, _)| *c) {
            parts.insert(at, (code, metas));
        }
    }

    /// Whether `code` is a calling code of the metadata (installed or not).
    pub fn is_calling_code(code: u16) -> bool {
        CODES
            .get(usize::from(code / 8))
            .is_some_and(|bits| bits >> (code % 8) & 1 == 1)
    }

    /// A calling code's entries, main region first; `None` for an unknown code, and for a known
    /// one whose part is not installed yet (noted for [`take_missed`]).
    pub fn part(code: u16) -> Option<&'static [Meta]> {
        let found = {
            let parts = installed();
            parts
                .binary_search_by_key(&code, |(c, _)| *c)
                .ok()
                .map(|i| parts[i].1)
        };
        // Compiled in, every part is there: a miss is an unknown code, nothing to note.
        if cfg!(feature = "fetched-phone-tables") && found.is_none() && is_calling_code(code) {
            MISSED.with(|m| m.set(m.get().or(Some(code))));
        }
        found
    }

    /// The text of `code`'s part as build.rs writes it (`phone-tables/{code}.txt`): its lines
    /// of the whole table, which holds each part's lines together.
    #[cfg(any(not(feature = "fetched-phone-tables"), not(target_arch = "wasm32")))]
    pub fn part_text(code: u16) -> Option<&'static str> {
        let mut start = None;
        let mut offset = 0;
        for line in TABLE.split('\n') {
            let end = offset + line.len();
            match (code_of(line) == Some(code), start) {
                (true, None) => start = Some(offset),
                (false, Some(from)) => return Some(&TABLE[from..offset - 1]),
                _ => {}
            }
            offset = end + 1;
        }
        start.map(|from| &TABLE[from..])
    }

    /// The first part asked for and missing since the last call, and forgets it.
    pub fn take_missed() -> Option<u16> {
        MISSED.with(Cell::take)
    }

    /// Whether the part of `code` is installed.
    pub fn has_part(code: u16) -> bool {
        installed().binary_search_by_key(&code, |(c, _)| *c).is_ok()
    }

    /// Installs a fetched part once it has been checked to be what build.rs writes: the records
    /// of one calling code, each with all its fields. Returns the code.
    #[cfg(feature = "fetched-phone-tables")]
    pub fn install(text: String) -> Result<u16, String> {
        let refused = || {
            format!(
                "not a part of the widget's phone tables ({} records, {} bytes)",
                text.split('\n').count(),
                text.len()
            )
        };
        let code = code_of(&text)
            .filter(|&c| is_calling_code(c))
            .ok_or_else(refused)?;
        let whole = text
            .split('\n')
            .all(|line| line.split(';').count() == 12 && code_of(line) == Some(code));
        if !whole {
            return Err(refused());
        }
        let text: &'static str = Box::leak(text.into_boxed_str());
        let metas: Vec<Meta> = text.split('\n').map(meta).collect();
        add(Box::leak(metas.into_boxed_slice()));
        Ok(code)
    }
}

/// Whether a table's base-36 length list holds `len`.
fn has_length(list: &str, len: usize) -> bool {
    list.bytes().any(|b| length_of(b) == len)
}

/// One base-36 length digit.
fn length_of(digit: u8) -> usize {
    char::from(digit).to_digit(36).unwrap_or(0) as usize
}

use data::{Desc, Fmt, Meta};

/// A table pattern's address and length, and its compiled form.
type Compiled = ((usize, usize), Rc<re::Regex>);

thread_local! {
    /// By the pattern's address and length, sorted (a `BTreeMap`'s code cost the wasm 3 KB).
    static COMPILED: RefCell<Vec<Compiled>> = const { RefCell::new(Vec::new()) };
}

/// The compiled form of a table pattern, compiled once per page.
fn regex(pattern: &'static str) -> Rc<re::Regex> {
    let key = (pattern.as_ptr() as usize, pattern.len());
    COMPILED.with(|c| {
        let mut compiled = c.borrow_mut();
        match compiled.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(i) => compiled[i].1.clone(),
            Err(i) => {
                // build.rs compiled every table pattern with this engine already.
                let regex = Rc::new(re::Regex::new(pattern).unwrap_or_else(|_| {
                    panic!("a table pattern the build compiled does not compile: {pattern}")
                }));
                compiled.insert(i, (key, regex.clone()));
                regex
            }
        }
    })
}

impl Desc {
    fn is_match(&self, value: &str) -> bool {
        (self.lens.is_empty() || has_length(self.lens, value.len()))
            && regex(self.re).matches_at_start(value)
    }
}

fn region_meta(id: &str) -> Option<&'static Meta> {
    static SORTED: std::sync::OnceLock<Vec<(&'static str, u16)>> = std::sync::OnceLock::new();
    let sorted = SORTED.get_or_init(|| regions().collect());
    let code = sorted[sorted.binary_search_by(|(r, _)| (*r).cmp(id)).ok()?].1;
    data::part(code)?.iter().find(|m| m.id == id)
}

fn code_metas(code: u16) -> Option<impl ExactSizeIterator<Item = &'static Meta>> {
    data::part(code).map(<[Meta]>::iter)
}

fn main_meta(code: u16) -> Option<&'static Meta> {
    code_metas(code)?.next()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    Invalid,
}

/// `phonenumber`'s `validator::length` for the general description.
fn length(meta: &Meta, len: usize) -> Length {
    let possible = meta.general.lens;
    let (Some(min), Some(max)) = (possible.bytes().next(), possible.bytes().next_back()) else {
        return Length::Invalid;
    };
    let (min, max) = (length_of(min), length_of(max));
    if has_length(meta.general.local, len) {
        Length::LocalOnly
    } else if len == min {
        Length::Possible
    } else if len < min {
        Length::TooShort
    } else if len > max {
        Length::TooLong
    } else if has_length(possible, len) {
        Length::Possible
    } else {
        Length::Invalid
    }
}

/// Whether the national number is of any known type for this metadata.
fn is_known_type(meta: &Meta, national: &str) -> bool {
    meta.general.is_match(national) && meta.types.iter().any(|t| t.is_match(national))
}

/// The metadata a number belongs to (`validator::source_for`).
fn source_for(code: u16, national: &str) -> Option<&'static Meta> {
    let mut metas = code_metas(code)?;
    if metas.len() == 1 {
        return metas.next();
    }
    metas.find(|meta| match meta.leading {
        Some(leading) => regex(leading).matches_at_start(national),
        None => is_known_type(meta, national),
    })
}

/// A parsed number, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed {
    code: u16,
    national: String,
    carrier: Option<String>,
}

/// The digits after an international prefix: the calling code and the rest.
fn split_code(digits: &str) -> Option<(u16, &str)> {
    (1..=3.min(digits.len())).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        code_metas(code).map(|_| (code, &digits[len..]))
    })
}

/// The length of the region's international prefix at the start of `digits`, when one is there
/// and is not followed by a 0.
fn idd_len(meta: &Meta, digits: &str) -> Option<usize> {
    let end = regex(meta.idd?).end_at_start(digits)?;
    (!digits[end..].starts_with('0')).then_some(end)
}

/// Strips the national prefix (or applies its transform rule), with the carrier code it held
/// (`helper::national_number`).
fn strip_national_prefix(meta: &Meta, national: &str) -> (String, Option<String>) {
    let Some(npp) = meta.npp else {
        let rest = match meta.np {
            Some(np) => national.strip_prefix(np).unwrap_or(national),
            None => national,
        };
        return (rest.to_string(), None);
    };
    let npp = regex(npp);
    let Some(caps) = npp.captures_at_start(national) else {
        return (national.to_string(), None);
    };
    let group = |i: usize| caps.get(i).copied().flatten().map(|(s, e)| &national[s..e]);
    let (first, last) = (group(1), group(caps.len() - 1));
    let end = caps[0].map_or(0, |m| m.1);
    match (meta.npt, last) {
        (Some(transform), Some(_)) => {
            let transformed = npp.replace(national, transform);
            if meta.general.is_match(national) && !meta.general.is_match(&transformed) {
                return (national.to_string(), None);
            }
            (transformed, first.map(str::to_string))
        }
        _ => (national[end..].to_string(), last.map(str::to_string)),
    }
}

/// `phonenumber::parse(Some(region), text)` for text that is digits with an optional leading
/// `+`.
fn parse_digits(plus: bool, digits: &str, meta: &'static Meta) -> Option<Parsed> {
    // The parser's viability check: two digits, or three after a plus.
    if digits.len() < if plus { 3 } else { 2 } {
        return None;
    }
    let mut national = digits;
    // An international prefix is dropped, after a plus too (`+0044…`); either way the calling
    // code comes next.
    let idd = idd_len(meta, national);
    if let Some(end) = idd {
        national = &national[end..];
    }
    let code = match plus || idd.is_some() {
        true => {
            if national.len() <= 2 || national.starts_with('0') {
                return None;
            }
            let (code, rest) = split_code(national)?;
            national = rest;
            code
        }
        false => {
            let code = meta.code.to_string();
            if national.starts_with(&code)
                && (!meta.general.is_match(national)
                    || !matches!(
                        length(meta, national.len()),
                        Length::Possible | Length::LocalOnly
                    ))
            {
                national = &national[code.len()..];
            }
            meta.code
        }
    };
    // The default region's metadata strips the national prefix, whatever the calling code.
    let (mut potential, carrier) = strip_national_prefix(meta, national);
    if let Some(np) = meta.np {
        if let Some(rest) = potential.strip_prefix(np) {
            potential = rest.to_string();
        }
    }
    let (national, carrier) = if length(meta, potential.len()) != Length::TooShort {
        (potential, carrier)
    } else {
        (national.to_string(), None)
    };
    if !(2..=17).contains(&national.len()) {
        return None;
    }
    // `NationalNumber`: the leading zeros and a u64 below 2^56.
    let value: u64 = national.trim_start_matches('0').parse().ok()?;
    if value >= 1 << 56 {
        return None;
    }
    Some(Parsed {
        code,
        national,
        carrier,
    })
}

/// `phonenumber::is_valid`.
fn is_valid(p: &Parsed) -> bool {
    source_for(p.code, &p.national).is_some_and(|meta| is_known_type(meta, &p.national))
}

/// The format `phonenumber` picks for a complete national number.
fn pick_format(national: &str, formats: &'static [Fmt]) -> Option<&'static Fmt> {
    formats.iter().find(|f| match f.leading {
        None => true,
        Some(leading) => {
            regex(leading).matches_at_start(national)
                && regex(f.re).end_at_start(national) == Some(national.len())
        }
    })
}

/// The format string with the national prefix (or carrier code) rule applied to its first
/// group (`formatter::replace`).
fn with_rule(meta: &Meta, f: &Fmt, rule: Option<&str>, carrier: Option<&str>) -> String {
    let Some(rule) = rule else {
        return f.fmt.to_string();
    };
    let Some(at) = f
        .fmt
        .as_bytes()
        .windows(2)
        .position(|w| w[0] == b'$' && w[1].is_ascii_digit())
    else {
        return f.fmt.to_string();
    };
    let first = &f.fmt[at..at + 2];
    let rule = rule
        .replace("$NP", meta.np.unwrap_or(""))
        .replace("$FG", &format!("${first}"))
        .replace("$CC", carrier.unwrap_or(""));
    let caps: re::Captures = vec![Some((at, at + 2)), Some((at, at + 2))];
    let mut out = f.fmt[..at].to_string();
    re::expand(f.fmt, &caps, &rule, &mut out);
    out.push_str(&f.fmt[at + 2..]);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    National,
    International,
}

/// `phonenumber`'s `format().mode(…)` for a parsed number.
fn format(p: &Parsed, mode: Mode) -> String {
    let Some(meta) = main_meta(p.code) else {
        return String::new();
    };
    let national = p.national.as_str();
    let formats = if meta.intl.is_empty() || mode == Mode::National {
        &meta.formats
    } else {
        &meta.intl
    };
    let body = match pick_format(national, formats) {
        None => national.to_string(),
        Some(f) => {
            let fmt = match mode {
                Mode::International => f.fmt.to_string(),
                Mode::National => match (p.carrier.as_deref(), f.carrier_rule) {
                    (Some(carrier), Some(rule)) => with_rule(meta, f, Some(rule), Some(carrier)),
                    _ => with_rule(meta, f, f.np_rule, None),
                },
            };
            regex(f.re).replace(national, &fmt)
        }
    };
    match mode {
        Mode::National => body,
        Mode::International => format!("+{} {body}", p.code),
    }
}

/// A region of the libphonenumber metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, e.g. `NL`.
    pub code: String,
    /// The country calling code, e.g. `31`.
    pub dial_code: u16,
}

impl Country {
    /// The flag emoji made of regional indicator symbols.
    pub fn flag(&self) -> String {
        self.code
            .chars()
            .filter(char::is_ascii_uppercase)
            .filter_map(|c| char::from_u32(0x1F1E6 + (c as u32 - 'A' as u32)))
            .collect()
    }

    /// What the country picker shows for the country: its flag emoji, or its region code where
    /// `draws_flags` says the platform draws no flags (two letters read better than two boxes).
    pub fn mark(&self, draws_flags: bool) -> String {
        if draws_flags {
            self.flag()
        } else {
            self.code.clone()
        }
    }

    /// The example mobile number of the region in national format, for placeholders.
    pub fn example(&self) -> Option<String> {
        let meta = region_meta(&self.code)?;
        // With its calling code: typed nationally, some examples read as something else (KZ's
        // `7710009998` starts with its calling code 7).
        let digits = format!("{}{}", meta.code, meta.example?);
        let parsed = parse_digits(true, &digits, meta).filter(is_valid)?;
        Some(format(&parsed, Mode::National))
    }

    /// Whether `query` finds this country: its ISO code, its dial code (with or without `+`),
    /// or the start of any word of `name` (case, accents and punctuation ignored).
    pub fn matches(&self, name: &str, query: &str) -> bool {
        self.matches_folded(
            &fold_with(name, search_form),
            &fold_with(query.trim(), search_form),
        )
    }

    /// [`Country::matches`] on a name and query already folded by [`fold_with`] over
    /// [`search_form`] (the widget folds the names once, with the browser's own Unicode tables).
    pub fn matches_folded(&self, name: &str, query: &str) -> bool {
        if query.is_empty() {
            return true;
        }
        if let Some(digits) = query.strip_prefix('+').or(Some(query)) {
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                return self.dial_code.to_string().starts_with(digits);
            }
        }
        query.eq_ignore_ascii_case(&self.code)
            || name.starts_with(query)
            || name.split(' ').any(|word| word.starts_with(query))
    }
}

/// Text as the country search compares it: lower case, and every run of characters that are
/// neither letters, digits nor `+` one space, trimmed (“Côte d’Ivoire” → “côte d ivoire”), by
/// Rust's Unicode tables. The widget has the browser do the same with its own tables
/// (`browser::search_form`), so the wasm carries none.
pub fn search_form(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        if c.is_alphanumeric() || c == '+' {
            out.push(c);
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    out.trim().to_string()
}

/// `lower`'s form of `text` ([`search_form`], or the browser's) without the common Latin
/// accents, for searching names.
pub fn fold_with(text: &str, lower: impl Fn(&str) -> String) -> String {
    lower(text)
        .chars()
        .map(|c| match c {
            'à'..='å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'è'..='ë' | 'ē' | 'ę' | 'ě' => 'e',
            'ì'..='ï' | 'ī' | 'ı' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò'..='ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ù'..='ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ś' | 'š' | 'ş' | 'ș' => 's',
            'ź' | 'ż' | 'ž' => 'z',
            'ł' => 'l',
            'ř' => 'r',
            'ţ' | 'ț' | 'ť' => 't',
            c => c,
        })
        .collect()
}

/// The geographic regions with their calling codes, sorted by ISO code (compiled in even where
/// the full tables are fetched).
fn regions() -> impl Iterator<Item = (&'static str, u16)> {
    data::REGIONS.split(',').map(|r| {
        let (id, code) = r.split_at(2.min(r.len()));
        (id, code.parse().unwrap_or(0))
    })
}

/// The calling code whose part of the tables parsing or formatting `raw` for `region` still
/// needs, or `None` when everything it needs is in. Always `None` unless the crate was built
/// with `fetched-phone-tables`: then each calling code's part is fetched when first needed
/// (`phone-tables/{code}.txt`) and installed with `install_part`. Until then the country list
/// works, typed digits are kept as typed, and parsing refuses.
pub fn missing_part(raw: &str, region: &str) -> Option<u16> {
    let _ = data::take_missed();
    // As-you-type asks for all that parsing does (the region's part, the same digits parsed
    // with it) and more (a typed calling code's part, to format it).
    let _ = as_you_type(raw, region);
    data::take_missed()
}

/// Whether the part of the tables for calling code `code` is installed.
pub fn has_part(code: u16) -> bool {
    data::has_part(code)
}

/// Installs a calling code's part of the tables, fetched for a `fetched-phone-tables` build
/// (the text build.rs writes as `phone-tables/{code}.txt`), and returns the code; refuses
/// anything else.
#[cfg(feature = "fetched-phone-tables")]
pub fn install_part(text: String) -> Result<u16, String> {
    data::install(text)
}

/// The part of the phone tables for calling code `code` (`31` → the text of `31.txt`), the
/// same text a `fetched-phone-tables` build of the widget fetches from
/// `{base_url}/{code}.txt` (see `fetch_phone_tables_from`): for the server of a server-rendered
/// app, whose build has the tables compiled in, to serve them to its hydrated widget, so that
/// the wasm need not carry them. `None` for a number that is no calling code. Natively always;
/// in the browser only where the tables are compiled in.
#[cfg(any(not(feature = "fetched-phone-tables"), not(target_arch = "wasm32")))]
pub fn table_part(code: u16) -> Option<&'static str> {
    data::part_text(code)
}

/// [`table_part`] by the file name the widget asks for: `"31.txt"` is calling code 31's part;
/// any other spelling (`"031.txt"`, `"+31.txt"`, `"31"`) and any code without a part is `None`,
/// so a server's route can answer 404 for it.
#[cfg(any(not(feature = "fetched-phone-tables"), not(target_arch = "wasm32")))]
pub fn table_file(name: &str) -> Option<&'static str> {
    let code = name.strip_suffix(".txt")?;
    let number: u16 = code.parse().ok()?;
    (number.to_string() == code).then(|| table_part(number))?
}

/// Every geographic region in the metadata, ordered by ISO code.
pub fn countries() -> Vec<Country> {
    regions()
        .map(|(id, dial_code)| Country {
            code: id.to_string(),
            dial_code,
        })
        .collect()
}

/// The region with this ISO code (any case).
pub fn country(code: &str) -> Option<Country> {
    let code = code.to_ascii_uppercase();
    let (_, dial_code) = regions().find(|(id, _)| *id == code)?;
    Some(Country { code, dial_code })
}

/// A valid phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    e164: String,
    region: Option<String>,
    national: String,
    international: String,
}

/// Why text is not a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing was typed.
    #[error("no phone number was entered")]
    Empty,
    /// The text is not a possible number for the region.
    #[error("{} is not a valid phone number", crate::quoted(.0))]
    Invalid(String),
    /// The default region is unknown.
    #[error("unknown country {}", crate::quoted(.0))]
    UnknownCountry(String),
}

/// The decimal value of a digit of any common script (ASCII, full-width, Arabic-Indic, …).
fn digit_value(c: char) -> Option<u8> {
    const ZEROS: [u32; 20] = [
        0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
        0xE50, 0xED0, 0xF20, 0x1040, 0x17E0, 0x1810, 0xFF10,
    ];
    let c = c as u32;
    ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&c))
        .map(|z| (c - z) as u8)
}

/// Characters that carry no meaning in a typed phone number.
fn is_separator(c: char) -> bool {
    matches!(c,
        ' ' | '\t' | '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
        | '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30fc}' | '\u{ff0d}' | '\u{ad}'
        | '.' | '/' | '(' | ')' | '[' | ']' | '\u{ff08}' | '\u{ff09}'
        | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{061c}')
}

/// Typed text as a leading plus and ASCII digits, or `None` when it holds anything else
/// (letters, an extension, a plus in the middle).
pub fn normalize(text: &str) -> Option<(bool, String)> {
    let mut plus = false;
    let mut digits = String::with_capacity(text.len());
    for c in text.chars() {
        if let Some(d) = digit_value(c) {
            digits.push(char::from(b'0' + d));
        } else if matches!(c, '+' | '＋') && !plus && digits.is_empty() {
            plus = true;
        } else if !is_separator(c) {
            return None;
        }
    }
    Some((plus, digits))
}

impl PhoneNumber {
    /// Parses what a user typed: national digits for `default_country`, or an international
    /// number starting with `+` (or the region's international prefix, such as `00`), which
    /// picks its own region.
    pub fn parse(raw: &str, default_country: &str) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let meta = region_meta(&default_country.to_ascii_uppercase())
            .ok_or_else(|| PhoneError::UnknownCountry(default_country.to_string()))?;
        let invalid = || PhoneError::Invalid(trimmed.to_string());
        let (plus, digits) = normalize(trimmed).ok_or_else(invalid)?;
        let parsed = parse_digits(plus, &digits, meta).ok_or_else(invalid)?;
        if !is_valid(&parsed) {
            return Err(invalid());
        }
        Ok(Self::from_parsed(&parsed))
    }

    fn from_parsed(p: &Parsed) -> Self {
        let region = source_for(p.code, p.national.trim_start_matches('0'))
            .map(|m| m.id)
            .filter(|id| *id != "001")
            .map(str::to_string);
        Self {
            e164: format!("+{}{}", p.code, p.national),
            region,
            national: format(p, Mode::National),
            international: format(p, Mode::International),
        }
    }

    /// `+31612345678`.
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The number's region (ISO code), when the metadata decides one.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// National format, `06 12345678`.
    pub fn national(&self) -> &str {
        &self.national
    }

    /// International format, `+31 6 12345678`.
    pub fn international(&self) -> &str {
        &self.international
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.international)
    }
}

mod typing;
pub use typing::{as_you_type, caret_after, is_significant, significant_before, Typed};

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled-in region and calling code lists (which work before fetched parts arrive)
    /// are the tables'.
    #[test]
    fn the_region_list_is_the_tables_regions() {
        let codes: Vec<u16> = (1..1000).filter(|&c| data::part(c).is_some()).collect();
        assert!(codes.len() > 200, "{} calling codes", codes.len());
        assert!((1..1000).all(|c| data::is_calling_code(c) == codes.contains(&c)));
        let mut from_tables: Vec<(String, u16)> = codes
            .iter()
            .flat_map(|&c| data::part(c).unwrap_or_default())
            .filter(|m| m.id != "001")
            .map(|m| (m.id.to_string(), m.code))
            .collect();
        from_tables.sort();
        let listed: Vec<(String, u16)> = countries()
            .into_iter()
            .map(|c| (c.code, c.dial_code))
            .collect();
        assert!(listed.len() > 240, "{} regions", listed.len());
        assert_eq!(listed, from_tables);
        assert_eq!(country("nl").map(|c| c.dial_code), Some(31));
        assert_eq!(country("XX"), None);
    }

    #[test]
    fn national_and_international_input_give_one_e164() {
        let cases = [
            ("06 12345678", "NL", "+31612345678", "NL"),
            ("+31 6 1234 5678", "US", "+31612345678", "NL"),
            ("(201) 555-0123", "US", "+12015550123", "US"),
            ("020 7946 0958", "GB", "+442079460958", "GB"),
            ("+44 7400 123456", "NL", "+447400123456", "GB"),
            ("0044 7400 123456", "NL", "+447400123456", "GB"),
            ("011 44 7400 123456", "US", "+447400123456", "GB"),
            ("＋４４ ７４００ １２３４５６", "US", "+447400123456", "GB"),
            ("٠٦١٢٣٤٥٦٧٨", "NL", "+31612345678", "NL"),
            ("(416) 555-0123", "US", "+14165550123", "CA"),
        ];
        for (raw, region, e164, found) in cases {
            let p = PhoneNumber::parse(raw, region).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(p.e164(), e164, "{raw}");
            assert_eq!(p.region(), Some(found), "{raw}");
        }
    }

    #[test]
    fn formats_are_the_regions_own() {
        let p = PhoneNumber::parse("2015550123", "us").unwrap();
        assert_eq!(p.national(), "(201) 555-0123");
        assert_eq!(p.international(), "+1 201-555-0123");
        let p = PhoneNumber::parse("0612345678", "NL").unwrap();
        assert_eq!(p.national(), "06 12345678");
        assert_eq!(p.international(), "+31 6 12345678");
    }

    #[test]
    fn invalid_input_is_refused() {
        assert_eq!(PhoneNumber::parse("  ", "US"), Err(PhoneError::Empty));
        for raw in [
            "123",
            "555 1234",
            "abc",
            "+1555",
            "06 1234",
            "06 12345678 x12",
            "06+12345678",
        ] {
            assert!(
                matches!(PhoneNumber::parse(raw, "NL"), Err(PhoneError::Invalid(_))),
                "{raw}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("0612345678", "XX"),
            Err(PhoneError::UnknownCountry("XX".into()))
        );
    }

    #[test]
    fn country_list_covers_the_metadata() {
        let list = countries();
        assert!(list.len() > 240, "{} regions", list.len());
        let nl = list.iter().find(|c| c.code == "NL").unwrap();
        assert_eq!(nl.dial_code, 31);
        assert_eq!(nl.flag(), "🇳🇱");
        assert_eq!(nl.mark(true), "🇳🇱");
        assert_eq!(nl.mark(false), "NL");
        assert!(list.iter().all(|c| c.code != "001"));
        assert_eq!(country("us").unwrap().dial_code, 1);
        assert_eq!(
            country("GB").unwrap().example().as_deref(),
            Some("07400 123456")
        );
    }

    #[test]
    fn countries_are_found_by_name_code_and_dial_code() {
        let ci = country("CI").unwrap();
        let name = "Côte d’Ivoire";
        for query in [
            "ci", "CI", "côte", "cote", "ivoire", "+225", "225", "22", " Cô ",
        ] {
            assert!(ci.matches(name, query), "{query}");
        }
        for query in ["ivory coast", "+1", "226", "d’x", "te"] {
            assert!(!ci.matches(name, query), "{query}");
        }
        // Punctuation is a word break whichever apostrophe the name or the query has.
        for query in ["cote d'iv", "côte d’ivoire", "cote d iv"] {
            assert!(ci.matches(name, query), "{query}");
        }
        let ba = country("BA").unwrap();
        assert!(ba.matches("Bosnia & Herzegovina", "bosnia herz"));
        assert!(ba.matches("Bosnia & Herzegovina", "herz"));
        assert_eq!(search_form("  Bosnia & Herzegovina "), "bosnia herzegovina");
        assert_eq!(search_form("+44"), "+44");
    }
}
