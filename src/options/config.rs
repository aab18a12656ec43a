//! The checked configuration: the client, the tenant, the options and the texts.

use super::LockOptions;
use crate::i18n::Dictionary;

/// Options that cannot work; shown as an `unrecoverable_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// The options object is malformed (wrong type, unknown option).
    #[error("invalid options: {0}")]
    Malformed(String),
    /// A value is not allowed.
    #[error("invalid option {option}: {reason}")]
    Invalid {
        /// The option's Lock name.
        option: &'static str,
        /// Why.
        reason: String,
    },
}

/// Everything needed to run a login: the client, the tenant and the options.
#[derive(Debug, Clone, PartialEq)]
pub struct LockConfig {
    /// The application's client ID.
    pub client_id: String,
    /// The tenant's domain (`tenant.auth0.com`) or root URL (`http://127.0.0.1:4000`).
    pub domain: String,
    /// The options.
    pub options: LockOptions,
    /// The texts: English under `languageDictionary`.
    pub dictionary: Dictionary,
}

/// A CSS color of the safe shapes only: no `;`, quotes, `url(` or escapes can get through.
fn is_css_color(c: &str) -> bool {
    !c.is_empty()
        && c.len() <= 64
        && c.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "#(),.% -".contains(ch))
        && !c.to_ascii_lowercase().contains("url")
}

impl LockConfig {
    /// Checks the configuration as Lock's constructor does.
    pub fn new(client_id: &str, domain: &str, options: LockOptions) -> Result<Self, OptionsError> {
        let invalid = |option, reason: &str| {
            Err(OptionsError::Invalid {
                option,
                reason: reason.to_string(),
            })
        };
        if client_id.trim().is_empty() {
            return invalid("clientID", "must be a non-empty string");
        }
        if domain.trim().is_empty() {
            return invalid("domain", "must be a non-empty string");
        }
        if !options.allowed_connections.iter().any(|c| c == "sms") {
            return invalid(
                "allowedConnections",
                "none of the allowed connections is available (this widget offers \"sms\")",
            );
        }
        let mut kinds: Vec<&str> = options.auth.response_type.split(' ').collect();
        crate::sort_small(&mut kinds, |a, b| a < b);
        if !matches!(
            kinds.as_slice(),
            ["token"] | ["id_token"] | ["id_token", "token"] | ["code"]
        ) {
            return invalid(
                "auth.responseType",
                &format!(
                    "{} is not one of \"token id_token\", \"id_token\", \"token\", \"code\"",
                    crate::quoted(&options.auth.response_type)
                ),
            );
        }
        if options.leeway > 300 {
            return invalid(
                "leeway",
                &format!("must be 0..=300 seconds, got {}", options.leeway),
            );
        }
        if let Some(lang) = &options.language {
            if !crate::i18n::LANGUAGES.contains(&lang.as_str()) {
                return invalid(
                    "language",
                    &format!("{} is not one of Lock's languages", crate::quoted(lang)),
                );
            }
        }
        if !(4..=10).contains(&options.code_length) {
            return invalid(
                "codeLength",
                &format!("must be 4..=10, got {}", options.code_length),
            );
        }
        if let Some(color) = &options.theme.primary_color {
            if !is_css_color(color) {
                return invalid(
                    "theme.primaryColor",
                    &format!("{} is not a CSS color", crate::quoted(color)),
                );
            }
        }
        if let Some(logo) = &options.theme.logo {
            let ok = logo.starts_with("https://")
                || logo.starts_with("http://")
                || logo.starts_with("data:image/")
                || logo.starts_with('/');
            if !ok {
                return invalid(
                    "theme.logo",
                    &format!(
                        "{} is not an http(s), relative or data:image URL",
                        crate::quoted(logo)
                    ),
                );
            }
        }
        if let Some(location) = &options.default_location {
            if crate::phone::country(location).is_none() {
                return invalid(
                    "defaultLocation",
                    &format!("{} is not a country code", crate::quoted(location)),
                );
            }
        }
        if options
            .container
            .as_deref()
            .is_some_and(|c| c.trim().is_empty())
        {
            return invalid("container", "must be an element ID");
        }
        let dictionary = Dictionary::from_lock(&options.language_dictionary).map_err(|reason| {
            OptionsError::Invalid {
                option: "languageDictionary",
                reason,
            }
        })?;
        if let Some(storage) = &options.auth.persist_tokens {
            if storage != "localStorage" && storage != "sessionStorage" {
                return invalid(
                    "auth.persistTokens",
                    &format!(
                        "{} is not \"localStorage\" or \"sessionStorage\"",
                        crate::quoted(storage)
                    ),
                );
            }
        }
        for (option, url) in [
            ("configurationBaseUrl", &options.configuration_base_url),
            ("overrides.__jwks_uri", &options.overrides.jwks_uri),
        ] {
            if url
                .as_deref()
                .is_some_and(|u| !u.starts_with("https://") && !u.starts_with("http://"))
            {
                return invalid(option, "must be an http(s) URL");
            }
        }
        if !["auto", "light", "dark"].contains(&options.theme.color_scheme.as_str()) {
            return invalid(
                "theme.colorScheme",
                &format!(
                    "{} is not \"auto\", \"light\" or \"dark\"",
                    crate::quoted(&options.theme.color_scheme)
                ),
            );
        }
        let mut options = options;
        if options.auth.params.audience.is_none() {
            options.auth.params.audience = options.auth.audience.clone();
        }
        Ok(Self {
            client_id: client_id.trim().to_string(),
            domain: domain.trim().to_string(),
            options,
            dictionary,
        })
    }

    /// Parses Lock's options object from JSON.
    pub fn from_json(
        client_id: &str,
        domain: &str,
        options_json: &str,
    ) -> Result<Self, OptionsError> {
        let options = LockOptions::from_json(options_json)?;
        Self::new(client_id, domain, options)
    }

    /// The tenant's root URL: `https://{domain}`, or the domain itself when it has a scheme.
    pub fn root_url(&self) -> String {
        let d = self.domain.trim_end_matches('/');
        if d.starts_with("http://") || d.starts_with("https://") {
            d.to_string()
        } else {
            format!("https://{d}")
        }
    }

    /// The expected ID token issuer.
    pub fn issuer(&self) -> String {
        match &self.options.overrides.token_issuer {
            Some(issuer) => issuer.clone(),
            None => format!("{}/", self.root_url()),
        }
    }

    /// Where the signing keys are: `overrides.__jwks_uri`, else the tenant's JWKS.
    pub fn jwks_url(&self) -> String {
        match &self.options.overrides.jwks_uri {
            Some(url) => url.clone(),
            None => format!("{}/.well-known/jwks.json", self.root_url()),
        }
    }

    /// Where the client's configuration script is: `configurationBaseUrl`, else the tenant.
    pub fn client_config_url(&self) -> String {
        let base = self
            .options
            .configuration_base_url
            .clone()
            .unwrap_or_else(|| self.root_url());
        format!(
            "{}/client/{}.js",
            base.trim_end_matches('/'),
            crate::url::encode_component(&self.client_id)
        )
    }

    /// Whether the response type asks for an ID token.
    pub fn wants_id_token(&self) -> bool {
        self.options
            .auth
            .response_type
            .split(' ')
            .any(|t| t == "id_token")
    }

    /// Whether the widget renders inline.
    pub fn inline(&self) -> bool {
        self.options.container.is_some()
    }

    /// Whether the widget can be closed: never inline.
    pub fn closable(&self) -> bool {
        self.options.closable && !self.inline()
    }

    /// Whether to focus the first field when shown.
    pub fn autofocus(&self) -> bool {
        self.options.autofocus.unwrap_or(!self.inline())
    }

    /// Whether the login ends with an authorization code (PKCE).
    pub fn wants_code(&self) -> bool {
        self.options.auth.response_type == "code"
    }
}
