//! What can go wrong in a login, mapped from the server's answers to dictionary keys.

/// A failure the user sees as a translated message; developers see the `Display`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// The phone number was refused (`bad.phone_number`).
    #[error("invalid phone number: {0}")]
    InvalidPhone(String),
    /// Wrong, expired, used or superseded code.
    #[error("wrong code: {0}")]
    WrongCode(String),
    /// The code had all its tries (`too_many_attempts`).
    #[error("too many attempts: {0}")]
    TooManyAttempts(String),
    /// Rate limited (`too_many_requests`), with the server's `Retry-After` when it sent one.
    #[error("rate limited: {description}")]
    RateLimited {
        /// The server's text.
        description: String,
        /// Seconds to wait, from `Retry-After`.
        retry_after: Option<u32>,
    },
    /// The SMS provider refused the message.
    #[error("SMS provider error: {0}")]
    SmsProvider(String),
    /// The server could not be reached.
    #[error("network error: {0}")]
    Network(String),
    /// The tenant's answer could not be trusted (ID token, state, origin).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The tenant did not answer in time (the hidden iframe).
    #[error("timed out: {0}")]
    Timeout(String),
    /// Any other answer.
    #[error("{error}: {description}")]
    Server {
        /// The server's `error`.
        error: String,
        /// The server's `error_description`.
        description: String,
    },
}

impl LockError {
    /// Maps an Auth0 error answer.
    pub fn from_server(status: u16, error: &str, description: &str) -> Self {
        let d = description.to_string();
        match (status, error) {
            (_, "bad.phone_number") => Self::InvalidPhone(d),
            // Twilio's "invalid To number", passed through by the tenant (and by Auth0).
            (_, "sms_provider_error") if description.ends_with("(Code: 21211)") => {
                Self::InvalidPhone(d)
            }
            (403, "access_denied" | "invalid_grant" | "invalid_user_password") => {
                Self::WrongCode(d)
            }
            (_, "too_many_attempts") => Self::TooManyAttempts(d),
            (_, "too_many_requests") | (429, _) => Self::RateLimited {
                description: d,
                retry_after: None,
            },
            (_, "sms_provider_error") => Self::SmsProvider(d),
            _ => Self::Server {
                error: error.to_string(),
                description: d,
            },
        }
    }

    /// Adds the server's `Retry-After` to a rate-limit error.
    pub fn with_retry_after(self, secs: Option<u32>) -> Self {
        match self {
            Self::RateLimited { description, .. } => Self::RateLimited {
                description,
                retry_after: secs,
            },
            other => other,
        }
    }

    /// Seconds the server asked to wait, if any.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The message for the user, in the dictionary's language.
    pub fn message(&self, dictionary: &crate::i18n::Dictionary) -> String {
        let wait = self
            .retry_after()
            .map(|s| s.to_string())
            .unwrap_or_default();
        dictionary.format(self.dictionary_key(), &[&wait])
    }

    /// Auth0's `error` code for this failure, for `authorization_error` payloads.
    pub fn code(&self) -> &str {
        match self {
            Self::InvalidPhone(_) => "bad.phone_number",
            Self::WrongCode(_) => "access_denied",
            Self::TooManyAttempts(_) => "too_many_attempts",
            Self::RateLimited { .. } => "too_many_requests",
            Self::SmsProvider(_) => "sms_provider_error",
            Self::Network(_) => "network_error",
            Self::InvalidToken(_) => "invalid_token",
            Self::Timeout(_) => "timeout",
            Self::Server { error, .. } => error,
        }
    }

    /// The description part (the server's text, or why the widget refused).
    pub fn description(&self) -> String {
        match self {
            Self::Server { description, .. } => description.clone(),
            Self::InvalidPhone(d)
            | Self::WrongCode(d)
            | Self::TooManyAttempts(d)
            | Self::RateLimited { description: d, .. }
            | Self::SmsProvider(d)
            | Self::Network(d)
            | Self::InvalidToken(d)
            | Self::Timeout(d) => d.clone(),
        }
    }

    /// The dictionary key of the message shown to the user (Lock's keys where Lock has one).
    pub fn dictionary_key(&self) -> &'static str {
        match self {
            Self::InvalidPhone(_) => "error.passwordless.bad.phone_number",
            Self::WrongCode(_) => "error.login.lock.invalid_code",
            Self::TooManyAttempts(_) => "error.login.too_many_attempts",
            Self::RateLimited {
                retry_after: None, ..
            } => "error.login.too_many_requests",
            Self::RateLimited {
                retry_after: Some(_),
                ..
            } => "error.passwordless.too_many_requests_wait",
            Self::SmsProvider(_) => "error.passwordless.sms_provider_error",
            Self::Network(_) | Self::Timeout(_) => "error.login.lock.network",
            Self::InvalidToken(_) => "error.passwordless.lock.fallback",
            Self::Server { .. } => "error.passwordless.lock.fallback",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LockError;

    #[test]
    fn server_answers_map_to_messages() {
        let cases = [
            (
                400,
                "bad.phone_number",
                "error.passwordless.bad.phone_number",
            ),
            (403, "access_denied", "error.login.lock.invalid_code"),
            (403, "invalid_grant", "error.login.lock.invalid_code"),
            (429, "too_many_attempts", "error.login.too_many_attempts"),
            (429, "too_many_requests", "error.login.too_many_requests"),
            (
                400,
                "sms_provider_error",
                "error.passwordless.sms_provider_error",
            ),
            (400, "bad.connection", "error.passwordless.lock.fallback"),
            (500, "server_error", "error.passwordless.lock.fallback"),
        ];
        for (status, code, key) in cases {
            assert_eq!(
                LockError::from_server(status, code, "x").dictionary_key(),
                key,
                "{code}"
            );
        }
    }
}
