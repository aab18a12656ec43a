//! The tenant's configuration file (TOML), as an Auth0 admin would set it in the dashboard.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Tenant-wide settings.
    pub tenant: TenantConfig,
    /// Registered applications.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// The `sms` passwordless connection.
    pub sms: SmsConfig,
}

/// Tenant-wide settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Shown in the outbox and used as the friendly name.
    pub name: String,
    /// The root URL clients reach the tenant at, e.g. `http://127.0.0.1:4000`. The ID token
    /// issuer is this URL with a trailing slash.
    pub issuer: String,
    /// SQLite database file; relative paths are resolved against the config file's folder.
    pub database: PathBuf,
}

/// One registered application.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The public client ID.
    pub client_id: String,
    /// The application name (`application.name` in SMS templates).
    pub name: String,
    /// Allowed callback URLs, matched by exact string.
    #[serde(default)]
    pub callbacks: Vec<String>,
    /// Allowed web origins (CORS and cross-origin authentication).
    #[serde(default)]
    pub web_origins: Vec<String>,
    /// Grant types this client may use at `/oauth/token`.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
}

fn default_grant_types() -> Vec<String> {
    vec!["implicit".into(), crate::PASSWORDLESS_OTP_GRANT.into()]
}

/// Where SMS messages go.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The development outbox: messages are stored and shown at `/dev/sms`, never sent.
    #[default]
    Log,
}

/// The `sms` connection.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// Whether the connection is on.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Client IDs that may use the connection.
    #[serde(default)]
    pub enabled_clients: Vec<String>,
    /// The SMS provider.
    #[serde(default)]
    pub provider: ProviderKind,
    /// The message template: `@@password@@` macros and Liquid.
    #[serde(default = "default_template")]
    pub template: String,
    /// Digits per code (4..=10).
    #[serde(default = "default_otp_length")]
    pub otp_length: usize,
    /// Seconds a code stays valid (1..=600).
    #[serde(default = "default_otp_lifetime")]
    pub otp_lifetime_secs: i64,
    /// Wrong tries allowed per code (1..=10).
    #[serde(default = "default_otp_attempts")]
    pub otp_max_attempts: i64,
}

fn yes() -> bool {
    true
}
fn default_template() -> String {
    "Your verification code is: @@password@@".into()
}
fn default_otp_length() -> usize {
    6
}
fn default_otp_lifetime() -> i64 {
    180
}
fn default_otp_attempts() -> i64 {
    3
}

/// A configuration that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads and validates a config file, resolving the database path against its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source: Box::new(source),
        })?;
        if config.tenant.database.is_relative() {
            let base = path.parent().unwrap_or(Path::new("."));
            config.tenant.database = base.join(&config.tenant.database);
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks ranges and cross references.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |m: String| Err(ConfigError::Invalid(m));
        let sms = &self.sms;
        if !(4..=10).contains(&sms.otp_length) {
            return invalid(format!(
                "sms.otp_length must be 4..=10, got {}",
                sms.otp_length
            ));
        }
        if !(1..=600).contains(&sms.otp_lifetime_secs) {
            return invalid(format!(
                "sms.otp_lifetime_secs must be 1..=600 (NIST: ten minutes at most), got {}",
                sms.otp_lifetime_secs
            ));
        }
        if !(1..=10).contains(&sms.otp_max_attempts) {
            return invalid(format!(
                "sms.otp_max_attempts must be 1..=10, got {}",
                sms.otp_max_attempts
            ));
        }
        if sms.template.is_empty() || sms.template.chars().count() > 5120 {
            return invalid("sms.template must be 1..=5120 characters".into());
        }
        if !(self.tenant.issuer.starts_with("http://")
            || self.tenant.issuer.starts_with("https://"))
            || self.tenant.issuer.ends_with('/')
        {
            return invalid(format!(
                "tenant.issuer must be an http(s) URL without a trailing slash, got {:?}",
                self.tenant.issuer
            ));
        }
        for id in &sms.enabled_clients {
            if !self.clients.iter().any(|c| &c.client_id == id) {
                return invalid(format!("sms.enabled_clients names unknown client {id:?}"));
            }
        }
        Ok(())
    }

    /// The client with this ID.
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
}
