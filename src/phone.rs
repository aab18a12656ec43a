//! Phone numbers: the country list, parsing to E.164 and display formats, all from the
//! libphonenumber metadata of the `phonenumber` crate.
//!
//! Parse, don't validate: the rest of the crate only ever sees a [`PhoneNumber`].

use std::fmt;

use phonenumber::country;
use phonenumber::metadata::DATABASE;
use phonenumber::Mode;

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

    /// The example mobile number of the region in national format, for placeholders.
    pub fn example(&self) -> Option<String> {
        let meta = DATABASE.by_id(self.code.as_str())?;
        let example = meta.descriptors().mobile().and_then(|d| d.example())?;
        let id: country::Id = self.code.parse().ok()?;
        let parsed = phonenumber::parse(Some(id), example).ok()?;
        Some(parsed.format().mode(Mode::National).to_string())
    }
}

/// Every geographic region in the metadata, ordered by ISO code.
pub fn countries() -> Vec<Country> {
    let mut list: Vec<Country> = DATABASE
        .iter()
        .filter(|m| m.id().len() == 2 && m.id().bytes().all(|b| b.is_ascii_uppercase()))
        .map(|m| Country {
            code: m.id().to_string(),
            dial_code: m.country_code(),
        })
        .collect();
    list.sort_by(|a, b| a.code.cmp(&b.code));
    list
}

/// The region with this ISO code (any case).
pub fn country(code: &str) -> Option<Country> {
    let code = code.to_ascii_uppercase();
    let meta = DATABASE.by_id(code.as_str())?;
    Some(Country {
        code,
        dial_code: meta.country_code(),
    })
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
    #[error("{0:?} is not a valid phone number")]
    Invalid(String),
    /// The default region is unknown.
    #[error("unknown country {0:?}")]
    UnknownCountry(String),
}

impl PhoneNumber {
    /// Parses what a user typed: national digits for `default_country`, or an international
    /// number starting with `+` (which picks its own region).
    pub fn parse(raw: &str, default_country: &str) -> Result<Self, PhoneError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(PhoneError::Empty);
        }
        let id: country::Id = default_country
            .to_ascii_uppercase()
            .parse()
            .map_err(|_| PhoneError::UnknownCountry(default_country.to_string()))?;
        let invalid = || PhoneError::Invalid(trimmed.to_string());
        let parsed = phonenumber::parse(Some(id), trimmed).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&parsed) || parsed.extension().is_some() {
            return Err(invalid());
        }
        Ok(Self {
            e164: parsed.format().mode(Mode::E164).to_string(),
            region: parsed.country().id().map(|id| id.as_ref().to_string()),
            national: parsed.format().mode(Mode::National).to_string(),
            international: parsed.format().mode(Mode::International).to_string(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_input_give_one_e164() {
        let cases = [
            ("06 12345678", "NL", "+31612345678", "NL"),
            ("+31 6 1234 5678", "US", "+31612345678", "NL"),
            ("(201) 555-0123", "US", "+12015550123", "US"),
            ("020 7946 0958", "GB", "+442079460958", "GB"),
            ("+44 7400 123456", "NL", "+447400123456", "GB"),
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
    }

    #[test]
    fn invalid_input_is_refused() {
        assert_eq!(PhoneNumber::parse("  ", "US"), Err(PhoneError::Empty));
        for raw in ["123", "555 1234", "abc", "+1555", "06 1234"] {
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
        assert!(list.iter().all(|c| c.code != "001"));
        assert_eq!(country("us").unwrap().dial_code, 1);
        assert_eq!(
            country("GB").unwrap().example().as_deref(),
            Some("07400 123456")
        );
    }
}
