//! The browser side of the effects: randomness, the clock, per-tab storage, WebCrypto.

use gloo_storage::{SessionStorage, Storage};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::token::{Jwt, TokenError, Transaction};

/// Unix seconds from the browser's clock.
pub fn now() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}

/// Bytes from `crypto.getRandomValues`.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], String> {
    let mut buf = [0u8; N];
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or("no crypto object")?
        .get_random_values_with_u8_array(&mut buf)
        .map_err(|e| format!("crypto.getRandomValues failed: {e:?}"))?;
    Ok(buf)
}

const TX_PREFIX: &str = "lpw.tx.";

/// Keeps a transaction for this tab (sessionStorage) until the redirect comes back.
pub fn save_transaction(tx: &Transaction) -> Result<(), String> {
    SessionStorage::set(format!("{TX_PREFIX}{}", tx.state), tx).map_err(|e| e.to_string())
}

/// Reads a transaction once: it is deleted as it is read.
pub fn take_transaction(state: &str) -> Option<Transaction> {
    let key = format!("{TX_PREFIX}{state}");
    let tx = SessionStorage::get::<Transaction>(&key).ok();
    SessionStorage::delete(&key);
    tx
}

/// Waits `ms` milliseconds.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// Drops every pending transaction of this tab (logout).
pub fn clear_transactions() {
    let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) else {
        return;
    };
    let keys: Vec<String> = (0..storage.length().unwrap_or(0))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|k| k.starts_with(TX_PREFIX))
        .collect();
    for k in keys {
        let _ = storage.remove_item(&k);
    }
}

/// Verifies an RS256 signature with WebCrypto against one JWK.
pub async fn verify_rs256(jwk: &Value, jwt: &Jwt) -> Result<(), TokenError> {
    let subtle = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.subtle())
        .ok_or(TokenError::Signature)?;
    let key_data: js_sys::Object = js_sys::JSON::parse(&jwk.to_string())
        .map_err(|_| TokenError::Signature)?
        .unchecked_into();
    let algorithm: js_sys::Object =
        js_sys::JSON::parse(r#"{"name":"RSASSA-PKCS1-v1_5","hash":{"name":"SHA-256"}}"#)
            .map_err(|_| TokenError::Signature)?
            .unchecked_into();
    let usages = js_sys::Array::of1(&"verify".into());
    let key = subtle
        .import_key_with_object("jwk", &key_data, &algorithm, false, &usages)
        .map_err(|_| TokenError::Signature)?;
    let key: web_sys::CryptoKey = JsFuture::from(key)
        .await
        .map_err(|_| TokenError::Signature)?
        .unchecked_into();
    let ok = subtle
        .verify_with_object_and_u8_array_and_u8_array(
            &algorithm,
            &key,
            &jwt.signature,
            jwt.signing_input.as_bytes(),
        )
        .map_err(|_| TokenError::Signature)?;
    let ok = JsFuture::from(ok)
        .await
        .map_err(|_| TokenError::Signature)?;
    if ok.as_bool() == Some(true) {
        Ok(())
    } else {
        Err(TokenError::Signature)
    }
}

/// The JWK with this `kid` from a JWKS document.
pub fn find_key<'a>(jwks: &'a Value, kid: &str) -> Option<&'a Value> {
    jwks["keys"]
        .as_array()?
        .iter()
        .find(|k| k["kid"].as_str() == Some(kid) && k["kty"] == "RSA")
}

/// The browser's preferred language (`navigator.language`), or `en`.
pub fn language() -> String {
    web_sys::window()
        .and_then(|w| w.navigator().language())
        .unwrap_or_else(|| "en".into())
}

/// The region part of the browser's language (`en-GB` → `GB`).
pub fn language_region() -> Option<String> {
    let lang = language();
    let region = lang.split(['-', '_']).nth(1)?;
    (region.len() == 2).then(|| region.to_ascii_uppercase())
}

/// Country names from the browser's `Intl.DisplayNames` (no bytes shipped), made once per list.
pub struct RegionNames(Option<(wasm_bindgen::JsValue, js_sys::Function)>);

impl RegionNames {
    /// Region names in `language` (one of Lock's codes), or none when the browser lacks
    /// `Intl.DisplayNames`.
    pub fn new(language: &str) -> Self {
        // Lock says `ua` for Ukrainian; BCP 47 says `uk`.
        let language = if language == "ua" { "uk" } else { language };
        use js_sys::Reflect;
        let build = || -> Option<(wasm_bindgen::JsValue, js_sys::Function)> {
            let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
            let ctor: js_sys::Function = Reflect::get(&intl, &"DisplayNames".into())
                .ok()?
                .dyn_into()
                .ok()?;
            let options = js_sys::Object::new();
            Reflect::set(&options, &"type".into(), &"region".into()).ok()?;
            let locales = js_sys::Array::of2(&language.into(), &"en".into());
            let args = js_sys::Array::of2(&locales, &options);
            let names = Reflect::construct(&ctor, &args).ok()?;
            let of: js_sys::Function = Reflect::get(&names, &"of".into()).ok()?.dyn_into().ok()?;
            Some((names, of))
        };
        Self(build())
    }

    /// The name of the region with this ISO code.
    pub fn name(&self, code: &str) -> Option<String> {
        let (names, of) = self.0.as_ref()?;
        of.call1(names, &code.into()).ok()?.as_string()
    }
}

thread_local! {
    /// `resolve` functions of client configuration loads in flight, by client ID.
    static PENDING_CLIENTS: std::cell::RefCell<Vec<(String, js_sys::Function)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    static SET_CLIENT_INSTALLED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs `window.Auth0.setClient`, as Lock does, routing each answer to the loads waiting
/// for that client ID.
fn install_set_client() -> Result<(), String> {
    use js_sys::Reflect;
    if SET_CLIENT_INSTALLED.get() {
        return Ok(());
    }
    let window = web_sys::window().ok_or("no window")?;
    let mut auth0 = Reflect::get(&window, &"Auth0".into()).unwrap_or_default();
    if !auth0.is_object() && !auth0.is_function() {
        auth0 = js_sys::Object::new().into();
        Reflect::set(&window, &"Auth0".into(), &auth0).map_err(|_| "cannot set window.Auth0")?;
    }
    let set_client = wasm_bindgen::closure::Closure::<dyn FnMut(wasm_bindgen::JsValue)>::new(
        |info: wasm_bindgen::JsValue| {
            let id = Reflect::get(&info, &"id".into())
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_default();
            let waiting: Vec<js_sys::Function> = PENDING_CLIENTS.with(|p| {
                let mut pending = p.borrow_mut();
                let (mine, others) = pending.drain(..).partition(|(client, _)| *client == id);
                *pending = others;
                mine.into_iter().map(|(_, resolve)| resolve).collect()
            });
            for resolve in waiting {
                let _ = resolve.call1(&wasm_bindgen::JsValue::NULL, &info);
            }
        },
    );
    Reflect::set(&auth0, &"setClient".into(), set_client.as_ref())
        .map_err(|_| "cannot set Auth0.setClient")?;
    // Lives as long as the page, like Lock's.
    set_client.forget();
    SET_CLIENT_INSTALLED.set(true);
    Ok(())
}

/// Reads the client's configuration (`/client/{id}.js`, the text `Auth0.setClient({...});`) with
/// `fetch`, for pages whose CSP lets scripts come from their own origin only; the tenant must
/// allow the page's origin (CORS).
pub async fn fetch_client_info(url: &str) -> Result<Value, String> {
    let failed = || format!("could not load the client configuration from {url}");
    let response = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|_| failed())?;
    if !response.ok() {
        return Err(failed());
    }
    let body = response.text().await.map_err(|_| failed())?;
    let json = body
        .trim()
        .strip_prefix("Auth0.setClient(")
        .and_then(|b| b.trim_end_matches(';').strip_suffix(')'))
        .ok_or_else(failed)?;
    serde_json::from_str(json).map_err(|e| e.to_string())
}

/// Loads the client's configuration script (`/client/{id}.js`, which calls
/// `Auth0.setClient({...})`) as Lock does: as a script, so it works with Auth0's CDN, which
/// sends no CORS headers. Fails when the script does not load or does not describe the client.
pub async fn load_client_info(url: &str, client_id: &str) -> Result<Value, String> {
    install_set_client()?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let script = document
        .create_element("script")
        .map_err(|_| "cannot create a script element")?;
    let id = client_id.to_string();
    let failed = format!("could not load the client configuration from {url}");
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        PENDING_CLIENTS.with(|p| p.borrow_mut().push((id.clone(), resolve)));
        let on_error = reject.clone();
        let message: wasm_bindgen::JsValue = failed.clone().into();
        let error_message = message.clone();
        let _ = script.add_event_listener_with_callback(
            "error",
            wasm_bindgen::closure::Closure::once_into_js(move || {
                let _ = on_error.call1(&wasm_bindgen::JsValue::NULL, &error_message);
            })
            .unchecked_ref(),
        );
        // A script that ran without calling setClient (an error page, another client).
        let _ = script.add_event_listener_with_callback(
            "load",
            wasm_bindgen::closure::Closure::once_into_js(move || {
                let _ = reject.call1(&wasm_bindgen::JsValue::NULL, &message);
            })
            .unchecked_ref(),
        );
    });
    let _ = script.set_attribute("src", url);
    let _ = script.set_attribute("async", "");
    document
        .head()
        .ok_or("no head")?
        .append_child(&script)
        .map_err(|_| "cannot add the script")?;
    let answer = JsFuture::from(promise).await;
    script.remove();
    let info = answer.map_err(|e| e.as_string().unwrap_or(failed))?;
    let json = js_sys::JSON::stringify(&info)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or("the client configuration is not JSON")?;
    serde_json::from_str(&json).map_err(|e| e.to_string())
}
