//! As-you-type formatting: what the phone field shows while a number is being typed, with the
//! region's own format rules, and where the caret goes afterwards.

use super::re::Captures;
use super::{
    digit_value, idd_len, is_valid, length_of, main_meta, parse_digits, regex, region_meta,
    source_for, split_code, with_rule, Fmt, Meta, PhoneNumber,
};

/// What the phone field shows for some typed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// The text to show: the digits typed, grouped by the region's rules.
    pub text: String,
    /// The region the number names itself, after a `+` or an international prefix (`00`,
    /// `011`, …), once the calling code is typed.
    pub region: Option<String>,
    /// The number, once it is complete and valid.
    pub number: Option<PhoneNumber>,
}

/// Formats typed text for the field. Only digits (of any script) and a leading plus are kept;
/// the rest is display and is rebuilt on every keystroke.
pub fn as_you_type(raw: &str, region: &str) -> Typed {
    let mut plus = false;
    let mut digits = String::new();
    for c in raw.chars() {
        if let Some(d) = digit_value(c) {
            digits.push(char::from(b'0' + d));
        } else if matches!(c, '+' | '＋') && digits.is_empty() {
            plus = true;
        }
    }
    let Some(meta) = region_meta(&region.to_ascii_uppercase()) else {
        let text = if plus { format!("+{digits}") } else { digits };
        return Typed {
            text,
            region: None,
            number: None,
        };
    };
    let number = parse_digits(plus, &digits, meta)
        .filter(is_valid)
        .map(|p| PhoneNumber::from_parsed(&p));

    let international = |prefix: String, rest: &str| -> (String, Option<String>) {
        match split_code(rest) {
            None => (format!("{prefix}{rest}"), None),
            Some((code, national)) => {
                let region = source_for(code, national)
                    .or_else(|| main_meta(code))
                    .map(|m| m.id)
                    .filter(|id| *id != "001")
                    .map(str::to_string);
                let mut text = format!("{prefix}{code}");
                if let Some(meta) = main_meta(code).filter(|_| !national.is_empty()) {
                    let formats = if meta.intl.is_empty() {
                        &meta.formats
                    } else {
                        &meta.intl
                    };
                    text.push(' ');
                    text.push_str(&group(national, meta, formats, None));
                }
                (text, region)
            }
        }
    };

    let (text, named) = if plus {
        international("+".into(), &digits)
    } else if let Some(end) = idd_len(meta, &digits).filter(|&e| e < digits.len()) {
        international(format!("{} ", &digits[..end]), &digits[end..])
    } else {
        (national(&digits, meta), None)
    };
    Typed {
        text,
        region: named.or_else(|| number.as_ref().and_then(|n| n.region().map(str::to_string))),
        number,
    }
}

/// National digits, with the national prefix (when typed) kept and set apart as the region
/// writes it.
fn national(digits: &str, meta: &Meta) -> String {
    let Some(formatting) = main_meta(meta.code) else {
        return digits.to_string();
    };
    let prefix_len = if meta.npt.is_some() {
        0
    } else if let Some(npp) = meta.npp {
        regex(npp).end_at_start(digits).unwrap_or(0)
    } else {
        meta.np
            .filter(|np| digits.starts_with(np))
            .map_or(0, str::len)
    };
    if prefix_len == 0 || prefix_len >= digits.len() {
        return group(digits, formatting, &formatting.formats, None);
    }
    let (prefix, rest) = digits.split_at(prefix_len);
    if Some(prefix) == meta.np {
        group(rest, formatting, &formatting.formats, Some(prefix))
    } else {
        format!(
            "{prefix} {}",
            group(rest, formatting, &formatting.formats, None)
        )
    }
}

/// The format for these digits: the one `phonenumber` would use for a complete number, else the
/// first that a continuation of the digits could still match, preferring formats for numbers of
/// a full length (`meta`'s possible lengths) over those for local-only ones.
fn choose(digits: &str, meta: &Meta, formats: &'static [Fmt]) -> Option<(&'static Fmt, Captures)> {
    let exact = formats.iter().find_map(|f| {
        let leads = f.leading.is_none_or(|l| regex(l).matches_at_start(digits));
        let caps = regex(f.re).captures_at_start(digits)?;
        (leads && caps[0] == Some((0, digits.len()))).then_some((f, caps))
    });
    let full_length = |f: &Fmt| {
        let (lo, hi) = regex(f.re).span();
        std::iter::once(&meta.general)
            .chain(&meta.types)
            .flat_map(|d| d.lens.bytes())
            .any(|l| (lo..=hi).contains(&length_of(l)))
    };
    let partial = |only_full: bool| {
        formats.iter().find_map(|f| {
            let leads = f
                .leading
                .is_none_or(|l| regex(l).partial(digits, false).is_some());
            (leads && (!only_full || full_length(f)))
                .then(|| regex(f.re).partial(digits, true))
                .flatten()
                .map(|caps| (f, caps))
        })
    };
    // A complete match for a full-length format wins; a local-only format only when nothing
    // longer can follow.
    exact
        .clone()
        .filter(|(f, _)| full_length(f))
        .or_else(|| partial(true))
        .or(exact)
        .or_else(|| partial(false))
}

/// Groups national digits with the chosen format; a typed national prefix goes where the
/// region's rule puts it. Digits are never dropped or reordered: when the format cannot show
/// them all, they are shown ungrouped.
fn group(digits: &str, meta: &Meta, formats: &'static [Fmt], prefix: Option<&str>) -> String {
    let plain = || format!("{}{digits}", prefix.unwrap_or(""));
    let Some((f, caps)) = choose(digits, meta, formats) else {
        return plain();
    };
    let plain_template = match prefix {
        Some(p) => format!("{p} {}", f.fmt),
        None => f.fmt.to_string(),
    };
    // The region's rule for the prefix, unless it writes digits that were not typed (`8 0$FG`).
    let template = match (prefix, f.np_rule) {
        (Some(p), Some(rule)) if rule.contains("$NP") => {
            let written: String = rule
                .replace("$NP", meta.np.unwrap_or(""))
                .replace("$FG", "")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            if written == p {
                with_rule(meta, f, Some(rule), None)
            } else {
                plain_template
            }
        }
        _ => plain_template,
    };
    // Cut the template after the last group that has digits.
    let mut out = String::new();
    let mut shown = 0;
    let mut groups = 0;
    let mut rest = template.as_str();
    let mut kept = String::new();
    while let Some(at) = rest.find('$') {
        let index = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if index == 0 {
            kept.push_str(&rest[..=at]);
            rest = &rest[at + 1..];
            continue;
        }
        let n: usize = rest[at + 1..at + 1 + index].parse().unwrap_or(0);
        let Some(Some((s, e))) = caps.get(n).copied() else {
            break;
        };
        if s == e {
            break;
        }
        kept.push_str(&rest[..at]);
        kept.push_str(&digits[s..e]);
        out.push_str(&kept);
        kept.clear();
        shown += e - s;
        groups += 1;
        rest = &rest[at + 1 + index..];
    }
    if groups < 2 && prefix.is_none() || shown != digits.len() {
        // One group is the digits themselves; a mismatch must not lose any.
        return plain();
    }
    out
}

/// Whether a character of the phone field is kept by formatting: a digit (of any script) or a
/// plus.
pub fn is_significant(c: char) -> bool {
    digit_value(c).is_some() || matches!(c, '+' | '＋')
}

/// How many digits (and plus signs) come before `caret`, a UTF-16 offset into `text`.
pub fn significant_before(text: &str, caret: usize) -> usize {
    let mut units = 0;
    let mut count = 0;
    for c in text.chars() {
        if units >= caret {
            break;
        }
        units += c.len_utf16();
        if is_significant(c) {
            count += 1;
        }
    }
    count
}

/// The UTF-16 offset just after the `count`-th digit (or plus) of `text`, where the caret goes
/// after reformatting.
pub fn caret_after(text: &str, count: usize) -> usize {
    if count == 0 {
        return 0;
    }
    let mut units = 0;
    let mut seen = 0;
    for c in text.chars() {
        units += c.len_utf16();
        if is_significant(c) {
            seen += 1;
            if seen == count {
                return units;
            }
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(raw: &str, region: &str) -> String {
        as_you_type(raw, region).text
    }

    #[test]
    fn us_numbers_group_as_they_grow() {
        let steps = [
            ("2", "2"),
            ("201", "201"),
            ("2015", "(201) 5"),
            ("201555", "(201) 555"),
            ("2015550", "(201) 555-0"),
            ("2015550123", "(201) 555-0123"),
        ];
        for (typed, want) in steps {
            assert_eq!(shown(typed, "US"), want, "{typed}");
        }
        let done = as_you_type("(201) 555-0123", "US");
        assert_eq!(done.number.unwrap().e164(), "+12015550123");
        assert_eq!(
            shown("20155501234", "US"),
            "20155501234",
            "too long: nothing lost"
        );
    }

    #[test]
    fn a_typed_national_prefix_stays_where_the_region_writes_it() {
        assert_eq!(shown("07400123456", "GB"), "07400 123456");
        assert_eq!(shown("7400123456", "GB"), "7400 123456");
        assert_eq!(shown("0612345678", "NL"), "06 12345678");
    }

    #[test]
    fn plus_and_international_prefixes_name_the_region() {
        let t = as_you_type("+44 7400 123456", "US");
        assert_eq!(t.text, "+44 7400 123456");
        assert_eq!(t.region.as_deref(), Some("GB"));
        assert_eq!(t.number.unwrap().e164(), "+447400123456");
        let t = as_you_type("00447400123456", "NL");
        assert_eq!(t.text, "00 44 7400 123456");
        assert_eq!(t.region.as_deref(), Some("GB"));
        let t = as_you_type("+4", "NL");
        assert_eq!((t.text.as_str(), t.region), ("+4", None));
        let t = as_you_type("+1 416 555 0123", "NL");
        assert_eq!(t.region.as_deref(), Some("CA"));
        let t = as_you_type("＋３１６", "US");
        assert_eq!(
            (t.text.as_str(), t.region.as_deref()),
            ("+31 6", Some("NL"))
        );
    }

    #[test]
    fn the_caret_stays_after_the_same_digit() {
        // Typing "5" after "(201) 55|" in "(201) 55" → "(201) 555|".
        let before = significant_before("(201) 555", 9);
        assert_eq!(before, 6);
        let text = shown("2015550", "US");
        assert_eq!(text, "(201) 555-0");
        assert_eq!(caret_after(&text, before), 9);
        assert_eq!(caret_after(&text, 0), 0);
        assert_eq!(significant_before("+44 7", 2), 2);
        assert_eq!(caret_after("+44 7", 3), 3);
        assert_eq!(caret_after("+44 7", 4), 5);
    }
}
