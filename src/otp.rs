//! One-time codes as typed: digits only, after stripping spaces and dashes.

/// A code of the configured length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCode(String);

/// Why text is not a code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtpError {
    /// Nothing was typed.
    #[error("no code was entered")]
    Empty,
    /// Something other than digits, spaces or dashes.
    #[error("the code may only contain digits")]
    NotDigits,
    /// Too few or too many digits.
    #[error("the code has {got} digits, expected {expected}")]
    Length {
        /// Digits typed.
        got: usize,
        /// Digits expected.
        expected: usize,
    },
}

/// Digits Auth0 sends by default.
pub const DEFAULT_CODE_LENGTH: usize = 6;

impl OtpCode {
    /// Parses `"123 456"`, `"123-456"` or full-width digits into `123456`.
    pub fn parse(raw: &str, length: usize) -> Result<Self, OtpError> {
        let mut digits = String::with_capacity(length);
        for c in raw.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '０'..='９' => digits.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
                ' ' | '-' | '\u{a0}' | '\t' => {}
                _ => return Err(OtpError::NotDigits),
            }
        }
        match digits.len() {
            0 => Err(OtpError::Empty),
            n if n != length => Err(OtpError::Length {
                got: n,
                expected: length,
            }),
            _ => Ok(Self(digits)),
        }
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_are_stripped() {
        for raw in [
            "123456",
            "123 456",
            "123-456",
            " 1 2 3 4 5 6 ",
            "１２３４５６",
        ] {
            assert_eq!(
                OtpCode::parse(raw, 6).unwrap().as_str(),
                "123456",
                "{raw:?}"
            );
        }
    }

    #[test]
    fn bad_codes_are_refused() {
        assert_eq!(OtpCode::parse("", 6), Err(OtpError::Empty));
        assert_eq!(OtpCode::parse("12a456", 6), Err(OtpError::NotDigits));
        assert_eq!(
            OtpCode::parse("12345", 6),
            Err(OtpError::Length {
                got: 5,
                expected: 6
            })
        );
        assert_eq!(
            OtpCode::parse("1234567", 6),
            Err(OtpError::Length {
                got: 7,
                expected: 6
            })
        );
    }
}
