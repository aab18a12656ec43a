//! The in-process harness: a tenant on a temporary database with a movable clock.
#![allow(dead_code)]

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use passwordless_tenant::config::Config;
use passwordless_tenant::{app, Clock, Tenant};
use serde_json::{json, Value};
use tower::ServiceExt;

pub const ORIGIN: &str = "http://app.test";
pub const CALLBACK: &str = "http://app.test/callback";
pub const PHONE: &str = "+12015550123";
/// The API the test configuration registers for client `app`, with the scope `read:orders`.
pub const API: &str = "https://api.example.test";
pub const OTP_GRANT: &str = "http://auth0.com/oauth/grant-type/passwordless/otp";

/// `POST /passwordless/start` for `phone`, as auth0.js sends it.
pub fn start_request(phone: &str) -> Request<Body> {
    Request::post("/passwordless/start")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"client_id": "app", "connection": "sms", "phone_number": phone}).to_string(),
        ))
        .unwrap()
}

/// `POST /co/authenticate` with a code, from the registered origin.
pub fn co_request(phone: &str, otp: &str) -> Request<Body> {
    Request::post("/co/authenticate")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, ORIGIN)
        .body(Body::from(
            json!({"client_id": "app", "credential_type": OTP_GRANT, "username": phone,
                   "otp": otp, "realm": "sms"})
            .to_string(),
        ))
        .unwrap()
}

/// The request as a proxy forwards it for `client`.
pub fn forwarded_for(mut req: Request<Body>, client: &str) -> Request<Body> {
    req.headers_mut()
        .append("x-forwarded-for", client.parse().unwrap());
    req
}

/// A code that is not `code`.
pub fn wrong(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

pub struct TestClock(pub AtomicI64);
impl Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct Harness {
    pub app: Router,
    pub clock: Arc<TestClock>,
    pub dir: tempfile::TempDir,
    /// The database the tenant uses (a SQLite file or a PostgreSQL URL).
    pub database: String,
    /// The tenant behind `app`.
    pub tenant: Arc<Tenant>,
    /// The login-ticket binding cookies `/co/authenticate` set, sent to `/authorize` as a
    /// browser would (shared by the instances of a pair: one browser, two instances).
    pub jar: Arc<std::sync::Mutex<Vec<String>>>,
}

/// The PostgreSQL server the suite runs against instead of SQLite, if any: a URL without a
/// database name (`postgres://postgres@127.0.0.1:5433`). `cargo xtask test` sets it for the
/// second run of the tenant suite.
pub fn postgres_server() -> Option<String> {
    std::env::var("LPW_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('/').to_string())
}

/// A database of this test's own: a SQLite file in `dir`, or on the PostgreSQL server a
/// database named after `dir` (so the same `dir` gives the same database, as a restart needs).
pub async fn database(dir: &std::path::Path) -> String {
    let Some(server) = postgres_server() else {
        return dir.join("t.db").display().to_string();
    };
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    dir.hash(&mut hasher);
    let name = format!("lpw_test_{:016x}", hasher.finish());
    let (client, connection) =
        tokio_postgres::connect(&format!("{server}/postgres"), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {server}: {e}"));
    tokio::spawn(connection);
    match client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
    {
        Ok(()) => {}
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => {}
        Err(e) => panic!("CREATE DATABASE {name}: {e}"),
    }
    format!("{server}/{name}")
}

/// Runs one query on the test's database, whichever engine it is; returns the first row's
/// first two columns as (bytes, text). For tests that look at what is stored.
pub async fn stored_bytes_and_text(
    database: &str,
    sql_sqlite: &str,
    sql_postgres: &str,
    key: &str,
) -> (Vec<u8>, String) {
    if postgres_server().is_some() {
        let (client, connection) = tokio_postgres::connect(database, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let row = client.query_one(sql_postgres, &[&key]).await.unwrap();
        (row.get(0), row.get(1))
    } else {
        let db = rusqlite::Connection::open(database).unwrap();
        db.query_row(sql_sqlite, [key], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
    }
}

pub async fn config(dir: &std::path::Path) -> Config {
    let text = format!(
        r#"
[tenant]
name = "test"
issuer = "http://tenant.test"
database = "{}"

[[clients]]
client_id = "app"
name = "Test App"
callbacks = ["{CALLBACK}"]
web_origins = ["{ORIGIN}"]

[[clients]]
client_id = "other"
name = "Other"

[[apis]]
identifier = "{API}"
scopes = ["read:orders"]
clients = ["app"]

[sms]
enabled_clients = ["app"]
template = "{{% if request_language contains 'fr' %}}Code {{{{ application.name }}}} : @@password@@{{% elsif request_language contains 'nl' %}}Uw code: {{{{ code }}}}{{% else %}}Your code is @@password@@{{% endif %}}"
"#,
        database(dir).await
    );
    toml::from_str(&text).unwrap()
}

pub async fn harness() -> Harness {
    harness_with(|_| {}).await
}

/// A harness whose configuration `change` adjusts first.
pub async fn harness_with(change: impl FnOnce(&mut Config)) -> Harness {
    harness_of(change, |t| t).await
}

/// A harness whose configuration `change` adjusts, and whose tenant `adjust` then changes.
pub async fn harness_of(
    change: impl FnOnce(&mut Config),
    adjust: impl FnOnce(Tenant) -> Tenant,
) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(1_800_000_000)));
    let mut config = config(dir.path()).await;
    change(&mut config);
    let database = config.tenant.database.clone().unwrap();
    let tenant = Arc::new(adjust(
        Tenant::new(config).await.unwrap().with_clock(clock.clone()),
    ));
    Harness {
        app: app(tenant.clone()),
        clock,
        dir,
        database,
        tenant,
        jar: Arc::default(),
    }
}

/// Two tenant instances on one database, sharing a clock: what two processes behind a load
/// balancer are. The first harness owns the directory.
pub async fn pair_with(change: impl Fn(&mut Config)) -> (Harness, Harness) {
    let first = harness_with(&change).await;
    let second = another_instance(&first, change, |t| t).await;
    (first, second)
}

/// A second tenant instance on `first`'s database and clock, its configuration as `change` makes
/// it (which may differ from the first's, as after a configuration change), its tenant as
/// `adjust` makes it.
pub async fn another_instance(
    first: &Harness,
    change: impl FnOnce(&mut Config),
    adjust: impl FnOnce(Tenant) -> Tenant,
) -> Harness {
    let mut config = config(first.dir.path()).await;
    change(&mut config);
    let tenant = Arc::new(adjust(
        Tenant::new(config)
            .await
            .unwrap()
            .with_clock(first.clock.clone()),
    ));
    Harness {
        app: app(tenant.clone()),
        clock: first.clock.clone(),
        dir: tempfile::tempdir().unwrap(),
        database: first.database.clone(),
        tenant,
        jar: first.jar.clone(),
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn error(&self) -> (StatusCode, String) {
        (
            self.status,
            self.json()["error"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        )
    }
    /// Asserts a 200, showing the body when it is not.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Harness {
    pub async fn send(&self, mut req: Request<Body>) -> Reply {
        if req.uri().path() == "/authorize" {
            let jar = self.jar.lock().unwrap().join("; ");
            if !jar.is_empty() {
                req.headers_mut()
                    .append(header::COOKIE, jar.parse().unwrap());
            }
        }
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        for set in headers.get_all(header::SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            if pair.starts_with("lpw_co_") {
                let name = pair.split('=').next().unwrap().to_string();
                let mut jar = self.jar.lock().unwrap();
                jar.retain(|c| !c.starts_with(&format!("{name}=")));
                if !pair.ends_with('=') {
                    jar.push(pair);
                }
            }
        }
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    /// A request as if from `ip` (the rate limits key on the peer address).
    pub async fn send_from(&self, ip: &str, mut req: Request<Body>) -> Reply {
        let addr = std::net::SocketAddr::new(ip.parse().unwrap(), 50000);
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(addr));
        self.send(req).await
    }

    pub fn advance(&self, secs: i64) {
        self.clock.0.fetch_add(secs, Ordering::SeqCst);
    }

    pub async fn post(&self, path: &str, body: Value, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// `GET path` with no headers, for closures that build the path.
    pub async fn get_owned(&self, path: String) -> Reply {
        self.get(&path, &[]).await
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut req = Request::get(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// Sends a code, first moving the clock past the per-number interval between sends.
    pub async fn start(&self, phone: &str) -> Reply {
        self.clock.0.fetch_add(31, Ordering::SeqCst);
        self.post(
            "/passwordless/start",
            json!({"client_id": "app", "connection": "sms", "phone_number": phone, "send": "code",
                   "authParams": {"scope": "openid", "state": "s"}}),
            &[],
        )
        .await
    }

    /// The passwordless OTP grant at `/oauth/token`.
    pub async fn otp_grant(&self, phone: &str, otp: &str, scope: &str) -> Reply {
        self.post(
            "/oauth/token",
            json!({"grant_type": OTP_GRANT, "client_id": "app", "username": phone, "otp": otp,
                   "realm": "sms", "scope": scope}),
            &[],
        )
        .await
    }

    pub async fn latest_code(&self, phone: &str) -> String {
        let r = self
            .get(&format!("/dev/sms?to={}", phone.replace('+', "%2B")), &[])
            .await;
        assert_eq!(r.status, StatusCode::OK);
        r.json()[0]["code"]
            .as_str()
            .expect("a message in the outbox")
            .to_string()
    }

    pub async fn co_authenticate(&self, phone: &str, otp: &str) -> Reply {
        self.post(
            "/co/authenticate",
            json!({"client_id": "app", "credential_type": "http://auth0.com/oauth/grant-type/passwordless/otp",
                   "username": phone, "otp": otp, "realm": "sms"}),
            &[("origin", ORIGIN)],
        )
        .await
    }

    pub async fn authorize(&self, ticket: &str, redirect_uri: &str) -> Reply {
        let q = serde_urlencoded::to_string([
            ("client_id", "app"),
            ("response_type", "token id_token"),
            ("redirect_uri", redirect_uri),
            ("scope", "openid profile"),
            ("state", "state-123"),
            ("nonce", "nonce-456"),
            ("realm", "sms"),
            ("login_ticket", ticket),
        ])
        .unwrap();
        self.get(&format!("/authorize?{q}"), &[]).await
    }

    /// Start → code → ticket → fragment parameters.
    pub async fn login(&self, phone: &str) -> std::collections::HashMap<String, String> {
        assert_eq!(self.start(phone).await.status, StatusCode::OK);
        let code = self.latest_code(phone).await;
        let r = self.co_authenticate(phone, &code).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&r.body)
        );
        let ticket = r.json()["login_ticket"].as_str().unwrap().to_string();
        let r = self.authorize(&ticket, CALLBACK).await;
        assert_eq!(r.status, StatusCode::FOUND);
        let location = r.header("location").unwrap();
        let fragment = location
            .strip_prefix(&format!("{CALLBACK}#"))
            .expect("redirect to the callback");
        serde_urlencoded::from_str(fragment).unwrap()
    }
}

pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

/// Every log line of this test binary, from a global subscriber: everything at trace but the
/// PostgreSQL driver at info, as the binary caps it (at debug tokio-postgres logs every
/// statement's parameters). Global, because a scoped subscriber misses events whose callsites
/// other test threads registered first; every test's logs land here, which only makes a check
/// for leaks stricter.
pub fn captured_logs() -> Arc<std::sync::Mutex<Vec<u8>>> {
    #[derive(Clone)]
    struct Writer(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = Writer(logs.clone());
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,tokio_postgres=info",
            ))
            .with_writer(move || writer.clone())
            .init();
        logs
    })
    .clone()
}
