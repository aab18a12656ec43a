//! Durable state in SQLite (WAL): users, codes, login tickets, keys and the development outbox.
//!
//! Every state change that decides a security question is one conditional `UPDATE`, so it stays
//! correct if the connection is ever shared by more than one writer.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension};

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

/// The database handle.
pub struct Db {
    conn: Mutex<Connection>,
}

impl Db {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        if let Some(parent) = path.parent() {
            // A missing folder would otherwise surface as an opaque "unable to open" error.
            let _ = std::fs::create_dir_all(parent);
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent (each statement is
        // atomic), so a poisoned lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A value from the key/value table.
    pub fn meta(&self, key: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.conn()
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
    }

    /// Stores `value` under `key` unless a value is already there; returns the stored value.
    pub fn meta_get_or_insert(&self, key: &str, value: &[u8]) -> rusqlite::Result<Vec<u8>> {
        let conn = self.conn();
        conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        )?;
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
    }

    /// Replaces the phone's code: only the latest code is valid.
    pub fn put_code(
        &self,
        phone: &str,
        client_id: &str,
        flow_id: &str,
        mac: &[u8],
        expires_at: i64,
    ) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO codes (phone, client_id, flow_id, mac, expires_at, attempts, used)
             VALUES (?1, ?2, ?3, ?4, ?5, 0, 0)
             ON CONFLICT(phone) DO UPDATE SET client_id = ?2, flow_id = ?3, mac = ?4,
               expires_at = ?5, attempts = 0, used = 0",
            params![phone, client_id, flow_id, mac, expires_at],
        )?;
        Ok(())
    }

    /// Counts one try against the phone's live code *before* it is compared, and returns it.
    pub fn begin_code_attempt(
        &self,
        phone: &str,
        now: i64,
        max_attempts: i64,
    ) -> rusqlite::Result<Result<StoredCode, CodeUnavailable>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "UPDATE codes SET attempts = attempts + 1
                 WHERE phone = ?1 AND used = 0 AND expires_at > ?2 AND attempts < ?3
                 RETURNING flow_id, mac, client_id",
                params![phone, now, max_attempts],
                |r| {
                    Ok(StoredCode {
                        flow_id: r.get(0)?,
                        mac: r.get(1)?,
                        client_id: r.get(2)?,
                    })
                },
            )
            .optional()?;
        if let Some(code) = row {
            return Ok(Ok(code));
        }
        let exhausted: bool = conn
            .query_row(
                "SELECT 1 FROM codes WHERE phone = ?1 AND used = 0 AND expires_at > ?2
                 AND attempts >= ?3",
                params![phone, now, max_attempts],
                |_| Ok(true),
            )
            .optional()?
            .unwrap_or(false);
        Ok(Err(if exhausted {
            CodeUnavailable::Exhausted
        } else {
            CodeUnavailable::Missing
        }))
    }

    /// Marks the code used; true only for the one caller that flipped it.
    pub fn consume_code(&self, phone: &str, flow_id: &str) -> rusqlite::Result<bool> {
        let n = self.conn().execute(
            "UPDATE codes SET used = 1 WHERE phone = ?1 AND flow_id = ?2 AND used = 0",
            params![phone, flow_id],
        )?;
        Ok(n == 1)
    }

    /// Finds the user with this phone, creating one on first login.
    pub fn find_or_create_user(
        &self,
        phone: &str,
        new_id: &str,
        now: i64,
    ) -> rusqlite::Result<User> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO users (id, phone, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)
             ON CONFLICT(phone) DO UPDATE SET updated_at = ?3",
            params![new_id, phone, now],
        )?;
        conn.query_row(
            "SELECT id, phone, created_at, updated_at FROM users WHERE phone = ?1",
            [phone],
            user_from_row,
        )
    }

    /// The user with this ID.
    pub fn user(&self, id: &str) -> rusqlite::Result<Option<User>> {
        self.conn()
            .query_row(
                "SELECT id, phone, created_at, updated_at FROM users WHERE id = ?1",
                [id],
                user_from_row,
            )
            .optional()
    }

    /// Stores a single-use login ticket.
    pub fn put_ticket(
        &self,
        id: &str,
        client_id: &str,
        user_id: &str,
        expires_at: i64,
    ) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO tickets (id, client_id, user_id, expires_at, used) VALUES (?1, ?2, ?3, ?4, 0)",
            params![id, client_id, user_id, expires_at],
        )?;
        Ok(())
    }

    /// Redeems a ticket for this client once; returns its user ID.
    pub fn take_ticket(
        &self,
        id: &str,
        client_id: &str,
        now: i64,
    ) -> rusqlite::Result<Option<String>> {
        self.conn()
            .query_row(
                "UPDATE tickets SET used = 1
                 WHERE id = ?1 AND client_id = ?2 AND used = 0 AND expires_at > ?3
                 RETURNING user_id",
                params![id, client_id, now],
                |r| r.get(0),
            )
            .optional()
    }

    /// Appends a message to the development outbox.
    pub fn push_outbox(&self, m: &OutboxMessage) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO outbox (to_number, body, code, sent_at) VALUES (?1, ?2, ?3, ?4)",
            params![m.to, m.body, m.code, m.sent_at],
        )?;
        Ok(())
    }

    /// Outbox messages, newest first, optionally for one recipient.
    pub fn outbox(&self, to: Option<&str>, limit: usize) -> rusqlite::Result<Vec<OutboxMessage>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT to_number, body, code, sent_at FROM outbox
             WHERE ?1 IS NULL OR to_number = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![to, limit as i64], |r| {
            Ok(OutboxMessage {
                to: r.get(0)?,
                body: r.get(1)?,
                code: r.get(2)?,
                sent_at: r.get(3)?,
            })
        })?;
        rows.collect()
    }
}

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
}

/// How a refresh token exchange went.
#[derive(Debug, Clone)]
pub enum RefreshOutcome {
    /// Valid: here is its grant and family.
    Ok(Grant, String),
    /// Unknown or expired.
    Invalid,
    /// Already used: the whole family is now revoked.
    Reused,
}

impl Db {
    /// Checks every limit; when all pass records one event for each and returns `Ok`, else
    /// returns the seconds until the tightest limit frees up. Check and record are atomic.
    pub fn take(&self, limits: &[Limit], now: i64) -> rusqlite::Result<Result<(), i64>> {
        let conn = self.conn();
        let mut retry = 0;
        for l in limits {
            let (count, oldest): (i64, Option<i64>) = conn.query_row(
                "SELECT COUNT(*), MIN(at) FROM events WHERE key = ?1 AND at > ?2",
                params![l.key, now - l.window],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if count >= l.max {
                retry = retry.max(oldest.unwrap_or(now) + l.window - now).max(1);
            }
        }
        if retry > 0 {
            return Ok(Err(retry));
        }
        for l in limits {
            conn.execute(
                "INSERT INTO events (key, at) VALUES (?1, ?2)",
                params![l.key, now],
            )?;
        }
        conn.execute("DELETE FROM events WHERE at < ?1", [now - 86_400])?;
        Ok(Ok(()))
    }

    /// Counts events of `key` in the last `window` seconds.
    pub fn count(&self, key: &str, window: i64, now: i64) -> rusqlite::Result<i64> {
        self.conn().query_row(
            "SELECT COUNT(*) FROM events WHERE key = ?1 AND at > ?2",
            params![key, now - window],
            |r| r.get(0),
        )
    }

    /// Records one event of `key`.
    pub fn record(&self, key: &str, now: i64) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO events (key, at) VALUES (?1, ?2)",
            params![key, now],
        )?;
        Ok(())
    }

    /// Seconds left on a block of `key`, if blocked.
    pub fn blocked(&self, key: &str, now: i64) -> rusqlite::Result<Option<i64>> {
        self.conn()
            .query_row(
                "SELECT blocked_until FROM blocks WHERE key = ?1 AND blocked_until > ?2",
                params![key, now],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|until| until.map(|u| u - now))
    }

    /// Counts a consecutive failure of `key`; at `threshold` the key is blocked for `block_secs`.
    pub fn record_failure(
        &self,
        key: &str,
        threshold: i64,
        block_secs: i64,
        now: i64,
    ) -> rusqlite::Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO blocks (key, failures, blocked_until) VALUES (?1, 1, 0)
             ON CONFLICT(key) DO UPDATE SET failures = failures + 1",
            params![key],
        )?;
        conn.execute(
            "UPDATE blocks SET blocked_until = ?2, failures = 0 WHERE key = ?1 AND failures >= ?3",
            params![key, now + block_secs, threshold],
        )?;
        Ok(())
    }

    /// Forgets the consecutive failures of `key` (after a success).
    pub fn clear_failures(&self, key: &str) -> rusqlite::Result<()> {
        self.conn()
            .execute("UPDATE blocks SET failures = 0 WHERE key = ?1", [key])?;
        Ok(())
    }

    /// Whether a user exists for this phone.
    pub fn user_exists(&self, phone: &str) -> rusqlite::Result<bool> {
        Ok(self
            .conn()
            .query_row("SELECT 1 FROM users WHERE phone = ?1", [phone], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Stores a login session (by the hash of its cookie value).
    pub fn put_session(
        &self,
        id_hash: &[u8],
        user_id: &str,
        expires_at: i64,
    ) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO sessions (id_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
            params![id_hash, user_id, expires_at],
        )?;
        Ok(())
    }

    /// The user of a live session.
    pub fn session_user(&self, id_hash: &[u8], now: i64) -> rusqlite::Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT user_id FROM sessions WHERE id_hash = ?1 AND expires_at > ?2",
                params![id_hash, now],
                |r| r.get(0),
            )
            .optional()
    }

    /// Ends a session.
    pub fn delete_session(&self, id_hash: &[u8]) -> rusqlite::Result<()> {
        self.conn()
            .execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    /// Stores an authorization code (by hash).
    pub fn put_code_grant(
        &self,
        code_hash: &[u8],
        g: &Grant,
        expires_at: i64,
    ) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO auth_codes (code_hash, client_id, user_id, scope, audience, nonce, redirect_uri,
               challenge, expires_at, used) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0)",
            params![code_hash, g.client_id, g.user_id, g.scope, g.audience, g.nonce, g.redirect_uri, g.challenge, expires_at],
        )?;
        Ok(())
    }

    /// Redeems an authorization code once.
    pub fn take_code_grant(&self, code_hash: &[u8], now: i64) -> rusqlite::Result<Option<Grant>> {
        self.conn()
            .query_row(
                "UPDATE auth_codes SET used = 1 WHERE code_hash = ?1 AND used = 0 AND expires_at > ?2
                 RETURNING client_id, user_id, scope, audience, nonce, redirect_uri, challenge",
                params![code_hash, now],
                |r| {
                    Ok(Grant {
                        client_id: r.get(0)?,
                        user_id: r.get(1)?,
                        scope: r.get(2)?,
                        audience: r.get(3)?,
                        nonce: r.get(4)?,
                        redirect_uri: r.get(5)?,
                        challenge: r.get(6)?,
                    })
                },
            )
            .optional()
    }

    /// Stores a refresh token (by hash) in `family`.
    pub fn put_refresh(
        &self,
        token_hash: &[u8],
        family: &str,
        g: &Grant,
        expires_at: i64,
    ) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO refresh_tokens (token_hash, family, client_id, user_id, scope, audience, expires_at, used, revoked)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0)",
            params![token_hash, family, g.client_id, g.user_id, g.scope, g.audience, expires_at],
        )?;
        Ok(())
    }

    /// Uses a refresh token once. A second use is theft or a bug: the family is revoked.
    pub fn use_refresh(&self, token_hash: &[u8], now: i64) -> rusqlite::Result<RefreshOutcome> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "UPDATE refresh_tokens SET used = 1
                 WHERE token_hash = ?1 AND used = 0 AND revoked = 0 AND expires_at > ?2
                 RETURNING family, client_id, user_id, scope, audience",
                params![token_hash, now],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        Grant {
                            client_id: r.get(1)?,
                            user_id: r.get(2)?,
                            scope: r.get(3)?,
                            audience: r.get(4)?,
                            nonce: None,
                            redirect_uri: None,
                            challenge: None,
                        },
                    ))
                },
            )
            .optional()?;
        if let Some((family, grant)) = row {
            return Ok(RefreshOutcome::Ok(grant, family));
        }
        let reused: Option<String> = conn
            .query_row(
                "SELECT family FROM refresh_tokens WHERE token_hash = ?1 AND used = 1",
                [token_hash],
                |r| r.get(0),
            )
            .optional()?;
        match reused {
            Some(family) => {
                conn.execute(
                    "UPDATE refresh_tokens SET revoked = 1 WHERE family = ?1",
                    [family],
                )?;
                Ok(RefreshOutcome::Reused)
            }
            None => Ok(RefreshOutcome::Invalid),
        }
    }
}

fn user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        phone: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
    })
}

const SCHEMA: &str = "
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
";
