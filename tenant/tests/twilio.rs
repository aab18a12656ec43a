//! The Twilio provider against a fake Twilio on loopback that records requests and answers
//! each error the provider must handle.

mod common;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Form, Json, Router};
use common::*;
use passwordless_tenant::config::{Config, ProviderKind, TwilioConfig};
use serde_json::{json, Value};

#[derive(Clone)]
struct Answer {
    status: u16,
    body: Value,
    delay: Duration,
}

fn ok() -> Answer {
    Answer {
        status: 201,
        body: json!({"sid": "SM0123", "status": "queued"}),
        delay: Duration::ZERO,
    }
}

fn twilio_error(status: u16, code: u32, message: &str) -> Answer {
    Answer {
        status,
        body: json!({"code": code, "message": message, "status": status}),
        delay: Duration::ZERO,
    }
}

#[derive(Debug, Clone)]
struct Recorded {
    account: String,
    authorization: String,
    form: HashMap<String, String>,
}

#[derive(Clone, Default)]
struct Fake {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

async fn messages(
    State(fake): State<Fake>,
    Path(account): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    fake.requests.lock().unwrap().push(Recorded {
        account,
        authorization: headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
        form,
    });
    let answer = fake.answers.lock().unwrap().pop_front().unwrap_or_else(ok);
    tokio::time::sleep(answer.delay).await;
    (
        StatusCode::from_u16(answer.status).unwrap(),
        Json(answer.body),
    )
}

async fn fake_twilio(answers: Vec<Answer>) -> (Fake, String) {
    let fake = Fake {
        answers: Arc::new(Mutex::new(answers.into())),
        ..Fake::default()
    };
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            post(messages),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (fake, url)
}

fn use_twilio(c: &mut Config, url: &str, change: impl FnOnce(&mut TwilioConfig)) {
    c.sms.provider = ProviderKind::Twilio;
    let mut tw = TwilioConfig {
        account_sid: Some("AC0000000000000000000000000000test".into()),
        account_sid_env: "LPW_UNSET_SID".into(),
        auth_token: Some("secret-token".into()),
        auth_token_env: "LPW_UNSET_TOKEN".into(),
        from: Some("+15005550006".into()),
        messaging_service_sid: None,
        api_base_url: url.into(),
        timeout_secs: 10,
    };
    change(&mut tw);
    c.sms.twilio = Some(tw);
}

#[tokio::test]
async fn sends_form_encoded_with_basic_auth() {
    let (fake, url) = fake_twilio(vec![]).await;
    let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
    let r = h.start(PHONE).await;
    r.assert_ok();
    let reqs = fake.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!(req.account, "AC0000000000000000000000000000test");
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD
        .encode("AC0000000000000000000000000000test:secret-token");
    assert_eq!(req.authorization, format!("Basic {expected}"));
    assert_eq!(req.form["To"], PHONE);
    assert_eq!(req.form["From"], "+15005550006");
    assert!(
        req.form["Body"].starts_with("Your code is "),
        "{:?}",
        req.form
    );
    assert!(!req.form.contains_key("MessagingServiceSid"));
    assert_eq!(
        h.get("/dev/sms", &[]).await.status,
        StatusCode::NOT_FOUND,
        "no outbox with Twilio"
    );
}

#[tokio::test]
async fn a_messaging_service_replaces_the_from_number() {
    let (fake, url) = fake_twilio(vec![]).await;
    let h = harness_with(|c| {
        use_twilio(c, &url, |tw| {
            tw.from = None;
            tw.messaging_service_sid = Some("MG0000000000000000000000000000test".into());
        })
    })
    .await;
    assert_eq!(h.start(PHONE).await.status, StatusCode::OK);
    let form = fake.requests.lock().unwrap()[0].form.clone();
    assert_eq!(
        form["MessagingServiceSid"],
        "MG0000000000000000000000000000test"
    );
    assert!(!form.contains_key("From"));
}

#[tokio::test]
async fn credentials_can_come_from_the_environment() {
    let (fake, url) = fake_twilio(vec![]).await;
    std::env::set_var("LPW_TEST_SID_ENV", "ACfromenv");
    std::env::set_var("LPW_TEST_TOKEN_ENV", "tokenfromenv");
    let h = harness_with(|c| {
        use_twilio(c, &url, |tw| {
            tw.account_sid = None;
            tw.auth_token = None;
            tw.account_sid_env = "LPW_TEST_SID_ENV".into();
            tw.auth_token_env = "LPW_TEST_TOKEN_ENV".into();
        })
    })
    .await;
    assert_eq!(h.start(PHONE).await.status, StatusCode::OK);
    assert_eq!(fake.requests.lock().unwrap()[0].account, "ACfromenv");
}

#[tokio::test]
async fn missing_credentials_stop_startup_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path()).await;
    use_twilio(&mut c, "http://127.0.0.1:9", |tw| tw.auth_token = None);
    let err = passwordless_tenant::Tenant::new(c)
        .await
        .err()
        .expect("must not start")
        .to_string();
    assert!(err.contains("LPW_UNSET_TOKEN"), "{err}");
}

#[tokio::test]
async fn an_invalid_number_is_the_users_error_and_still_counts() {
    let (_fake, url) = fake_twilio(vec![twilio_error(
        400,
        21211,
        "The 'To' number +12015550123 is not a valid phone number.",
    )])
    .await;
    let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
    let r = h.start(PHONE).await;
    assert_eq!(
        r.error(),
        (StatusCode::BAD_REQUEST, "sms_provider_error".into())
    );
    assert!(r.json()["error_description"]
        .as_str()
        .unwrap()
        .ends_with("(Code: 21211)"));
    h.advance(5);
    let again = h
        .post(
            "/passwordless/start",
            json!({"client_id": "app", "connection": "sms", "phone_number": PHONE}),
            &[],
        )
        .await;
    assert_eq!(
        again.error().1,
        "too_many_requests",
        "provider errors count against the limits"
    );
    let r = h.co_authenticate(PHONE, "123456").await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "no code exists for an unsent message"
    );
}

#[tokio::test]
async fn operator_errors_are_generic_for_the_user() {
    for code in [20003, 21608] {
        let (_fake, url) =
            fake_twilio(vec![twilio_error(401, code, "Authenticate: secret detail")]).await;
        let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
        let r = h.start(PHONE).await;
        assert_eq!(
            r.error(),
            (StatusCode::BAD_REQUEST, "sms_provider_error".into())
        );
        let d = r.json()["error_description"].as_str().unwrap().to_string();
        assert!(
            !d.contains("secret detail") && !d.contains("Authenticate"),
            "{d}"
        );
    }
}

#[tokio::test]
async fn too_many_concurrent_requests_is_retried_once() {
    let (fake, url) = fake_twilio(vec![twilio_error(429, 20429, "Too Many Requests")]).await;
    let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
    assert_eq!(h.start(PHONE).await.status, StatusCode::OK);
    assert_eq!(fake.requests.lock().unwrap().len(), 2);

    let (fake, url) = fake_twilio(vec![
        twilio_error(429, 20429, "busy"),
        twilio_error(429, 20429, "busy"),
    ])
    .await;
    let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
    let r = h.start(PHONE).await;
    assert_eq!(
        r.error(),
        (StatusCode::SERVICE_UNAVAILABLE, "sms_provider_error".into())
    );
    assert_eq!(fake.requests.lock().unwrap().len(), 2, "at most one retry");
}

#[tokio::test]
async fn server_errors_and_malformed_replies_are_unavailable_without_retry() {
    for answer in [
        twilio_error(500, 0, "boom"),
        Answer {
            status: 201,
            body: json!({"unexpected": true}),
            delay: Duration::ZERO,
        },
        Answer {
            status: 502,
            body: json!("<html>bad gateway</html>"),
            delay: Duration::ZERO,
        },
    ] {
        let (fake, url) = fake_twilio(vec![answer.clone()]).await;
        let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
        let r = h.start(PHONE).await;
        assert_eq!(
            r.error(),
            (StatusCode::SERVICE_UNAVAILABLE, "sms_provider_error".into()),
            "{}",
            answer.body
        );
        assert_eq!(
            fake.requests.lock().unwrap().len(),
            1,
            "a possibly-sent message is not retried"
        );
        assert_eq!(
            h.co_authenticate(PHONE, "123456").await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn a_slow_provider_times_out() {
    let slow = Answer {
        delay: Duration::from_secs(5),
        ..ok()
    };
    let (fake, url) = fake_twilio(vec![slow]).await;
    let h = harness_with(|c| use_twilio(c, &url, |tw| tw.timeout_secs = 1)).await;
    let started = std::time::Instant::now();
    let r = h.start(PHONE).await;
    assert_eq!(
        r.error(),
        (StatusCode::SERVICE_UNAVAILABLE, "sms_provider_error".into())
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "bounded by the timeout"
    );
    assert_eq!(
        fake.requests.lock().unwrap().len(),
        1,
        "a timeout is never retried"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
    let r = h.start(PHONE).await;
    assert_eq!(
        r.error(),
        (StatusCode::SERVICE_UNAVAILABLE, "sms_provider_error".into())
    );
}

#[tokio::test]
async fn provider_errors_naming_the_number_are_masked_in_logs_and_answers() {
    let logs = captured_logs();
    let said = format!("The 'To' number {PHONE} is not a valid phone number.");
    let (_fake, url) = fake_twilio(vec![
        twilio_error(400, 21211, &said),
        twilio_error(
            400,
            21608,
            &format!("{PHONE} is unverified. Trial accounts send to verified numbers only."),
        ),
        twilio_error(500, 30001, &format!("Queue overflow for {PHONE}")),
    ])
    .await;
    let h = harness_with(|c| use_twilio(c, &url, |_| {})).await;
    for _ in 0..3 {
        let r = h.start(PHONE).await;
        assert!(
            r.status.is_client_error() || r.status.is_server_error(),
            "{}",
            r.status
        );
        let body = String::from_utf8_lossy(&r.body).to_string();
        assert!(!body.contains(PHONE), "the answer holds the number: {body}");
    }
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("SMS not sent"),
        "the failures are logged: {logs}"
    );
    assert!(logs.contains("+1201*****23"), "masked: {logs}");
    assert!(!logs.contains(PHONE), "a full number in the log: {logs}");
}

/// The code in the body of the `i`-th message the fake received.
fn sent_code(fake: &Fake, i: usize) -> String {
    let body = fake.requests.lock().unwrap()[i].form["Body"].clone();
    body.rsplit(' ').next().unwrap().to_string()
}

#[tokio::test]
async fn with_sign_ups_disabled_an_unknown_number_answers_in_a_registered_ones_time() {
    // A provider that takes 60 ms, as a real one takes hundreds.
    let slow = Answer {
        delay: Duration::from_millis(60),
        ..ok()
    };
    let (fake, url) = fake_twilio(vec![slow; 64]).await;
    let registered = "+12015550169";
    let open = harness_with(|c| use_twilio(c, &url, |_| {})).await;
    open.start(registered).await.assert_ok();
    open.send(co_request(registered, &sent_code(&fake, 0)))
        .await
        .assert_ok();
    let h = another_instance(
        &open,
        |c| {
            use_twilio(c, &url, |_| {});
            c.sms.disable_signup = true;
            c.limits.start_per_phone_per_hour = 1000;
        },
        |t| t,
    )
    .await;
    // Alternating, so that the machine's moods fall on both alike.
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..12 {
        for (phone, times) in [(registered, &mut known), ("+12015550170", &mut unknown)] {
            h.advance(31);
            let started = std::time::Instant::now();
            let r = h.send(start_request(phone)).await;
            times.push(started.elapsed());
            r.assert_ok();
            assert_eq!(r.json()["phone_number"], phone, "round {i}");
        }
    }
    assert_eq!(
        fake.requests.lock().unwrap().len(),
        1 + 12,
        "only the registered number's messages were sent"
    );
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (known, unknown) = (median(&mut known), median(&mut unknown));
    // Without the decoy's wait the unknown number answers in a few ms against 60+.
    assert!(
        unknown * 10 >= known * 7 && unknown <= known * 3 / 2 + Duration::from_millis(20),
        "median answer: registered {known:?}, unknown {unknown:?}"
    );
}
