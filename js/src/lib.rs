//! The JavaScript face of the widget: `LockHandle`, which `loader.js` wraps as
//! `window.Auth0LockPasswordless`. No logic of its own: everything is the library's. Listeners
//! live in `loader.js` (`on`, `off`, `once`); every event reaches it through one dispatcher.

use leptos::prelude::*;
use leptos_passwordless::json::Json;
use leptos_passwordless::options::{AuthParams, ShowOptions};
use leptos_passwordless::{Lock, LockConfig, LockEvent, LockPasswordless};
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

fn to_js(value: &Json) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

fn error_value(error: &str, description: &str) -> JsValue {
    to_js(&Json::object([
        ("error", Json::from(error)),
        ("errorDescription", Json::from(description)),
        ("description", Json::from(description)),
    ]))
}

/// One widget instance, mounted into its own element at the end of `<body>` (or into the
/// `container` element).
#[wasm_bindgen]
pub struct LockHandle {
    lock: Lock,
    mounted: Option<Box<dyn std::any::Any>>,
    own_host: Option<web_sys::HtmlElement>,
}

#[wasm_bindgen]
impl LockHandle {
    /// `new LockHandle(clientID, domain, optionsJson, dispatch, phoneTablesUrl)`; throws an
    /// `Error` naming a bad option. `dispatch(name, payload)` receives every event. The phone
    /// tables are fetched from the folder `phoneTablesUrl`, a calling code's part at a time, from
    /// the first screen's on (the bundle builds with `fetched-phone-tables`); if one cannot
    /// load, `unrecoverable_error` says why.
    #[wasm_bindgen(constructor)]
    pub fn new(
        client_id: &str,
        domain: &str,
        options_json: &str,
        dispatch: js_sys::Function,
        phone_tables_url: &str,
    ) -> Result<LockHandle, JsError> {
        let config = LockConfig::from_json(client_id, domain, options_json)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let lock = Lock::new(config);
        leptos_passwordless::fetch_phone_tables_from(&lock, phone_tables_url);
        let dispatch = SendWrapper::new(dispatch);
        lock.on_any(move |e: &LockEvent| {
            let _ = dispatch.call2(
                &JsValue::NULL,
                &JsValue::from_str(e.name()),
                &to_js(&e.payload()),
            );
        });
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| JsError::new("no document"))?;
        let (host, own_host): (web_sys::HtmlElement, bool) = match &lock.config().options.container
        {
            // Inline mode renders into the page's own element, as Lock's `container` does.
            Some(id) => (
                document
                    .get_element_by_id(id)
                    .ok_or_else(|| {
                        JsError::new(&format!(
                            "invalid option container: no element with id {id:?}"
                        ))
                    })?
                    .unchecked_into(),
                false,
            ),
            None => {
                let host: web_sys::HtmlElement = document
                    .create_element("div")
                    .map_err(|_| JsError::new("cannot create the widget's element"))?
                    .unchecked_into();
                host.set_class_name("auth0-lock-passwordless");
                document
                    .body()
                    .ok_or_else(|| JsError::new("the page has no <body>"))?
                    .append_child(&host)
                    .map_err(|_| JsError::new("cannot mount the widget"))?;
                (host, true)
            }
        };
        let mounted = lock.clone();
        let handle = leptos::mount::mount_to(
            host.clone(),
            move || view! { <LockPasswordless lock=mounted.clone()/> },
        );
        Ok(LockHandle {
            lock,
            mounted: Some(Box::new(handle)),
            own_host: own_host.then_some(host),
        })
    }

    /// `lock.show(options)`: `options` (JSON) may carry `flashMessage`; a bad one is an
    /// `unrecoverable_error` naming it.
    pub fn show(&self, options_json: Option<String>) {
        let options = ShowOptions::from_json(options_json.as_deref().unwrap_or(""));
        match options {
            Ok(o) => self.lock.show_with(o),
            Err(e) => self.lock.emit(&LockEvent::UnrecoverableError(format!(
                "invalid show() options: {e}"
            ))),
        }
    }

    /// Closes the widget.
    pub fn hide(&self) {
        self.lock.hide();
    }

    /// Closes and removes the widget for good.
    pub fn destroy(&mut self) {
        self.lock.hide();
        self.mounted = None;
        if let Some(host) = self.own_host.take() {
            host.remove();
        }
    }

    /// `lock.getUserInfo(accessToken, callback(error, profile))`.
    #[wasm_bindgen(js_name = getUserInfo)]
    pub fn get_user_info(&self, access_token: String, callback: js_sys::Function) {
        let lock = self.lock.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = match lock.auth().user_info(&access_token).await {
                Ok(profile) => {
                    callback.call2(&JsValue::NULL, &JsValue::NULL, &to_js(&profile.to_json()))
                }
                Err(e) => callback.call2(
                    &JsValue::NULL,
                    &error_value(e.code(), &e.description()),
                    &JsValue::UNDEFINED,
                ),
            };
        });
    }

    /// `lock.checkSession(params, callback(error, authResult))`: silent login from the tenant
    /// session, `login_required` without one; `params` (JSON) may ask for another `scope` or
    /// `audience`, as with Lock.
    #[wasm_bindgen(js_name = checkSession)]
    pub fn check_session(&self, params_json: Option<String>, callback: js_sys::Function) {
        let lock = self.lock.clone();
        let base = lock.config().options.auth.params.clone();
        let asked = match AuthParams::from_json_over(params_json.as_deref().unwrap_or(""), &base) {
            Ok(p) => p,
            Err(e) => {
                let _ = callback.call2(
                    &JsValue::NULL,
                    &error_value(
                        "invalid_request",
                        &format!("invalid checkSession params: {e}"),
                    ),
                    &JsValue::UNDEFINED,
                );
                return;
            }
        };
        wasm_bindgen_futures::spawn_local(async move {
            let _ = match lock.auth().check_session_with(&asked).await {
                Ok(result) => callback.call2(
                    &JsValue::NULL,
                    &JsValue::NULL,
                    &to_js(&LockEvent::Authenticated(result).payload()),
                ),
                Err(e) => callback.call2(
                    &JsValue::NULL,
                    &error_value(&e.error, &e.error_description),
                    &JsValue::UNDEFINED,
                ),
            };
        });
    }

    /// `lock.resumeAuth(hash, callback(error, authResult))`, for `autoParseHash: false`.
    #[wasm_bindgen(js_name = resumeAuth)]
    pub fn resume_auth(&self, hash: String, callback: js_sys::Function) {
        let lock = self.lock.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = match lock.auth().resume(&hash).await {
                Some(Ok(result)) => callback.call2(
                    &JsValue::NULL,
                    &JsValue::NULL,
                    &to_js(&LockEvent::Authenticated(result).payload()),
                ),
                Some(Err(e)) => callback.call2(
                    &JsValue::NULL,
                    &error_value(&e.error, &e.error_description),
                    &JsValue::UNDEFINED,
                ),
                None => callback.call2(&JsValue::NULL, &JsValue::NULL, &JsValue::NULL),
            };
        });
    }

    /// `lock.logout({returnTo, federated})`: forgets what the widget stored and ends the tenant
    /// session (`federated` is passed on, as Lock does; this tenant has no upstream provider to
    /// log out of).
    pub fn logout(&self, return_to: Option<String>, federated: bool) {
        self.lock
            .auth()
            .logout_with(return_to.as_deref(), federated);
    }
}
