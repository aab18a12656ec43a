//! The one place a phone number from a request becomes E.164.

/// Checks a phone number: Auth0's pattern `^\+[0-9]{1,15}$`, then the libphonenumber metadata.
pub fn normalize(raw: &str) -> Result<String, String> {
    let digits = raw.strip_prefix('+').unwrap_or("");
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(r"String does not match pattern: ^\+[0-9]{1,15}$".into());
    }
    let parsed =
        phonenumber::parse(None, raw).map_err(|_| format!("Invalid phone number: {raw}"))?;
    if !phonenumber::is_valid(&parsed) {
        return Err(format!("Invalid phone number: {raw}"));
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
            "+31 6 12345678",
            "+1555",
            "+00000000",
        ] {
            assert!(normalize(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
