//! Translations, keyed like Lock's dictionaries so a `languageDictionary` carries over.

/// Lock's English dictionary, for the keys this widget uses.
const EN: &[(&str, &str)] = &[
    ("title", "Log in"),
    ("passwordlessSMSInstructions", "Enter your phone to sign in or create an account"),
    ("passwordlessSMSCodeInstructions", "An SMS with the code has been sent to %s."),
    ("phoneNumberInputPlaceholder", "your phone number"),
    ("phoneNumberInputLabel", "Phone number"),
    ("loadingLabel", "Loading…"),
    ("countryLabel", "Country"),
    ("countrySearchLabel", "Search for a country"),
    ("countryNoMatch", "No country matches"),
    ("codeInputPlaceholder", "your code"),
    ("resendCodeAction", "Did not get the code?"),
    ("resendCountdown", "Send a new code in %s s"),
    ("codeInputLabel", "Verification code"),
    ("submitLabel", "Submit"),
    ("sendingLabel", "Sending…"),
    ("verifyingLabel", "Verifying…"),
    ("backLabel", "Back"),
    ("closeLabel", "Close"),
    ("success.logIn", "Thanks for logging in."),
    ("redirectingLabel", "Redirecting…"),
    ("error.passwordless.bad.phone_number", "The phone number is invalid"),
    ("error.passwordless.sms_provider_error", "We could not send the SMS. Please try again later."),
    ("error.passwordless.lock.fallback", "We're sorry, something went wrong"),
    ("error.login.lock.invalid_code", "Wrong code."),
    ("error.login.lock.network", "We could not reach the server. Please check your connection and try again."),
    ("error.login.too_many_attempts", "Too many wrong codes. Please request a new code."),
    (
        "error.login.too_many_requests",
        "We're sorry. There are too many requests right now. Please reload the page and try again. If this persists, please try again later.",
    ),
    ("error.login.lock.code_format", "The code must have %s digits."),
    ("error.passwordless.too_many_requests_wait", "Too many requests. You can try again in %s seconds."),
    ("useDifferentNumberAction", "Use a different number"),
    ("signUpTerms", "By signing up, you agree to our terms of service and privacy policy."),
    ("error.signUp.social_signup_needs_terms_acception", "Please agree to the Terms of Service below to continue."),
];

/// A piece of dictionary text: plain text, or a link the text asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rich {
    /// Shown as text.
    Text(String),
    /// `<a href="…">text</a>` with an http(s) or site-relative address.
    Link {
        /// The address.
        href: String,
        /// The link text.
        text: String,
    },
}

/// Lock's texts may carry a little HTML (`<br/>`, links in `signUpTerms`). Only links with an
/// http(s) or site-relative `href` survive, as links; `<br>` becomes a space; any other markup is
/// shown as the text it is, never interpreted.
pub fn rich_text(source: &str) -> Vec<Rich> {
    let mut out: Vec<Rich> = Vec::new();
    let mut text = String::new();
    let mut rest = source;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        let tail = &rest[start..];
        let lower = tail.to_ascii_lowercase();
        if let Some(len) = ["<br>", "<br/>", "<br />"]
            .iter()
            .find(|t| lower.starts_with(**t))
            .map(|t| t.len())
        {
            text.push(' ');
            rest = &tail[len..];
            continue;
        }
        if let Some((href, label, used)) = parse_link(tail) {
            if !text.is_empty() {
                out.push(Rich::Text(std::mem::take(&mut text)));
            }
            out.push(Rich::Link { href, text: label });
            rest = &tail[used..];
            continue;
        }
        text.push('<');
        rest = &tail[1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Rich::Text(text));
    }
    out
}

/// `<a … href="X" …>label</a>` at the start of `s`: (href, label, bytes used).
fn parse_link(s: &str) -> Option<(String, String, usize)> {
    let lower = s.to_ascii_lowercase();
    if !lower.starts_with("<a ") {
        return None;
    }
    let open_end = s.find('>')?;
    let attrs = &s[3..open_end];
    let href_at = attrs.to_ascii_lowercase().find("href=")?;
    let after = &attrs[href_at + 5..];
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    let href = &value[..value.find(quote)?];
    let safe = href.starts_with("https://")
        || href.starts_with("http://")
        || (href.starts_with('/') && !href.starts_with("//"));
    let close = lower[open_end..].find("</a>")? + open_end;
    let label = &s[open_end + 1..close];
    (safe && !label.contains('<')).then(|| (href.to_string(), label.to_string(), close + 4))
}

/// The languages Lock ships (English is built in; the others are `i18n/<lang>.json`, loaded
/// only when chosen).
pub const LANGUAGES: &[&str] = &[
    "af", "ar", "az", "bg", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he",
    "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "nb", "nl", "nn", "no", "pl", "pt",
    "pt-br", "ro", "ru", "sk", "sl", "sr", "sv", "tr", "ua", "uk", "vi", "zh", "zh-tw",
];

/// Whether a language is written right to left.
pub fn is_rtl(language: &str) -> bool {
    matches!(language, "ar" | "fa" | "he")
}

/// What the widget shows: `languageDictionary` over the chosen language over English.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dictionary {
    overrides: Texts,
    language: Texts,
}

/// Texts by key: sorted, one per key, a later insert replacing an earlier one. (A sorted list,
/// not a `HashMap`: its hashing and table code cost the wasm more than a hundred keys need.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Texts(Vec<(String, String)>);

impl Texts {
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    fn insert(&mut self, key: String, text: String) {
        match self.find(&key) {
            Ok(i) => self.0[i].1 = text,
            Err(i) => self.0.insert(i, (key, text)),
        }
    }

    fn get(&self, key: &str) -> Option<&String> {
        self.find(key).ok().map(|i| &self.0[i].1)
    }
}

impl Dictionary {
    /// Reads Lock's nested `languageDictionary` (`{"error": {"login": {"lock.invalid_code": …}}}`)
    /// into dotted keys. Every leaf must be a string; the error names the first that is not.
    pub fn from_lock(value: &crate::json::Json) -> Result<Self, String> {
        use crate::json::Json;
        fn walk(v: &Json, prefix: &str, out: &mut Texts) -> Result<(), String> {
            match v {
                Json::Object(map) => {
                    for (k, v) in map {
                        let key = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        walk(v, &key, out)?;
                    }
                    Ok(())
                }
                Json::String(s) => {
                    out.insert(prefix.to_string(), s.clone());
                    Ok(())
                }
                Json::Null if prefix.is_empty() => Ok(()),
                other => Err(format!("{prefix} must be a string, got {other}")),
            }
        }
        let mut overrides = Texts::default();
        walk(value, "", &mut overrides)?;
        Ok(Self {
            overrides,
            language: Texts::default(),
        })
    }

    /// The same overrides over a loaded language file (`i18n/<lang>.json`: flat Lock keys).
    pub fn with_language(&self, json: &str) -> Result<Self, String> {
        let malformed = |e: String| format!("the language file is malformed: {e}");
        let parsed = crate::json::Json::parse(json).map_err(|e| malformed(e.to_string()))?;
        let members = parsed
            .as_object()
            .ok_or_else(|| malformed(format!("{} instead of an object", parsed.kind())))?;
        let mut language = Texts::default();
        for (key, value) in members {
            let text = value
                .as_str()
                .ok_or_else(|| malformed(format!("{key} is {}, not a string", value.kind())))?;
            language.insert(key.clone(), text.to_string());
        }
        Ok(Self {
            overrides: self.overrides.clone(),
            language,
        })
    }

    /// The text for `key`: the override, else the language's, else English, else the key.
    pub fn text(&self, key: &str) -> String {
        self.overrides
            .get(key)
            .or_else(|| self.language.get(key))
            .cloned()
            .unwrap_or_else(|| text(key).to_string())
    }

    /// The text for `key` with Lock's `%s` arguments.
    pub fn format(&self, key: &str, args: &[&str]) -> String {
        format(&self.text(key), args)
    }
}

/// Looks up `key` in English; unknown keys come back as themselves, so a gap is visible.
pub fn text(key: &str) -> &str {
    EN.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .unwrap_or(key)
}

/// Lock's `%s` formatting: each `%s` takes the next argument.
pub fn format(template: &str, args: &[&str]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut args = args.iter();
    let mut rest = template;
    while let Some(i) = rest.find("%s") {
        out.push_str(&rest[..i]);
        out.push_str(args.next().copied().unwrap_or("%s"));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::from_serde as j;

    #[test]
    fn keys_and_formatting() {
        assert_eq!(
            format(
                text("passwordlessSMSCodeInstructions"),
                &["+1 201-555-0123"]
            ),
            "An SMS with the code has been sent to +1 201-555-0123."
        );
        assert_eq!(format("%s and %s", &["a"]), "a and %s");
        assert_eq!(text("no.such.key"), "no.such.key");
    }

    #[test]
    fn a_language_dictionary_overrides_by_lock_keys() {
        let d = Dictionary::from_lock(&j(serde_json::json!({
            "title": "Welkom",
            "passwordlessSMSCodeInstructions": "Code gestuurd naar %s.",
            "error": {"login": {"lock.invalid_code": "Verkeerde code."}}
        })))
        .unwrap();
        assert_eq!(d.text("title"), "Welkom");
        assert_eq!(d.text("error.login.lock.invalid_code"), "Verkeerde code.");
        assert_eq!(
            d.format("passwordlessSMSCodeInstructions", &["+31 6"]),
            "Code gestuurd naar +31 6."
        );
        assert_eq!(d.text("submitLabel"), "Submit", "English fills the gaps");
        let err =
            Dictionary::from_lock(&j(serde_json::json!({"error": {"login": 5}}))).unwrap_err();
        assert!(err.contains("error.login"), "{err}");
    }

    #[test]
    fn a_language_file_sits_between_english_and_the_overrides() {
        let d = Dictionary::from_lock(&j(serde_json::json!({"submitLabel": "Go"}))).unwrap();
        let fr = d.with_language(include_str!("../i18n/fr.json")).unwrap();
        assert_eq!(fr.text("codeInputPlaceholder"), "votre code");
        assert_eq!(fr.text("submitLabel"), "Go", "the app's override wins");
        assert_eq!(
            fr.text("countryLabel"),
            "Pays",
            "our translation of a label Lock lacks"
        );
        let partial = d.with_language(r#"{"title": "Connexion"}"#).unwrap();
        assert_eq!(
            partial.text("countryLabel"),
            "Country",
            "English fills the gaps"
        );
        assert!(d.with_language("{").is_err());
        assert!(is_rtl("he") && !is_rtl("fr"));
        assert_eq!(LANGUAGES.len(), 44);
    }

    #[test]
    fn every_shipped_language_has_a_file_with_the_phone_texts() {
        for lang in LANGUAGES.iter().filter(|l| **l != "en") {
            let path = format!("{}/i18n/{lang}.json", env!("CARGO_MANIFEST_DIR"));
            let json = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            let d = Dictionary::default().with_language(&json).unwrap();
            for key in [
                "passwordlessSMSInstructions",
                "passwordlessSMSCodeInstructions",
                "error.login.lock.invalid_code",
            ] {
                assert_ne!(d.text(key), text(key), "{lang} translates {key}");
            }
        }
    }

    #[test]
    fn rich_text_keeps_safe_links_and_nothing_else() {
        assert_eq!(
            rich_text(
                r#"I agree to the <a href="https://x.test/terms" target="_new">terms</a>.<br/>Thanks"#
            ),
            vec![
                Rich::Text("I agree to the ".into()),
                Rich::Link {
                    href: "https://x.test/terms".into(),
                    text: "terms".into()
                },
                Rich::Text(". Thanks".into()),
            ]
        );
        for evil in [
            r#"<a href="javascript:alert(1)">x</a>"#,
            r#"<img src=x onerror=alert(1)>"#,
            r#"<a href="//evil.test">x</a>"#,
            r#"<a href="https://x"><b>x</b></a>"#,
        ] {
            let parts = rich_text(evil);
            assert!(
                parts.iter().all(|p| matches!(p, Rich::Text(_))),
                "{evil}: {parts:?}"
            );
            let shown: String = parts
                .iter()
                .map(|p| match p {
                    Rich::Text(t) => t.clone(),
                    _ => String::new(),
                })
                .collect();
            assert_eq!(shown, evil, "shown as the text it is");
        }
    }

    #[test]
    fn every_error_has_a_message() {
        use crate::error::LockError;
        for e in [
            LockError::InvalidPhone(String::new()),
            LockError::WrongCode(String::new()),
            LockError::TooManyAttempts(String::new()),
            LockError::RateLimited {
                description: String::new(),
                retry_after: None,
            },
            LockError::RateLimited {
                description: String::new(),
                retry_after: Some(3),
            },
            LockError::SmsProvider(String::new()),
            LockError::Network(String::new()),
        ] {
            assert_ne!(text(e.dictionary_key()), e.dictionary_key(), "{e}");
        }
    }

    #[test]
    fn every_language_file_has_every_text() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("i18n");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let json = std::fs::read_to_string(&path).unwrap();
            let texts: std::collections::HashMap<String, String> =
                serde_json::from_str(&json).unwrap();
            for (key, english) in EN {
                let text = texts
                    .get(*key)
                    .unwrap_or_else(|| panic!("{} lacks {key}", path.display()));
                assert_eq!(
                    text.matches("%s").count(),
                    english.matches("%s").count(),
                    "{} {key}: {text}",
                    path.display()
                );
            }
            files += 1;
        }
        assert_eq!(files, 43, "Lock's languages but English (built in)");
    }
}
