//! The browser seam: every call into the browser (randomness, the clock, per-tab storage,
//! WebCrypto, the URL, the client configuration script) goes through here.
//!
//! [`AVAILABLE`] says whether there is a browser at all: not on the server (`ssr`) and not in
//! native tests. The widget checks it before starting any browser work, so a server render
//! never reaches `web_sys`.

use crate::json::Json;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::token::{Jwt, TokenError, Transaction};

/// Whether this build runs in a browser: wasm32 and not a server build.
pub const AVAILABLE: bool = cfg!(all(target_arch = "wasm32", not(feature = "ssr")));

/// The page's URL as (path, `?query`, `#fragment`); `None` without a browser.
pub fn location() -> Option<(String, String, String)> {
    if !AVAILABLE {
        return None;
    }
    let l = web_sys::window()?.location();
    Some((
        l.pathname().ok()?,
        l.search().unwrap_or_default(),
        l.hash().unwrap_or_default(),
    ))
}

/// Replaces the current history entry's URL (same document, no navigation).
pub fn replace_url(url: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(url));
    }
}

/// A GET request's body as text (language files).
pub async fn fetch_text(url: &str) -> Result<String, String> {
    let response = fetch(url, &web_sys::RequestInit::new()).await?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    response_text(&response).await
}

/// `fetch(url, init)`: the response, or why none came (a network failure, an abort).
async fn fetch(url: &str, init: &web_sys::RequestInit) -> Result<web_sys::Response, String> {
    let window = web_sys::window().ok_or("no window")?;
    JsFuture::from(window.fetch_with_str_and_init(url, init))
        .await
        .map(|r| r.unchecked_into())
        .map_err(|e| js_error_text(&e))
}

/// A response's body as text.
async fn response_text(response: &web_sys::Response) -> Result<String, String> {
    let text = response.text().map_err(|e| js_error_text(&e))?;
    JsFuture::from(text)
        .await
        .map_err(|e| js_error_text(&e))?
        .as_string()
        .ok_or_else(|| "the body is not text".into())
}

/// A thrown JavaScript value as text: `TypeError: Failed to fetch`, `AbortError: …`.
fn js_error_text(e: &wasm_bindgen::JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => format!(
            "{}: {}",
            String::from(error.name()),
            String::from(error.message())
        ),
        None => e.as_string().unwrap_or_else(|| "unknown error".into()),
    }
}

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
    web_storage("sessionStorage")
        .ok_or("no sessionStorage")?
        .set_item(
            &format!("{TX_PREFIX}{}", tx.state),
            &tx.to_json().to_string(),
        )
        .map_err(|_| "sessionStorage refused the transaction".to_string())
}

fn stored_transaction(key: &str) -> Option<Transaction> {
    let text = web_storage("sessionStorage")?.get_item(key).ok()??;
    Transaction::from_json(&Json::parse(&text).ok()?)
}

/// Reads a transaction once: it is deleted as it is read.
pub fn take_transaction(state: &str) -> Option<Transaction> {
    let key = format!("{TX_PREFIX}{state}");
    let tx = stored_transaction(&key);
    if let Some(storage) = web_storage("sessionStorage") {
        let _ = storage.remove_item(&key);
    }
    tx
}

/// Reads a transaction without taking it: whether a login this tab started has this `state`.
pub fn peek_transaction(state: &str) -> Option<Transaction> {
    if !AVAILABLE || state.is_empty() {
        return None;
    }
    stored_transaction(&format!("{TX_PREFIX}{state}"))
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
pub async fn verify_rs256(jwk: &Json, jwt: &Jwt) -> Result<(), TokenError> {
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
pub fn find_key<'a>(jwks: &'a Json, kid: &str) -> Option<&'a Json> {
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
pub async fn fetch_client_info(url: &str) -> Result<Json, String> {
    let failed = || format!("could not load the client configuration from {url}");
    let response = fetch(url, &web_sys::RequestInit::new())
        .await
        .map_err(|_| failed())?;
    if !response.ok() {
        return Err(failed());
    }
    let body = response_text(&response).await.map_err(|_| failed())?;
    let json = body
        .trim()
        .strip_prefix("Auth0.setClient(")
        .and_then(|b| b.trim_end_matches(';').strip_suffix(')'))
        .ok_or_else(failed)?;
    Json::parse(json).map_err(|e| e.to_string())
}

/// Loads the client's configuration script (`/client/{id}.js`, which calls
/// `Auth0.setClient({...})`) as Lock does: as a script, so it works with Auth0's CDN, which
/// sends no CORS headers. Fails when the script does not load or does not describe the client.
pub async fn load_client_info(url: &str, client_id: &str) -> Result<Json, String> {
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
    Json::parse(&json).map_err(|e| e.to_string())
}

/// Adds a stylesheet to the document once (by element `id`).
pub fn inject_style(id: &str, css: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if doc.get_element_by_id(id).is_some() {
        return;
    }
    if let (Ok(style), Some(head)) = (doc.create_element("style"), doc.head()) {
        style.set_id(id);
        style.set_text_content(Some(css));
        let _ = head.append_child(&style);
    }
}

fn html_element(id: &str) -> Option<web_sys::HtmlElement> {
    web_sys::window()?
        .document()?
        .get_element_by_id(id)?
        .dyn_into::<web_sys::HtmlElement>()
        .ok()
}

/// Focuses the element with `id` once the current render has reached the DOM.
pub fn focus_soon(id: String) {
    wasm_bindgen_futures::spawn_local(async move {
        sleep_ms(0).await;
        if let Some(el) = html_element(&id) {
            let _ = el.focus();
        }
    });
}

/// "Sorts before" in `language`'s order, by one `Intl.Collator`'s `compare`; by code points
/// without a browser (or without `Intl.Collator`).
pub fn collator(language: &str) -> impl Fn(&str, &str) -> bool {
    let language = if language == "ua" { "uk" } else { language };
    let compare = AVAILABLE
        .then(|| {
            use js_sys::Reflect;
            let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
            let ctor: js_sys::Function = Reflect::get(&intl, &"Collator".into())
                .ok()?
                .dyn_into()
                .ok()?;
            let locales = js_sys::Array::of2(&language.into(), &"en".into());
            let collator = Reflect::construct(&ctor, &js_sys::Array::of1(&locales)).ok()?;
            let compare: js_sys::Function = Reflect::get(&collator, &"compare".into())
                .ok()?
                .dyn_into()
                .ok()?;
            Some(compare)
        })
        .flatten();
    move |a: &str, b: &str| match &compare {
        // `compare` is a bound function: no `this` needed.
        Some(f) => f
            .call2(&wasm_bindgen::JsValue::NULL, &a.into(), &b.into())
            .ok()
            .and_then(|r| r.as_f64())
            .is_some_and(|r| r < 0.0),
        None => a < b,
    }
}

/// [`crate::phone::search_form`] by the browser's own Unicode tables (`toLowerCase` and a
/// `[^\p{L}\p{N}+]+` expression), so the wasm carries none; Rust's without a browser.
pub fn search_form(text: &str) -> String {
    if !AVAILABLE {
        return crate::phone::search_form(text);
    }
    thread_local! {
        static SEPARATORS: js_sys::RegExp = js_sys::RegExp::new(r"[^\p{L}\p{N}+]+", "gu");
    }
    let lower = js_sys::JsString::from(text).to_lower_case();
    SEPARATORS
        .with(|separators| lower.replace_by_pattern(separators, " "))
        .trim()
        .into()
}

/// Whether the platform draws flag emoji. Where it does not (Windows; Linux without a colour emoji
/// font), a regional-indicator pair is drawn as two separate glyphs, about twice as wide as one;
/// a drawn flag is one glyph. Measured once, in a hidden element; `true` without a browser.
pub fn draws_flags() -> bool {
    thread_local! {
        static DRAWS: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
    }
    if !AVAILABLE {
        return true;
    }
    if let Some(known) = DRAWS.with(std::cell::Cell::get) {
        return known;
    }
    let measured = (|| {
        let document = web_sys::window()?.document()?;
        let body = document.body()?;
        let probe: web_sys::HtmlElement = document.create_element("span").ok()?.unchecked_into();
        // Through the CSSOM, which a strict style-src allows (a style attribute it would not).
        let style = probe.style();
        for (name, value) in [
            ("position", "absolute"),
            ("visibility", "hidden"),
            ("white-space", "nowrap"),
            ("font-size", "32px"),
        ] {
            style.set_property(name, value).ok()?;
        }
        body.append_child(&probe).ok()?;
        probe.set_text_content(Some("\u{1F1FA}\u{1F1F8}"));
        let pair = probe.offset_width();
        probe.set_text_content(Some("\u{1F1FA}"));
        let one = probe.offset_width();
        probe.remove();
        // Nothing laid out (a hidden body): assume flags rather than guess letters.
        (one > 0).then(|| f64::from(pair) < 1.5 * f64::from(one))
    })()
    .unwrap_or(true);
    DRAWS.with(|d| d.set(Some(measured)));
    measured
}

/// Scrolls the element with `id` into view (the nearest edge), on the next tick when `later`.
pub fn scroll_into_view(id: String, later: bool) {
    let scroll = move || {
        if let Some(el) = html_element(&id) {
            el.scroll_into_view_with_bool(false);
        }
    };
    if later {
        wasm_bindgen_futures::spawn_local(async move {
            sleep_ms(0).await;
            scroll();
        });
    } else {
        scroll();
    }
}

/// Whether the first screen the JS bundle's loader drew (`.lpw-early`) was typed in or its
/// country button pressed: the widget, still hidden behind it, then must not change the country
/// the user saw (the geo lookup's answer) before it takes over.
pub fn early_screen_touched() -> bool {
    AVAILABLE
        && web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(".lpw-early[data-touched]").ok().flatten())
            .is_some()
}

/// Rewrites the text field `id`, when it has the focus, to `text` with the caret where `caret`
/// puts it given the old value and caret, before the view writes the same text (a value set to
/// what it already is leaves the caret alone; a new one would move it to the end).
pub fn rewrite_focused_field(id: &str, text: &str, caret: impl Fn(&str, usize) -> usize) {
    let Some(input) = html_element(id).and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    let focused = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .is_some_and(|a| a == **input);
    if focused {
        let old = input.value();
        let at = input.selection_start().ok().flatten().unwrap_or(0) as usize;
        let to = caret(&old, at) as u32;
        input.set_value(text);
        let _ = input.set_selection_range(to, to);
    }
}

/// Where focus was when a dialog opened, to give it back when the dialog closes.
pub struct FocusReturn(send_wrapper::SendWrapper<Option<web_sys::HtmlElement>>);

impl FocusReturn {
    /// Notes the focused element. Focus inside the first screen the JS bundle's loader drew
    /// (`.lpw-early`, about to give way to this dialog) counts as where it was before that screen.
    pub fn capture() -> Self {
        let active = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element());
        let active = match active
            .as_ref()
            .and_then(|a| a.closest(".lpw-early").ok().flatten())
        {
            Some(early) => js_sys::Reflect::get(&early, &"lpwReturn".into())
                .ok()
                .and_then(|e| e.dyn_into::<web_sys::Element>().ok()),
            None => active,
        };
        let active = active.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        Self(send_wrapper::SendWrapper::new(active))
    }

    /// Focuses it again.
    pub fn restore(&self) {
        if let Some(el) = self.0.as_ref() {
            let _ = el.focus();
        }
    }
}

const FOCUSABLE: &str =
    "button:not([disabled]), input:not([disabled]), select:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

/// Keeps Tab and Shift+Tab inside `container`.
pub fn trap_tab(e: &web_sys::KeyboardEvent, container: &web_sys::Element) {
    let Ok(list) = container.query_selector_all(FOCUSABLE) else {
        return;
    };
    let items: Vec<web_sys::HtmlElement> = (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        .collect();
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        return;
    };
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    let at = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
    };
    let inside = active.as_ref().is_some_and(|a| container.contains(Some(a)));
    if e.shift_key() && (at(first) || !inside) {
        e.prevent_default();
        let _ = last.focus();
    } else if !e.shift_key() && (at(last) || !inside) {
        e.prevent_default();
        let _ = first.focus();
    }
}

/// An `input` event on a text field: its value, the caret, and whether it was a deletion.
pub struct TextInput {
    input: web_sys::HtmlInputElement,
    /// The field's value.
    pub value: String,
    /// The caret's offset (UTF-16 code units, as the DOM counts).
    pub caret: usize,
    /// Whether the edit deleted text (Backspace, Delete, cut).
    pub deleting: bool,
}

impl TextInput {
    /// Reads the event's target field.
    pub fn from_event(e: &web_sys::Event) -> Option<Self> {
        let input = e.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?;
        let deleting = e
            .dyn_ref::<web_sys::InputEvent>()
            .is_some_and(|ie| ie.input_type().starts_with("delete"));
        Some(Self {
            value: input.value(),
            caret: input.selection_start().ok().flatten().unwrap_or(0) as usize,
            deleting,
            input,
        })
    }

    /// Writes `text` into the field with the caret at `caret`.
    pub fn set(&self, text: &str, caret: usize) {
        self.input.set_value(text);
        let at = caret as u32;
        let _ = self.input.set_selection_range(at, at);
    }
}

/// A request the widget can cancel (WebOTP): an `AbortController`, when the browser has one.
pub struct Abort(send_wrapper::SendWrapper<Option<web_sys::AbortController>>);

impl Abort {
    /// A new controller.
    pub fn new() -> Self {
        Self(send_wrapper::SendWrapper::new(
            web_sys::AbortController::new().ok(),
        ))
    }

    /// Cancels what it was given to.
    pub fn abort(&self) {
        if let Some(c) = self.0.as_ref() {
            c.abort();
        }
    }
}

impl Default for Abort {
    fn default() -> Self {
        Self::new()
    }
}

/// Asks the browser for the code from the SMS (WebOTP), where it has the API; the request is
/// cancelled with `abort` (manual submit, back, close).
pub fn web_otp(abort: &Abort, on_code: impl FnOnce(String) + 'static) {
    use js_sys::Reflect;
    let (Some(window), Some(controller)) = (web_sys::window(), abort.0.as_ref()) else {
        return;
    };
    if !Reflect::has(&window, &"OTPCredential".into()).unwrap_or(false) {
        return;
    }
    let credentials = window.navigator().credentials();
    let request = js_sys::Object::new();
    let otp = js_sys::Object::new();
    let _ = Reflect::set(
        &otp,
        &"transport".into(),
        &js_sys::Array::of1(&"sms".into()),
    );
    let _ = Reflect::set(&request, &"otp".into(), &otp);
    let _ = Reflect::set(&request, &"signal".into(), &controller.signal());
    let Ok(get) =
        Reflect::get(&credentials, &"get".into()).and_then(|f| f.dyn_into::<js_sys::Function>())
    else {
        return;
    };
    let Ok(promise) = get
        .call1(&credentials, &request)
        .and_then(|p| p.dyn_into::<js_sys::Promise>())
    else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        if let Ok(credential) = JsFuture::from(promise).await {
            if let Some(code) = Reflect::get(&credential, &"code".into())
                .ok()
                .and_then(|c| c.as_string())
            {
                on_code(code);
            }
        }
    });
}

/// An HTTP request of the client's (the body, when there is one, is JSON).
pub struct HttpRequest<'a> {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The absolute URL.
    pub url: String,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub json: Option<&'a Json>,
    /// Whether cookies go with it (`credentials: include`).
    pub credentials: bool,
}

/// An HTTP answer: the status, `Retry-After` in seconds, and the body as JSON.
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// `Retry-After`, in seconds.
    pub retry_after: Option<u32>,
    /// The body, or why it is not JSON.
    pub body: Result<Json, String>,
}

impl HttpResponse {
    /// A 2xx status.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `request` with `fetch`, aborted after `timeout_ms`.
pub async fn http(request: HttpRequest<'_>, timeout_ms: i32) -> Result<HttpResponse, String> {
    let controller = web_sys::AbortController::new().map_err(|_| "no AbortController")?;
    let init = web_sys::RequestInit::new();
    init.set_method(request.method);
    init.set_signal(Some(&controller.signal()));
    let headers = web_sys::Headers::new().map_err(|e| js_error_text(&e))?;
    for (name, value) in &request.headers {
        headers.set(name, value).map_err(|e| js_error_text(&e))?;
    }
    if let Some(body) = request.json {
        headers
            .set("content-type", "application/json")
            .map_err(|e| js_error_text(&e))?;
        init.set_body(&body.to_string().into());
    }
    init.set_headers(&headers);
    if request.credentials {
        init.set_credentials(web_sys::RequestCredentials::Include);
    }
    let abort = wasm_bindgen::closure::Closure::once(move || controller.abort());
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(
            abort.as_ref().unchecked_ref(),
            timeout_ms,
        );
    }
    let result = fetch(&request.url, &init).await;
    // Dropping the closure after the request settles: a late timer call is then a no-op error
    // in the console instead of a leak.
    abort.forget();
    let response = result?;
    let retry_after = response
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u32>().ok());
    Ok(HttpResponse {
        status: response.status(),
        retry_after,
        body: match response_text(&response).await {
            Ok(text) => Json::parse(&text).map_err(|e| format!("the answer is not JSON: {e}")),
            Err(e) => Err(e),
        },
    })
}

/// Loads `url` in a hidden iframe and waits up to `timeout_ms` for its
/// `authorization_response` message, taken only from that iframe's window, from
/// `expected_origin` and with this `state` (a message another frame of the same origin posts is
/// ignored): the response's JSON, or `None` when none came in time.
pub async fn web_message(
    url: &str,
    expected_origin: &str,
    state: &str,
    timeout_ms: i32,
) -> Result<Option<String>, String> {
    let window = web_sys::window().ok_or_else(|| "no window".to_string())?;
    let document = window.document().ok_or_else(|| "no document".to_string())?;
    let iframe: web_sys::HtmlIFrameElement = document
        .create_element("iframe")
        .map_err(|_| "cannot create an iframe".to_string())?
        .unchecked_into();
    iframe.set_src(url);
    let _ = iframe.set_attribute("style", "display:none");
    let _ = iframe.set_attribute("aria-hidden", "true");
    let _ = iframe.set_attribute("title", "authorization");

    let expected_origin = expected_origin.to_string();
    let state = state.to_string();
    let slots: std::rc::Rc<std::cell::RefCell<Option<(js_sys::Function, js_sys::Function)>>> =
        Default::default();
    let fill = slots.clone();
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        *fill.borrow_mut() = Some((resolve, reject));
    });
    let on_message = {
        let slots = slots.clone();
        let frame = iframe.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                let from_frame = match (e.source(), frame.content_window()) {
                    (Some(source), Some(window)) => {
                        wasm_bindgen::JsValue::from(source) == wasm_bindgen::JsValue::from(window)
                    }
                    _ => false,
                };
                if !from_frame || e.origin() != expected_origin {
                    return;
                }
                let data: Json = js_sys::JSON::stringify(&e.data())
                    .ok()
                    .and_then(|s| s.as_string())
                    .and_then(|s| Json::parse(&s).ok())
                    .unwrap_or_default();
                if data["type"] != "authorization_response"
                    || data["response"]["state"].as_str() != Some(state.as_str())
                {
                    return;
                }
                if let Some((resolve, _)) = slots.borrow_mut().take() {
                    let _ = resolve.call1(
                        &wasm_bindgen::JsValue::NULL,
                        &wasm_bindgen::JsValue::from_str(&data["response"].to_string()),
                    );
                }
            },
        )
    };
    let on_timeout = {
        let slots = slots.clone();
        wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
            if let Some((_, reject)) = slots.borrow_mut().take() {
                let _ = reject.call0(&wasm_bindgen::JsValue::NULL);
            }
        })
    };
    let _ = window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    let timer = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(
            on_timeout.as_ref().unchecked_ref(),
            timeout_ms,
        )
        .unwrap_or(0);
    if let Some(body) = document.body() {
        let _ = body.append_child(&iframe);
    }
    let outcome = wasm_bindgen_futures::JsFuture::from(promise).await;
    let _ =
        window.remove_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
    window.clear_timeout_with_handle(timer);
    iframe.remove();
    Ok(outcome.ok().and_then(|v| v.as_string()))
}

fn web_storage(kind: &str) -> Option<web_sys::Storage> {
    if !AVAILABLE {
        return None;
    }
    let w = web_sys::window()?;
    match kind {
        "localStorage" => w.local_storage().ok().flatten(),
        "sessionStorage" => w.session_storage().ok().flatten(),
        _ => None,
    }
}

/// A value from `localStorage` or `sessionStorage` (`kind`, as `persistTokens` names them).
pub fn stored(kind: &str, key: &str) -> Option<String> {
    web_storage(kind)?.get_item(key).ok().flatten()
}

/// Keeps a value in `localStorage` or `sessionStorage`.
pub fn store(kind: &str, key: &str, value: &str) {
    if let Some(s) = web_storage(kind) {
        let _ = s.set_item(key, value);
    }
}

/// Removes a value from `localStorage` or `sessionStorage`.
pub fn unstore(kind: &str, key: &str) {
    if let Some(s) = web_storage(kind) {
        let _ = s.remove_item(key);
    }
}

/// The current page without query and fragment.
pub fn page_url() -> String {
    web_sys::window()
        .map(|w| w.location())
        .map(|l| {
            format!(
                "{}{}",
                l.origin().unwrap_or_default(),
                l.pathname().unwrap_or_default()
            )
        })
        .unwrap_or_default()
}

/// Leaves the page for `url`.
pub fn navigate(url: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    window
        .location()
        .set_href(url)
        .map_err(|_| "navigation was blocked".to_string())
}
