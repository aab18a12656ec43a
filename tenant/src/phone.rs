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
    let parsed =
        phonenumber::parse(None, &out).map_err(|_| format!("Invalid phone number: {out}"))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(format!("Invalid phone number: {out}"));
    }
    Ok(parsed.format().mode(phonenumber::Mode::E164).to_string())
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
