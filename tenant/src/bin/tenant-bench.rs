//! `tenant-bench`: complete logins against a release tenant on loopback, from this separate
//! process, with a bounded number of logins. Prints logins/s, latency percentiles, the tenant's
//! peak memory, and checks the database for counter drift afterwards. Run it with
//! `cargo xtask bench tenant`.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::Semaphore;

const ORIGIN: &str = "http://bench.test";
const CALLBACK: &str = "http://bench.test/cb";

struct Args {
    tenant_bin: PathBuf,
    logins: usize,
    concurrency: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        tenant_bin: PathBuf::new(),
        logins: 2000,
        concurrency: 16,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--tenant-bin" => a.tenant_bin = value.into(),
            "--logins" => a.logins = value.parse().map_err(|e| format!("--logins: {e}"))?,
            "--concurrency" => {
                a.concurrency = value.parse().map_err(|e| format!("--concurrency: {e}"))?
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.tenant_bin.as_os_str().is_empty() {
        return Err("usage: tenant-bench --tenant-bin PATH [--logins N] [--concurrency N]".into());
    }
    Ok(a)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

struct Timed {
    requests: Vec<f64>,
    login: f64,
}

async fn login(
    c: &reqwest::Client,
    root: &str,
    phone: &str,
    via_token: bool,
) -> Result<Timed, String> {
    let started = Instant::now();
    let mut requests = Vec::with_capacity(4);
    let mut timed = |t: Instant| requests.push(t.elapsed().as_secs_f64() * 1000.0);
    let t = Instant::now();
    let r = c
        .post(format!("{root}/passwordless/start"))
        .json(&json!({"client_id": "bench", "connection": "sms", "phone_number": phone, "send": "code"}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!(
            "start: {} {}",
            r.status(),
            r.text().await.unwrap_or_default()
        ));
    }
    timed(t);
    let t = Instant::now();
    let outbox: Value = c
        .get(format!("{root}/dev/sms"))
        .query(&[("to", phone)])
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    timed(t);
    let code = outbox[0]["code"]
        .as_str()
        .ok_or("no SMS in the outbox")?
        .to_string();
    if via_token {
        let t = Instant::now();
        let r = c
            .post(format!("{root}/oauth/token"))
            .json(&json!({"grant_type": "http://auth0.com/oauth/grant-type/passwordless/otp", "client_id": "bench",
                          "username": phone, "otp": code, "realm": "sms", "scope": "openid profile"}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        body["id_token"].as_str().ok_or(format!("token: {body}"))?;
        timed(t);
    } else {
        let t = Instant::now();
        let r = c
            .post(format!("{root}/co/authenticate"))
            .header("origin", ORIGIN)
            .json(&json!({"client_id": "bench", "credential_type": "http://auth0.com/oauth/grant-type/passwordless/otp",
                          "username": phone, "otp": code, "realm": "sms"}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let body: Value = r.json().await.map_err(|e| e.to_string())?;
        let ticket = body["login_ticket"]
            .as_str()
            .ok_or(format!("co/authenticate: {body}"))?
            .to_string();
        timed(t);
        let t = Instant::now();
        let r = c
            .get(format!("{root}/authorize"))
            .query(&[
                ("client_id", "bench"),
                ("response_type", "token id_token"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid profile"),
                ("state", "s"),
                ("nonce", "n"),
                ("login_ticket", &ticket),
            ])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let location = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !location.contains("id_token=") {
            return Err(format!("authorize: {location}"));
        }
        timed(t);
    }
    Ok(Timed {
        requests,
        login: started.elapsed().as_secs_f64() * 1000.0,
    })
}

#[tokio::main]
async fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let dir = std::env::temp_dir().join(format!("tenant-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = dir.join("bench.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[tenant]
name = "bench"
issuer = "http://127.0.0.1:{port}"
database = "bench.db"

[[clients]]
client_id = "bench"
name = "Bench"
callbacks = ["{CALLBACK}"]
web_origins = ["{ORIGIN}"]

[sms]
enabled_clients = ["bench"]
template = "Your code: @@password@@"

# One load generator is one IP: the per-IP send limit would stop it after 50.
[limits]
start_per_ip_per_hour = 100000000
"#
        ),
    )
    .unwrap();
    let mut child = Command::new(&a.tenant_bin)
        .arg("--config")
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .expect("start the tenant");
    let root = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(a.concurrency)
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..200 {
        if client
            .get(format!("{root}/.well-known/jwks.json"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the tenant did not start");

    println!("tenant-bench: {} complete logins (half redirect flow, half token endpoint), {} concurrent, release build on loopback", a.logins, a.concurrency);
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(a.logins);
    for i in 0..a.logins {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let c = client.clone();
        let root = root.clone();
        tasks.push(tokio::spawn(async move {
            let phone = format!("+3161{:07}", i);
            let r = login(&c, &root, &phone, i % 2 == 1).await;
            drop(permit);
            r
        }));
    }
    let mut requests = Vec::new();
    let mut logins = Vec::new();
    let mut errors = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(timed) => {
                requests.extend(timed.requests);
                logins.push(timed.login);
            }
            Err(e) => errors.push(e),
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let peak = peak_memory_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    requests.sort_by(f64::total_cmp);
    logins.sort_by(f64::total_cmp);

    let db = rusqlite::Connection::open(dir.join("bench.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let users = count("SELECT COUNT(*) FROM users");
    let outbox = count("SELECT COUNT(*) FROM outbox");
    let used = count("SELECT COUNT(*) FROM codes WHERE used = 1 AND attempts = 1");
    let tickets = count("SELECT COUNT(*) FROM tickets WHERE used = 1");
    let ok = logins.len();

    println!(
        "  completed logins      {ok} of {} ({} errors)",
        a.logins,
        errors.len()
    );
    println!(
        "  throughput            {:.0} logins/s ({:.2} s)",
        ok as f64 / elapsed,
        elapsed
    );
    println!(
        "  per request (ms)      p50 {:.2}  p99 {:.2}  max {:.2}  ({} requests)",
        percentile(&requests, 0.5),
        percentile(&requests, 0.99),
        percentile(&requests, 1.0),
        requests.len()
    );
    println!(
        "  per login (ms)        p50 {:.2}  p99 {:.2}",
        percentile(&logins, 0.5),
        percentile(&logins, 0.99)
    );
    match peak {
        Some(kib) => println!(
            "  tenant peak memory    {:.1} MiB (VmHWM)",
            kib as f64 / 1024.0
        ),
        None => println!("  tenant peak memory    unavailable"),
    }
    let drift = [
        ("users created", users, ok as i64),
        ("messages in the outbox", outbox, a.logins as i64),
        ("codes used on the first try", used, ok as i64),
        ("login tickets redeemed", tickets, (ok as i64 + 1) / 2),
    ];
    let mut drifted = false;
    for (what, got, want) in drift {
        let mark = if got == want {
            "ok"
        } else {
            drifted = true;
            "DRIFT"
        };
        println!("  {what:<28} {got} (expected {want}) {mark}");
    }
    for e in errors.iter().take(5) {
        println!("  error: {e}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    if drifted || !errors.is_empty() {
        std::process::exit(1);
    }
}
