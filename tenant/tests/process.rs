//! The real binary: state survives a crash between start and verify, and its log output never
//! holds a code, a token or a full phone number.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier;
use rsa::{BigUint, RsaPublicKey};
use serde_json::{json, Value};
use sha2::Sha256;

const ORIGIN: &str = "http://app.test";
const CALLBACK: &str = "http://app.test/cb";

struct Server {
    child: Option<Child>,
    root: String,
}

impl Server {
    /// A handle on a server another `Server` owns.
    fn remote(root: String) -> Self {
        Self { child: None, root }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(dir: &Path, port: u16, database: &str, issuer_port: u16) -> PathBuf {
    let path = dir.join(format!("tenant-{port}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"
[tenant]
name = "process"
issuer = "http://127.0.0.1:{issuer_port}"
database = "{database}"

[[clients]]
client_id = "app"
name = "App"
callbacks = ["{CALLBACK}"]
web_origins = ["{ORIGIN}"]
refresh_tokens = true

[sms]
enabled_clients = ["app"]
template = "Code: @@password@@"
"#
        ),
    )
    .unwrap();
    path
}

// `Server::drop` kills and waits; clippy cannot see through the Drop impl.
#[allow(clippy::zombie_processes)]
async fn launch(dir: &Path, port: u16, log_name: &str, database: &str) -> Server {
    launch_as(dir, port, log_name, database, port).await
}

/// An instance on `port` of the tenant whose public address is `issuer_port`'s (the balancer).
#[allow(clippy::zombie_processes)]
async fn launch_as(
    dir: &Path,
    port: u16,
    log_name: &str,
    database: &str,
    issuer_port: u16,
) -> Server {
    let log = std::fs::File::create(dir.join(log_name)).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_passwordless-tenant"))
        .args(["--config"])
        .arg(write_config(dir, port, database, issuer_port))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "trace")
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let root = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if reqwest::get(format!("{root}/.well-known/jwks.json"))
            .await
            .is_ok()
        {
            return Server {
                child: Some(child),
                root,
            };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the tenant did not start");
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn start(s: &Server, phone: &str) -> reqwest::StatusCode {
    client()
        .post(format!("{}/passwordless/start", s.root))
        .json(&json!({"client_id": "app", "connection": "sms", "phone_number": phone}))
        .send()
        .await
        .unwrap()
        .status()
}

async fn code(s: &Server, phone: &str) -> String {
    let list: Value = client()
        .get(format!("{}/dev/sms", s.root))
        .query(&[("to", phone)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list[0]["code"].as_str().unwrap().to_string()
}

/// `/co/authenticate`: the status and the body, with the binding cookie it set (what a browser
/// keeps for `/authorize`) added as `set_cookie`.
async fn verify(s: &Server, phone: &str, otp: &str) -> (u16, Value) {
    let r = client()
        .post(format!("{}/co/authenticate", s.root))
        .header("origin", ORIGIN)
        .json(&json!({"client_id": "app", "credential_type": "http://auth0.com/oauth/grant-type/passwordless/otp",
                      "username": phone, "otp": otp, "realm": "sms"}))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    let status = r.status().as_u16();
    let mut body: Value = r.json().await.unwrap_or(Value::Null);
    if let (Some(cookie), Some(map)) = (cookie, body.as_object_mut()) {
        map.insert("set_cookie".into(), json!(cookie));
    }
    (status, body)
}

/// `/authorize` with the ticket of a `verify` answer and its binding cookie.
async fn tokens(s: &Server, verified: &Value) -> std::collections::HashMap<String, String> {
    let ticket = verified["login_ticket"].as_str().unwrap();
    let r = client()
        .get(format!("{}/authorize", s.root))
        .header(
            "cookie",
            verified["set_cookie"].as_str().unwrap_or_default(),
        )
        .query(&[
            ("client_id", "app"),
            ("response_type", "token id_token"),
            ("redirect_uri", CALLBACK),
            ("scope", "openid profile"),
            ("state", "s"),
            ("nonce", "n"),
            ("login_ticket", ticket),
        ])
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    serde_urlencoded::from_str(location.split_once('#').unwrap().1).unwrap()
}

fn verifies_against(jwks: &Value, token: &str) -> bool {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let key = &jwks["keys"][0];
    let n = BigUint::from_bytes_be(&b64.decode(key["n"].as_str().unwrap()).unwrap());
    let e = BigUint::from_bytes_be(&b64.decode(key["e"].as_str().unwrap()).unwrap());
    let public = VerifyingKey::<Sha256>::new(RsaPublicKey::new(n, e).unwrap());
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = Signature::try_from(b64.decode(sig).unwrap().as_slice()).unwrap();
    public.verify(input.as_bytes(), &sig).is_ok()
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

#[tokio::test]
async fn a_crash_between_start_and_verify_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let port = free_port();
    let (a, b, c) = ("+12015550123", "+31612345678", "+447400123456");

    let first = launch(dir.path(), port, "first.log", &db).await;
    // A finished login whose tokens must outlive the process.
    assert_eq!(start(&first, c).await, 200);
    let (status, body) = verify(&first, c, &code(&first, c).await).await;
    assert_eq!(status, 200);
    let old = tokens(&first, &body).await;
    // A login half done, and a code with two wrong tries spent.
    assert_eq!(start(&first, a).await, 200);
    let code_a = code(&first, a).await;
    assert_eq!(start(&first, b).await, 200);
    let code_b = code(&first, b).await;
    for _ in 0..2 {
        assert_eq!(verify(&first, b, wrong(&code_b)).await.0, 403);
    }
    drop(first); // SIGKILL: no graceful shutdown.

    let second = launch(dir.path(), port, "second.log", &db).await;
    let (status, body) = verify(&second, a, &code_a).await;
    assert_eq!(
        status, 200,
        "the code sent before the crash still works: {body}"
    );
    let fresh = tokens(&second, &body).await;
    assert!(fresh.contains_key("id_token"));
    assert_eq!(start(&second, a).await, 429, "the send interval survived");
    assert_eq!(
        verify(&second, b, wrong(&code_b)).await.0,
        403,
        "third wrong try"
    );
    assert_eq!(
        verify(&second, b, &code_b).await.0,
        429,
        "the attempt counter survived"
    );

    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", second.root))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        verifies_against(&jwks, &old["id_token"]),
        "an ID token from before the restart validates"
    );
    assert_eq!(
        old["access_token"].split('.').count(),
        5,
        "no audience: an opaque access token, which /userinfo still reads below"
    );
    let info = client()
        .get(format!("{}/userinfo", second.root))
        .bearer_auth(&old["access_token"])
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    drop(second);

    let logs = ["first.log", "second.log"]
        .iter()
        .map(|f| std::fs::read_to_string(dir.path().join(f)).unwrap())
        .collect::<String>();
    assert!(logs.contains("+1201*****23"), "{logs}");
    for secret in [
        a,
        b,
        c,
        &code_a,
        &code_b,
        old["id_token"].rsplit('.').next().unwrap(),
        old["access_token"].rsplit('.').next().unwrap(),
    ] {
        assert!(!logs.contains(secret), "the log holds {secret}:\n{logs}");
    }
}

#[tokio::test]
async fn bad_requests_never_stop_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let port = free_port();
    let s = launch(dir.path(), port, "bad.log", &db).await;
    // A connection per request: the server may close one after refusing an oversized body,
    // and a pooled client would then fail the next request on it.
    let c = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let bodies: Vec<(&str, &str, String)> = vec![
        ("/passwordless/start", "application/json", "{".into()),
        (
            "/passwordless/start",
            "application/json",
            "x".repeat(1 << 20),
        ),
        ("/passwordless/start", "application/json", "[1,2,3]".into()),
        (
            "/passwordless/start",
            "application/json",
            r#"{"phone_number":"\u0000"}"#.into(),
        ),
        ("/co/authenticate", "text/html", "<b>".into()),
        (
            "/oauth/token",
            "application/x-www-form-urlencoded",
            "grant_type=%ZZ&client_id=app".into(),
        ),
        ("/oauth/token", "application/json", "null".into()),
    ];
    for (path, ct, body) in bodies {
        let oversized = body.len() > 16 * 1024;
        let sent = c
            .post(format!("{}{path}", s.root))
            .header("content-type", ct)
            .body(body)
            .send()
            .await;
        let r = match sent {
            Ok(r) => r,
            // The server may answer an oversized body and close before the client has finished
            // sending it; the client then sees the connection end. What matters is below: the
            // process keeps serving.
            Err(e) if oversized && e.is_request() => continue,
            Err(e) => panic!("{path} {ct}: {e}"),
        };
        assert_eq!(r.status(), 400, "{path} {ct}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"].is_string() && v["error_description"].is_string(),
            "{v}"
        );
    }
    let r = c
        .get(format!("{}/authorize?client_id=%FF%FE", s.root))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert_eq!(start(&s, "+12015550123").await, 200, "still serving");
}

/// Runs `n` copies of `f` at once, copy `i` against server `i % 2`.
async fn on_both<F, Fut>(servers: &[String; 2], n: usize, f: F) -> Vec<u16>
where
    F: Fn(String, usize) -> Fut,
    Fut: std::future::Future<Output = u16> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(f(servers[i % 2].clone(), i)))
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_database_are_one_tenant_and_a_kill_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let (port_a, port_b) = (free_port(), free_port());
    let a = launch_as(dir.path(), port_a, "a.log", &db, port_a).await;
    let b = launch_as(dir.path(), port_b, "b.log", &db, port_a).await;
    let roots = [a.root.clone(), b.root.clone()];

    // One code used eight times at once across both processes: one login.
    let phone = "+12015550146";
    assert_eq!(start(&a, phone).await, 200);
    let otp = code(&b, phone).await;
    let statuses = on_both(&roots, 8, |root, _| {
        let otp = otp.clone();
        async move {
            let s = Server::remote(root);
            verify(&s, phone, &otp).await.0
        }
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );

    // Twenty sends to one number at once: one code.
    let phone = "+12015550147";
    let statuses = on_both(&roots, 20, |root, _| async move {
        start(&Server::remote(root), phone).await.as_u16()
    })
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );

    // Forty wrong guesses at once across both: at most the three allowed tries are compared,
    // and the right code is dead afterwards.
    let phone = "+12015550150";
    assert_eq!(start(&a, phone).await, 200);
    let otp = code(&a, phone).await;
    let bad = wrong(&otp);
    let statuses = on_both(&roots, 40, |root, _| async move {
        verify(&Server::remote(root), phone, bad).await.0
    })
    .await;
    let compared = statuses.iter().filter(|s| **s == 403).count();
    assert!(compared <= 3, "{compared} compared: {statuses:?}");
    assert_eq!(
        verify(&b, phone, &otp).await.0,
        429,
        "the code had its tries"
    );

    // One refresh token spent on both at once: at most one new pair, then none.
    let phone = "+12015550151";
    assert_eq!(start(&b, phone).await, 200);
    let otp = code(&b, phone).await;
    let grant: Value = client()
        .post(format!("{}/oauth/token", a.root))
        .json(
            &json!({"grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp",
                      "client_id": "app", "username": phone, "otp": otp, "realm": "sms",
                      "scope": "openid offline_access"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = grant["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_string();
    let refresh = |root: String, token: String| async move {
        let r = client()
            .post(format!("{root}/oauth/token"))
            .json(
                &json!({"grant_type": "refresh_token", "client_id": "app", "refresh_token": token}),
            )
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json::<Value>().await.unwrap_or(Value::Null))
    };
    let tasks: Vec<_> = (0..6)
        .map(|i| tokio::spawn(refresh(roots[i % 2].clone(), first.clone())))
        .collect();
    let mut issued = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        if status == 200 {
            issued.push(body["refresh_token"].as_str().unwrap().to_string());
        } else {
            assert_eq!(body["error"], "invalid_grant", "{status} {body}");
        }
    }
    assert!(issued.len() <= 1, "{} pairs from one token", issued.len());
    for next in issued {
        for root in &roots {
            assert_eq!(
                refresh(root.clone(), next.clone()).await.0,
                403,
                "the family is revoked"
            );
        }
    }

    // A login half done on A, one wrong try spent there; A is killed (SIGKILL, no shutdown).
    let phone = "+12015550148";
    assert_eq!(start(&a, phone).await, 200);
    let otp = code(&a, phone).await;
    assert_eq!(verify(&a, phone, wrong(&otp)).await.0, 403);
    drop(a);
    // B finishes it, with everything A recorded.
    assert_eq!(start(&b, phone).await, 429, "A's send interval holds on B");
    let (status, body) = verify(&b, phone, &otp).await;
    assert_eq!(status, 200, "{body}");
    let tokens = tokens(&b, &body).await;
    let jwks: Value = reqwest::get(format!("{}/.well-known/jwks.json", b.root))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(verifies_against(&jwks, &tokens["id_token"]));
    let id: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tokens["id_token"].split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        id["iss"],
        format!("http://127.0.0.1:{port_a}/"),
        "one issuer"
    );
    // A comes back on its address and serves the same tenant.
    let a = launch_as(dir.path(), port_a, "a2.log", &db, port_a).await;
    let again: Value = reqwest::get(format!("{}/.well-known/jwks.json", a.root))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, jwks);
}

#[test]
fn the_development_outbox_is_not_served_beyond_loopback_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db").display().to_string();
    let config = write_config(dir.path(), 4000, &db, 4000);
    let run = |listen: &str| {
        Command::new(env!("CARGO_BIN_EXE_passwordless-tenant"))
            .arg("--config")
            .arg(&config)
            .args(["--listen", listen])
            .output()
            .unwrap()
    };
    // Every address, not only loopback: refused before anything listens.
    for any in ["0.0.0.0:0", "[::]:0"] {
        let out = run(any);
        assert!(!out.status.success(), "{any}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("sms.dev_outbox") && err.contains("/dev/sms"),
            "{any}: {err}"
        );
    }
}

#[tokio::test]
async fn the_rotate_signing_key_command_publishes_then_promotes() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::database(dir.path()).await;
    let config = write_config(dir.path(), 4000, &db, 4000);
    let before = passwordless_tenant::Tenant::new(
        passwordless_tenant::config::Config::load(&config).unwrap(),
    )
    .await
    .unwrap()
    .keys
    .kid();
    let out = Command::new(env!("CARGO_BIN_EXE_passwordless-tenant"))
        .arg("--config")
        .arg(&config)
        .args(["rotate-signing-key", "--publish-secs", "0"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning: --publish-secs 0"));
    let after = passwordless_tenant::Tenant::new(
        passwordless_tenant::config::Config::load(&config).unwrap(),
    )
    .await
    .unwrap();
    let now = after.keys.kid();
    assert_ne!(now, before);
    assert!(
        said.contains(&format!(
            "the signing key is now {now}; {before} stays published"
        )),
        "{said}"
    );
    let kids: Vec<Value> = after.keys.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids, [json!(now), json!(before)]);
}
