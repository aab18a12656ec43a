//! Durable state behind one async interface of the tenant's own operations (not SQL), with two
//! backends: SQLite, embedded and the default, and PostgreSQL, which several tenant instances
//! share as one truth.
//!
//! Every operation that decides a security question is atomic *across instances*: one
//! conditional statement, or one transaction holding the lock that serialises it (SQLite's
//! database write lock, taken at `BEGIN IMMEDIATE`; PostgreSQL row locks and transaction-scoped
//! advisory locks). None relies on a lock inside one process, so two processes on one database
//! decide exactly as one would.

mod postgres;
mod sqlite;

use std::fmt;

use hmac::Mac;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// A stored user of the `sms` connection.
#[derive(Debug, Clone)]
pub struct User {
    /// The part after `sms|`.
    pub id: String,
    /// E.164.
    pub phone: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// The current code of one phone number.
#[derive(Debug, Clone)]
pub struct StoredCode {
    /// Random per send; part of the MAC input.
    pub flow_id: String,
    /// The code's seal ([`seal_code`]), or for a code stored before codes were sealed
    /// `HMAC-SHA256(secret, flow_id ‖ phone ‖ code)`.
    pub mac: Vec<u8>,
    /// The client the code was sent for.
    pub client_id: String,
}

/// Why a code could not be tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUnavailable {
    /// No code, an expired one, or a used one.
    Missing,
    /// The code had its allowed wrong tries.
    Exhausted,
}

/// The first byte of a sealed code's stored MAC (32 bytes follow). Codes stored before sealing
/// have 32-byte MACs.
const SEALED: u8 = 1;

/// What a code's MAC is stored as: `1 ‖ HMAC-SHA256(candidate, flow_id)`, where `candidate` is
/// `HMAC-SHA256(secret, phone ‖ code)` ([`crate::keys::Keys::code_candidate`]): a MAC of the flow,
/// the number and the code under the tenant's secret. Whoever reads the database cannot test
/// codes without that secret; a try brings its candidate, which the store seals with the stored
/// flow and compares (on PostgreSQL in the statement that counts the try, so the database sees
/// neither a code nor the secret).
pub fn seal_code(candidate: &[u8], flow_id: &str) -> Vec<u8> {
    let mut sealed = vec![SEALED];
    sealed.extend_from_slice(&flow_mac(candidate, flow_id).finalize().into_bytes());
    sealed
}

/// Whether `mac` is the seal of `candidate` with `flow_id`, compared in constant time.
pub fn sealed_code_matches(candidate: &[u8], flow_id: &str, mac: &[u8]) -> bool {
    is_sealed(mac) && flow_mac(candidate, flow_id).verify_slice(&mac[1..]).is_ok()
}

fn flow_mac(candidate: &[u8], flow_id: &str) -> hmac::Hmac<sha2::Sha256> {
    let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(candidate)
        .expect("HMAC accepts keys of any length");
    m.update(flow_id.as_bytes());
    m
}

/// Whether a stored MAC is a seal, not a MAC from before codes were sealed.
fn is_sealed(mac: &[u8]) -> bool {
    mac.len() == 33 && mac[0] == SEALED
}

/// A code tried for a number, and what a match earns: see [`Store::try_code`].
#[derive(Debug, Clone)]
pub struct CodeTry {
    /// Tries a code allows.
    pub max_attempts: i64,
    /// `HMAC-SHA256(secret, phone ‖ code)` of the code tried
    /// ([`crate::keys::Keys::code_candidate`]): 32 bytes.
    pub candidate: Vec<u8>,
    /// The client asking: a code sent for another client is wrong.
    pub client_id: String,
    /// Whether a number without a user may sign up; if not, its (decoy) code never logs in.
    pub sign_ups: bool,
    /// The limit key whose event (counted by this try) is given back on success.
    pub refund_key: String,
    /// The ID of the user a first login creates.
    pub new_id: String,
    /// The login ticket a match stores for the user (`/co/authenticate`).
    pub ticket: Option<NewTicket>,
}

impl CodeTry {
    /// Whether a matching `stored` code logs this try in: it was sent for this client, and its
    /// number has a user or may sign up (a decoy's code never logs in, even guessed).
    /// `lpw_try_code` decides the same on PostgreSQL.
    pub fn may_log_in(&self, stored: &StoredCode, number: &Number) -> bool {
        stored.client_id == self.client_id && (number.registered || self.sign_ups)
    }
}

/// What a code try came to, once admitted.
#[derive(Debug, Clone)]
pub enum Tried {
    /// The code matched and was consumed: the (new or existing) user, logged in.
    LoggedIn(User),
    /// No live code, a wrong one, one for another client, a decoy, or one another caller used
    /// first: all look the same.
    Wrong,
    /// The code had its allowed tries.
    Exhausted,
    /// A code stored before codes were sealed, its try counted: the caller compares it and
    /// finishes with [`Store::finish_verification`].
    Unsealed(StoredCode),
}

/// One message in the development outbox.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OutboxMessage {
    /// E.164 recipient.
    pub to: String,
    /// The rendered text.
    pub body: String,
    /// The code it carries.
    pub code: String,
    /// Unix seconds.
    #[serde(skip)]
    pub sent_at: i64,
}

/// What is known of a number before a send or a verification.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Number {
    /// Whether it has a user.
    pub registered: bool,
    /// The client address (as rate limits key it) of its last successful verification.
    pub login_ip: Option<String>,
}

/// A number asked about (a code sent to it, or one tried for it) from a client address, with the
/// keys its consecutive failures count under: the pair's (Auth0's brute-force protection, per
/// user and address) and the number's own.
#[derive(Debug, Clone)]
pub struct Asking {
    /// E.164.
    pub phone: String,
    /// The client address, as rate limits key it.
    pub ip: String,
    /// Failures of this number from this address.
    pub pair_key: String,
    /// Failures of this number from any address.
    pub phone_key: String,
}

impl Asking {
    /// `phone` asked about from `ip`.
    pub fn new(phone: &str, ip: &str) -> Self {
        Self {
            phone: phone.to_string(),
            ip: ip.to_string(),
            pair_key: format!("fail-pair:{phone}|{ip}"),
            phone_key: format!("fail-phone:{phone}"),
        }
    }

    /// The blocks it must not be under, for a number that last logged in from `login_ip`: the
    /// pair's, and the number's unless this address is that one (so guesses from elsewhere
    /// cannot lock the owner out of their usual network). The PostgreSQL backend decides the
    /// same inside `lpw_admit`.
    fn blocking(&self, login_ip: Option<&str>) -> Vec<&str> {
        let mut keys = vec![self.pair_key.as_str()];
        if login_ip != Some(self.ip.as_str()) {
            keys.push(self.phone_key.as_str());
        }
        keys
    }
}

/// A single-use login ticket `/co/authenticate` hands out, stored with the verification that
/// earns it (see [`Store::finish_verification`]).
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// The ticket itself.
    pub id: String,
    /// The client it may be redeemed for.
    pub client_id: String,
    /// Unix seconds.
    pub expires_at: i64,
    /// SHA-256 of the browser's binding cookie, which `/authorize` must be shown.
    pub binding: Vec<u8>,
}

/// How consecutive failures of a key turn into a block: at `threshold` failures in a row the key
/// is blocked for `base_secs`, doubled for each block before it (a strike) up to `max_secs`;
/// strikes are forgotten a day after the last block ended.
#[derive(Debug, Clone, Copy)]
pub struct Lockout {
    /// Consecutive failures that block.
    pub threshold: i64,
    /// The first block's length, seconds.
    pub base_secs: i64,
    /// The longest block, seconds.
    pub max_secs: i64,
}

/// Seconds after a block ends at which its strike is forgotten.
pub const STRIKE_MEMORY_SECS: i64 = 86_400;

/// A rate limit: at most `max` events per `window` seconds for `key`.
#[derive(Debug, Clone)]
pub struct Limit {
    /// What is counted (`start-ip:127.0.0.1`, `start-phone:+31…`).
    pub key: String,
    /// Events allowed in the window.
    pub max: i64,
    /// Window, seconds.
    pub window: i64,
}

/// What an authorization code or refresh token stands for.
#[derive(Debug, Clone)]
pub struct Grant {
    /// The client.
    pub client_id: String,
    /// The user.
    pub user_id: String,
    /// Granted scopes.
    pub scope: String,
    /// API audience.
    pub audience: Option<String>,
    /// The `/authorize` nonce (codes only).
    pub nonce: Option<String>,
    /// The registered redirect URI the code went to (codes only).
    pub redirect_uri: Option<String>,
    /// PKCE S256 challenge (codes only).
    pub challenge: Option<String>,
    /// When the user logged in (Unix seconds): the ID token's `auth_time`, and for refresh
    /// tokens the start of the family's absolute lifetime.
    pub auth_time: i64,
}

impl Grant {
    /// A refresh token's grant: no nonce, redirect or challenge.
    pub(crate) fn refresh(
        client_id: String,
        user_id: String,
        scope: String,
        audience: Option<String>,
        auth_time: i64,
    ) -> Self {
        Self {
            client_id,
            user_id,
            scope,
            audience,
            nonce: None,
            redirect_uri: None,
            challenge: None,
            auth_time,
        }
    }
}

/// How a refresh token exchange went.
#[derive(Debug, Clone)]
pub enum RefreshOutcome {
    /// Valid and now used: here is its grant and family.
    Ok(Grant, String),
    /// Unknown, expired, or of a revoked family.
    Invalid,
    /// Already used: the whole family is now revoked.
    Reused,
}

/// Why [`Store::take`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The block key is blocked for this many more seconds.
    Blocked(i64),
    /// A limit is full; the tightest frees up in this many seconds.
    Limited(i64),
}

/// How many rows retention removed, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Purged {
    /// Expired or used one-time codes.
    pub codes: u64,
    /// Expired login tickets.
    pub tickets: u64,
    /// Expired authorization codes.
    pub auth_codes: u64,
    /// Expired sessions.
    pub sessions: u64,
    /// Expired refresh tokens (and families left with none).
    pub refresh_tokens: u64,
    /// Outbox messages older than the configured age.
    pub outbox: u64,
    /// Rate-limit events older than every window, and spent failure counters.
    pub events: u64,
}

impl Purged {
    /// Rows removed in all.
    pub fn total(&self) -> u64 {
        self.codes
            + self.tickets
            + self.auth_codes
            + self.sessions
            + self.refresh_tokens
            + self.outbox
            + self.events
    }
}

/// Rows per table, for the drift check of the bench and the retention tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowCounts {
    /// `users`.
    pub users: i64,
    /// `codes`.
    pub codes: i64,
    /// `tickets`.
    pub tickets: i64,
    /// `auth_codes`.
    pub auth_codes: i64,
    /// `sessions`.
    pub sessions: i64,
    /// `refresh_tokens`.
    pub refresh_tokens: i64,
    /// `outbox`.
    pub outbox: i64,
    /// `events`.
    pub events: i64,
}

/// Events older than this are never counted by any limit (the longest window is an hour).
pub const EVENTS_KEEP_SECS: i64 = 86_400;

/// A storage failure. Shown to clients only as a 500; the cause is logged.
#[derive(Debug)]
pub enum StoreError {
    /// SQLite said no.
    Sqlite(rusqlite::Error),
    /// PostgreSQL said no.
    Postgres(tokio_postgres::Error),
    /// No PostgreSQL connection could be had from the pool.
    Pool(String),
    /// The blocking task running a SQLite call was lost.
    Task(String),
    /// The database URL or path cannot be used.
    Config(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(e) => write!(f, "SQLite: {e}"),
            Self::Postgres(e) => match e.as_db_error() {
                Some(db) => write!(f, "PostgreSQL: {} ({})", db.message(), db.code().code()),
                None => write!(f, "PostgreSQL: {e}"),
            },
            Self::Pool(e) => write!(f, "PostgreSQL pool: {e}"),
            Self::Task(e) => write!(f, "database task: {e}"),
            Self::Config(e) => write!(f, "database: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Postgres(e)
    }
}

/// Store results.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Where the state lives, as the configuration names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://user[:password]@host[:port]/db`, or `host=/run/…` sockets).
    Postgres(String),
}

impl Database {
    /// A URL starting `postgres://` or `postgresql://` is PostgreSQL; anything else is a SQLite
    /// path (`sqlite://` prefix optional).
    pub fn parse(s: &str) -> Self {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Self::Postgres(s.to_string())
        } else {
            Self::Sqlite(s.strip_prefix("sqlite://").unwrap_or(s).into())
        }
    }

    /// For logs: the URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(p) => p.display().to_string(),
            Self::Postgres(url) => redact_url(url),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{path}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The tenant's durable state.
pub enum Store {
    /// Embedded SQLite.
    Sqlite(SqliteStore),
    /// Shared PostgreSQL.
    Postgres(PostgresStore),
}

/// Forwards one call to whichever backend this is.
macro_rules! backend {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$method($($arg),*).await,
            Store::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Connects (creating a SQLite file if needed) and brings the schema up to date. Safe when
    /// several instances start at once: migrations run under the database's own lock.
    pub async fn open(database: &Database) -> Result<Self> {
        Self::open_with(database, None).await
    }

    /// [`Store::open`], keeping `connections` to PostgreSQL (default: one per core; SQLite
    /// always has its one).
    pub async fn open_with(database: &Database, connections: Option<usize>) -> Result<Self> {
        Ok(match database {
            Database::Sqlite(path) => Self::Sqlite(SqliteStore::open(path).await?),
            Database::Postgres(url) => {
                let connections = connections.unwrap_or_else(postgres::default_connections);
                Self::Postgres(PostgresStore::connect_with(url, connections).await?)
            }
        })
    }

    /// How many connections to the database this store keeps at most.
    pub fn connections(&self) -> usize {
        match self {
            Store::Sqlite(_) => 1,
            Store::Postgres(s) => s.connections(),
        }
    }

    /// Which engine this is: `sqlite` or `postgres`.
    pub fn engine(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// A value from the key/value table.
    pub async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        backend!(self.meta(key))
    }

    /// Stores `value` under `key` unless a value is already there; returns the stored value.
    /// Two instances racing get the same answer: the first insert wins.
    pub async fn meta_get_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>> {
        backend!(self.meta_get_or_insert(key, value))
    }

    /// In one transaction: the value of `current` moves to `previous`, that of `next` to
    /// `current`, and `next` and `also_delete` are deleted. False, changing nothing, when
    /// `current` or `next` has no value (another rotation went first).
    pub async fn meta_promote(
        &self,
        previous: &str,
        current: &str,
        next: &str,
        also_delete: &str,
    ) -> Result<bool> {
        backend!(self.meta_promote(previous, current, next, also_delete))
    }

    /// Replaces the phone's code: only the latest code is valid.
    pub async fn put_code(
        &self,
        phone: &str,
        client_id: &str,
        flow_id: &str,
        mac: &[u8],
        expires_at: i64,
    ) -> Result<()> {
        backend!(self.put_code(phone, client_id, flow_id, mac, expires_at))
    }

    /// Counts one try against the phone's live code *before* it is compared, and returns it.
    pub async fn begin_code_attempt(
        &self,
        phone: &str,
        now: i64,
        max_attempts: i64,
    ) -> Result<Result<StoredCode, CodeUnavailable>> {
        backend!(self.begin_code_attempt(phone, now, max_attempts))
    }

    /// After a matching code: marks it used and, only if this caller flipped it, gives back the
    /// try `refund_key` counted (see [`Store::take`]), forgets the consecutive failures of the
    /// asking pair (and its strikes) and of its number, and finds the number's user, creating
    /// one (`new_id`) on first login, with the asking address as its login address; with a
    /// `ticket`, stores that login ticket for the user too. All or nothing, in one transaction
    /// (on PostgreSQL one statement); `None` when another caller used the code first.
    pub async fn finish_verification(
        &self,
        asking: &Asking,
        flow_id: &str,
        refund_key: &str,
        now: i64,
        new_id: &str,
        ticket: Option<&NewTicket>,
    ) -> Result<Option<User>> {
        backend!(self.finish_verification(asking, flow_id, refund_key, now, new_id, ticket))
    }

    /// The user with this ID.
    pub async fn user(&self, id: &str) -> Result<Option<User>> {
        backend!(self.user(id))
    }

    /// Whether a user exists for this phone, and where it last logged in from.
    pub async fn number(&self, phone: &str) -> Result<Number> {
        backend!(self.number(phone))
    }

    /// Redeems a login ticket for this client, presented with its `binding` (the hash of the
    /// browser's binding cookie), once, and starts a login session (by the hash of its cookie
    /// value, logged in at `now`) for its user, all or nothing. `None`: no such live ticket with
    /// that binding; `Some(None)`: the ticket's user no longer exists.
    pub async fn redeem_ticket(
        &self,
        id: &str,
        client_id: &str,
        binding: &[u8],
        now: i64,
        session_hash: &[u8],
        session_expires_at: i64,
    ) -> Result<Option<Option<User>>> {
        backend!(self.redeem_ticket(
            id,
            client_id,
            binding,
            now,
            session_hash,
            session_expires_at
        ))
    }

    /// Appends a message to the development outbox.
    pub async fn push_outbox(&self, m: &OutboxMessage) -> Result<()> {
        backend!(self.push_outbox(m))
    }

    /// Outbox messages, newest first, optionally for one recipient.
    pub async fn outbox(&self, to: Option<&str>, limit: usize) -> Result<Vec<OutboxMessage>> {
        backend!(self.outbox(to, limit))
    }

    /// Unless one of `block_keys` is blocked (then the longest wait), checks every limit and,
    /// when all pass, records one event for each. Check and record are atomic, across instances
    /// too.
    pub async fn take(
        &self,
        block_keys: &[&str],
        limits: &[Limit],
        now: i64,
    ) -> Result<Result<(), Refusal>> {
        backend!(self.take(block_keys, limits, now))
    }

    /// Looks up the number asked about and, in the same call, takes `limits` (see
    /// [`Store::take`]) under the blocks [`Asking`] names for it. Without a number (one that
    /// could not be parsed) only the limits apply. The number comes back whatever the take
    /// decided.
    pub async fn admit(
        &self,
        asking: Option<&Asking>,
        limits: &[Limit],
        now: i64,
    ) -> Result<(Number, Result<(), Refusal>)> {
        backend!(self.admit(asking, limits, now))
    }

    /// [`Store::admit`] for a code tried for `asking`'s number and, when admitted, in the same
    /// call and transaction (on PostgreSQL one statement): the try counted against the limits and
    /// against the number's live code *before* anything is compared, the comparison, and on a
    /// match everything [`Store::finish_verification`] does.
    pub async fn try_code(
        &self,
        asking: &Asking,
        limits: &[Limit],
        now: i64,
        code: &CodeTry,
    ) -> Result<(Number, Result<Tried, Refusal>)> {
        backend!(self.try_code(asking, limits, now, code))
    }

    /// Counts a consecutive failure of `key`; at the lockout's threshold the key is blocked (for
    /// longer with each strike, see [`Lockout`]) and the count starts again. One statement.
    pub async fn record_failure(&self, key: &str, lockout: Lockout, now: i64) -> Result<()> {
        backend!(self.record_failure(key, lockout, now))
    }

    /// The user of a live session and when they logged in.
    pub async fn session_user(&self, id_hash: &[u8], now: i64) -> Result<Option<(User, i64)>> {
        backend!(self.session_user(id_hash, now))
    }

    /// Ends a session.
    pub async fn delete_session(&self, id_hash: &[u8]) -> Result<()> {
        backend!(self.delete_session(id_hash))
    }

    /// Stores an authorization code (by hash).
    pub async fn put_code_grant(&self, code_hash: &[u8], g: &Grant, expires_at: i64) -> Result<()> {
        backend!(self.put_code_grant(code_hash, g, expires_at))
    }

    /// Redeems an authorization code once.
    pub async fn take_code_grant(&self, code_hash: &[u8], now: i64) -> Result<Option<Grant>> {
        backend!(self.take_code_grant(code_hash, now))
    }

    /// Stores a refresh token (by hash) in `family`, a new family (logged in at the grant's
    /// `auth_time`) unless it exists. Returns
    /// false, storing nothing, when the family was revoked meanwhile (a rotation racing a reuse).
    pub async fn put_refresh(
        &self,
        token_hash: &[u8],
        family: &str,
        g: &Grant,
        expires_at: i64,
    ) -> Result<bool> {
        backend!(self.put_refresh(token_hash, family, g, expires_at))
    }

    /// Uses a refresh token of `client_id` once. A second use is theft or a bug: the family is
    /// revoked. Presented by another client, the token is `Invalid` and stays unspent (so no
    /// client can burn, or get revoked, another's tokens).
    pub async fn use_refresh(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: i64,
    ) -> Result<RefreshOutcome> {
        backend!(self.use_refresh(token_hash, client_id, now))
    }

    /// Deletes what can no longer be used: expired codes, tickets, authorization codes,
    /// sessions and refresh tokens, outbox messages older than `outbox_keep_secs`, and events
    /// older than any window.
    pub async fn purge(&self, now: i64, outbox_keep_secs: i64) -> Result<Purged> {
        backend!(self.purge(now, outbox_keep_secs))
    }

    /// Rows per table.
    pub async fn row_counts(&self) -> Result<RowCounts> {
        backend!(self.row_counts())
    }

    /// Readies the store for the first requests: on PostgreSQL every connection of the pool
    /// is opened and has compiled the functions a login calls (each connection compiles a
    /// PL/pgSQL function and plans its statements on its first call). SQLite has nothing to
    /// ready. Writes nothing.
    pub async fn warm_up(&self) -> Result<()> {
        match self {
            Store::Sqlite(_) => Ok(()),
            Store::Postgres(s) => s.warm_up().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_choose_the_backend() {
        assert_eq!(
            Database::parse("postgres://u@127.0.0.1:5432/t"),
            Database::Postgres("postgres://u@127.0.0.1:5432/t".into())
        );
        assert_eq!(
            Database::parse("postgresql://u@h/t"),
            Database::Postgres("postgresql://u@h/t".into())
        );
        assert_eq!(
            Database::parse("state.db"),
            Database::Sqlite("state.db".into())
        );
        assert_eq!(
            Database::parse("sqlite:///var/lib/t.db"),
            Database::Sqlite("/var/lib/t.db".into())
        );
    }

    #[test]
    fn logs_never_show_the_password() {
        assert_eq!(
            redact_url("postgres://tenant:s3cret@db.internal:5432/auth"),
            "postgres://tenant:***@db.internal:5432/auth"
        );
        assert_eq!(
            redact_url("postgres://tenant@db/auth"),
            "postgres://tenant@db/auth"
        );
        assert_eq!(
            redact_url("postgres://a:b:c@h/d?sslmode=require"),
            "postgres://a:***@h/d?sslmode=require"
        );
    }
}
