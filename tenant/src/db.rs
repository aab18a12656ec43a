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
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, to_number TEXT NOT NULL, body TEXT NOT NULL,
  code TEXT NOT NULL, sent_at INTEGER NOT NULL);
";
