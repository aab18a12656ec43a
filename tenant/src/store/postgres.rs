//! The shared backend: PostgreSQL through `tokio-postgres` and a `deadpool` pool, for several
//! tenant instances behind a load balancer.
//!
//! Single-use and counting decisions are one conditional statement (`UPDATE … WHERE used = false
//! … RETURNING`: PostgreSQL re-checks the condition on the locked row, so exactly one of any
//! number of concurrent callers wins). Check-then-record limits run in a transaction holding a
//! transaction-scoped advisory lock per key, taken in sorted order; refresh-token rotation and
//! reuse detection lock the family's row.

use std::time::Duration;

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::{RwLock, RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard};
use tokio_postgres::NoTls;

use super::{
    Asking, CodeTry, CodeUnavailable, Grant, Limit, Lockout, NewTicket, Number, OutboxMessage,
    Purged, RefreshOutcome, Refusal, Result, RowCounts, StoreError, StoredCode, Tried, User,
    EVENTS_KEEP_SECS, STRIKE_MEMORY_SECS,
};

mod migrations;
use migrations::MIGRATIONS;

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
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
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
            closed => {
                // Given back first: it holds one of the pool's slots, and with every lane
                // open the pool would have none to give until its `wait_timeout`.
                drop(closed);
                self.pool.get().await.map_err(pool_error)?
            }
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

#[cfg(test)]
mod tests;
