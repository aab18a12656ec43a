//! The one place a phone number from a request becomes E.164.
//!
//! Normalised once, so one number can never become two users: full-width digits become ASCII;
//! spaces, dashes, dots, parentheses and invisible (zero-width, bidi) characters are dropped;
//! anything else is refused. Then libphonenumber's metadata must call it valid.

/// Characters that carry no meaning in a phone number and are dropped.
fn is_ignorable(c: char) -> bool {
    matches!(c,
        ' ' | '\t' | '\u{a0}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
        | '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{30fc}' | '.' | '(' | ')'
        // zero-width and bidi controls
        | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{061c}')
}

/// Normalises and checks a phone number: the result matches `^\+[0-9]{1,15}$` and is valid.
pub fn normalize(raw: &str) -> Result<String, String> {
    let pattern = || r"String does not match pattern: ^\+[0-9]{1,15}$".to_string();
    let mut out = String::with_capacity(16);
    for c in raw.chars() {
        match c {
            '0'..='9' => out.push(c),
            '０'..='９' => out.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            '+' | '＋' if out.is_empty() => out.push('+'),
            c if is_ignorable(c) => {}
            _ => return Err(pattern()),
        }
    }
    let digits = out.strip_prefix('+').ok_or_else(pattern)?;
    if digits.is_empty() || digits.len() > 15 {
        return Err(pattern());
    }
    prepare();
    let parsed =
        phonenumber::parse(None, &out).map_err(|_| format!("Invalid phone number: {out}"))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(format!("Invalid phone number: {out}"));
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
}

/// Each region's example number in E.164, as libphonenumber's metadata gives it (the mobile
/// one, else the general one), by calling code; of region `only` (`NL`) alone if given. The
/// load benches make their users' numbers from these.
pub fn example_numbers(only: Option<&str>) -> Vec<String> {
    let db = &*phonenumber::metadata::DATABASE;
    let mut examples = Vec::new();
    for code in 1..1000u16 {
        for meta in db.by_code(&code).unwrap_or_default() {
            if only.is_some_and(|o| o != meta.id()) {
                continue;
            }
            let d = meta.descriptors();
            if let Some(ex) = d
                .mobile()
                .and_then(|m| m.example())
                .or_else(|| d.general().example())
            {
                examples.push(format!("+{code}{ex}"));
            }
        }
    }
    examples
}

/// `phonenumber` compiles libphonenumber's patterns on first use into one cache, an LRU of 100
/// regexes: a few regions fill it, so numbers from many countries compiled their patterns again
/// on almost every request, and each compiled for Unicode (`\d` as every script's digits) is
/// large. Here, once per process, every pattern of the metadata is compiled for ASCII — what
/// it is matched against here is ASCII digits, [`normalize`] sees to that — and kept. Measured
/// (a program parsing `phonenumber`'s example numbers of its 244 regions in turn, release): the
/// 2,090 distinct patterns compile in 0.45 s to 23 MB; a number from any region then costs 8 µs
/// of CPU instead of 1.6 ms, one region's alone 3 µs instead of 6; all regions compiled for
/// Unicode held 114 MB. `tenant-bench`, users from every region, one SQLite instance: 170-180
/// logins/s before, see the README's Load section for after. The tenant calls it at start, so
/// no request waits for it; [`normalize`] too, for any other caller. It must run before
/// any number is parsed: `phonenumber`'s patterns keep the regex they first resolve to (the
/// workspace's patched `regex-cache`), so one resolved before this would stay a Unicode build.
pub fn prepare() {
    static KEEP: std::sync::Once = std::sync::Once::new();
    KEEP.call_once(|| {
        let mut cache = regex_cache::RegexCache::new(usize::MAX);
        for source in patterns() {
            cache.save(ascii_regex(source));
        }
        let shared = phonenumber::metadata::DATABASE.cache();
        *shared.lock().unwrap_or_else(|p| p.into_inner()) = cache;
    });
}

/// A metadata pattern as `phonenumber` compiles it (whitespace ignored), for ASCII text; the
/// Unicode build where a pattern needs it (none does in libphonenumber 9.0.33).
fn ascii_regex(source: &str) -> regex::Regex {
    let build = |unicode| {
        regex::RegexBuilder::new(source)
            .ignore_whitespace(true)
            .unicode(unicode)
            .build()
    };
    build(false)
        .or_else(|_| build(true))
        .expect("phonenumber's own patterns compile")
}

/// Every pattern in libphonenumber's metadata, repeats included.
fn patterns() -> Vec<&'static str> {
    let mut all = Vec::new();
    let db = &*phonenumber::metadata::DATABASE;
    for code in 1..1000u16 {
        for meta in db.by_code(&code).unwrap_or_default() {
            let d = meta.descriptors();
            let kinds = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.emergency(),
                d.voicemail(),
                d.short_code(),
                d.standard_rate(),
                d.carrier(),
                d.no_international(),
            ];
            all.push(d.general().national_number().as_str());
            all.extend(
                kinds
                    .into_iter()
                    .flatten()
                    .map(|k| k.national_number().as_str()),
            );
            let prefixes = [
                meta.international_prefix(),
                meta.national_prefix_for_parsing(),
                meta.leading_digits(),
            ];
            all.extend(prefixes.into_iter().flatten().map(|r| r.as_str()));
            for f in meta.formats().iter().chain(meta.international_formats()) {
                all.push(f.pattern().as_str());
                all.extend(f.leading_digits().iter().map(|r| r.as_str()));
            }
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn e164_numbers_pass_and_others_do_not() {
        assert_eq!(normalize("+31612345678").unwrap(), "+31612345678");
        assert_eq!(normalize("+12015550123").unwrap(), "+12015550123");
        for bad in [
            "",
            "31612345678",
            "+",
            "+3161234567890123",
            "+1555",
            "+00000000",
            "+31 6 1234 567a",
            "+31+612345678",
            "tel:+31612345678",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    /// A number whose patterns were used once normalises without `phonenumber`'s process-wide
    /// regex cache lock (the workspace's patched `regex-cache`, vendor/regex-cache/PATCHED.md):
    /// threads validating numbers at once do not take turns. Upstream, this waits for the lock.
    #[test]
    fn a_warm_number_normalises_while_the_regex_cache_is_locked() {
        for number in ["+31612345678", "+12015550123"] {
            normalize(number).unwrap();
            let cache = phonenumber::metadata::DATABASE.cache();
            let held = cache.lock().unwrap_or_else(|p| p.into_inner());
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || tx.send(normalize(number)));
            let got = rx.recv_timeout(std::time::Duration::from_secs(20));
            drop(held);
            assert_eq!(
                got.expect("normalize waited for the regex cache's lock")
                    .as_deref(),
                Ok(number)
            );
        }
    }

    /// Once prepared, `phonenumber`'s shared cache holds every pattern of the metadata, compiled
    /// for ASCII digits (`\d` no longer matches other scripts' digits), and normalising numbers
    /// of every region compiles nothing more.
    #[test]
    fn the_shared_cache_holds_every_pattern_compiled_for_ascii() {
        super::prepare();
        let distinct: std::collections::BTreeSet<&str> = super::patterns().into_iter().collect();
        assert!(distinct.len() > 2000, "{} patterns", distinct.len());
        let cache = phonenumber::metadata::DATABASE.cache();
        assert_eq!(
            cache.lock().unwrap().len(),
            distinct.len(),
            "every pattern held"
        );
        let db = &*phonenumber::metadata::DATABASE;
        for code in 1..1000u16 {
            for meta in db.by_code(&code).unwrap_or_default() {
                let d = meta.descriptors();
                for kind in [Some(d.general()), d.fixed_line(), d.mobile(), d.toll_free()]
                    .into_iter()
                    .flatten()
                {
                    if let Some(ex) = kind.example() {
                        let _ = normalize(&format!("+{code}{ex}"));
                    }
                }
            }
        }
        assert_eq!(
            cache.lock().unwrap().len(),
            distinct.len(),
            "nothing compiled on the way"
        );
        // Arabic-Indic digits, which a Unicode `\d` matches: the held builds do not.
        let mut held = cache.lock().unwrap();
        let mut compared = 0;
        for source in &distinct {
            let unicode = regex::RegexBuilder::new(source)
                .ignore_whitespace(true)
                .build()
                .unwrap();
            let text = "\u{663}".repeat(12);
            let whole = |re: &regex::Regex| re.find(&text).is_some_and(|m| m.len() == text.len());
            if whole(&unicode) {
                assert!(!whole(held.compile(source).unwrap()), "{source}");
                compared += 1;
            }
        }
        assert!(compared > 0, "no pattern matches other scripts' digits");
    }

    /// Numbers from every region still normalise once every pattern is kept compiled.
    #[test]
    fn numbers_from_every_region_normalise() {
        let db = &*phonenumber::metadata::DATABASE;
        let mut checked = 0;
        for code in 1..1000u16 {
            for meta in db.by_code(&code).unwrap_or_default() {
                if let Some(ex) = meta.descriptors().mobile().and_then(|m| m.example()) {
                    let e164 = format!("+{code}{ex}");
                    let expected = phonenumber::parse(None, &e164)
                        .map(|p| phonenumber::is_valid(&p))
                        .unwrap_or(false);
                    assert_eq!(normalize(&e164).is_ok(), expected, "{e164}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn every_spelling_of_one_number_is_one_e164() {
        for raw in [
            "+31612345678",
            "+31 6 12 34 56 78",
            "+31-6-1234-5678",
            "+31 (6) 1234.5678",
            "＋３１６１２３４５６７８",
            "+31\u{200b}612\u{200d}345678",
            "\u{202a}+31612345678\u{202c}",
            "\u{200f}+31\u{2066}612345678\u{2069}",
            "\u{feff}+31\u{a0}6\u{2011}12345678",
        ] {
            assert_eq!(normalize(raw).as_deref(), Ok("+31612345678"), "{raw:?}");
        }
    }
}
