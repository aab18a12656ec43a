//! A local Auth0-compatible tenant for passwordless SMS login.
//!
//! It speaks the endpoints of Auth0's Authentication API that passwordless SMS clients use
//! (see `shared/docs/protocol.md`), signs RS256 tokens, keeps state in SQLite and, with the `log`
//! provider, delivers messages to a development outbox at `/dev/sms`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let config = passwordless_tenant::config::Config::load("tenant/demo.toml".as_ref())?;
//! let tenant = passwordless_tenant::Tenant::new(config)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! axum::serve(listener, passwordless_tenant::app(tenant)).await?;
//! # Ok(()) }
//! ```

pub mod body;
pub mod config;
pub mod db;
pub mod error;
pub mod keys;
pub mod phone;
pub mod sms;

mod cors;
mod dev;
mod discovery;
mod oauth;
mod passwordless;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;

use crate::config::{ClientConfig, Config, ProviderKind};
use crate::db::Db;
use crate::error::ApiError;
use crate::keys::{CodeGenerator, Keys, OsCodes};
use crate::sms::{LogProvider, SmsProvider, Template, TwilioProvider};

/// The passwordless OTP grant type.
pub const PASSWORDLESS_OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/passwordless/otp";

/// Seconds a login ticket from `/co/authenticate` may wait for `/authorize`.
pub const LOGIN_TICKET_SECS: i64 = 120;

/// The time source, swappable so tests can move it.
pub trait Clock: Send + Sync {
    /// Unix seconds.
    fn now(&self) -> i64;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// Everything a request handler needs.
pub struct Tenant {
    /// The configuration.
    pub config: Config,
    /// Durable state.
    pub db: Arc<Db>,
    /// Signing and code secrets.
    pub keys: Keys,
    /// The SMS template.
    pub template: Template,
    /// Where messages go.
    pub provider: Arc<dyn SmsProvider>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Where codes come from.
    pub codes: Arc<dyn CodeGenerator>,
}

/// The tenant could not start.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

impl Tenant {
    /// Opens the database, loads or creates keys and compiles the template.
    pub fn new(config: Config) -> Result<Self, StartError> {
        config.validate()?;
        let db = Arc::new(Db::open(&config.tenant.database)?);
        let keys = Keys::load_or_create(&db)?;
        let template = Template::compile(&config.sms.template)?;
        let provider: Arc<dyn SmsProvider> = match config.sms.provider {
            ProviderKind::Log => Arc::new(LogProvider::new(db.clone())),
            ProviderKind::Twilio => {
                let twilio = config.sms.twilio.as_ref().ok_or("sms.twilio is missing")?;
                Arc::new(TwilioProvider::new(twilio)?)
            }
        };
        Ok(Self {
            config,
            db,
            keys,
            template,
            provider,
            clock: Arc::new(SystemClock),
            codes: Arc::new(OsCodes),
        })
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The ID token issuer: the root URL with a trailing slash.
    pub fn issuer(&self) -> String {
        format!("{}/", self.config.tenant.issuer)
    }

    fn client(&self, client_id: Option<&str>) -> Result<&ClientConfig, ApiError> {
        let id = client_id.unwrap_or_default();
        self.config.client(id).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad.client_id",
                if id.is_empty() {
                    "Missing required property: client_id".to_string()
                } else {
                    format!("Unknown client: {id}")
                },
            )
        })
    }

    /// Checks that `connection` is the enabled `sms` connection for `client`.
    fn sms_connection(
        &self,
        client: &ClientConfig,
        connection: Option<&str>,
    ) -> Result<(), ApiError> {
        let bad = |d: String| ApiError::new(StatusCode::BAD_REQUEST, "bad.connection", d);
        match connection {
            None | Some("") => Err(bad("Missing required property: connection".into())),
            Some("sms") if !self.config.sms.enabled => {
                Err(bad("The connection sms is disabled.".into()))
            }
            Some("sms") if !self.config.sms.enabled_clients.contains(&client.client_id) => {
                Err(bad(format!(
                    "The connection sms is not enabled for client {}.",
                    client.client_id
                )))
            }
            Some("sms") => Ok(()),
            Some(other) => Err(bad(format!("Connection does not exist: {other}"))),
        }
    }
}

/// The HTTP API of a tenant.
pub fn app(tenant: Tenant) -> Router {
    let dev_outbox = tenant.config.sms.provider == ProviderKind::Log;
    let state = Arc::new(tenant);
    let api = Router::new()
        .route("/passwordless/start", post(passwordless::start))
        .route("/co/authenticate", post(passwordless::co_authenticate))
        .route("/oauth/token", post(oauth::token))
        .route("/userinfo", get(oauth::userinfo))
        .route("/.well-known/jwks.json", get(discovery::jwks))
        .route("/user/geoloc/country", get(oauth::geoloc))
        // Lock loads it as a script; a widget under a strict CSP (no tenant in script-src)
        // fetches it instead, so registered web origins may read it.
        .route("/client/{file}", get(oauth::client_script))
        .route(
            "/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ));
    // No CORS on /authorize: it is navigated to, never fetched.
    let mut router = Router::new()
        .merge(api)
        .route("/authorize", get(oauth::authorize))
        .route("/v2/logout", get(oauth::logout))
        .route("/", get(dev::index));
    if dev_outbox {
        router = router
            .route("/dev/sms", get(dev::outbox_json))
            .route("/dev/sms.html", get(dev::outbox_html));
    }
    router.fallback(not_found).with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not found.")
}

/// The peer's IP address, for rate limits. Behind no proxy by design: the tenant serves
/// loopback and small deployments directly.
pub struct ClientIp(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into());
        Ok(Self(ip))
    }
}

/// Escapes text for HTML.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Unix seconds as RFC 3339.
pub(crate) fn rfc3339(secs: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}
