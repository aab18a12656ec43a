//! Two tenant instances on one database, as behind a load balancer, on a multi-thread runtime:
//! every single-use and counting decision holds across them. `cargo xtask test` runs this file
//! on SQLite and on PostgreSQL. Requests alternate between the instances and run in parallel.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::*;
use passwordless_tenant::{app, Tenant};
use serde_json::{json, Value};

/// Runs `n` copies of `f` at once, copy `i` on instance `i % 2`; returns the statuses.
async fn on_both<F, Fut>(pair: &Arc<(Harness, Harness)>, n: usize, f: F) -> Vec<StatusCode>
where
    F: Fn(Arc<(Harness, Harness)>, usize) -> Fut,
    Fut: std::future::Future<Output = StatusCode> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(pair.clone(), i))).collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses
}

fn pick(pair: &(Harness, Harness), i: usize) -> &Harness {
    if i.is_multiple_of(2) {
        &pair.0
    } else {
        &pair.1
    }
}

fn count(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// A `/co/authenticate` from its own address (an attacker has many).
async fn verify_from(h: &Harness, i: usize, phone: &str, otp: &str) -> StatusCode {
    let ip = format!("10.0.{}.{}", i / 250, i % 250 + 1);
    h.send_from(&ip, co_request(phone, otp)).await.status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_uses_of_one_code_on_two_instances_log_in_once() {
    let pair = Arc::new(pair_with(|_| {}).await);
    // Several rounds, each on its own number: a race lost once in a while still shows.
    for round in 0..6 {
        let phone = format!("+1201555014{round}");
        assert_eq!(pair.0.start(&phone).await.status, StatusCode::OK);
        let code = pair.1.latest_code(&phone).await;
        let statuses = on_both(&pair, 8, move |p, i| {
            let (code, phone) = (code.clone(), phone.clone());
            async move { verify_from(pick(&p, i), i, &phone, &code).await }
        })
        .await;
        assert_eq!(
            count(&statuses, StatusCode::OK),
            1,
            "round {round}: {statuses:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_concurrent_wrong_guesses_compare_at_most_the_allowed_tries() {
    let pair = Arc::new(pair_with(|c| c.limits.failures_per_phone = 1000).await);
    for round in 0..4 {
        let phone = format!("+1201555015{round}");
        pair.0.start(&phone).await;
        let code = pair.0.latest_code(&phone).await;
        let wrong = wrong(&code);
        let statuses = on_both(&pair, 40, {
            let phone = phone.clone();
            move |p, i| {
                let phone = phone.clone();
                async move { verify_from(pick(&p, i), i + 40 * round, &phone, wrong).await }
            }
        })
        .await;
        // 403 is a compared (wrong) code; 429 is refused before any comparison.
        let compared = count(&statuses, StatusCode::FORBIDDEN);
        assert!(
            compared <= 3,
            "round {round}: {compared} tries compared: {statuses:?}"
        );
        assert_eq!(
            compared + count(&statuses, StatusCode::TOO_MANY_REQUESTS),
            40
        );
        let right = pair.1.co_authenticate(&phone, &code).await;
        assert_eq!(
            right.error(),
            (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts".into()),
            "the code had its tries"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_sends_to_one_number_send_one_code() {
    let pair = Arc::new(pair_with(|_| {}).await);
    for round in 0..6 {
        let phone = format!("+1201555016{round}");
        let statuses = on_both(&pair, 20, {
            let phone = phone.clone();
            move |p, i| {
                let phone = phone.clone();
                async move {
                    let body =
                        json!({"client_id": "app", "connection": "sms", "phone_number": phone});
                    let req = Request::post("/passwordless/start")
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(body.to_string()))
                        .unwrap();
                    pick(&p, i)
                        .send_from(&format!("203.0.113.{}", i + 1), req)
                        .await
                        .status
                }
            }
        })
        .await;
        assert_eq!(
            count(&statuses, StatusCode::OK),
            1,
            "round {round}: {statuses:?}"
        );
        assert_eq!(count(&statuses, StatusCode::TOO_MANY_REQUESTS), 19);
        let sms = pair
            .1
            .get(&format!("/dev/sms?to=%2B{}", &phone[1..]), &[])
            .await
            .json();
        assert_eq!(sms.as_array().unwrap().len(), 1, "one message: {sms}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_refresh_token_used_on_both_at_once_gives_at_most_one_pair_then_none() {
    let pair = Arc::new(pair_with(|c| c.clients[0].refresh_tokens = true).await);
    pair.0.start(PHONE).await;
    let code = pair.0.latest_code(PHONE).await;
    let r = pair
        .1
        .otp_grant(PHONE, &code, "openid offline_access")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let first = r.json()["refresh_token"].as_str().unwrap().to_string();
    let refresh =
        |rt: &str| json!({"grant_type": "refresh_token", "client_id": "app", "refresh_token": rt});
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (p, body) = (pair.clone(), refresh(&first));
            tokio::spawn(async move {
                let r = pick(&p, i).post("/oauth/token", body, &[]).await;
                (r.status, r.json())
            })
        })
        .collect();
    let mut issued: Vec<Value> = Vec::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::OK => issued.push(body),
            StatusCode::FORBIDDEN => assert_eq!(body["error"], "invalid_grant", "{body}"),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(issued.len() <= 1, "{} pairs from one token", issued.len());
    // The reuse revoked the family: whatever was issued no longer refreshes.
    for body in &issued {
        let next = body["refresh_token"].as_str().unwrap();
        for h in [&pair.0, &pair.1] {
            let r = h.post("/oauth/token", refresh(next), &[]).await;
            assert_eq!(r.error(), (StatusCode::FORBIDDEN, "invalid_grant".into()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_started_on_one_instance_finishes_on_the_other() {
    let (a, b) = pair_with(|_| {}).await;
    assert_eq!(a.start(PHONE).await.status, StatusCode::OK);
    let code = b.latest_code(PHONE).await;
    let r = b.co_authenticate(PHONE, &code).await;
    assert_eq!(r.status, StatusCode::OK);
    let ticket = r.json()["login_ticket"].as_str().unwrap().to_string();
    // The ticket is single-use on both.
    let r = a.authorize(&ticket, CALLBACK).await;
    assert_eq!(r.status, StatusCode::FOUND);
    let location = r.header("location").unwrap().to_string();
    assert!(location.contains("id_token="), "{location}");
    let again = b.authorize(&ticket, CALLBACK).await;
    assert!(
        again
            .header("location")
            .unwrap_or("")
            .contains("error=access_denied"),
        "{:?}",
        again.header("location")
    );
    // Both publish the one key, and either serves the access token's profile.
    let params: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(location.split_once('#').unwrap().1).unwrap();
    assert_eq!(
        a.get("/.well-known/jwks.json", &[]).await.json(),
        b.get("/.well-known/jwks.json", &[]).await.json()
    );
    let bearer = format!("Bearer {}", params["access_token"]);
    let info = b.get("/userinfo", &[("authorization", &bearer)]).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.json()["phone_number"], PHONE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_booting_together_on_an_empty_database_agree_on_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let base = config(dir.path()).await;
    let boots: Vec<_> = (0..4)
        .map(|_| {
            let config = base.clone();
            tokio::spawn(async move { Tenant::new(config).await.map_err(|e| e.to_string()) })
        })
        .collect();
    let mut kids = Vec::new();
    for b in boots {
        let tenant = b.await.unwrap().expect("every instance starts");
        kids.push(tenant.keys.jwks()["keys"][0]["kid"].clone());
    }
    assert!(kids.windows(2).all(|w| w[0] == w[1]), "{kids:?}");
    // And a fifth, later, finds the schema current and the same key.
    let later = Tenant::new(base).await.unwrap();
    assert_eq!(later.keys.jwks()["keys"][0]["kid"], kids[0]);
    drop(app(later));
}
