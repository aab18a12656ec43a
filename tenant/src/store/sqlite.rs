//! The embedded backend: one SQLite file in WAL mode. Its connection lives on a thread of its
//! own that runs the calls in order, so no database call ever blocks the async runtime and no
//! two threads ever contend for the connection (one thread, one queue: cheaper than a mutex
//! that a dozen blocking-pool threads wait on). Statements are prepared once and cached.
//!
//! Each operation is one statement, or one `BEGIN IMMEDIATE` transaction: SQLite's write lock is
//! taken at its start and held to the commit, across connections and processes alike, so two
//! tenant instances on one file cannot interleave a check with its act.

use std::path::Path;
use std::sync::mpsc;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use super::{
    is_sealed, sealed_code_matches, Asking, CodeTry, CodeUnavailable, Grant, Limit, Lockout,
    NewTicket, Number, OutboxMessage, Purged, RefreshOutcome, Refusal, Result, RowCounts,
    StoreError, StoredCode, Tried, User, EVENTS_KEEP_SECS, STRIKE_MEMORY_SECS,
};

/// A call for the connection's thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// A SQLite database.
pub struct SqliteStore {
    /// The queue of the thread that owns the connection; it ends when this is dropped.
    jobs: mpsc::Sender<Job>,
    /// Held only to be dropped: the checkpointing thread ends when this goes.
    _checkpoints: mpsc::Sender<()>,
}

/// How often a thread of its own moves the WAL into the database file. Commits then never wait
/// for a checkpoint's writes and `fsync`s (SQLite's default runs one inside the commit that
/// crosses 1,000 WAL pages: about 20 a second at 600 logins/s, the one SQLite thread, and so
/// every request, waiting on the disk; a third of the bench's CPU sat idle). Measured with
/// `tenant-bench`, five runs each alternating: 570–623 logins/s and p99 per login 53–128 ms before,
/// 684–752 and 39–52 ms checkpointing every 50 ms (every 200 ms: as many logins/s, but p99 50–96
/// ms, the larger checkpoints' `fsync`s holding up the WAL writes behind them).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// WAL pages at which a commit checkpoints after all (SQLite's own way, 64 MiB at 4 KiB pages):
/// a bound on the WAL should the disk fall behind the checkpointing thread.
const WAL_BACKSTOP_PAGES: i64 = 16_384;

impl SqliteStore {
    /// Opens (creating if needed) the file and migrates it.
    pub async fn open(path: &Path) -> Result<Self> {
        let path = path.to_path_buf();
        let path_for_checkpoints = path.clone();
        let mut conn = tokio::task::spawn_blocking(move || -> Result<Connection> {
            if let Some(parent) = path.parent() {
                // A missing folder would otherwise surface as an opaque "unable to open" error.
                let _ = std::fs::create_dir_all(parent);
            }
            // Instances opening one new file together can meet where SQLite refuses at once
            // instead of waiting (switching to WAL needs the file to themselves): try again.
            let started = std::time::Instant::now();
            loop {
                match open_and_migrate(&path) {
                    Err(rusqlite::Error::SqliteFailure(e, _))
                        if e.code == rusqlite::ErrorCode::DatabaseBusy
                            && started.elapsed() < std::time::Duration::from_secs(10) =>
                    {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    Err(e) => return Err(e.into()),
                    Ok(conn) => {
                        restrict_permissions(&path);
                        return Ok(conn);
                    }
                }
            }
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite".into())
            .spawn(move || {
                for job in queue {
                    job(&mut conn);
                }
            })
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let checkpoints = checkpoint_in_background(path_for_checkpoints)?;
        Ok(Self {
            jobs,
            _checkpoints: checkpoints,
        })
    }

    /// Runs `f` with the connection on its thread and waits for the answer.
    async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |conn| {
                // A panic in one call must not take the thread (and every later call) down;
                // each statement and transaction is atomic, so the connection stays usable.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(conn)));
                let _ = answer.send(result);
            }))
            .map_err(|_| StoreError::Task("the SQLite thread has stopped".into()))?;
        match answered.await {
            Ok(Ok(result)) => result.map_err(StoreError::from),
            Ok(Err(_)) => Err(StoreError::Task("a SQLite call panicked".into())),
            Err(_) => Err(StoreError::Task("the SQLite thread has stopped".into())),
        }
    }

    pub(super) async fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let key = key.to_owned();
        self.call(move |c| {
            c.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()
        })
        .await
    }

    pub(super) async fn meta_get_or_insert(&self, key: &str, value: &[u8]) -> Result<Vec<u8>> {
        let (key, value) = (key.to_owned(), value.to_vec());
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = meta.value RETURNING value",
            )?
            .query_row(params![key, value], |r| r.get(0))
        })
        .await
    }

    pub(super) async fn meta_promote(
        &self,
        previous: &str,
        current: &str,
        next: &str,
        also_delete: &str,
    ) -> Result<bool> {
        let [previous, current, next, also_delete] =
            [previous, current, next, also_delete].map(str::to_owned);
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let get = |k: &str| -> rusqlite::Result<Option<Vec<u8>>> {
                tx.prepare_cached("SELECT value FROM meta WHERE key = ?1")?
                    .query_row([k], |r| r.get(0))
                    .optional()
            };
            let (Some(old), Some(new)) = (get(&current)?, get(&next)?) else {
                return Ok(false);
            };
            let put = |k: &str, v: &[u8]| -> rusqlite::Result<()> {
                tx.prepare_cached(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                )?
                .execute(params![k, v])
                .map(drop)
            };
            put(&previous, &old)?;
            put(&current, &new)?;
            for k in [&next, &also_delete] {
                tx.prepare_cached("DELETE FROM meta WHERE key = ?1")?
                    .execute([k])?;
            }
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    pub(super) async fn put_code(
        &self,
        phone: &str,
        client_id: &str,
        flow_id: &str,
        mac: &[u8],
        expires_at: i64,
    ) -> Result<()> {
        let (phone, client_id, flow_id, mac) = (
            phone.to_owned(),
            client_id.to_owned(),
            flow_id.to_owned(),
            mac.to_vec(),
        );
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO codes (phone, client_id, flow_id, mac, expires_at, attempts, used)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)
                 ON CONFLICT(phone) DO UPDATE SET client_id = ?2, flow_id = ?3, mac = ?4,
                   expires_at = ?5, attempts = 0, used = 0",
            )?
            .execute(params![phone, client_id, flow_id, mac, expires_at])
            .map(drop)
        })
        .await
    }

    pub(super) async fn begin_code_attempt(
        &self,
        phone: &str,
        now: i64,
        max_attempts: i64,
    ) -> Result<Result<StoredCode, CodeUnavailable>> {
        let phone = phone.to_owned();
        self.call(move |c| attempt_in(c, &phone, now, max_attempts))
            .await
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
        let asking = asking.clone();
        let [flow_id, refund_key, new_id] = [flow_id, refund_key, new_id].map(str::to_owned);
        let ticket = ticket.cloned();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let user = finish_in(
                &tx,
                &asking,
                &flow_id,
                &refund_key,
                now,
                &new_id,
                ticket.as_ref(),
            )?;
            tx.commit()?;
            Ok(user)
        })
        .await
    }

    pub(super) async fn user(&self, id: &str) -> Result<Option<User>> {
        let id = id.to_owned();
        self.call(move |c| {
            c.prepare_cached("SELECT id, phone, created_at, updated_at FROM users WHERE id = ?1")?
                .query_row([id], user_from_row)
                .optional()
        })
        .await
    }

    pub(super) async fn number(&self, phone: &str) -> Result<Number> {
        let phone = phone.to_owned();
        self.call(move |c| number_in(c, &phone)).await
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
        let (id, client_id, session_hash) =
            (id.to_owned(), client_id.to_owned(), session_hash.to_vec());
        let binding = binding.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let Some(user_id): Option<String> = tx
                .prepare_cached(
                    "UPDATE tickets SET used = 1
                     WHERE id = ?1 AND client_id = ?2 AND used = 0 AND expires_at > ?3
                       AND binding = ?4
                     RETURNING user_id",
                )?
                .query_row(params![id, client_id, now, binding], |r| r.get(0))
                .optional()?
            else {
                return Ok(None);
            };
            tx.prepare_cached(
                "INSERT INTO sessions (id_hash, user_id, expires_at, auth_time)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![session_hash, user_id, session_expires_at, now])?;
            let user = tx
                .prepare_cached(
                    "SELECT id, phone, created_at, updated_at FROM users WHERE id = ?1",
                )?
                .query_row([&user_id], user_from_row)
                .optional()?;
            tx.commit()?;
            Ok(Some(user))
        })
        .await
    }

    pub(super) async fn push_outbox(&self, m: &OutboxMessage) -> Result<()> {
        let m = m.clone();
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO outbox (to_number, body, code, sent_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![m.to, m.body, m.code, m.sent_at])
            .map(drop)
        })
        .await
    }

    pub(super) async fn outbox(
        &self,
        to: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        let to = to.map(str::to_owned);
        self.call(move |c| {
            // Two statements, so a recipient's messages come by the (to_number, id) index
            // rather than a scan of the whole outbox.
            let mut stmt = c.prepare_cached(if to.is_some() {
                "SELECT to_number, body, code, sent_at FROM outbox
                 WHERE to_number = ?1 ORDER BY id DESC LIMIT ?2"
            } else {
                "SELECT to_number, body, code, sent_at FROM outbox
                 WHERE ?1 IS NULL ORDER BY id DESC LIMIT ?2"
            })?;
            let rows = stmt.query_map(params![to, limit as i64], |r| {
                Ok(OutboxMessage {
                    to: r.get(0)?,
                    body: r.get(1)?,
                    code: r.get(2)?,
                    sent_at: r.get(3)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    pub(super) async fn take(
        &self,
        block_keys: &[&str],
        limits: &[Limit],
        now: i64,
    ) -> Result<Result<(), Refusal>> {
        let block_keys: Vec<String> = block_keys.iter().map(|k| k.to_string()).collect();
        let limits = limits.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let keys: Vec<&str> = block_keys.iter().map(String::as_str).collect();
            let taken = take_in(&tx, &keys, &limits, now)?;
            tx.commit()?;
            Ok(taken)
        })
        .await
    }

    pub(super) async fn admit(
        &self,
        asking: Option<&Asking>,
        limits: &[Limit],
        now: i64,
    ) -> Result<(Number, Result<(), Refusal>)> {
        let asking = asking.cloned();
        let limits = limits.to_vec();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let admitted = admit_in(&tx, asking.as_ref(), &limits, now)?;
            tx.commit()?;
            Ok(admitted)
        })
        .await
    }

    pub(super) async fn try_code(
        &self,
        asking: &Asking,
        limits: &[Limit],
        now: i64,
        code: &CodeTry,
    ) -> Result<(Number, Result<Tried, Refusal>)> {
        let asking = asking.clone();
        let limits = limits.to_vec();
        let code = code.clone();
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let (number, taken) = admit_in(&tx, Some(&asking), &limits, now)?;
            let tried = match taken {
                Ok(()) => Ok(try_in(&tx, &asking, &number, now, &code)?),
                Err(refusal) => Err(refusal),
            };
            tx.commit()?;
            Ok((number, tried))
        })
        .await
    }

    pub(super) async fn record_failure(&self, key: &str, l: Lockout, now: i64) -> Result<()> {
        let key = key.to_owned();
        // In SET, every `blocks.` column is the old row's value. `held` is the strikes still
        // remembered: forgotten a day after the last block ended.
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO blocks (key, failures, blocked_until, strikes)
                   VALUES (?1, CASE WHEN ?2 <= 1 THEN 0 ELSE 1 END,
                           CASE WHEN ?2 <= 1 THEN ?3 + min(?4, ?5) ELSE 0 END,
                           CASE WHEN ?2 <= 1 THEN 1 ELSE 0 END)
                 ON CONFLICT(key) DO UPDATE SET
                   blocked_until = CASE WHEN blocks.failures + 1 >= ?2
                     THEN ?3 + min(?4 << min(CASE WHEN blocks.blocked_until + ?6 < ?3 THEN 0
                                              ELSE blocks.strikes END, 20), ?5)
                     ELSE blocks.blocked_until END,
                   strikes = CASE WHEN blocks.failures + 1 >= ?2
                     THEN (CASE WHEN blocks.blocked_until + ?6 < ?3 THEN 0
                           ELSE blocks.strikes END) + 1
                     ELSE blocks.strikes END,
                   failures = CASE WHEN blocks.failures + 1 >= ?2 THEN 0
                              ELSE blocks.failures + 1 END",
            )?
            .execute(params![
                key,
                l.threshold,
                now,
                l.base_secs,
                l.max_secs,
                STRIKE_MEMORY_SECS
            ])
            .map(drop)
        })
        .await
    }

    pub(super) async fn session_user(
        &self,
        id_hash: &[u8],
        now: i64,
    ) -> Result<Option<(User, i64)>> {
        let id_hash = id_hash.to_vec();
        self.call(move |c| {
            c.prepare_cached(
                "SELECT u.id, u.phone, u.created_at, u.updated_at, s.auth_time
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.id_hash = ?1 AND s.expires_at > ?2",
            )?
            .query_row(params![id_hash, now], |r| {
                Ok((user_from_row(r)?, r.get(4)?))
            })
            .optional()
        })
        .await
    }

    pub(super) async fn delete_session(&self, id_hash: &[u8]) -> Result<()> {
        let id_hash = id_hash.to_vec();
        self.call(move |c| {
            c.prepare_cached("DELETE FROM sessions WHERE id_hash = ?1")?
                .execute([id_hash])
                .map(drop)
        })
        .await
    }

    pub(super) async fn put_code_grant(
        &self,
        code_hash: &[u8],
        g: &Grant,
        expires_at: i64,
    ) -> Result<()> {
        let (code_hash, g) = (code_hash.to_vec(), g.clone());
        self.call(move |c| {
            c.prepare_cached(
                "INSERT INTO auth_codes (code_hash, client_id, user_id, scope, audience, nonce,
                   redirect_uri, challenge, expires_at, used, auth_time)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10)",
            )?
            .execute(params![
                code_hash,
                g.client_id,
                g.user_id,
                g.scope,
                g.audience,
                g.nonce,
                g.redirect_uri,
                g.challenge,
                expires_at,
                g.auth_time
            ])
            .map(drop)
        })
        .await
    }

    pub(super) async fn take_code_grant(
        &self,
        code_hash: &[u8],
        now: i64,
    ) -> Result<Option<Grant>> {
        let code_hash = code_hash.to_vec();
        self.call(move |c| {
            c.prepare_cached(
                "UPDATE auth_codes SET used = 1
                 WHERE code_hash = ?1 AND used = 0 AND expires_at > ?2
                 RETURNING client_id, user_id, scope, audience, nonce, redirect_uri, challenge,
                   auth_time",
            )?
            .query_row(params![code_hash, now], |r| {
                Ok(Grant {
                    client_id: r.get(0)?,
                    user_id: r.get(1)?,
                    scope: r.get(2)?,
                    audience: r.get(3)?,
                    nonce: r.get(4)?,
                    redirect_uri: r.get(5)?,
                    challenge: r.get(6)?,
                    auth_time: r.get(7)?,
                })
            })
            .optional()
        })
        .await
    }

    pub(super) async fn put_refresh(
        &self,
        token_hash: &[u8],
        family: &str,
        g: &Grant,
        expires_at: i64,
    ) -> Result<bool> {
        let (token_hash, family, g) = (token_hash.to_vec(), family.to_owned(), g.clone());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "INSERT INTO refresh_families (family, revoked, auth_time) VALUES (?1, 0, ?2)
                 ON CONFLICT(family) DO NOTHING",
            )?
            .execute(params![family, g.auth_time])?;
            let revoked: bool = tx
                .prepare_cached("SELECT revoked FROM refresh_families WHERE family = ?1")?
                .query_row([&family], |r| r.get(0))?;
            if revoked {
                return Ok(false);
            }
            tx.prepare_cached(
                "INSERT INTO refresh_tokens (token_hash, family, client_id, user_id, scope,
                   audience, expires_at, used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
            )?
            .execute(params![
                token_hash,
                family,
                g.client_id,
                g.user_id,
                g.scope,
                g.audience,
                expires_at
            ])?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    pub(super) async fn use_refresh(
        &self,
        token_hash: &[u8],
        client_id: &str,
        now: i64,
    ) -> Result<RefreshOutcome> {
        let (token_hash, client_id) = (token_hash.to_vec(), client_id.to_owned());
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .prepare_cached(
                    "UPDATE refresh_tokens SET used = 1
                     WHERE token_hash = ?1 AND used = 0 AND expires_at > ?2 AND client_id = ?3
                       AND family IN (SELECT family FROM refresh_families WHERE revoked = 0)
                     RETURNING family, client_id, user_id, scope, audience,
                       (SELECT auth_time FROM refresh_families f
                        WHERE f.family = refresh_tokens.family)",
                )?
                .query_row(params![token_hash, now, client_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Grant::refresh(r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
                    ))
                })
                .optional()?;
            let outcome = match row {
                Some((family, grant)) => RefreshOutcome::Ok(grant, family),
                None => {
                    let reused = tx
                        .prepare_cached(
                            "UPDATE refresh_families SET revoked = 1 WHERE revoked = 0 AND family =
                               (SELECT family FROM refresh_tokens
                                WHERE token_hash = ?1 AND used = 1 AND client_id = ?2)
                             RETURNING family",
                        )?
                        .query_row(params![token_hash, client_id], |_| Ok(()))
                        .optional()?;
                    if reused.is_some() {
                        RefreshOutcome::Reused
                    } else {
                        RefreshOutcome::Invalid
                    }
                }
            };
            tx.commit()?;
            Ok(outcome)
        })
        .await
    }

    pub(super) async fn purge(&self, now: i64, outbox_keep_secs: i64) -> Result<Purged> {
        self.call(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let del = |sql: &str, at: i64| tx.execute(sql, [at]).map(|n| n as u64);
            let purged = Purged {
                codes: del("DELETE FROM codes WHERE expires_at <= ?1 OR used = 1", now)?,
                tickets: del("DELETE FROM tickets WHERE expires_at <= ?1", now)?,
                auth_codes: del("DELETE FROM auth_codes WHERE expires_at <= ?1", now)?,
                sessions: del("DELETE FROM sessions WHERE expires_at <= ?1", now)?,
                refresh_tokens: del("DELETE FROM refresh_tokens WHERE expires_at <= ?1", now)?
                    + tx.prepare_cached(
                        "DELETE FROM refresh_families
                         WHERE family NOT IN (SELECT family FROM refresh_tokens)",
                    )?
                    .execute([])? as u64,
                outbox: del(
                    "DELETE FROM outbox WHERE sent_at <= ?1",
                    now - outbox_keep_secs,
                )?,
                events: del("DELETE FROM events WHERE at <= ?1", now - EVENTS_KEEP_SECS)?
                    + del(
                        "DELETE FROM blocks WHERE failures = 0 AND blocked_until <= ?1",
                        now - STRIKE_MEMORY_SECS,
                    )?,
            };
            tx.commit()?;
            Ok(purged)
        })
        .await
    }

    pub(super) async fn row_counts(&self) -> Result<RowCounts> {
        self.call(|c| {
            let n = |table: &str| {
                c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            };
            Ok(RowCounts {
                users: n("users")?,
                codes: n("codes")?,
                tickets: n("tickets")?,
                auth_codes: n("auth_codes")?,
                sessions: n("sessions")?,
                refresh_tokens: n("refresh_tokens")?,
                outbox: n("outbox")?,
                events: n("events")?,
            })
        })
        .await
    }
}

/// [`super::Store::admit`] inside a write transaction.
fn admit_in(
    tx: &rusqlite::Transaction<'_>,
    asking: Option<&Asking>,
    limits: &[Limit],
    now: i64,
) -> rusqlite::Result<(Number, std::result::Result<(), Refusal>)> {
    let Some(a) = asking else {
        return Ok((Number::default(), take_in(tx, &[], limits, now)?));
    };
    let number = number_in(tx, &a.phone)?;
    let taken = take_in(tx, &a.blocking(number.login_ip.as_deref()), limits, now)?;
    Ok((number, taken))
}

/// [`super::Store::number`] on a connection (or inside a transaction).
fn number_in(c: &Connection, phone: &str) -> rusqlite::Result<Number> {
    let ip = c
        .prepare_cached("SELECT last_ip FROM users WHERE phone = ?1")?
        .query_row([phone], |r| r.get::<_, Option<String>>(0))
        .optional()?;
    Ok(Number {
        registered: ip.is_some(),
        login_ip: ip.flatten(),
    })
}

/// [`super::Store::try_code`]'s try, comparison and finish, once admitted, inside its write
/// transaction.
fn try_in(
    tx: &rusqlite::Transaction<'_>,
    asking: &Asking,
    number: &Number,
    now: i64,
    code: &CodeTry,
) -> rusqlite::Result<Tried> {
    let stored = match attempt_in(tx, &asking.phone, now, code.max_attempts)? {
        Ok(stored) => stored,
        Err(CodeUnavailable::Missing) => return Ok(Tried::Wrong),
        Err(CodeUnavailable::Exhausted) => return Ok(Tried::Exhausted),
    };
    if !is_sealed(&stored.mac) {
        return Ok(Tried::Unsealed(stored));
    }
    if !(sealed_code_matches(&code.candidate, &stored.flow_id, &stored.mac)
        && code.may_log_in(&stored, number))
    {
        return Ok(Tried::Wrong);
    }
    let user = finish_in(
        tx,
        asking,
        &stored.flow_id,
        &code.refund_key,
        now,
        &code.new_id,
        code.ticket.as_ref(),
    )?;
    Ok(user.map_or(Tried::Wrong, Tried::LoggedIn))
}

/// [`super::Store::finish_verification`] inside a write transaction.
fn finish_in(
    tx: &rusqlite::Transaction<'_>,
    asking: &Asking,
    flow_id: &str,
    refund_key: &str,
    now: i64,
    new_id: &str,
    ticket: Option<&NewTicket>,
) -> rusqlite::Result<Option<User>> {
    let consumed = tx
        .prepare_cached("UPDATE codes SET used = 1 WHERE phone = ?1 AND flow_id = ?2 AND used = 0")?
        .execute(params![asking.phone, flow_id])?;
    if consumed != 1 {
        return Ok(None);
    }
    tx.prepare_cached(
        "DELETE FROM events WHERE rowid =
           (SELECT rowid FROM events WHERE key = ?1 AND at = ?2 LIMIT 1)",
    )?
    .execute(params![refund_key, now])?;
    tx.prepare_cached(
        "UPDATE blocks SET failures = 0,
           strikes = CASE WHEN key = ?1 THEN 0 ELSE strikes END
         WHERE key IN (?1, ?2)",
    )?
    .execute([&asking.pair_key, &asking.phone_key])?;
    let user = tx
        .prepare_cached(
            "INSERT INTO users (id, phone, created_at, updated_at, last_ip)
               VALUES (?1, ?2, ?3, ?3, ?4)
             ON CONFLICT(phone) DO UPDATE SET updated_at = ?3, last_ip = ?4
             RETURNING id, phone, created_at, updated_at",
        )?
        .query_row(params![new_id, asking.phone, now, asking.ip], user_from_row)?;
    if let Some(t) = ticket {
        tx.prepare_cached(
            "INSERT INTO tickets (id, client_id, user_id, expires_at, used, binding)
             VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        )?
        .execute(params![t.id, t.client_id, user.id, t.expires_at, t.binding])?;
    }
    Ok(Some(user))
}

/// [`super::Store::begin_code_attempt`] on a connection (or inside a transaction).
fn attempt_in(
    c: &Connection,
    phone: &str,
    now: i64,
    max_attempts: i64,
) -> rusqlite::Result<std::result::Result<StoredCode, CodeUnavailable>> {
    let row = c
        .prepare_cached(
            "UPDATE codes SET attempts = attempts + 1
             WHERE phone = ?1 AND used = 0 AND expires_at > ?2 AND attempts < ?3
             RETURNING flow_id, mac, client_id",
        )?
        .query_row(params![phone, now, max_attempts], |r| {
            Ok(StoredCode {
                flow_id: r.get(0)?,
                mac: r.get(1)?,
                client_id: r.get(2)?,
            })
        })
        .optional()?;
    if let Some(code) = row {
        return Ok(Ok(code));
    }
    let exhausted = c
        .prepare_cached(
            "SELECT 1 FROM codes WHERE phone = ?1 AND used = 0 AND expires_at > ?2
             AND attempts >= ?3",
        )?
        .query_row(params![phone, now, max_attempts], |_| Ok(()))
        .optional()?
        .is_some();
    Ok(Err(if exhausted {
        CodeUnavailable::Exhausted
    } else {
        CodeUnavailable::Missing
    }))
}

/// [`super::Store::take`] inside a write transaction: refused at once under a block, else every
/// limit is checked and, when all pass, one event recorded for each.
fn take_in(
    tx: &rusqlite::Transaction<'_>,
    block_keys: &[&str],
    limits: &[Limit],
    now: i64,
) -> rusqlite::Result<std::result::Result<(), Refusal>> {
    let mut blocked = 0;
    for key in block_keys {
        let until: Option<i64> = tx
            .prepare_cached(
                "SELECT blocked_until FROM blocks WHERE key = ?1 AND blocked_until > ?2",
            )?
            .query_row(params![key, now], |r| r.get(0))
            .optional()?;
        blocked = blocked.max(until.map_or(0, |u| u - now));
    }
    if blocked > 0 {
        return Ok(Err(Refusal::Blocked(blocked)));
    }
    let mut retry = 0;
    for l in limits {
        let (count, oldest): (i64, Option<i64>) = tx
            .prepare_cached("SELECT COUNT(*), MIN(at) FROM events WHERE key = ?1 AND at > ?2")?
            .query_row(params![l.key, now - l.window], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        if count >= l.max {
            retry = retry.max(oldest.unwrap_or(now) + l.window - now).max(1);
        }
    }
    if retry > 0 {
        return Ok(Err(Refusal::Limited(retry)));
    }
    for l in limits {
        tx.prepare_cached("INSERT INTO events (key, at) VALUES (?1, ?2)")?
            .execute(params![l.key, now])?;
    }
    Ok(Ok(()))
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        phone: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

/// Starts the thread that checkpoints the WAL every [`CHECKPOINT_EVERY`] on a connection of its
/// own (passive: it never waits for, nor blocks, the connection that writes), until the returned
/// sender is dropped.
fn checkpoint_in_background(path: std::path::PathBuf) -> Result<mpsc::Sender<()>> {
    let conn = Connection::open(&path)?;
    conn.busy_timeout(std::time::Duration::from_secs(1))?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!("SQLite checkpoint failed: {e}");
                }
            }
        })
        .map_err(|e| StoreError::Task(e.to_string()))?;
    Ok(stop)
}

fn open_and_migrate(path: &Path) -> rusqlite::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // Checkpoints happen on their own thread (`checkpoint_in_background`).
    conn.pragma_update(None, "wal_autocheckpoint", WAL_BACKSTOP_PAGES)?;
    conn.set_prepared_statement_cache_capacity(64);
    migrate(&mut conn)?;
    Ok(conn)
}

/// The database file and its WAL hold the signing key and the code secret: owner only.
fn restrict_permissions(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut shm = path.as_os_str().to_owned();
        shm.push("-shm");
        for file in [path.as_os_str(), &wal, &shm] {
            let _ = std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600));
        }
    }
}

/// Brings the schema to the newest version under SQLite's write lock; `user_version` records
/// the version. Version 1 is the schema databases were created with before versioning (so its
/// statements keep `IF NOT EXISTS`).
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: usize = tx
        .prepare_cached("PRAGMA user_version")?
        .query_row([], |r| r.get(0))?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i + 1)?;
    }
    tx.commit()
}

const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, phone TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS codes (
  phone TEXT PRIMARY KEY, client_id TEXT NOT NULL, flow_id TEXT NOT NULL, mac BLOB NOT NULL,
  expires_at INTEGER NOT NULL, attempts INTEGER NOT NULL, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
  id TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (key TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS events_key_at ON events (key, at);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE TABLE IF NOT EXISTS blocks (
  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, blocked_until INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
  id_hash BLOB PRIMARY KEY, user_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_codes (
  code_hash BLOB PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, scope TEXT NOT NULL,
  audience TEXT, nonce TEXT, redirect_uri TEXT, challenge TEXT, expires_at INTEGER NOT NULL,
  used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  token_hash BLOB PRIMARY KEY, family TEXT NOT NULL, client_id TEXT NOT NULL, user_id TEXT NOT NULL,
  scope TEXT NOT NULL, audience TEXT, expires_at INTEGER NOT NULL, used INTEGER NOT NULL,
  revoked INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, to_number TEXT NOT NULL, body TEXT NOT NULL,
  code TEXT NOT NULL, sent_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS outbox_to ON outbox (to_number, id);
",
    // Revocation moves to one row per family, which a rotation and a reuse both lock.
    "
CREATE TABLE refresh_families (family TEXT PRIMARY KEY, revoked INTEGER NOT NULL);
INSERT INTO refresh_families (family, revoked)
  SELECT family, MAX(revoked) FROM refresh_tokens GROUP BY family;
ALTER TABLE refresh_tokens DROP COLUMN revoked;
CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX outbox_sent ON outbox (sent_at);
",
    // Blocks grow with repeats (strikes); a number's last login address is exempt from its
    // number-wide block; logins keep their time.
    "
ALTER TABLE blocks ADD COLUMN strikes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_ip TEXT;
-- A login ticket is redeemed only with the cookie /co/authenticate set in the same browser.
ALTER TABLE tickets ADD COLUMN binding BLOB;
-- When the user logged in: the ID token's auth_time, max_age, the refresh tokens' absolute
-- lifetime. Rows from before count from the migration.
ALTER TABLE sessions ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE auth_codes ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE refresh_families ADD COLUMN auth_time INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET auth_time = CAST(strftime('%s', 'now') AS INTEGER);
UPDATE auth_codes SET auth_time = CAST(strftime('%s', 'now') AS INTEGER);
UPDATE refresh_families SET auth_time = CAST(strftime('%s', 'now') AS INTEGER);
",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A database as the tenant made it before schema versions (user_version 0): migrating keeps
    /// its users, and a family it had revoked stays revoked.
    #[tokio::test]
    async fn a_database_from_before_versioning_migrates_and_keeps_its_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(MIGRATIONS[0]).unwrap();
            old.execute_batch(
                "INSERT INTO users VALUES ('u1', '+12015550123', 1, 2);
                 INSERT INTO refresh_tokens VALUES (x'01', 'fam-revoked', 'app', 'u1', 'openid', NULL,
                   9999999999, 1, 1);
                 INSERT INTO refresh_tokens VALUES (x'02', 'fam-revoked', 'app', 'u1', 'openid', NULL,
                   9999999999, 0, 1);
                 INSERT INTO refresh_tokens VALUES (x'03', 'fam-live', 'app', 'u1', 'openid', NULL,
                   9999999999, 0, 0);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(
            store.user("u1").await.unwrap().unwrap().phone,
            "+12015550123"
        );
        assert!(matches!(
            store.use_refresh(&[2], "app", 100).await.unwrap(),
            RefreshOutcome::Invalid
        ));
        assert!(matches!(
            store.use_refresh(&[3], "app", 100).await.unwrap(),
            RefreshOutcome::Ok(_, family) if family == "fam-live"
        ));
        drop(store);
        // Opening again finds nothing to do.
        let again = SqliteStore::open(&path).await.unwrap();
        assert_eq!(again.row_counts().await.unwrap().refresh_tokens, 3);
        let version: usize = Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }

    /// The file holds the signing key and the code secret.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_database_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.db");
        let store = SqliteStore::open(&path).await.unwrap();
        store.meta_get_or_insert("k", b"v").await.unwrap();
        for name in ["secret.db", "secret.db-wal", "secret.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
    }

    /// Commits reach the database file itself within moments, moved there by the checkpointing
    /// thread: the writing connection only checkpoints at the backstop.
    #[tokio::test]
    async fn the_wal_is_checkpointed_by_a_thread_of_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let pages = store
            .call(|c| c.pragma_query_value(None, "wal_autocheckpoint", |r| r.get::<_, i64>(0)))
            .await
            .unwrap();
        assert_eq!(pages, WAL_BACKSTOP_PAGES);
        store.meta_get_or_insert("moved", b"yes").await.unwrap();
        // The file alone, copied without its WAL, holds the row once it was checkpointed.
        let copy = dir.path().join("copy.db");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            std::fs::copy(&path, &copy).unwrap();
            let found: Option<Vec<u8>> = Connection::open(&copy).ok().and_then(|c| {
                c.query_row("SELECT value FROM meta WHERE key = 'moved'", [], |r| {
                    r.get(0)
                })
                .ok()
            });
            for leftover in ["copy.db", "copy.db-wal", "copy.db-shm"] {
                let _ = std::fs::remove_file(dir.path().join(leftover));
            }
            if found.as_deref() == Some(b"yes".as_slice()) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the row never reached the database file"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
