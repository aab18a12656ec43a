//! The ID-token and response matrix (browser, WebCrypto): tokens this test signs itself with a
//! key it generates. Every tampered case must end in `authorization_error`, never
//! `authenticated`.
#![cfg(target_arch = "wasm32")]

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use leptos_passwordless::webauth::{StaticJwks, WebAuth};
use leptos_passwordless::{browser, Lock, LockConfig, LockOptions};
use serde_json::{json, Value};

/// The widget's JSON from serde_json's (the tests write theirs with `json!`), and back.
fn json(v: &Value) -> leptos_passwordless::json::Json {
    leptos_passwordless::json::Json::parse(&v.to_string()).unwrap()
}

fn value(j: &leptos_passwordless::json::Json) -> Value {
    serde_json::from_str(&j.to_string()).unwrap()
}
use sha2::{Digest, Sha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const ISSUER: &str = "https://tenant.test/";

fn subtle() -> web_sys::SubtleCrypto {
    web_sys::window().unwrap().crypto().unwrap().subtle()
}

fn algorithm() -> js_sys::Object {
    js_sys::JSON::parse(r#"{"name":"RSASSA-PKCS1-v1_5","hash":"SHA-256","modulusLength":2048,"publicExponent":[1,0,1]}"#)
        .unwrap()
        .unchecked_into()
}

/// A WebCrypto RSA key pair and its public JWK (with `kid`).
struct Signer {
    private: web_sys::CryptoKey,
    jwk: Value,
}

impl Signer {
    async fn new(kid: &str) -> Self {
        let alg = algorithm();
        // publicExponent must be a Uint8Array.
        js_sys::Reflect::set(
            &alg,
            &"publicExponent".into(),
            &js_sys::Uint8Array::from(&[1u8, 0, 1][..]),
        )
        .unwrap();
        let usages = js_sys::Array::of2(&"sign".into(), &"verify".into());
        let pair = JsFuture::from(
            subtle()
                .generate_key_with_object(&alg, true, &usages)
                .unwrap(),
        )
        .await
        .unwrap();
        let get = |k: &str| -> web_sys::CryptoKey {
            js_sys::Reflect::get(&pair, &k.into())
                .unwrap()
                .unchecked_into()
        };
        let exported = JsFuture::from(subtle().export_key("jwk", &get("publicKey")).unwrap())
            .await
            .unwrap();
        let mut jwk: Value = serde_json::from_str(
            &js_sys::JSON::stringify(&exported)
                .unwrap()
                .as_string()
                .unwrap(),
        )
        .unwrap();
        jwk["kid"] = json!(kid);
        jwk["alg"] = json!("RS256");
        jwk["use"] = json!("sig");
        Self {
            private: get("privateKey"),
            jwk,
        }
    }

    async fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let data = input.clone().into_bytes();
        let sig = JsFuture::from(
            subtle()
                .sign_with_str_and_u8_array("RSASSA-PKCS1-v1_5", &self.private, &data)
                .unwrap(),
        )
        .await
        .unwrap();
        let sig = js_sys::Uint8Array::new(&sig).to_vec();
        format!("{input}.{}", B64.encode(sig))
    }
}

fn at_hash(access_token: &str) -> String {
    B64.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha256::digest([pad(0x36), msg.to_vec()].concat());
    Sha256::digest([pad(0x5c), inner.to_vec()].concat()).to_vec()
}

/// A Lock over pinned keys, recording the names and payloads of its events.
struct Harness {
    lock: Lock,
    events: Arc<Mutex<Vec<(String, Value)>>>,
}

fn harness(jwks: Value, leeway: u32) -> Harness {
    harness_with(jwks, |o| o.leeway = leeway)
}

/// The client every test logs in as: tenant `https://tenant.test`, no automatic hash parsing.
fn test_config(change: impl FnOnce(&mut LockOptions)) -> LockConfig {
    let mut options = LockOptions::default();
    options.auth.auto_parse_hash = false;
    options.auth.redirect_url = Some("https://app.test/cb".into());
    change(&mut options);
    LockConfig::new("app", "https://tenant.test", options).unwrap()
}

fn harness_with(jwks: Value, change: impl FnOnce(&mut LockOptions)) -> Harness {
    let config = test_config(change);
    let lock = Lock::with_auth(WebAuth::with_jwks(
        config,
        Arc::new(StaticJwks(json(&jwks))),
    ));
    let events: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let sink = events.clone();
    lock.on_any(move |e| {
        sink.lock()
            .unwrap()
            .push((e.name().to_string(), value(&e.payload())))
    });
    Harness { lock, events }
}

impl Harness {
    /// Feeds a fragment and returns the final event's name and payload.
    async fn resume(&self, fragment: &str) -> (String, Value) {
        self.events.lock().unwrap().clear();
        self.lock.resume(fragment).await;
        let events = self.events.lock().unwrap().clone();
        assert!(
            !events.iter().any(|(n, _)| n == "authenticated")
                || events.last().unwrap().0 == "authenticated"
        );
        events
            .last()
            .cloned()
            .unwrap_or_else(|| ("(none)".into(), Value::Null))
    }
}

fn claims(nonce: &str, now: i64, access_token: &str) -> Value {
    json!({"iss": ISSUER, "sub": "sms|1", "aud": "app", "iat": now, "exp": now + 3600,
           "nonce": nonce, "at_hash": at_hash(access_token)})
}

fn fragment(access_token: &str, id_token: &str, state: &str) -> String {
    format!("#access_token={access_token}&id_token={id_token}&token_type=Bearer&expires_in=7200&state={state}")
}

#[wasm_bindgen_test]
async fn every_tampered_response_is_an_authorization_error() {
    let good_key = Signer::new("k1").await;
    let attacker = Signer::new("k2").await;
    let h = harness(json!({"keys": [good_key.jwk.clone()]}), 60);
    let auth = h.lock.auth();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "k1"});
    let at = "access-token-value";
    let now = browser::now();

    // The control: a correct response is authenticated.
    let tx = auth.new_transaction().unwrap();
    let token = good_key.sign(&header, &claims(&tx.nonce, now, at)).await;
    let (name, payload) = h.resume(&fragment(at, &token, &tx.state)).await;
    assert_eq!(name, "authenticated", "{payload}");
    assert_eq!(payload["idTokenPayload"]["sub"], "sms|1");
    // Replayed: the transaction was read once.
    let (name, _) = h.resume(&fragment(at, &token, &tx.state)).await;
    assert_eq!(name, "authorization_error", "a replayed response");

    type Case = (&'static str, Box<dyn Fn(&mut Value, &mut Value)>);
    let claim_cases: Vec<Case> = vec![
        (
            "wrong iss",
            Box::new(|_, c| c["iss"] = json!("https://evil.test/")),
        ),
        (
            "aud without the client",
            Box::new(|_, c| c["aud"] = json!("other")),
        ),
        (
            "several audiences without azp",
            Box::new(|_, c| c["aud"] = json!(["app", "other"])),
        ),
        (
            "missing nonce",
            Box::new(|_, c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
        ),
        (
            "wrong nonce",
            Box::new(|_, c| c["nonce"] = json!("not-the-nonce")),
        ),
        (
            "at_hash mismatch",
            Box::new(|_, c| c["at_hash"] = json!(at_hash("another-token"))),
        ),
        (
            // OIDC Core 3.2.2.10: required beside an access token from /authorize.
            "no at_hash beside the access token",
            Box::new(|_, c| {
                c.as_object_mut().unwrap().remove("at_hash");
            }),
        ),
        (
            "exp 61 s past with leeway 60",
            Box::new(move |_, c| c["exp"] = json!(now - 61)),
        ),
        (
            "missing exp",
            Box::new(|_, c| {
                c.as_object_mut().unwrap().remove("exp");
            }),
        ),
        (
            "jku pointing elsewhere",
            Box::new(|h, _| h["jku"] = json!("https://evil.test/jwks.json")),
        ),
        (
            "x5u pointing elsewhere",
            Box::new(|h, _| h["x5u"] = json!("https://evil.test/cert.pem")),
        ),
    ];
    for (case, change) in claim_cases {
        let tx = auth.new_transaction().unwrap();
        let (mut hd, mut cl) = (header.clone(), claims(&tx.nonce, now, at));
        change(&mut hd, &mut cl);
        let token = good_key.sign(&hd, &cl).await;
        let (name, payload) = h.resume(&fragment(at, &token, &tx.state)).await;
        assert_eq!(name, "authorization_error", "{case}: {payload}");
        assert_eq!(payload["error"], "invalid_token", "{case}");
    }

    // Signature and key cases.
    let tx = auth.new_transaction().unwrap();
    let none = format!(
        "{}.{}.",
        B64.encode(json!({"alg": "none"}).to_string()),
        B64.encode(claims(&tx.nonce, now, at).to_string())
    );
    assert_eq!(
        h.resume(&fragment(at, &none, &tx.state)).await.0,
        "authorization_error",
        "alg none"
    );

    let tx = auth.new_transaction().unwrap();
    let hs_input = format!(
        "{}.{}",
        B64.encode(json!({"alg": "HS256", "kid": "k1"}).to_string()),
        B64.encode(claims(&tx.nonce, now, at).to_string())
    );
    let public_key_bytes = good_key.jwk["n"].as_str().unwrap().as_bytes();
    let hs = format!(
        "{hs_input}.{}",
        B64.encode(hmac_sha256(public_key_bytes, hs_input.as_bytes()))
    );
    assert_eq!(
        h.resume(&fragment(at, &hs, &tx.state)).await.0,
        "authorization_error",
        "HS256 with the public key"
    );

    let tx = auth.new_transaction().unwrap();
    let token = good_key.sign(&header, &claims(&tx.nonce, now, at)).await;
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let mut payload = B64.decode(&parts[1]).unwrap();
    let i = payload.iter().position(|b| *b == b'1').unwrap();
    payload[i] = b'2'; // "sms|1" becomes "sms|2"
    parts[1] = B64.encode(payload);
    assert_eq!(
        h.resume(&fragment(at, &parts.join("."), &tx.state)).await.0,
        "authorization_error",
        "a flipped payload byte"
    );

    let tx = auth.new_transaction().unwrap();
    let token = attacker
        .sign(
            &json!({"alg": "RS256", "kid": "k2"}),
            &claims(&tx.nonce, now, at),
        )
        .await;
    let (name, payload) = h.resume(&fragment(at, &token, &tx.state)).await;
    assert_eq!(name, "authorization_error", "unknown kid");
    assert!(
        payload["errorDescription"].as_str().unwrap().contains("k2"),
        "{payload}"
    );

    let tx = auth.new_transaction().unwrap();
    let token = attacker
        .sign(
            &json!({"alg": "RS256", "kid": "k1"}),
            &claims(&tx.nonce, now, at),
        )
        .await;
    assert_eq!(
        h.resume(&fragment(at, &token, &tx.state)).await.0,
        "authorization_error",
        "the right kid, the wrong key"
    );

    // State cases.
    let tx = auth.new_transaction().unwrap();
    let token = good_key.sign(&header, &claims(&tx.nonce, now, at)).await;
    let without_state = format!("#access_token={at}&id_token={token}&token_type=Bearer");
    assert_eq!(
        h.resume(&without_state).await.0,
        "authorization_error",
        "state missing"
    );
    assert_eq!(
        h.resume(&fragment(at, &token, "someone-elses-state"))
            .await
            .0,
        "authorization_error",
        "state mismatched"
    );
    browser::clear_transactions();
    assert_eq!(
        h.resume(&fragment(at, &token, &tx.state)).await.0,
        "authorization_error",
        "no pending transaction"
    );

    // An error from the tenant stays text.
    let (name, payload) = h.resume("#error=access_denied&error_description=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&state=x").await;
    assert_eq!(name, "authorization_error");
    assert_eq!(payload["errorDescription"], "<img src=x onerror=alert(1)>");
}

#[wasm_bindgen_test]
async fn leeway_is_honoured_to_the_second() {
    let key = Signer::new("k1").await;
    let header = json!({"alg": "RS256", "kid": "k1"});
    let now = browser::now();
    for (leeway, expired_by, expected) in [
        (60, 59, "authenticated"),
        (60, 61, "authorization_error"),
        (0, 2, "authorization_error"),
        (300, 290, "authenticated"),
    ] {
        let h = harness(json!({"keys": [key.jwk.clone()]}), leeway);
        let tx = h.lock.auth().new_transaction().unwrap();
        let mut c = claims(&tx.nonce, now - 3600, "at");
        c["exp"] = json!(now - expired_by);
        let token = key.sign(&header, &c).await;
        let (name, payload) = h.resume(&fragment("at", &token, &tx.state)).await;
        assert_eq!(
            name, expected,
            "leeway {leeway}, expired {expired_by}s ago: {payload}"
        );
    }
}

#[wasm_bindgen_test]
async fn a_second_tabs_login_does_not_break_the_first() {
    let key = Signer::new("k1").await;
    let h = harness(json!({"keys": [key.jwk.clone()]}), 60);
    let first = h.lock.auth().new_transaction().unwrap();
    let second = h.lock.auth().new_transaction().unwrap();
    let header = json!({"alg": "RS256", "kid": "k1"});
    let now = browser::now();
    let t2 = key.sign(&header, &claims(&second.nonce, now, "at")).await;
    assert_eq!(
        h.resume(&fragment("at", &t2, &second.state)).await.0,
        "authenticated"
    );
    let t1 = key.sign(&header, &claims(&first.nonce, now, "at")).await;
    assert_eq!(
        h.resume(&fragment("at", &t1, &first.state)).await.0,
        "authenticated"
    );
}

#[wasm_bindgen_test]
async fn tokens_stay_in_memory_unless_persisting_is_asked_for() {
    let key = Signer::new("k1").await;
    let h = harness(json!({"keys": [key.jwk.clone()]}), 60);
    let tx = h.lock.auth().new_transaction().unwrap();
    let token = key
        .sign(
            &json!({"alg": "RS256", "kid": "k1"}),
            &claims(&tx.nonce, browser::now(), "at"),
        )
        .await;
    assert_eq!(
        h.resume(&fragment("at", &token, &tx.state)).await.0,
        "authenticated"
    );
    assert!(h.lock.auth().current().is_some());
    let window = web_sys::window().unwrap();
    for storage in [
        window.local_storage().unwrap().unwrap(),
        window.session_storage().unwrap().unwrap(),
    ] {
        for i in 0..storage.length().unwrap() {
            let k = storage.key(i).unwrap().unwrap();
            let v = storage.get_item(&k).unwrap().unwrap_or_default();
            assert!(!v.contains(&token), "the ID token was persisted under {k}");
        }
    }
}

#[wasm_bindgen_test]
async fn persisted_tokens_survive_a_new_instance_and_logout_clears_them() {
    let key = Signer::new("k1").await;
    let persist = |o: &mut LockOptions| o.auth.persist_tokens = Some("sessionStorage".into());
    let h = harness_with(json!({"keys": [key.jwk.clone()]}), persist);
    let tx = h.lock.auth().new_transaction().unwrap();
    let token = key
        .sign(
            &json!({"alg": "RS256", "kid": "k1"}),
            &claims(&tx.nonce, browser::now(), "at"),
        )
        .await;
    assert_eq!(
        h.resume(&fragment("at", &token, &tx.state)).await.0,
        "authenticated"
    );
    let again = harness_with(json!({"keys": [key.jwk.clone()]}), persist);
    assert_eq!(
        again.lock.auth().current().and_then(|r| r.id_token),
        Some(token.clone()),
        "restored from sessionStorage"
    );
    let pending = again.lock.auth().new_transaction().unwrap();
    again.lock.auth().clear();
    assert!(again.lock.auth().current().is_none());
    assert!(
        browser::take_transaction(&pending.state).is_none(),
        "pending transactions are gone too"
    );
    let fresh = harness_with(json!({"keys": [key.jwk.clone()]}), persist);
    assert!(
        fresh.lock.auth().current().is_none(),
        "nothing left in storage"
    );
}

/// Counts fetches, to show the cache and the one refetch on an unknown `kid`.
struct CountingJwks {
    keys: Mutex<Value>,
    fetches: Arc<std::sync::atomic::AtomicUsize>,
}

impl leptos_passwordless::webauth::JwksSource for CountingJwks {
    fn fetch(
        &self,
    ) -> leptos_passwordless::webauth::LocalBoxFuture<
        '_,
        Result<leptos_passwordless::json::Json, leptos_passwordless::LockError>,
    > {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let keys = json(&self.keys.lock().unwrap());
        Box::pin(async move { Ok(keys) })
    }
}

#[wasm_bindgen_test]
async fn jwks_is_cached_and_refetched_once_for_an_unknown_kid() {
    let k1 = Signer::new("k1").await;
    let k2 = Signer::new("k2").await;
    let fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let source = Arc::new(CountingJwks {
        keys: Mutex::new(json!({"keys": [k1.jwk.clone()]})),
        fetches: fetches.clone(),
    });
    let auth = WebAuth::with_jwks(test_config(|_| {}), source.clone());
    let count = || fetches.load(std::sync::atomic::Ordering::SeqCst);
    let now = browser::now();
    let c = claims("n", now, "at");

    let t1 = k1.sign(&json!({"alg": "RS256", "kid": "k1"}), &c).await;
    auth.validate_id_token(&t1, Some("n"), Some("at"))
        .await
        .unwrap();
    auth.validate_id_token(&t1, Some("n"), Some("at"))
        .await
        .unwrap();
    assert_eq!(count(), 1, "the second token used the cache");

    // The tenant rotates to k2: one refetch finds it.
    *source.keys.lock().unwrap() = json!({"keys": [k1.jwk.clone(), k2.jwk.clone()]});
    let t2 = k2.sign(&json!({"alg": "RS256", "kid": "k2"}), &c).await;
    auth.validate_id_token(&t2, Some("n"), Some("at"))
        .await
        .unwrap();
    assert_eq!(count(), 2);

    // A kid nobody has: exactly one more fetch, then a refusal.
    let t3 = k2.sign(&json!({"alg": "RS256", "kid": "k9"}), &c).await;
    assert!(auth
        .validate_id_token(&t3, Some("n"), Some("at"))
        .await
        .is_err());
    assert_eq!(count(), 3);
}

#[wasm_bindgen_test]
async fn hash_cleanup_removes_the_fragment_unless_turned_off() {
    let key = Signer::new("k1").await;
    for cleanup in [true, false] {
        let h = harness_with(json!({"keys": [key.jwk.clone()]}), |o| {
            o.hash_cleanup = cleanup
        });
        let tx = h.lock.auth().new_transaction().unwrap();
        let token = key
            .sign(
                &json!({"alg": "RS256", "kid": "k1"}),
                &claims(&tx.nonce, browser::now(), "at"),
            )
            .await;
        let location = web_sys::window().unwrap().location();
        location
            .set_hash(&fragment("at", &token, &tx.state)[1..])
            .unwrap();
        h.events.lock().unwrap().clear();
        h.lock.resume_from_location().await;
        let last = h.events.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last.0, "authenticated", "cleanup {cleanup}: {}", last.1);
        let hash = location.hash().unwrap();
        assert_eq!(hash.is_empty(), cleanup, "cleanup {cleanup}: hash {hash:?}");
        let _ = web_sys::window()
            .unwrap()
            .history()
            .unwrap()
            .replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&location.pathname().unwrap()),
            );
    }
}
