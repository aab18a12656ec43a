//! The shared backend: PostgreSQL through `tokio-postgres` and a `deadpool` pool, for several
//! tenant instances behind a load balancer.
//!
//! Single-use and counting decisions are one conditional statement (`UPDATE … WHERE used = false
//! … RETURNING`: PostgreSQL re-checks the condition on the locked row, so exactly one of any
//! number of concurrent callers wins). Check-then-record limits run in a transaction holding a
//! transaction-scoped advisory lock per key, taken in sorted order; refresh-token rotation and
//! reuse detection lock the family's row.

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use std::time::Duration;
use tokio::sync::{RwLock, RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard};

use tokio_postgres::NoTls;

use super::{
    Asking, CodeTry, CodeUnavailable, Grant, Limit, Lockout, NewTicket, Number, OutboxMessage,
    Purged, RefreshOutcome, Refusal, Result, RowCounts, StoreError, StoredCode, Tried, User,
    EVENTS_KEEP_SECS, STRIKE_MEMORY_SECS,
};

/// Connections an instance keeps when the config says nothing: one per core of its machine
/// (at least two). Measured with `tenant-bench` (two instances on one PostgreSQL database) on
/// two cores: 16 per instance cost PostgreSQL ~45 % more CPU per login than 2 (its backends
/// taking turns on the cores) and gave 15-20 % fewer logins per second.
pub(super) fn default_connections() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// How long data sent to PostgreSQL may go unacknowledged before the connection counts as dead
/// (`tcp_user_timeout`), and how soon an idle connection is probed (`keepalives_idle`, then every
/// `keepalives_interval`, `keepalives_retries` times).
const DEAD_PEER_AFTER: Duration = Duration::from_secs(15);
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const KEEPALIVE_RETRIES: u32 = 3;

/// The connections' settings: the URL's, with each statement planned once and limits for a
/// database that stops answering.
fn client_config(url: &str) -> Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| StoreError::Config(format!("{}: {e}", super::redact_url(url))))?;
    // No statement's best plan depends on its values (key lookups, and purges that read most
    // of what they match), so each is planned once per connection. Left to choose, PostgreSQL
    // kept planning the statements inside `lpw_take` anew on every call: a tenth of the
    // machine's CPU under load.
    let options = match config.get_options() {
        Some(given) => format!("{given} -c plan_cache_mode=force_generic_plan"),
        None => "-c plan_cache_mode=force_generic_plan".to_string(),
    };
    config.options(&options);
    dead_peer_limits(&mut config);
    Ok(config)
}

/// When the database's host goes away or the network between is cut, the kernel would retry
/// for ~15 minutes before failing a connection, and every request pipelined on it would wait
/// as long. With these limits its statements fail within seconds, the lane gets a new
/// connection on its next use, and while none can be had, requests fail after the pool's
/// `create_timeout`. A statement that is only slow (waiting for a lock) sends nothing
/// unacknowledged and answers the probes, so it is not cut short: the URL's
/// `options=-c statement_timeout=…` bounds those. Values the URL gives win.
fn dead_peer_limits(config: &mut tokio_postgres::Config) {
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(DEAD_PEER_AFTER);
    }
    // tokio-postgres' own default idle time (libpq's: the kernel's two hours).
    if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
        config.keepalives_idle(KEEPALIVE_IDLE);
    }
    if config.get_keepalives_interval().is_none() {
        config.keepalives_interval(KEEPALIVE_INTERVAL);
    }
    if config.get_keepalives_retries().is_none() {
        config.keepalives_retries(KEEPALIVE_RETRIES);
    }
}

/// The advisory lock key migrations run under (any constant; one per application).
const MIGRATION_LOCK: i64 = 0x6c70_775f_6d69_6772; // "lpw_migr"

/// A PostgreSQL database.
///
/// Its connections are lanes. A single statement (every step of a login is one) takes a lane
/// shared: tokio-postgres pipelines the statements of concurrent requests on one connection,
/// each its own implicit transaction (every query ends with its own Sync), and its backend
/// works through them without sleeping between them. A statement waiting for a lock holds up
/// the ones behind it on its lane, so nothing keeps a lock the logins need for longer than one
/// statement: the limits' advisory locks live for one statement, and the purge commits each
/// table's delete on its own. A transaction takes a lane to itself, once the statements on it
/// have finished. Measured with `tenant-bench` (two instances, two cores): against one
/// connection per statement, PostgreSQL's CPU per login fell by about a quarter and the
/// tenants' non-signing CPU by a fifth, as backends and tenants woke far less often.
pub struct PostgresStore {
    /// Where the lanes' connections come from (deadpool: timeouts, prepared-statement caches,
    /// and a closed connection replaced rather than reused).
    pool: Pool,
    lanes: Vec<Lane>,
    next: std::sync::atomic::AtomicUsize,
}

/// One connection, opened when first used, shared by single statements or held by one
/// transaction.
type Lane = RwLock<Option<deadpool_postgres::Object>>;

fn pool_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Pool(e.to_string())
}

impl PostgresStore {
    /// Connects to `url` and migrates the schema.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, default_connections()).await
    }

    /// [`PostgresStore::connect`] with at most `connections` open at once.
    pub async fn connect_with(url: &str, connections: usize) -> Result<Self> {
        let manager = Manager::from_config(
            client_config(url)?,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(connections.max(1))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(10)))
            .build()
            .map_err(pool_error)?;
        let store = Self {
            pool,
            lanes: (0..connections.max(1)).map(|_| RwLock::new(None)).collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
        };
        store.migrate().await?;
        Ok(store)
    }

    pub(super) fn connections(&self) -> usize {
        self.lanes.len()
    }

    /// The next lane in turn, to share: one no transaction holds if there is one, else the
    /// first in turn once its transaction ends. A lane whose connection is missing or closed
    /// gets a new one first.
    async fn shared(&self) -> Result<RwLockReadGuard<'_, deadpool_postgres::Object>> {
        let first = self.turn();
        let n = self.lanes.len();
        let lane = (0..n)
            .map(|i| &self.lanes[(first + i) % n])
            .find(|l| l.try_read().is_ok())
            .unwrap_or(&self.lanes[first % n]);
        loop {
            match RwLockReadGuard::try_map(lane.read().await, |c| {
                c.as_ref().filter(|c| !c.is_closed())
            }) {
                Ok(client) => return Ok(client),
                Err(unusable) => {
                    drop(unusable);
                    // Connected (or found connected by another caller) under the write lock,
                    // then shared from the top.
                    drop(self.open(lane.write().await).await?);
                }
            }
        }
    }

    /// A lane to itself, for a transaction: the next in turn, once the statements and the
    /// transaction on it have finished.
    async fn exclusive(&self) -> Result<RwLockMappedWriteGuard<'_, deadpool_postgres::Object>> {
        let lane = &self.lanes[self.turn() % self.lanes.len()];
        self.open(lane.write().await).await
    }

    /// Where the next lane search starts: each caller one further, so lanes take turns.
    fn turn(&self) -> usize {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// The lane's connection, a new one from the pool if it has none or it was closed (the
    /// pool drops a closed one when it comes back).
    async fn open<'a>(
        &self,
        mut lane: RwLockWriteGuard<'a, Option<deadpool_postgres::Object>>,
    ) -> Result<RwLockMappedWriteGuard<'a, deadpool_postgres::Object>> {
        let client = match lane.take() {
            Some(client) if !client.is_closed() => client,
            _ => self.pool.get().await.map_err(pool_error)?,
        };
        Ok(RwLockWriteGuard::map(lane, |c| c.insert(client)))
    }

    /// Applies what `schema_migrations` lacks, all under one advisory lock, so instances that
    /// start together migrate one after the other and the second finds nothing to do.
    async fn migrate(&self) -> Result<()> {
        let mut client = self.exclusive().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
               version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        )
        .await?;
        let done: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                &[],
            )
            .await?
            .get(0);
        for (i, step) in MIGRATIONS.iter().enumerate().skip(done as usize) {
            tx.batch_execute(step).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version) VALUES ($1)",
                &[&(i as i64 + 1)],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// [`super::Store::warm_up`]: opens every lane's connection, and on each calls the login's
    /// functions with nothing to act on — no number, no limits, no code — which compiles them
    /// and plans their statements there (psql's `\timing`: a connection's first `lpw_admit`
    /// 5.6 ms, the next 0.45 ms).
    pub(super) async fn warm_up(&self) -> Result<()> {
        for lane in &self.lanes {
            self.open(lane.write().await)
                .await?
                .batch_execute(
                    "SELECT * FROM lpw_try_code(NULL, NULL, NULL, NULL, '{}', '{}', '{}', 0, NULL,
                       NULL, NULL, NULL, false, NULL, NULL, NULL, NULL, NULL, NULL);
                     SELECT * FROM lpw_finish(NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL,
                       NULL, NULL, NULL)",
                )
                .await?;
        }
        Ok(())
    }

    async fn opt_row(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<tokio_postgres::Row>> {
        let client = self.shared().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query_opt(&stmt, params).await?)
    }

    async fn one_row(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<tokio_postgres::Row> {
        let client = self.shared().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query_one(&stmt, params).await?)
    }

    async fn exec(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64> {
        let client = self.shared().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.execute(&stmt, params).await?)
    }

    pub(super) async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .opt_row("SELECT value FROM meta WHERE key = $1", &[&key])
            .await?
            .map(|r| r.get(0)))
    }

    pub(super) async fn meta_get_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>> {
        // `DO UPDATE` with the old value (not `DO NOTHING`) so the row comes back either way;
        // a concurrent first insert makes this one wait for it and return its value.
        let row = self
            .opt_row(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = meta.value RETURNING value",
                &[&key, &value],
            )
            .await?;
        row.map(|r| r.get(0))
            .ok_or_else(|| StoreError::Config(format!("meta {key} vanished")))
    }

    pub(super) async fn meta_promote(
        &self,
        previous: &str,
        current: &str,
        next: &str,
        also_delete: &str,
    ) -> Result<bool> {
        let mut client = self.exclusive().await?;
        let tx = client.transaction().await?;
        // Row locks on both: a concurrent rotation waits, then finds `next` gone.
        let mut values = std::collections::HashMap::new();
        for row in tx
            .query(
                "SELECT key, value FROM meta WHERE key = $1 OR key = $2 ORDER BY key FOR UPDATE",
                &[&current, &next],
            )
            .await?
        {
            values.insert(row.get::<_, String>(0), row.get::<_, Vec<u8>>(1));
        }
        let (Some(old), Some(new)) = (values.get(current), values.get(next)) else {
            tx.rollback().await?;
            return Ok(false);
        };
        for (k, v) in [(previous, old), (current, new)] {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                &[&k, v],
            )
            .await?;
        }
        tx.execute(
            "DELETE FROM meta WHERE key = $1 OR key = $2",
            &[&next, &also_delete],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn put_code(
        &self,
        phone: &str,
        client_id: &str,
        flow_id: &str,
        mac: &[u8],
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO codes (phone, client_id, flow_id, mac, expires_at, attempts, used)
             VALUES ($1, $2, $3, $4, $5, 0, false)
             ON CONFLICT (phone) DO UPDATE SET client_id = $2, flow_id = $3, mac = $4,
               expires_at = $5, attempts = 0, used = false",
            &[&phone, &client_id, &flow_id, &mac, &expires_at],
        )
        .await
        .map(drop)
    }

    pub(super) async fn begin_code_attempt(
        &self,
        phone: &str,
        now: i64,
        max_attempts: i64,
    ) -> Result<Result<StoredCode, CodeUnavailable>> {
        let row = self
            .opt_row(
                "UPDATE codes SET attempts = attempts + 1
                 WHERE phone = $1 AND NOT used AND expires_at > $2 AND attempts < $3
                 RETURNING flow_id, mac, client_id",
                &[&phone, &now, &max_attempts],
            )
            .await?;
        if let Some(r) = row {
            return Ok(Ok(StoredCode {
                flow_id: r.get(0),
                mac: r.get(1),
                client_id: r.get(2),
            }));
        }
        let exhausted = self
            .opt_row(
                "SELECT 1 FROM codes WHERE phone = $1 AND NOT used AND expires_at > $2
                 AND attempts >= $3",
                &[&phone, &now, &max_attempts],
            )
            .await?
            .is_some();
        Ok(Err(if exhausted {
            CodeUnavailable::Exhausted
        } else {
            CodeUnavailable::Missing
        }))
    }

    pub(super) async fn finish_verification(
        &self,
        asking: &Asking,
        flow_id: &str,
        refund_key: &str,
        now: i64,
        new_id: &str,
        ticket: Option<&NewTicket>,
    ) -> Result<Option<User>> {
        // One statement (`lpw_finish`, migration 6): every part runs only if this caller flipped
        // `used`, and the ticket (for /co/authenticate) is written for the user it finds.
        Ok(self
            .opt_row(
                "SELECT u_id, u_phone, u_created, u_updated
                 FROM lpw_finish($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    &asking.phone,
                    &flow_id,
                    &refund_key,
                    &asking.pair_key,
                    &asking.phone_key,
                    &asking.ip,
                    &now,
                    &new_id,
                    &ticket.map(|t| t.id.as_str()),
                    &ticket.map(|t| t.client_id.as_str()),
                    &ticket.map(|t| t.expires_at),
                    &ticket.map(|t| t.binding.as_slice()),
                ],
            )
            .await?
            .map(|r| user_from_row(&r)))
    }

    pub(super) async fn user(&self, id: &str) -> Result<Option<User>> {
        Ok(self
            .opt_row(
                "SELECT id, phone, created_at, updated_at FROM users WHERE id = $1",
                &[&id],
            )
            .await?
            .map(|r| user_from_row(&r)))
    }

    pub(super) async fn number(&self, phone: &str) -> Result<Number> {
        let row = self
            .opt_row("SELECT last_ip FROM users WHERE phone = $1", &[&phone])
            .await?;
        Ok(Number {
            registered: row.is_some(),
            login_ip: row.and_then(|r| r.get(0)),
        })
    }

    pub(super) async fn redeem_ticket(
        &self,
        id: &str,
        client_id: &str,
        binding: &[u8],
        now: i64,
        session_hash: &[u8],
        session_expires_at: i64,
    ) -> Result<Option<Option<User>>> {
        // One statement: the session is written only if this caller took the ticket.
        let row = self
            .opt_row(
                "WITH taken AS (
                   UPDATE tickets SET used = true
                   WHERE id = $1 AND client_id = $2 AND NOT used AND expires_at > $3
                     AND binding = $6
                   RETURNING user_id),
                 started AS (
                   INSERT INTO sessions (id_hash, user_id, expires_at, auth_time)
                   SELECT $4, user_id, $5, $3 FROM taken)
                 SELECT u.id, u.phone, u.created_at, u.updated_at
                 FROM taken LEFT JOIN users u ON u.id = taken.user_id",
                &[
                    &id,
                    &client_id,
                    &now,
                    &session_hash,
                    &session_expires_at,
                    &binding,
                ],
            )
            .await?;
        Ok(row.map(|r| {
            r.get::<_, Option<String>>(0)
                .is_some()
                .then(|| user_from_row(&r))
        }))
    }

    pub(super) async fn push_outbox(&self, m: &OutboxMessage) -> Result<()> {
        self.exec(
            "INSERT INTO outbox (to_number, body, code, sent_at) VALUES ($1, $2, $3, $4)",
            &[&m.to, &m.body, &m.code, &m.sent_at],
        )
        .await
        .map(drop)
    }

    pub(super) async fn outbox(
        &self,
        to: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        let client = self.shared().await?;
        // Two statements, so a recipient's messages come by the (to_number, id) index rather
        // than a scan of the whole outbox (a generic plan cannot use it for `$1 IS NULL OR`).
        let stmt = client
            .prepare_cached(if to.is_some() {
                "SELECT to_number, body, code, sent_at FROM outbox
                 WHERE to_number = $1 ORDER BY id DESC LIMIT $2"
            } else {
                "SELECT to_number, body, code, sent_at FROM outbox
                 WHERE $1::TEXT IS NULL ORDER BY id DESC LIMIT $2"
            })
            .await?;
        let rows = client.query(&stmt, &[&to, &(limit as i64)]).await?;
        Ok(rows
            .iter()
            .map(|r| OutboxMessage {
                to: r.get(0),
                body: r.get(1),
                code: r.get(2),
                sent_at: r.get(3),
            })
            .collect())
    }

    pub(super) async fn take(
        &self,
        block_keys: &[&str],
        limits: &[Limit],
        now: i64,
    ) -> Result<Result<(), Refusal>> {
        let (keys, maxes, windows) = limit_columns(limits);
        // One round trip: `lpw_take` (migration 3) locks, checks and records in one statement.
        let row = self
            .opt_row(
                "SELECT lpw_take($1, $2, $3, $4, $5)",
                &[&block_keys, &keys, &maxes, &windows, &now],
            )
            .await?;
        Ok(refusal(row.map(|r| r.get(0)).unwrap_or(0)))
    }

    pub(super) async fn admit(
        &self,
        asking: Option<&Asking>,
        limits: &[Limit],
        now: i64,
    ) -> Result<(Number, Result<(), Refusal>)> {
        let (keys, maxes, windows) = limit_columns(limits);
        let field = |f: fn(&Asking) -> &str| asking.map(f);
        // One round trip: `lpw_admit` (migration 5), without a code to try.
        let row = self
            .one_row(
                "SELECT wait, registered, login_ip
                 FROM lpw_admit($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
                &[
                    &field(|a| &a.phone),
                    &field(|a| &a.ip),
                    &field(|a| &a.pair_key),
                    &field(|a| &a.phone_key),
                    &keys,
                    &maxes,
                    &windows,
                    &now,
                ],
            )
            .await?;
        Ok((number_from(&row), refusal(row.get(0))))
    }

    pub(super) async fn try_code(
        &self,
        asking: &Asking,
        limits: &[Limit],
        now: i64,
        code: &CodeTry,
    ) -> Result<(Number, Result<Tried, Refusal>)> {
        let (keys, maxes, windows) = limit_columns(limits);
        let ticket = code.ticket.as_ref();
        let [ipad, opad] = hmac_pads(&code.candidate);
        // One round trip: `lpw_try_code` (migrations 6 and 8).
        let row = self
            .one_row(
                "SELECT wait, registered, login_ip, exhausted, code_flow, code_mac, code_client,
                   u_id, u_created, u_updated
                 FROM lpw_try_code($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
                                   $15, $16, $17, $18, $19)",
                &[
                    &asking.phone,
                    &asking.ip,
                    &asking.pair_key,
                    &asking.phone_key,
                    &keys,
                    &maxes,
                    &windows,
                    &now,
                    &code.max_attempts,
                    &ipad,
                    &opad,
                    &code.client_id,
                    &code.sign_ups,
                    &code.refund_key,
                    &code.new_id,
                    &ticket.map(|t| t.id.as_str()),
                    &ticket.map(|t| t.client_id.as_str()),
                    &ticket.map(|t| t.expires_at),
                    &ticket.map(|t| t.binding.as_slice()),
                ],
            )
            .await?;
        let number = number_from(&row);
        let tried = refusal(row.get(0)).map(|()| {
            if let Some(id) = row.get::<_, Option<String>>(7) {
                Tried::LoggedIn(User {
                    id,
                    phone: asking.phone.clone(),
                    created_at: row.get(8),
                    updated_at: row.get(9),
                })
            } else if let Some(mac) = row.get::<_, Option<Vec<u8>>>(5) {
                Tried::Unsealed(StoredCode {
                    flow_id: row.get(4),
                    mac,
                    client_id: row.get(6),
                })
            } else if row.get(3) {
                Tried::Exhausted
            } else {
                Tried::Wrong
            }
        });
        Ok((number, tried))
    }

    pub(super) async fn record_failure(&self, key: &str, l: Lockout, now: i64) -> Result<()> {
        // In SET, every `blocks.` column is the old row's value; strikes are forgotten a day
        // after the last block ended.
        self.exec(
            "INSERT INTO blocks (key, failures, blocked_until, strikes)
               VALUES ($1, CASE WHEN $2::BIGINT <= 1 THEN 0 ELSE 1 END,
                       CASE WHEN $2::BIGINT <= 1 THEN $3::BIGINT + LEAST($4::BIGINT, $5::BIGINT)
                            ELSE 0 END,
                       CASE WHEN $2::BIGINT <= 1 THEN 1 ELSE 0 END)
             ON CONFLICT (key) DO UPDATE SET
               blocked_until = CASE WHEN blocks.failures + 1 >= $2
                 THEN $3 + LEAST($4 << LEAST(CASE WHEN blocks.blocked_until + $6 < $3 THEN 0
                                                  ELSE blocks.strikes END, 20)::INT, $5)
                 ELSE blocks.blocked_until END,
               strikes = CASE WHEN blocks.failures + 1 >= $2
                 THEN (CASE WHEN blocks.blocked_until + $6 < $3 THEN 0 ELSE blocks.strikes END) + 1
                 ELSE blocks.strikes END,
               failures = CASE WHEN blocks.failures + 1 >= $2 THEN 0
                          ELSE blocks.failures + 1 END",
            &[
                &key,
                &l.threshold,
                &now,
                &l.base_secs,
                &l.max_secs,
                &STRIKE_MEMORY_SECS,
            ],
        )
        .await
        .map(drop)
    }

    pub(super) async fn session_user(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<(User, i64)>> {
        Ok(self
            .opt_row(
                "SELECT u.id, u.phone, u.created_at, u.updated_at, s.auth_time
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id_hash = $1 AND s.expires_at > $2",
                &[&id_hash, &now],
            )
            .await?
            .map(|r| (user_from_row(&r), r.get(4))))
    }

    pub(super) async fn delete_session(&self, id_hash: &[u8]) -> Result<()> {
        self.exec("DELETE FROM sessions WHERE id_hash = $1", &[&id_hash])
            .await
            .map(drop)
    }

    pub(super) async fn put_code_grant(
        &self,
        code_hash: &[u8],
        g: &Grant,
        expires_at: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, scope, audience, nonce,
               redirect_uri, challenge, expires_at, used, auth_time)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, false, $10)",
            &[
                &code_hash,
                &g.client_id,
                &g.user_id,
                &g.scope,
                &g.audience,
                &g.nonce,
                &g.redirect_uri,
                &g.challenge,
                &expires_at,
                &g.auth_time,
            ],
        )
        .await
        .map(drop)
    }

    pub(super) async fn take_code_grant(
        &self,
        code_hash: &[u8],
        now: i64,
    ) -> Result<Option<Grant>> {
        Ok(self
            .opt_row(
                "UPDATE auth_codes SET used = true
                 WHERE code_hash = $1 AND NOT used AND expires_at > $2
                 RETURNING client_id, user_id, scope, audience, nonce, redirect_uri, challenge,
                   auth_time",
                &[&code_hash, &now],
            )
            .await?
            .map(|r| Grant {
                client_id: r.get(0),
                user_id: r.get(1),
                scope: r.get(2),
                audience: r.get(3),
                nonce: r.get(4),
                redirect_uri: r.get(5),
                challenge: r.get(6),
                auth_time: r.get(7),
            }))
    }

    pub(super) async fn put_refresh(
        &self,
        token_hash: &[u8],
        family: &str,
        g: &Grant,
        expires_at: i64,
    ) -> Result<bool> {
        let mut client = self.exclusive().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO refresh_families (family, revoked, auth_time) VALUES ($1, false, $2)
             ON CONFLICT (family) DO NOTHING",
            &[&family, &g.auth_time],
        )
        .await?;
        // The row lock a concurrent reuse's revocation also needs: one of the two goes first.
        let revoked: bool = tx
            .query_one(
                "SELECT revoked FROM refresh_families WHERE family = $1 FOR UPDATE",
                &[&family],
            )
            .await?
            .get(0);
        if revoked {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO refresh_tokens (token_hash, family, client_id, user_id, scope, audience,
               expires_at, used) VALUES ($1, $2, $3, $4, $5, $6, $7, false)",
            &[
                &token_hash,
                &family,
                &g.client_id,
                &g.user_id,
                &g.scope,
                &g.audience,
                &expires_at,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(super) async fn use_refresh(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: i64,
    ) -> Result<RefreshOutcome> {
        let mut client = self.exclusive().await?;
        let tx = client.transaction().await?;
        let Some(family) = tx
            .query_opt(
                "SELECT family FROM refresh_tokens WHERE token_hash = $1 AND client_id = $2",
                &[&token_hash, &client_id],
            )
            .await?
            .map(|r| r.get::<_, String>(0))
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        let Some((revoked, auth_time)) = tx
            .query_opt(
                "SELECT revoked, auth_time FROM refresh_families WHERE family = $1 FOR UPDATE",
                &[&family],
            )
            .await?
            .map(|r| (r.get::<_, bool>(0), r.get::<_, i64>(1)))
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        if revoked {
            return Ok(RefreshOutcome::Invalid);
        }
        let row = tx
            .query_opt(
                "UPDATE refresh_tokens SET used = true
                 WHERE token_hash = $1 AND NOT used AND expires_at > $2
                 RETURNING client_id, user_id, scope, audience",
                &[&token_hash, &now],
            )
            .await?;
        let outcome = match row {
            Some(r) => RefreshOutcome::Ok(
                Grant::refresh(r.get(0), r.get(1), r.get(2), r.get(3), auth_time),
                family,
            ),
            None => {
                let used = tx
                    .query_opt(
                        "SELECT 1 FROM refresh_tokens WHERE token_hash = $1 AND used",
                        &[&token_hash],
                    )
                    .await?
                    .is_some();
                if used {
                    tx.execute(
                        "UPDATE refresh_families SET revoked = true WHERE family = $1",
                        &[&family],
                    )
                    .await?;
                    RefreshOutcome::Reused
                } else {
                    RefreshOutcome::Invalid
                }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    pub(super) async fn purge(&self, now: i64, outbox_keep_secs: i64) -> Result<Purged> {
        // A lane to itself, so the logins' statements take the others meanwhile; and each
        // delete commits on its own, so none keeps rows locked while the next table is purged
        // (a start whose number's expired code is being deleted waits for that delete alone).
        let client = self.exclusive().await?;
        let purged = Purged {
            codes: client
                .execute("DELETE FROM codes WHERE expires_at <= $1 OR used", &[&now])
                .await?,
            tickets: client
                .execute("DELETE FROM tickets WHERE expires_at <= $1", &[&now])
                .await?,
            auth_codes: client
                .execute("DELETE FROM auth_codes WHERE expires_at <= $1", &[&now])
                .await?,
            sessions: client
                .execute("DELETE FROM sessions WHERE expires_at <= $1", &[&now])
                .await?,
            refresh_tokens: client
                .execute("DELETE FROM refresh_tokens WHERE expires_at <= $1", &[&now])
                .await?
                + client
                    .execute(
                        "DELETE FROM refresh_families f WHERE NOT EXISTS
                           (SELECT 1 FROM refresh_tokens t WHERE t.family = f.family)",
                        &[],
                    )
                    .await?,
            outbox: client
                .execute(
                    "DELETE FROM outbox WHERE sent_at <= $1",
                    &[&(now - outbox_keep_secs)],
                )
                .await?,
            events: client
                .execute(
                    "DELETE FROM events WHERE at <= $1",
                    &[&(now - EVENTS_KEEP_SECS)],
                )
                .await?
                + client
                    .execute(
                        "DELETE FROM blocks WHERE failures = 0 AND blocked_until <= $1",
                        &[&(now - STRIKE_MEMORY_SECS)],
                    )
                    .await?,
        };
        Ok(purged)
    }

    pub(super) async fn row_counts(&self) -> Result<RowCounts> {
        let client = self.shared().await?;
        let r = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM codes),
                   (SELECT COUNT(*) FROM tickets), (SELECT COUNT(*) FROM auth_codes),
                   (SELECT COUNT(*) FROM sessions), (SELECT COUNT(*) FROM refresh_tokens),
                   (SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM events)",
                &[],
            )
            .await?;
        Ok(RowCounts {
            users: r.get(0),
            codes: r.get(1),
            tickets: r.get(2),
            auth_codes: r.get(3),
            sessions: r.get(4),
            refresh_tokens: r.get(5),
            outbox: r.get(6),
            events: r.get(7),
        })
    }
}

/// `limits` as the three arrays `lpw_take` and `lpw_admit` take: keys, maxima, windows.
fn limit_columns(limits: &[Limit]) -> (Vec<&str>, Vec<i64>, Vec<i64>) {
    (
        limits.iter().map(|l| l.key.as_str()).collect(),
        limits.iter().map(|l| l.max).collect(),
        limits.iter().map(|l| l.window).collect(),
    )
}

/// What `lpw_take` answers: 0 (taken), the seconds until the tightest limit frees up, or minus
/// the seconds a block lasts.
fn refusal(answer: i64) -> std::result::Result<(), Refusal> {
    match answer {
        0 => Ok(()),
        wait if wait < 0 => Err(Refusal::Blocked(-wait)),
        wait => Err(Refusal::Limited(wait)),
    }
}

/// HMAC's inner and outer key blocks for a key of at most 64 bytes (RFC 2104): the key padded
/// with zeros to SHA-256's block, XORed with 0x36 and with 0x5c.
fn hmac_pads(key: &[u8]) -> [Vec<u8>; 2] {
    assert!(key.len() <= 64, "a candidate is one SHA-256 output");
    [0x36u8, 0x5c].map(|pad| {
        let mut block = vec![pad; 64];
        block.iter_mut().zip(key).for_each(|(b, k)| *b ^= k);
        block
    })
}

/// The number in an `lpw_admit` row.
fn number_from(row: &tokio_postgres::Row) -> Number {
    Number {
        registered: row.get(1),
        login_ip: row.get(2),
    }
}

fn user_from_row(r: &tokio_postgres::Row) -> User {
    User {
        id: r.get(0),
        phone: r.get(1),
        created_at: r.get(2),
        updated_at: r.get(3),
    }
}

const MIGRATIONS: &[&str] = &["
CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE users (
  id TEXT PRIMARY KEY, phone TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE TABLE codes (
  phone TEXT PRIMARY KEY, client_id TEXT NOT NULL, flow_id TEXT NOT NULL, mac BYTEA NOT NULL,
  expires_at BIGINT NOT NULL, attempts BIGINT NOT NULL, used BOOLEAN NOT NULL);
CREATE TABLE tickets (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL, used BOOLEAN NOT NULL);
CREATE TABLE events (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX events_key_at ON events (key, at);
CREATE INDEX events_at ON events (at);
CREATE TABLE blocks (
  key TEXT PRIMARY KEY, failures BIGINT NOT NULL, blocked_until BIGINT NOT NULL);
CREATE TABLE sessions (
  id_hash BYTEA PRIMARY KEY, user_id TEXT NOT NULL, expires_at BIGINT NOT NULL);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE TABLE auth_codes (
  code_hash BYTEA PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, scope TEXT NOT NULL,
  audience TEXT, nonce TEXT, redirect_uri TEXT, challenge TEXT, expires_at BIGINT NOT NULL,
  used BOOLEAN NOT NULL);
CREATE TABLE refresh_families (family TEXT PRIMARY KEY, revoked BOOLEAN NOT NULL);
CREATE TABLE refresh_tokens (
  token_hash BYTEA PRIMARY KEY, family TEXT NOT NULL, client_id TEXT NOT NULL,
  user_id TEXT NOT NULL, scope TEXT NOT NULL, audience TEXT, expires_at BIGINT NOT NULL,
  used BOOLEAN NOT NULL);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE TABLE outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, to_number TEXT NOT NULL, body TEXT NOT NULL,
  code TEXT NOT NULL, sent_at BIGINT NOT NULL);
CREATE INDEX outbox_to ON outbox (to_number, id);
CREATE INDEX outbox_sent ON outbox (sent_at);
",
    // Store::take in one statement. Each key's transaction-scoped advisory lock is taken in
    // sorted order (two takes sharing keys cannot deadlock) and held until the statement's
    // transaction ends, so the count and the insert cannot interleave with another take's.
    // Answers 0 (taken), the seconds until the tightest limit frees up, or minus the seconds
    // the block key stays blocked.
    "
CREATE FUNCTION lpw_take(block_key TEXT, keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  k TEXT;
  blocked_till BIGINT;
  n BIGINT;
  oldest BIGINT;
  retry BIGINT := 0;
BEGIN
  IF block_key IS NOT NULL THEN
    SELECT blocked_until INTO blocked_till FROM blocks WHERE key = block_key AND blocked_until > now;
    IF FOUND THEN
      RETURN now - blocked_till;
    END IF;
  END IF;
  FOR k IN SELECT DISTINCT u FROM unnest(keys) AS u ORDER BY u LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0));
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    SELECT COUNT(*), MIN(at) INTO n, oldest FROM events WHERE key = keys[i] AND at > now - windows[i];
    IF n >= maxes[i] THEN
      retry := greatest(retry, coalesce(oldest, now) + windows[i] - now, 1);
    END IF;
  END LOOP;
  IF retry > 0 THEN
    RETURN retry;
  END IF;
  INSERT INTO events (key, at) SELECT u, now FROM unnest(keys) AS u;
  RETURN 0;
END
$$;
",
    // Blocks grow with repeats (strikes); a number's last login address is exempt from its
    // number-wide block; logins keep their time; `lpw_take` checks several block keys (the
    // longest wait wins).
    "
ALTER TABLE blocks ADD COLUMN strikes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_ip TEXT;
-- A login ticket is redeemed only with the cookie /co/authenticate set in the same browser.
ALTER TABLE tickets ADD COLUMN binding BYTEA;
-- When the user logged in: the ID token's auth_time, max_age, the refresh tokens' absolute
-- lifetime. Rows from before count from the migration.
ALTER TABLE sessions ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE auth_codes ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refresh_families ADD COLUMN auth_time BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET auth_time = extract(epoch FROM now())::BIGINT;
UPDATE auth_codes SET auth_time = extract(epoch FROM now())::BIGINT;
UPDATE refresh_families SET auth_time = extract(epoch FROM now())::BIGINT;
DROP FUNCTION lpw_take(TEXT, TEXT[], BIGINT[], BIGINT[], BIGINT);
CREATE FUNCTION lpw_take(block_keys TEXT[], keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  k TEXT;
  blocked_till BIGINT;
  n BIGINT;
  oldest BIGINT;
  retry BIGINT := 0;
BEGIN
  SELECT max(blocked_until) INTO blocked_till FROM blocks
    WHERE key = ANY(block_keys) AND blocked_until > now;
  IF blocked_till IS NOT NULL THEN
    RETURN now - blocked_till;
  END IF;
  FOR k IN SELECT DISTINCT u FROM unnest(keys) AS u ORDER BY u LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended(k, 0));
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(keys, 1), 0) LOOP
    SELECT COUNT(*), MIN(at) INTO n, oldest FROM events WHERE key = keys[i] AND at > now - windows[i];
    IF n >= maxes[i] THEN
      retry := greatest(retry, coalesce(oldest, now) + windows[i] - now, 1);
    END IF;
  END LOOP;
  IF retry > 0 THEN
    RETURN retry;
  END IF;
  INSERT INTO events (key, at) SELECT u, now FROM unnest(keys) AS u;
  RETURN 0;
END
$$;
",
    // The same decisions in four statements instead of one per key and step (each statement
    // in a function pays for its plan's start-up, which was most of PostgreSQL's CPU per
    // login): the locks in one query (taken in sorted order, as the subquery yields them), the
    // counts in one. Events lose their identity column, an index every limit's insert had to
    // write: a refund deletes one of its key's rows by its physical address instead.
    "
CREATE OR REPLACE FUNCTION lpw_take(block_keys TEXT[], keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT)
RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
  blocked_till BIGINT;
  retry BIGINT;
BEGIN
  SELECT max(blocked_until) INTO blocked_till FROM blocks
    WHERE key = ANY(block_keys) AND blocked_until > now;
  IF blocked_till IS NOT NULL THEN
    RETURN now - blocked_till;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended(k, 0))
    FROM (SELECT DISTINCT u AS k FROM unnest(keys) AS u ORDER BY u) AS sorted;
  SELECT max(greatest(coalesce(c.oldest, now) + l.win - now, 1)) INTO retry
    FROM unnest(keys, maxes, windows) AS l(key, lim, win)
    CROSS JOIN LATERAL (SELECT COUNT(*) AS n, MIN(at) AS oldest FROM events
                        WHERE key = l.key AND at > now - l.win) AS c
    WHERE c.n >= l.lim;
  IF retry IS NOT NULL THEN
    RETURN retry;
  END IF;
  INSERT INTO events (key, at) SELECT u, now FROM unnest(keys) AS u;
  RETURN 0;
END
$$;
ALTER TABLE events DROP COLUMN id;
-- Store::admit and Store::admit_attempt: the number's user and the take under its blocks, and
-- (with p_max_attempts) the try counted against the live code, in one round trip. The blocks
-- are the pair's, and the number's unless the address is where it last logged in from
-- (store::Asking::blocking decides the same for SQLite).
CREATE FUNCTION lpw_admit(p_phone TEXT, p_ip TEXT, pair_key TEXT, phone_key TEXT,
                          keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT,
                          p_max_attempts BIGINT)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT,
               code_flow TEXT, code_mac BYTEA, code_client TEXT, exhausted BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
  block_keys TEXT[] := '{}';
BEGIN
  registered := false;
  exhausted := false;
  IF p_phone IS NOT NULL THEN
    SELECT true, u.last_ip INTO registered, login_ip FROM users u WHERE u.phone = p_phone;
    registered := coalesce(registered, false);
    block_keys := ARRAY[pair_key];
    IF login_ip IS DISTINCT FROM p_ip THEN
      block_keys := block_keys || phone_key;
    END IF;
  END IF;
  wait := lpw_take(block_keys, keys, maxes, windows, now);
  IF wait = 0 AND p_max_attempts IS NOT NULL THEN
    UPDATE codes c SET attempts = c.attempts + 1
      WHERE c.phone = p_phone AND NOT c.used AND c.expires_at > now
        AND c.attempts < p_max_attempts
      RETURNING c.flow_id, c.mac, c.client_id INTO code_flow, code_mac, code_client;
    IF NOT FOUND THEN
      exhausted := EXISTS (SELECT 1 FROM codes c WHERE c.phone = p_phone AND NOT c.used
                             AND c.expires_at > now AND c.attempts >= p_max_attempts);
    END IF;
  END IF;
  RETURN NEXT;
END
$$;
",
    // `lpw_admit` in two statements, not seven and a nested call (a statement's executor
    // start-up was still the largest part of PostgreSQL's CPU per login): the limits' locks,
    // the number's user and its blocks in one; after the locks, in a new snapshot, the counts,
    // the events and the code's try in the other. The number's blocks are read as before, not
    // under the limits' locks (failures are recorded without them); a blocked take leaves no
    // event and tries no code. `lpw_take` stays for `Store::take`.
    "
CREATE OR REPLACE FUNCTION lpw_admit(p_phone TEXT, p_ip TEXT, pair_key TEXT, phone_key TEXT,
                                     keys TEXT[], maxes BIGINT[], windows BIGINT[], now BIGINT,
                                     p_max_attempts BIGINT)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT,
               code_flow TEXT, code_mac BYTEA, code_client TEXT, exhausted BOOLEAN)
LANGUAGE plpgsql AS $$
DECLARE
  blocked_till BIGINT;
BEGIN
  exhausted := false;
  WITH locked AS MATERIALIZED (
    SELECT count(*) AS n FROM (
      SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) AS l
        FROM (SELECT DISTINCT u AS k FROM unnest(keys) AS u ORDER BY u) AS sorted) AS taken)
  SELECT u.phone IS NOT NULL, u.last_ip,
         (SELECT max(b.blocked_until) FROM blocks b
           WHERE b.blocked_until > now
             AND (b.key = pair_key
                  OR (b.key = phone_key AND u.last_ip IS DISTINCT FROM p_ip)))
    INTO registered, login_ip, blocked_till
    FROM locked LEFT JOIN users u ON u.phone = p_phone;
  IF blocked_till IS NOT NULL THEN
    wait := now - blocked_till;
    RETURN NEXT;
    RETURN;
  END IF;
  WITH limited AS (
    SELECT max(greatest(coalesce(c.oldest, now) + l.win - now, 1)) AS retry
      FROM unnest(keys, maxes, windows) AS l(key, lim, win)
      CROSS JOIN LATERAL (SELECT COUNT(*) AS n, MIN(e.at) AS oldest FROM events e
                          WHERE e.key = l.key AND e.at > now - l.win) AS c
      WHERE c.n >= l.lim),
  counted AS (
    INSERT INTO events (key, at)
      SELECT u, now FROM unnest(keys) AS u WHERE (SELECT retry FROM limited) IS NULL),
  tried AS (
    UPDATE codes c SET attempts = c.attempts + 1
      WHERE p_max_attempts IS NOT NULL AND (SELECT retry FROM limited) IS NULL
        AND c.phone = p_phone AND NOT c.used AND c.expires_at > now
        AND c.attempts < p_max_attempts
      RETURNING c.flow_id, c.mac, c.client_id)
  SELECT coalesce(o.retry, 0), t.flow_id, t.mac, t.client_id
    INTO wait, code_flow, code_mac, code_client
    FROM limited o LEFT JOIN tried t ON true;
  IF wait = 0 AND p_max_attempts IS NOT NULL AND code_flow IS NULL THEN
    exhausted := EXISTS (SELECT 1 FROM codes c WHERE c.phone = p_phone AND NOT c.used
                           AND c.expires_at > now AND c.attempts >= p_max_attempts);
  END IF;
  RETURN NEXT;
END
$$;
",
    // A code's try, comparison and finish in one round trip (`Store::try_code`): the tenant
    // brings the HMAC pads of the code tried's candidate key, with which the stored flow is
    // sealed here as `store::seal_code` seals it, and `CodeTry::may_log_in`'s condition; a match
    // is consumed under the try's row lock, with the login `lpw_finish` does (also
    // `Store::finish_verification`'s one statement). A MAC stored before sealing (32 bytes) comes
    // back to the tenant to compare, as `lpw_admit` returns it. `lpw_admit` stays, for
    // `Store::admit` and for instances of the previous version.
    "
CREATE FUNCTION lpw_finish(p_phone TEXT, p_flow TEXT, p_refund TEXT, p_pair_key TEXT,
                           p_phone_key TEXT, p_ip TEXT, p_now BIGINT, p_new_id TEXT,
                           p_ticket TEXT, p_ticket_client TEXT, p_ticket_expires BIGINT,
                           p_ticket_binding BYTEA)
RETURNS TABLE (u_id TEXT, u_phone TEXT, u_created BIGINT, u_updated BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY
  WITH consumed AS (
    UPDATE codes c SET used = true WHERE c.phone = p_phone AND c.flow_id = p_flow AND NOT c.used
    RETURNING c.phone),
  refunded AS (
    DELETE FROM events WHERE ctid =
      (SELECT e.ctid FROM events e WHERE e.key = p_refund AND e.at = p_now LIMIT 1)
    AND EXISTS (SELECT 1 FROM consumed)),
  cleared AS (
    UPDATE blocks b SET failures = 0,
      strikes = CASE WHEN b.key = p_pair_key THEN 0 ELSE b.strikes END
    WHERE b.key IN (p_pair_key, p_phone_key) AND EXISTS (SELECT 1 FROM consumed)),
  login AS (
    INSERT INTO users AS u (id, phone, created_at, updated_at, last_ip)
      SELECT p_new_id, k.phone, p_now, p_now, p_ip FROM consumed k
    ON CONFLICT (phone) DO UPDATE SET updated_at = p_now, last_ip = p_ip
    RETURNING u.id, u.phone, u.created_at, u.updated_at),
  ticket AS (
    INSERT INTO tickets (id, client_id, user_id, expires_at, used, binding)
      SELECT p_ticket, p_ticket_client, l.id, p_ticket_expires, false, p_ticket_binding
      FROM login l WHERE p_ticket IS NOT NULL)
  SELECT l.id, l.phone, l.created_at, l.updated_at FROM login l;
END
$$;
CREATE FUNCTION lpw_try_code(p_phone TEXT, p_ip TEXT, p_pair_key TEXT, p_phone_key TEXT,
                             keys TEXT[], maxes BIGINT[], windows BIGINT[], p_now BIGINT,
                             p_max_attempts BIGINT, p_ipad BYTEA, p_opad BYTEA, p_client TEXT,
                             p_sign_ups BOOLEAN, p_refund TEXT, p_new_id TEXT,
                             p_ticket TEXT, p_ticket_client TEXT, p_ticket_expires BIGINT,
                             p_ticket_binding BYTEA)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT, exhausted BOOLEAN,
               code_flow TEXT, code_mac BYTEA, code_client TEXT,
               u_id TEXT, u_created BIGINT, u_updated BIGINT)
LANGUAGE plpgsql AS $$
BEGIN
  SELECT a.wait, a.registered, a.login_ip, a.exhausted, a.code_flow, a.code_mac, a.code_client
    INTO wait, registered, login_ip, exhausted, code_flow, code_mac, code_client
    FROM lpw_admit(p_phone, p_ip, p_pair_key, p_phone_key, keys, maxes, windows, p_now,
                   p_max_attempts) AS a;
  IF code_flow IS NOT NULL AND length(code_mac) = 33 THEN
    -- HMAC-SHA256(candidate, flow) from the candidate's pads; the two are compared by their
    -- hashes, so how long the comparison takes says nothing of either.
    IF sha256(decode('01', 'hex')
              || sha256(p_opad || sha256(p_ipad || convert_to(code_flow, 'UTF8'))))
         = sha256(code_mac)
       AND code_client = p_client AND (registered OR p_sign_ups) THEN
      SELECT f.u_id, f.u_created, f.u_updated INTO u_id, u_created, u_updated
        FROM lpw_finish(p_phone, code_flow, p_refund, p_pair_key, p_phone_key, p_ip, p_now,
                        p_new_id, p_ticket, p_ticket_client, p_ticket_expires,
                        p_ticket_binding) AS f;
    END IF;
    code_mac := NULL;
  END IF;
  RETURN NEXT;
END
$$;
",
    // Events arrive in time order, so a BRIN index serves the purge's time range, and the
    // limits' inserts no longer keep a B-tree.
    "
DROP INDEX events_at;
CREATE INDEX events_at_brin ON events USING brin (at);
",
    // `lpw_try_code` in two statements instead of two nested functions and four statements
    // (PostgreSQL's CPU per login: a function call and a statement's executor start-up each
    // cost about as much as the work they do): `lpw_admit`'s two, with the code's try,
    // comparison and consumption in one UPDATE and the login `lpw_finish` writes in the same
    // statement. A matching try's event on the refund key is not written rather than written
    // and deleted: both happen under the key's lock, so no other take could see it.
    // `lpw_admit` and `lpw_finish` stay, for `Store::admit`, `Store::finish_verification` and
    // instances of the previous version; the answers are the same.
    "
CREATE OR REPLACE FUNCTION lpw_try_code(p_phone TEXT, p_ip TEXT, p_pair_key TEXT, p_phone_key TEXT,
                             keys TEXT[], maxes BIGINT[], windows BIGINT[], p_now BIGINT,
                             p_max_attempts BIGINT, p_ipad BYTEA, p_opad BYTEA, p_client TEXT,
                             p_sign_ups BOOLEAN, p_refund TEXT, p_new_id TEXT,
                             p_ticket TEXT, p_ticket_client TEXT, p_ticket_expires BIGINT,
                             p_ticket_binding BYTEA)
RETURNS TABLE (wait BIGINT, registered BOOLEAN, login_ip TEXT, exhausted BOOLEAN,
               code_flow TEXT, code_mac BYTEA, code_client TEXT,
               u_id TEXT, u_created BIGINT, u_updated BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
  blocked_till BIGINT;
BEGIN
  exhausted := false;
  WITH locked AS MATERIALIZED (
    SELECT count(*) AS n FROM (
      SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) AS l
        FROM (SELECT DISTINCT u AS k FROM unnest(keys) AS u ORDER BY u) AS sorted) AS taken)
  SELECT u.phone IS NOT NULL, u.last_ip,
         (SELECT max(b.blocked_until) FROM blocks b
           WHERE b.blocked_until > p_now
             AND (b.key = p_pair_key
                  OR (b.key = p_phone_key AND u.last_ip IS DISTINCT FROM p_ip)))
    INTO registered, login_ip, blocked_till
    FROM locked LEFT JOIN users u ON u.phone = p_phone;
  IF blocked_till IS NOT NULL THEN
    wait := p_now - blocked_till;
    RETURN NEXT;
    RETURN;
  END IF;
  WITH limited AS (
    SELECT max(greatest(coalesce(c.oldest, p_now) + l.win - p_now, 1)) AS retry
      FROM unnest(keys, maxes, windows) AS l(key, lim, win)
      CROSS JOIN LATERAL (SELECT COUNT(*) AS n, MIN(e.at) AS oldest FROM events e
                          WHERE e.key = l.key AND e.at > p_now - l.win) AS c
      WHERE c.n >= l.lim),
  tried AS (
    UPDATE codes c SET attempts = c.attempts + 1,
      used = coalesce(length(c.mac) = 33
                      AND sha256(decode('01', 'hex')
                                 || sha256(p_opad || sha256(p_ipad || convert_to(c.flow_id, 'UTF8'))))
                          = sha256(c.mac)
                      AND c.client_id = p_client AND (registered OR p_sign_ups), false)
      WHERE p_max_attempts IS NOT NULL AND (SELECT retry FROM limited) IS NULL
        AND c.phone = p_phone AND NOT c.used AND c.expires_at > p_now
        AND c.attempts < p_max_attempts
      RETURNING c.flow_id, c.mac, c.client_id, c.used, c.phone),
  counted AS (
    INSERT INTO events (key, at)
      SELECT u, p_now FROM unnest(keys) AS u
      WHERE (SELECT retry FROM limited) IS NULL
        AND NOT (u = p_refund AND EXISTS (SELECT 1 FROM tried WHERE tried.used))),
  cleared AS (
    UPDATE blocks b SET failures = 0,
      strikes = CASE WHEN b.key = p_pair_key THEN 0 ELSE b.strikes END
    WHERE b.key IN (p_pair_key, p_phone_key) AND EXISTS (SELECT 1 FROM tried WHERE tried.used)),
  login AS (
    INSERT INTO users AS u (id, phone, created_at, updated_at, last_ip)
      SELECT p_new_id, k.phone, p_now, p_now, p_ip FROM tried k WHERE k.used
    ON CONFLICT (phone) DO UPDATE SET updated_at = p_now, last_ip = p_ip
    RETURNING u.id, u.created_at, u.updated_at),
  ticket AS (
    INSERT INTO tickets (id, client_id, user_id, expires_at, used, binding)
      SELECT p_ticket, p_ticket_client, l.id, p_ticket_expires, false, p_ticket_binding
      FROM login l WHERE p_ticket IS NOT NULL)
  SELECT coalesce(o.retry, 0), t.flow_id, CASE WHEN length(t.mac) = 33 THEN NULL ELSE t.mac END,
         t.client_id, l.id, l.created_at, l.updated_at
    INTO wait, code_flow, code_mac, code_client, u_id, u_created, u_updated
    FROM limited o LEFT JOIN tried t ON true LEFT JOIN login l ON true;
  IF wait = 0 AND p_max_attempts IS NOT NULL AND code_flow IS NULL THEN
    exhausted := EXISTS (SELECT 1 FROM codes c WHERE c.phone = p_phone AND NOT c.used
                           AND c.expires_at > p_now AND c.attempts >= p_max_attempts);
  END IF;
  RETURN NEXT;
END
$$;
"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// On the server `LPW_TEST_POSTGRES` names (as `cargo xtask test`'s PostgreSQL step sets
    /// it), a new database named `PREFIX_random`: a connection to the server's `postgres`
    /// database, the server's URL and the new name. `None` without a server.
    async fn new_database(prefix: &str) -> Option<(tokio_postgres::Client, String, String)> {
        let server = std::env::var("LPW_TEST_POSTGRES")
            .ok()
            .filter(|s| !s.is_empty())?
            .trim_end_matches('/')
            .to_string();
        let name = format!("{prefix}_{}", crate::keys::random_hex(6));
        let (admin, connection) = tokio_postgres::connect(&format!("{server}/postgres"), NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        Some((admin, server, name))
    }

    /// Drops a database [`new_database`] made, with whatever is still connected to it.
    async fn drop_database(admin: &tokio_postgres::Client, name: &str) {
        admin
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .await
            .unwrap();
    }

    /// The tenant's connections plan each statement once (see `connect`), and options given in
    /// the URL are kept beside that one. Runs against `LPW_TEST_POSTGRES`.
    #[tokio::test]
    async fn connections_use_generic_plans_and_keep_the_urls_options() {
        let Some((admin, server, name)) = new_database("lpw_options").await else {
            return;
        };
        let url = format!("{server}/{name}?options=-c%20statement_timeout%3D4321");
        let store = PostgresStore::connect(&url).await.unwrap();
        let client = store.shared().await.unwrap();
        let show = |setting: &'static str| {
            let client = &client;
            async move {
                client
                    .query_one(&format!("SHOW {setting}"), &[])
                    .await
                    .unwrap()
                    .get::<_, String>(0)
            }
        };
        assert_eq!(show("plan_cache_mode").await, "force_generic_plan");
        assert_eq!(show("statement_timeout").await, "4321ms");
        drop(client);
        drop(store);
        drop_database(&admin, &name).await;
    }

    /// A connection to a database that stops acknowledging fails within seconds, not the
    /// kernel's quarter of an hour (see `dead_peer_limits`), and limits the URL gives win.
    #[test]
    fn connections_give_up_on_a_dead_peer_within_seconds() {
        let config = client_config("postgres://u@db.example:5432/lpw").unwrap();
        assert_eq!(config.get_tcp_user_timeout(), Some(&DEAD_PEER_AFTER));
        assert!(config.get_keepalives());
        assert_eq!(config.get_keepalives_idle(), KEEPALIVE_IDLE);
        assert_eq!(config.get_keepalives_interval(), Some(KEEPALIVE_INTERVAL));
        assert_eq!(config.get_keepalives_retries(), Some(KEEPALIVE_RETRIES));
        assert!(DEAD_PEER_AFTER <= Duration::from_secs(30));

        let given = client_config(
            "postgres://u@db.example/lpw?tcp_user_timeout=60&keepalives_idle=120\
             &keepalives_interval=20&keepalives_retries=9&keepalives=0",
        )
        .unwrap();
        assert_eq!(given.get_tcp_user_timeout(), Some(&Duration::from_secs(60)));
        assert!(!given.get_keepalives());
        assert_eq!(given.get_keepalives_idle(), Duration::from_secs(120));
        assert_eq!(
            given.get_keepalives_interval(),
            Some(Duration::from_secs(20))
        );
        assert_eq!(given.get_keepalives_retries(), Some(9));
        // The plan setting joins the URL's options; it does not replace them.
        let options =
            client_config("postgres://u@db.example/lpw?options=-c%20statement_timeout%3D5000")
                .unwrap()
                .get_options()
                .map(str::to_string);
        assert_eq!(
            options.as_deref(),
            Some("-c statement_timeout=5000 -c plan_cache_mode=force_generic_plan")
        );
    }

    /// An instance keeps at most the connections it is given, however many requests wait,
    /// and by default one per core. Runs against `LPW_TEST_POSTGRES`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn connections_are_as_many_as_asked() {
        let Some((admin, server, name)) = new_database("lpw_connections").await else {
            return;
        };
        let url = format!("{server}/{name}");
        let open_on_server = || async {
            let n: i64 = admin
                .query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = $1",
                    &[&name],
                )
                .await
                .unwrap()
                .get(0);
            n as usize
        };
        for (asked, expected) in [(Some(3), 3), (None, default_connections())] {
            let store = Arc::new(match asked {
                Some(n) => PostgresStore::connect_with(&url, n).await.unwrap(),
                None => PostgresStore::connect(&url).await.unwrap(),
            });
            // Forty lookups at once, each a moment long: every lane opens its connection, none more.
            let lookups: Vec<_> = (0..40)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store.opt_row("SELECT pg_sleep(0.02)", &[]).await.unwrap();
                    })
                })
                .collect();
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let busy = open_on_server().await;
            for l in lookups {
                l.await.unwrap();
            }
            assert_eq!(
                busy, expected,
                "connections open while forty wait ({asked:?} asked)"
            );
            assert_eq!(store.connections(), expected);
            drop(store);
            for _ in 0..100 {
                if open_on_server().await == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
        drop_database(&admin, &name).await;
    }

    /// A transaction has its lane to itself, and single statements meanwhile take the other
    /// lanes rather than wait for it: with two connections, forty lookups finish while a
    /// transaction holds one; with one, a lookup waits until the transaction ends. Runs against
    /// `LPW_TEST_POSTGRES`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn statements_pass_a_transaction_on_another_lane() {
        let Some((admin, server, name)) = new_database("lpw_lanes").await else {
            return;
        };
        let url = format!("{server}/{name}");
        let two = Arc::new(PostgresStore::connect_with(&url, 2).await.unwrap());
        two.warm_up().await.unwrap();
        let mut held = two.exclusive().await.unwrap();
        let tx = held.transaction().await.unwrap();
        tx.execute("SELECT 1", &[]).await.unwrap();
        let lookups: Vec<_> = (0..40)
            .map(|_| {
                let store = two.clone();
                tokio::spawn(async move { store.opt_row("SELECT 1", &[]).await.unwrap() })
            })
            .collect();
        for l in lookups {
            tokio::time::timeout(std::time::Duration::from_secs(10), l)
                .await
                .expect("a lookup waited for the transaction on the other lane")
                .unwrap();
        }
        tx.commit().await.unwrap();
        drop(held);

        let one = Arc::new(PostgresStore::connect_with(&url, 1).await.unwrap());
        let held = one.exclusive().await.unwrap();
        let lookup = {
            let store = one.clone();
            tokio::spawn(async move { store.opt_row("SELECT 1", &[]).await.unwrap() })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !lookup.is_finished(),
            "a lookup shared a lane held by a transaction"
        );
        drop(held);
        tokio::time::timeout(std::time::Duration::from_secs(10), lookup)
            .await
            .expect("the lookup ran once the transaction ended")
            .unwrap();
        drop((two, one));
        drop_database(&admin, &name).await;
    }

    /// A lane whose connection the server closed gets a new one: after the backends are
    /// terminated, a statement runs again on a new backend. Runs against `LPW_TEST_POSTGRES`.
    #[tokio::test]
    async fn a_lane_whose_connection_closed_reconnects() {
        let Some((admin, server, name)) = new_database("lpw_reconnect").await else {
            return;
        };
        let store = PostgresStore::connect_with(&format!("{server}/{name}"), 1)
            .await
            .unwrap();
        let backend = || async {
            store
                .opt_row("SELECT pg_backend_pid()", &[])
                .await
                .map(|r| r.map(|r| r.get::<_, i32>(0)))
        };
        let before = backend().await.unwrap();
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                &[&name],
            )
            .await
            .unwrap();
        // A statement already on its way when the server hung up may fail; the next ones find
        // the lane's connection closed and open another.
        let mut after = None;
        for _ in 0..50 {
            if let Ok(pid) = backend().await {
                after = pid;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            after.is_some(),
            "no statement ran after the backend was terminated"
        );
        assert_ne!(after, before, "the same backend answered");
        drop(store);
        drop_database(&admin, &name).await;
    }

    /// The purge keeps no row locked beyond its own table's delete: while it waits for a lock
    /// on `events`, a new code for a number whose expired code it already deleted is stored at
    /// once. Runs against `LPW_TEST_POSTGRES`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_purge_holds_no_row_past_its_own_delete() {
        let Some((admin, server, name)) = new_database("lpw_purge_locks").await else {
            return;
        };
        let url = format!("{server}/{name}");
        let store = Arc::new(PostgresStore::connect_with(&url, 2).await.unwrap());
        let now = 1_800_000_000;
        store
            .put_code("+31612345678", "app", "flow-1", &[1; 33], now - 10)
            .await
            .unwrap();
        let (mut locker, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
        tokio::spawn(connection);
        let lock = locker.transaction().await.unwrap();
        lock.batch_execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
        let purge = {
            let store = store.clone();
            tokio::spawn(async move { store.purge(now, 0).await.unwrap() })
        };
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!purge.is_finished(), "the purge did not wait for events");
        tokio::time::timeout(
            std::time::Duration::from_secs(5),
            store.put_code("+31612345678", "app", "flow-2", &[2; 33], now + 300),
        )
        .await
        .expect("a new code waited for the purge of other tables")
        .unwrap();
        lock.commit().await.unwrap();
        let purged = purge.await.unwrap();
        assert_eq!(purged.codes, 1);
        drop((store, locker));
        drop_database(&admin, &name).await;
    }

    /// Warming up opens every connection the store may keep and writes nothing. Runs against
    /// `LPW_TEST_POSTGRES`.
    #[tokio::test]
    async fn warming_up_opens_every_connection_and_writes_nothing() {
        let Some((admin, server, name)) = new_database("lpw_warm").await else {
            return;
        };
        let store = PostgresStore::connect_with(&format!("{server}/{name}"), 3)
            .await
            .unwrap();
        assert_eq!(
            store.pool.status().size,
            1,
            "connecting opens one (migrations)"
        );
        store.warm_up().await.unwrap();
        assert_eq!(store.pool.status().size, 3);
        assert_eq!(
            store.row_counts().await.unwrap(),
            RowCounts::default(),
            "nothing written"
        );
        drop(store);
        drop_database(&admin, &name).await;
    }

    /// A database at schema version 2 (what session 5's tenant made) with a user, a live
    /// session and a revoked refresh family migrates to the newest version and keeps its state.
    /// Runs against `LPW_TEST_POSTGRES` (as `cargo xtask test`'s PostgreSQL step sets it).
    #[tokio::test]
    async fn a_version_2_database_migrates_and_keeps_its_state() {
        let Some((_admin, server, name)) = new_database("lpw_migration").await else {
            return;
        };
        let url = format!("{server}/{name}");
        {
            let (old, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
            tokio::spawn(connection);
            old.batch_execute(
                "CREATE TABLE schema_migrations (
                   version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .await
            .unwrap();
            for (i, step) in MIGRATIONS[..2].iter().enumerate() {
                old.batch_execute(step).await.unwrap();
                old.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[&(i as i64 + 1)],
                )
                .await
                .unwrap();
            }
            old.batch_execute(
                "INSERT INTO users VALUES ('u1', '+12015550123', 1, 2);
                 INSERT INTO sessions VALUES ('\\x01', 'u1', 9999999999);
                 INSERT INTO refresh_families VALUES ('fam-revoked', true);
                 INSERT INTO refresh_tokens VALUES ('\\x02', 'fam-revoked', 'app', 'u1', 'openid',
                   NULL, 9999999999, false);
                 INSERT INTO blocks VALUES ('fail-phone:+12015550123', 3, 0);",
            )
            .await
            .unwrap();
        }
        let store = PostgresStore::connect(&url).await.unwrap();
        let (user, auth_time) = store.session_user(&[1], 100).await.unwrap().unwrap();
        assert_eq!(user.phone, "+12015550123");
        assert!(
            auth_time > 1_700_000_000,
            "counted from the migration: {auth_time}"
        );
        assert!(matches!(
            store.use_refresh(&[2], "app", 100).await.unwrap(),
            RefreshOutcome::Invalid
        ));
        assert_eq!(
            store.number("+12015550123").await.unwrap(),
            Number {
                registered: true,
                login_ip: None
            }
        );
        // The old failure row takes strikes; a new ticket needs its binding.
        let l = Lockout {
            threshold: 4,
            base_secs: 900,
            max_secs: 86_400,
        };
        store
            .record_failure("fail-phone:+12015550123", l, 100)
            .await
            .unwrap();
        assert!(matches!(
            store
                .take(&["fail-phone:+12015550123"], &[], 100)
                .await
                .unwrap(),
            Err(Refusal::Blocked(900))
        ));
        store
            .put_code("+12015550123", "app", "flow", b"mac", 200)
            .await
            .unwrap();
        let ticket = NewTicket {
            id: "t".into(),
            client_id: "app".into(),
            expires_at: 200,
            binding: b"bound".to_vec(),
        };
        let user = store
            .finish_verification(
                &Asking::new("+12015550123", "192.0.2.1"),
                "flow",
                "fail-ip:192.0.2.1",
                100,
                "not-used",
                Some(&ticket),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.id, "u1", "the existing user, not a new one");
        assert!(store
            .redeem_ticket("t", "app", b"other", 100, &[3], 300)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .redeem_ticket("t", "app", b"bound", 100, &[3], 300)
            .await
            .unwrap()
            .is_some());
        drop(store);
        // A second start finds nothing to do.
        let again = PostgresStore::connect(&url).await.unwrap();
        let versions: i64 = again
            .shared()
            .await
            .unwrap()
            .query_one("SELECT MAX(version) FROM schema_migrations", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(versions as usize, MIGRATIONS.len());
    }
}
