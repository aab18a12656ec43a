//! The JavaScript face of the widget: `LockHandle`, which `loader.js` wraps as
//! `window.Auth0LockPasswordless`. No logic of its own: everything is the library's.

use leptos::prelude::*;
use leptos_passwordless::options::ShowOptions;
use leptos_passwordless::{api, Lock, LockConfig, LockEvent, LockPasswordless};
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

fn to_js(value: &serde_json::Value) -> JsValue {
    js_sys::JSON::parse(&value.to_string()).unwrap_or(JsValue::NULL)
}

/// One widget instance, mounted into its own element at the end of `<body>`.
#[wasm_bindgen]
pub struct LockHandle {
    lock: Lock,
}

#[wasm_bindgen]
impl LockHandle {
    /// `new LockHandle(clientID, domain, optionsJson)`; throws an `Error` naming the bad option.
    #[wasm_bindgen(constructor)]
    pub fn new(client_id: &str, domain: &str, options_json: &str) -> Result<LockHandle, JsError> {
        let config = LockConfig::from_json(client_id, domain, options_json)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let lock = Lock::new(config);
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| JsError::new("no document"))?;
        let host: web_sys::HtmlElement = match &lock.config().options.container {
            // Inline mode renders into the page's own element, as Lock's `container` does.
            Some(id) => document
                .get_element_by_id(id)
                .ok_or_else(|| {
                    JsError::new(&format!(
                        "invalid option container: no element with id {id:?}"
                    ))
                })?
                .unchecked_into(),
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
                host
            }
        };
        let mounted = lock.clone();
        leptos::mount::mount_to(
            host,
            move || view! { <LockPasswordless lock=mounted.clone()/> },
        )
        .forget();
        Ok(LockHandle { lock })
    }

    /// `lock.on(event, fn)`: an unknown event name is an `unrecoverable_error`, as in Lock.
    pub fn on(&self, event: &str, listener: js_sys::Function) {
        let listener = SendWrapper::new(listener);
        let result = self.lock.on(event, move |e: &LockEvent| {
            let _ = listener.call1(&JsValue::NULL, &to_js(&e.payload()));
        });
        if let Err(e) = result {
            self.lock
                .emit(&LockEvent::UnrecoverableError(e.to_string()));
        }
    }

    /// `lock.show(options)`: `options` (JSON) may carry `flashMessage`; a bad one is an
    /// `unrecoverable_error` naming it.
    pub fn show(&self, options_json: Option<String>) {
        let options = match options_json.as_deref().map(str::trim) {
            None | Some("") | Some("null") | Some("undefined") => Ok(ShowOptions::default()),
            Some(json) => serde_json::from_str::<ShowOptions>(json),
        };
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

    /// `lock.getUserInfo(accessToken, callback(error, profile))`.
    #[wasm_bindgen(js_name = getUserInfo)]
    pub fn get_user_info(&self, access_token: String, callback: js_sys::Function) {
        let config = self.lock.config().clone();
        wasm_bindgen_futures::spawn_local(async move {
            let _ = match api::userinfo(&config, &access_token).await {
                Ok(profile) => callback.call2(&JsValue::NULL, &JsValue::NULL, &to_js(&profile)),
                Err(e) => callback.call2(
                    &JsValue::NULL,
                    &to_js(&serde_json::json!({"error": e.dictionary_key(), "description": e.to_string()})),
                    &JsValue::UNDEFINED,
                ),
            };
        });
    }
}
