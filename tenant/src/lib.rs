//! A local Auth0-compatible tenant for passwordless SMS login.
//!
//! It speaks the endpoints of Auth0's Authentication API that passwordless SMS clients use
//! (see `shared/docs/protocol.md`), signs RS256 tokens, keeps state in SQLite and, with the `log`
//! provider, delivers messages to a development outbox at `/dev/sms`. State lives in SQLite
//! (embedded, one instance) or PostgreSQL (several instances behind a load balancer, one truth).
//!
//! Embedding it with your own `tracing` subscriber: keep the `tokio_postgres` target at `info` or
//! above (`RUST_LOG=…,tokio_postgres=info`), as the binary does. At `debug` the driver logs every
//! statement's parameters, which include phone numbers and hashes of codes and tokens.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let config = passwordless_tenant::config::Config::load("tenant/demo.toml".as_ref())?;
//! let tenant = passwordless_tenant::Tenant::new(config).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:4000").await?;
//! axum::serve(listener, passwordless_tenant::app(tenant)).await?;
//! # Ok(()) }
//! ```

pub mod body;
pub mod config;
pub mod error;
pub mod keys;
pub mod phone;
pub mod sms;
pub mod store;

mod client_ip;
mod cookies;
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
use crate::error::ApiError;
use crate::keys::{CodeGenerator, Keys, OsCodes};
use crate::sms::{LogProvider, SendTimes, SmsProvider, Template, TwilioProvider};
use crate::store::Store;

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
    pub store: Arc<Store>,
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
    /// How long recent sends took (what a decoy send waits).
    pub send_times: SendTimes,
}

/// The tenant could not start.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

impl Tenant {
    /// Opens the database (migrating it), loads or creates keys and compiles the template.
    pub async fn new(config: Config) -> Result<Self, StartError> {
        config.validate()?;
        let database = config.database()?;
        let store = Arc::new(
            Store::open_with(&database, config.tenant.database_connections)
                .await
                .map_err(|e| format!("cannot open the database {}: {e}", database.redacted()))?,
        );
        let keys = Keys::load_or_create(&store).await?;
        // What the first requests would otherwise wait for: libphonenumber's metadata and
        // compiled patterns (loaded on first use, ~0.5 s) and, on PostgreSQL, the pool's
        // connections. A failure here is not the start's: the requests open what they need,
        // as they would have.
        phone::prepare();
        if let Err(e) = store.warm_up().await {
            tracing::warn!("the database connections could not all be readied at start: {e}");
        }
        let template = Template::compile(&config.sms.template)?;
        let config_provider = config.sms.provider;
        let provider: Arc<dyn SmsProvider> = match config.sms.provider {
            ProviderKind::Log => Arc::new(LogProvider::new(store.clone())),
            ProviderKind::Twilio => {
                let twilio = config.sms.twilio.as_ref().ok_or("sms.twilio is missing")?;
                Arc::new(TwilioProvider::new(twilio)?)
            }
        };
        Ok(Self {
            config,
            store,
            keys,
            template,
            provider,
            clock: Arc::new(SystemClock),
            codes: Arc::new(OsCodes),
            send_times: SendTimes::for_provider(config_provider),
        })
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces where codes come from (tests).
    pub fn with_codes(mut self, codes: Arc<dyn CodeGenerator>) -> Self {
        self.codes = codes;
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

    /// Reads the stored signing keys again (see [`keys::Keys::reload`]); true if they changed.
    pub async fn reload_keys(&self) -> Result<bool, StartError> {
        self.keys.reload(&self.store).await
    }

    /// Deletes what can no longer be used (see [`store::Store::purge`]), as of the tenant's clock.
    pub async fn purge(&self) -> Result<store::Purged, store::StoreError> {
        self.store
            .purge(self.clock.now(), self.config.retention.outbox_secs)
            .await
    }
}

/// Runs `job` every `secs` seconds (0: never), the first time at once if `at_start`, while the
/// tenant lives, inside the current tokio runtime if there is one.
fn spawn_every<F>(tenant: &Arc<Tenant>, secs: u64, at_start: bool, job: fn(Arc<Tenant>) -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if secs == 0 {
        return;
    }
    let weak = Arc::downgrade(tenant);
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        if !at_start {
            tick.tick().await;
        }
        loop {
            tick.tick().await;
            let Some(tenant) = weak.upgrade() else { return };
            job(tenant).await;
        }
    });
}

/// Purges every `retention.interval_secs`. Every instance runs it; the deletes are idempotent,
/// so instances sharing a database need no coordination.
async fn retention(tenant: Arc<Tenant>) {
    match tenant.purge().await {
        Ok(p) if p.total() > 0 => tracing::info!("retention: {p:?}"),
        Ok(_) => {}
        Err(e) => tracing::warn!("retention failed: {e}"),
    }
}

/// Picks up a signing-key rotation made by `passwordless-tenant rotate-signing-key` (or by
/// another instance's operator) within [`keys::KEY_RELOAD_SECS`].
async fn key_reload(tenant: Arc<Tenant>) {
    match tenant.reload_keys().await {
        Ok(true) => tracing::info!(kid = %tenant.keys.kid(), "signing keys reloaded"),
        Ok(false) => {}
        Err(e) => tracing::warn!("reloading the signing keys failed: {e}"),
    }
}

/// The HTTP API of a tenant. Inside a tokio runtime it also starts the retention schedule,
/// which ends when the last clone of the router is dropped. With the `log` provider it serves
/// the development outbox (every code sent) unless `sms.dev_outbox = false`: bind it to
/// loopback, or check the address with [`config::Config::check_listen`] as the binary does.
pub fn app(tenant: impl Into<Arc<Tenant>>) -> Router {
    let state: Arc<Tenant> = tenant.into();
    let dev_outbox = state.config.outbox_served();
    spawn_every(
        &state,
        state.config.retention.interval_secs,
        true,
        retention,
    );
    // The keys were just loaded.
    spawn_every(&state, keys::KEY_RELOAD_SECS, false, key_reload);
    let api = Router::new()
        .route("/passwordless/start", post(passwordless::start))
        .route("/passwordless/challenge", post(passwordless::challenge))
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

pub use client_ip::ClientIp;

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
