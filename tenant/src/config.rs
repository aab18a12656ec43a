//! The tenant's configuration file (TOML), as an Auth0 admin would set it in the dashboard.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::store::Database;

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
    /// Brute-force and send limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// What is deleted when, and how often.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// APIs (Auth0's resource servers) access tokens may be asked for by `audience`.
    #[serde(default)]
    pub apis: Vec<ApiConfig>,
}

/// A registered API: a client listed in `clients` may ask for an access token with this
/// `identifier` as its `audience` (a JWT the API verifies with the JWKS), with OIDC's scopes and
/// those in `scopes`. An audience no API is registered for is refused, as Auth0 refuses it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// The audience, e.g. `https://api.example.com` (Auth0's API Identifier).
    pub identifier: String,
    /// A friendly name.
    #[serde(default)]
    pub name: Option<String>,
    /// The permissions the API defines (`read:orders`, …).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Client IDs that may get tokens for it.
    pub clients: Vec<String>,
}

/// The scopes OpenID Connect defines; granted with or without an API.
pub const OIDC_SCOPES: [&str; 6] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
];

/// Retention: expired codes, tickets, authorization codes, sessions and refresh tokens are
/// deleted every `interval_secs`; outbox messages once they are `outbox_secs` old.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Seconds between purges; 0 turns the schedule off.
    pub interval_secs: u64,
    /// Age, seconds, at which development outbox messages are deleted.
    pub outbox_secs: i64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            interval_secs: 600,
            outbox_secs: 86_400,
        }
    }
}

/// An address range in `trusted_proxies`: CIDR (`10.0.0.0/8`, `fd00::/8`) or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ProxyRange(pub ipnet::IpNet);

impl TryFrom<String> for ProxyRange {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(Self)
            .map_err(|_| format!("{s:?} is not an IP address or CIDR range"))
    }
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
    /// Where state lives: a SQLite file (relative paths are resolved against the config file's
    /// folder), or a PostgreSQL URL `postgres://user@host:port/db` that several instances share.
    /// When absent, the `DATABASE_URL` environment variable names it.
    #[serde(default)]
    pub database: Option<String>,
    /// Connections each instance keeps to PostgreSQL (ignored for SQLite). Default: as many as
    /// the instance's machine has cores. Every instance on one database adds its own, and more
    /// connections than the database server has cores to run them only add switching between
    /// them: PostgreSQL's own rule of thumb is about twice its cores in all. Single statements
    /// share the connections, pipelined, so a distant database needs no more of them for the
    /// logins; a transaction (refresh-token rotation, key rotation) or the purge takes one to
    /// itself.
    #[serde(default)]
    pub database_connections: Option<usize>,
    /// Proxies (load balancers) whose `Forwarded` / `X-Forwarded-For` headers name the client.
    /// Requests from any other peer are keyed by the peer's own address, headers ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<ProxyRange>,
    /// What `/user/geoloc/country` answers (loopback has no geography).
    #[serde(default = "default_country")]
    pub default_country: String,
    /// Seconds a login session (the cookie `checkSession` uses) lasts.
    #[serde(default = "default_session")]
    pub session_lifetime_secs: i64,
}

fn default_country() -> String {
    "US".into()
}
fn default_session() -> i64 {
    3 * 24 * 3600
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
    /// Allowed `returnTo` URLs of `/v2/logout`, matched by exact string.
    #[serde(default)]
    pub allowed_logout_urls: Vec<String>,
    /// Grant types this client may use: `implicit`, `authorization_code`, `refresh_token` and
    /// the passwordless OTP grant.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Whether `offline_access` gives a refresh token.
    #[serde(default)]
    pub refresh_tokens: bool,
    /// ID token lifetime, seconds.
    #[serde(default = "default_id_token_secs")]
    pub id_token_lifetime_secs: i64,
    /// Access token lifetime, seconds.
    #[serde(default = "default_access_token_secs")]
    pub access_token_lifetime_secs: i64,
    /// Refresh token lifetime, seconds: how long one token lasts unused (each rotation starts
    /// a new one; Auth0's inactivity lifetime).
    #[serde(default = "default_refresh_secs")]
    pub refresh_token_lifetime_secs: i64,
    /// How long, from the login, a chain of rotated refresh tokens may last at most (Auth0's
    /// absolute lifetime).
    #[serde(default = "default_refresh_secs")]
    pub refresh_token_absolute_lifetime_secs: i64,
    /// A confidential client's secret (a backend redeeming codes): `/oauth/token` then requires
    /// it, by `client_secret` in the body or HTTP Basic. Prefer `client_secret_env`.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Environment variable holding the client secret.
    #[serde(default)]
    pub client_secret_env: Option<String>,
}

impl ClientConfig {
    /// Whether `origin` may call the API from a browser (CORS, `/co/authenticate`): one of the
    /// Allowed Web Origins, or the origin of one of the Allowed Callback URLs, as Auth0's
    /// dashboard documents ("unless this origin URL has been already added to the Allowed
    /// callback URLs list").
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.web_origins.iter().any(|w| w == origin)
            || self
                .callbacks
                .iter()
                .any(|c| url_origin(c).is_some_and(|o| o == origin))
    }

    /// Whether any origin is allowed at all.
    pub fn has_allowed_origins(&self) -> bool {
        !self.web_origins.is_empty() || self.callbacks.iter().any(|c| url_origin(c).is_some())
    }

    /// The client's secret, if it is a confidential client.
    pub fn secret(&self) -> Option<String> {
        self.client_secret
            .clone()
            .filter(|s| !s.is_empty())
            .or_else(|| {
                self.client_secret_env
                    .as_deref()
                    .and_then(|v| std::env::var(v).ok())
                    .filter(|s| !s.is_empty())
            })
    }

    /// Whether the client may use `grant`.
    pub fn allows(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
}

/// The origin a browser sends for pages at `url`: `scheme://host[:port]`, lower case, without
/// the scheme's default port. `None` for anything but http(s) URLs with a host.
pub fn url_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = authority.to_ascii_lowercase();
    let host = authority.strip_suffix(default_port).unwrap_or(&authority);
    Some(format!("{scheme}://{host}"))
}

fn default_grant_types() -> Vec<String> {
    vec![
        "implicit".into(),
        "authorization_code".into(),
        "refresh_token".into(),
        crate::PASSWORDLESS_OTP_GRANT.into(),
    ]
}
fn default_id_token_secs() -> i64 {
    36_000
}
fn default_access_token_secs() -> i64 {
    7200
}
fn default_refresh_secs() -> i64 {
    30 * 24 * 3600
}

/// Where SMS messages go.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The development outbox: messages are stored and shown at `/dev/sms`, never sent.
    #[default]
    Log,
    /// Twilio's Messages API.
    Twilio,
}

/// Twilio credentials and the SMS source. Secrets can come from the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioConfig {
    /// Account SID (`AC…`); or set `account_sid_env`.
    pub account_sid: Option<String>,
    /// Environment variable holding the Account SID.
    #[serde(default = "default_sid_env")]
    pub account_sid_env: String,
    /// Auth Token; prefer `auth_token_env` so the secret stays out of files.
    pub auth_token: Option<String>,
    /// Environment variable holding the Auth Token.
    #[serde(default = "default_token_env")]
    pub auth_token_env: String,
    /// The From number (E.164); or use a Messaging Service.
    pub from: Option<String>,
    /// A Messaging Service SID (`MG…`, "Copilot") instead of a From number.
    pub messaging_service_sid: Option<String>,
    /// API base URL; tests point it at a fake.
    #[serde(default = "default_twilio_url")]
    pub api_base_url: String,
    /// Seconds before a request to Twilio is abandoned.
    #[serde(default = "default_twilio_timeout")]
    pub timeout_secs: u64,
}

fn default_twilio_timeout() -> u64 {
    10
}

fn default_sid_env() -> String {
    "TWILIO_ACCOUNT_SID".into()
}
fn default_token_env() -> String {
    "TWILIO_AUTH_TOKEN".into()
}
fn default_twilio_url() -> String {
    "https://api.twilio.com".into()
}

impl TwilioConfig {
    /// The Account SID and Auth Token, from the file or the environment.
    pub fn credentials(&self) -> Result<(String, String), ConfigError> {
        let pick = |value: &Option<String>, env: &str, what: &str| {
            value
                .clone()
                .filter(|v| !v.is_empty())
                .or_else(|| std::env::var(env).ok().filter(|v| !v.is_empty()))
                .ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "sms.twilio: no {what}; set it in the file or in the environment variable {env}"
                    ))
                })
        };
        Ok((
            pick(&self.account_sid, &self.account_sid_env, "account_sid")?,
            pick(&self.auth_token, &self.auth_token_env, "auth_token")?,
        ))
    }
}

/// Send limits and brute-force ceilings. Defaults follow Auth0's published ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// `/passwordless/start` calls per IP per hour (Auth0: 50).
    pub start_per_ip_per_hour: i64,
    /// Codes sent to one number per hour.
    pub start_per_phone_per_hour: i64,
    /// Seconds between two codes to one number.
    pub start_phone_interval_secs: i64,
    /// Consecutive wrong codes for one number from one address before that address is blocked
    /// for that number (Auth0's brute-force protection: 10 per user and IP).
    pub failures_per_phone_and_ip: i64,
    /// Consecutive wrong codes for one number from any addresses before the number is blocked
    /// everywhere but at the address it last logged in from (a distributed guesser's ceiling
    /// that cannot lock the owner out of their usual network).
    pub failures_per_phone: i64,
    /// Wrong codes from one IP per hour before it is blocked.
    pub failures_per_ip_per_hour: i64,
    /// Seconds the first block lasts; each block within a day of the last one's end lasts
    /// twice as long as that one.
    pub block_secs: i64,
    /// The longest block, seconds.
    pub max_block_secs: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            start_per_ip_per_hour: 50,
            start_per_phone_per_hour: 10,
            start_phone_interval_secs: 30,
            failures_per_phone_and_ip: 10,
            failures_per_phone: 20,
            failures_per_ip_per_hour: 100,
            block_secs: 900,
            max_block_secs: 86_400,
        }
    }
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
    /// Refuse numbers that have no user yet (Auth0's "Disable Sign Ups"). Unknown numbers get the
    /// same answer as known ones but no SMS, so the setting cannot be used to enumerate users.
    #[serde(default)]
    pub disable_signup: bool,
    /// Twilio settings, for `provider = "twilio"`.
    pub twilio: Option<TwilioConfig>,
    /// Whether the `log` provider's outbox (`/dev/sms`, every code sent) is served. Unset: served,
    /// and the binary refuses to listen on anything but loopback; `true`: served wherever the
    /// tenant listens; `false`: never served.
    #[serde(default)]
    pub dev_outbox: Option<bool>,
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
        if let Some(Database::Sqlite(file)) = config.tenant.database.as_deref().map(Database::parse)
        {
            if file.is_relative() {
                let base = path.parent().unwrap_or(Path::new("."));
                config.tenant.database = Some(base.join(file).display().to_string());
            }
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
        if let Some(n) = self.tenant.database_connections {
            if !(1..=1000).contains(&n) {
                return invalid(format!(
                    "tenant.database_connections must be 1..=1000, got {n}"
                ));
            }
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
        if sms.provider == ProviderKind::Twilio {
            let Some(tw) = &sms.twilio else {
                return invalid("sms.provider is \"twilio\" but [sms.twilio] is missing".into());
            };
            if tw.from.is_some() == tw.messaging_service_sid.is_some() {
                return invalid(
                    "sms.twilio needs exactly one of `from` and `messaging_service_sid`".into(),
                );
            }
            tw.credentials()?;
        }
        for c in &self.clients {
            if let (None, Some(var)) = (c.secret(), &c.client_secret_env) {
                return invalid(format!(
                    "clients.client_secret_env of {} names {var}, which is not set",
                    c.client_id
                ));
            }
            for (what, v) in [
                ("id_token_lifetime_secs", c.id_token_lifetime_secs),
                ("access_token_lifetime_secs", c.access_token_lifetime_secs),
                ("refresh_token_lifetime_secs", c.refresh_token_lifetime_secs),
                (
                    "refresh_token_absolute_lifetime_secs",
                    c.refresh_token_absolute_lifetime_secs,
                ),
            ] {
                if v < 60 {
                    return invalid(format!(
                        "clients.{what} of {} must be at least 60",
                        c.client_id
                    ));
                }
            }
        }
        let l = &self.limits;
        for (what, v) in [
            ("failures_per_phone_and_ip", l.failures_per_phone_and_ip),
            ("failures_per_phone", l.failures_per_phone),
            ("failures_per_ip_per_hour", l.failures_per_ip_per_hour),
            ("block_secs", l.block_secs),
        ] {
            if v < 1 {
                return invalid(format!("limits.{what} must be at least 1, got {v}"));
            }
        }
        if l.max_block_secs < l.block_secs {
            return invalid(format!(
                "limits.max_block_secs ({}) must be at least block_secs ({})",
                l.max_block_secs, l.block_secs
            ));
        }
        self.database()?;
        if self.retention.outbox_secs < 0 {
            return invalid("retention.outbox_secs must not be negative".into());
        }
        for id in &sms.enabled_clients {
            if !self.clients.iter().any(|c| &c.client_id == id) {
                return invalid(format!("sms.enabled_clients names unknown client {id:?}"));
            }
        }
        for (i, api) in self.apis.iter().enumerate() {
            let id = &api.identifier;
            if id.trim().is_empty() || id.trim() != id {
                return invalid(format!(
                    "apis.identifier must be non-empty without surrounding spaces, got {id:?}"
                ));
            }
            if self.apis[..i].iter().any(|a| &a.identifier == id) {
                return invalid(format!("apis: {id:?} is registered twice"));
            }
            if let Some(bad) = api
                .scopes
                .iter()
                .find(|s| s.is_empty() || s.contains(char::is_whitespace))
            {
                return invalid(format!(
                    "apis.scopes of {id:?}: {bad:?} is not a scope (no spaces)"
                ));
            }
            if let Some(unknown) = api.clients.iter().find(|c| self.client(c).is_none()) {
                return invalid(format!(
                    "apis.clients of {id:?} names unknown client {unknown:?}"
                ));
            }
        }
        Ok(())
    }

    /// What `client` is granted for `audience` (absent or empty: no API) and the requested
    /// `scope`: the API's identifier, and the requested scopes that are OIDC's or the API's, in
    /// the order asked, `openid` first. Refused, with Auth0's description, when no API has that
    /// identifier or the client is not one of its clients.
    pub fn grant(
        &self,
        client: &ClientConfig,
        audience: Option<&str>,
        scope: &str,
    ) -> Result<(Option<String>, String), String> {
        let api = match audience.filter(|a| !a.is_empty()) {
            None => None,
            Some(aud) => {
                let api = self
                    .apis
                    .iter()
                    .find(|a| a.identifier == aud)
                    .ok_or_else(|| format!("Service not found: {aud}"))?;
                if !api.clients.iter().any(|c| c == &client.client_id) {
                    return Err(format!(
                        "Client \"{}\" is not authorized to access \"{aud}\".",
                        client.client_id
                    ));
                }
                Some(api)
            }
        };
        let mut granted = vec!["openid"];
        for s in scope.split(' ').filter(|s| !s.is_empty()) {
            let known =
                OIDC_SCOPES.contains(&s) || api.is_some_and(|a| a.scopes.iter().any(|x| x == s));
            if known && !granted.contains(&s) {
                granted.push(s);
            }
        }
        Ok((api.map(|a| a.identifier.clone()), granted.join(" ")))
    }

    /// Whether `/dev/sms` is served.
    pub fn outbox_served(&self) -> bool {
        self.sms.provider == ProviderKind::Log && self.sms.dev_outbox != Some(false)
    }

    /// Refuses to serve the development outbox, which shows every code, beyond loopback unless
    /// `sms.dev_outbox = true` says so.
    pub fn check_listen(&self, addr: std::net::SocketAddr) -> Result<(), ConfigError> {
        if self.outbox_served() && self.sms.dev_outbox.is_none() && !addr.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "sms.provider is \"log\": its outbox at /dev/sms shows every code to anyone who \
                 can reach {addr}. Listen on 127.0.0.1, or set sms.dev_outbox = true to serve it \
                 there anyway (false turns it off)"
            )));
        }
        Ok(())
    }

    /// The database: `tenant.database`, else the `DATABASE_URL` environment variable.
    pub fn database(&self) -> Result<Database, ConfigError> {
        self.tenant
            .database
            .clone()
            .filter(|d| !d.trim().is_empty())
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|d| !d.trim().is_empty()))
            .map(|d| Database::parse(d.trim()))
            .ok_or_else(|| {
                ConfigError::Invalid(
                    "no database: set tenant.database (a SQLite file or a postgres:// URL) or DATABASE_URL"
                        .into(),
                )
            })
    }

    /// The client with this ID.
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }
}
