//! Translations, keyed like Lock's dictionaries so a `languageDictionary` carries over.

/// Lock's English dictionary, for the keys this widget uses.
const EN: &[(&str, &str)] = &[
    ("title", "Log in"),
    ("passwordlessSMSInstructions", "Enter your phone to sign in or create an account"),
    ("passwordlessSMSCodeInstructions", "An SMS with the code has been sent to %s."),
    ("phoneNumberInputPlaceholder", "your phone number"),
    ("phoneNumberInputLabel", "Phone number"),
    ("countryLabel", "Country"),
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
];

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
    fn every_error_has_a_message() {
        use crate::error::LockError;
        for e in [
            LockError::InvalidPhone(String::new()),
            LockError::WrongCode(String::new()),
            LockError::TooManyAttempts(String::new()),
            LockError::RateLimited(String::new()),
            LockError::SmsProvider(String::new()),
            LockError::Network(String::new()),
        ] {
            assert_ne!(text(e.dictionary_key()), e.dictionary_key(), "{e}");
        }
    }
}
