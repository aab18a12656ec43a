//! The default UI: a modal (or inline box) over the headless hook, one module per screen.

mod code_screen;
mod country_picker;
mod phone_screen;

use leptos::ev;
use leptos::prelude::*;

use crate::browser;
use crate::hook::Flow;
use crate::i18n::{rich_text, Rich};
use crate::lock::{ClientState, Lock, LockEvent};
use crate::machine::Step;
use crate::options::FlashKind;
use crate::outcome::{AuthError, AuthResult};
use crate::phone::{self, PhoneNumber};
use code_screen::CodeScreen;
use phone_screen::PhoneScreen;

#[cfg(not(feature = "external-style"))]
const STYLE_ID: &str = "lpw-style";

/// The element IDs of one widget: `lpw-NAME` in the modal, `lpw-CONTAINER-NAME` inline (the
/// container's ID is unique on the page), so a modal and inline widgets side by side never share
/// an ID. The same on the server and in the browser, as hydration needs.
#[derive(Clone, Copy)]
pub(crate) struct Ids(StoredValue<String>);

impl Ids {
    fn for_config(config: &crate::options::LockConfig) -> Self {
        Self(StoredValue::new(match &config.options.container {
            Some(container) => format!("lpw-{container}"),
            None => "lpw".to_string(),
        }))
    }

    /// The widget's own IDs, from its component's context.
    pub(crate) fn current() -> Self {
        use_context::<Ids>().unwrap_or_else(|| Self(StoredValue::new("lpw".to_string())))
    }

    /// The ID of the element `name` (`phone`, `code-error`, …).
    pub(crate) fn id(self, name: &str) -> String {
        self.0.with_value(|p| format!("{p}-{name}"))
    }
}
/// `style/lock.css` minified by the build script.
#[cfg(not(feature = "external-style"))]
const STYLE: &str = include_str!(concat!(env!("OUT_DIR"), "/lock.min.css"));

thread_local! {
    /// Counts the phone table parts that arrived, so views that need one read again.
    static TABLES_ARRIVED: ArcRwSignal<u32> = ArcRwSignal::new(0);
}

#[cfg(feature = "fetched-phone-tables")]
thread_local! {
    /// Where a `fetched-phone-tables` build fetches parts from, and the parts asked for.
    static TABLES_FROM: std::cell::RefCell<(Option<String>, Vec<u16>)> =
        const { std::cell::RefCell::new((None, Vec::new())) };
}

/// Changes whenever a part of fetched phone tables arrives (never where they are compiled in).
pub(crate) fn tables_arrived() -> ArcRwSignal<u32> {
    TABLES_ARRIVED.with(Clone::clone)
}

/// Whether everything parsing `raw` for `region` needs is in; if not, fetches the missing part
/// (once; a failed fetch is `lock`'s `unrecoverable_error`) and, when it arrives,
/// [`tables_arrived`] changes and the caller asks again.
pub(crate) fn phone_parts_ready(lock: &Lock, raw: &str, region: &str) -> bool {
    #[cfg(feature = "fetched-phone-tables")]
    if let Some(code) = phone::missing_part(raw, region) {
        fetch_part(lock, code);
        return false;
    }
    #[cfg(not(feature = "fetched-phone-tables"))]
    let _ = (lock, raw, region);
    true
}

#[cfg(feature = "fetched-phone-tables")]
fn fetch_part(lock: &Lock, code: u16) {
    if !browser::AVAILABLE {
        return; // rendering on the server: the browser fetches what it needs after hydration
    }
    let url = TABLES_FROM.with(|t| {
        let (base, asked) = &mut *t.borrow_mut();
        if asked.contains(&code) {
            return None;
        }
        asked.push(code);
        Some(
            base.as_ref()
                .map(|b| format!("{}/{code}.txt", b.trim_end_matches('/'))),
        )
    });
    let Some(url) = url else {
        return;
    };
    let lock = lock.clone();
    // Not Leptos' executor: the JS bundle asks for the first part before anything is mounted.
    wasm_bindgen_futures::spawn_local(async move {
        let loaded = match &url {
            Some(url) => browser::fetch_text(url).await.and_then(phone::install_part),
            None => Err("no URL was given (fetch_phone_tables_from)".into()),
        };
        match loaded {
            Ok(_) => tables_arrived().update(|n| *n += 1),
            Err(e) => lock.emit(&LockEvent::UnrecoverableError(format!(
                "the phone tables could not load from {}: {e}",
                url.as_deref().unwrap_or("anywhere")
            ))),
        }
    });
}

/// For a build with `fetched-phone-tables`: the phone tables are fetched from `base_url` (the
/// `phone-tables/` folder that `cargo xtask bundle` ships), one calling code's part
/// (`{base_url}/{code}.txt`, at most 3 KB gzipped) at a time, when a widget first needs it;
/// this starts with the part `lock`'s first screen needs. Widgets already on the page catch up
/// when a part arrives: the typed number is formatted, a waiting submit goes on. A part that
/// cannot load is an `unrecoverable_error`. A server-rendered app's server, whose build has the
/// tables compiled in, serves them with `phone::table_file` (as `examples/ssr` does).
#[cfg(feature = "fetched-phone-tables")]
#[cfg_attr(docsrs, doc(cfg(feature = "fetched-phone-tables")))]
pub fn fetch_phone_tables_from(lock: &Lock, base_url: &str) {
    TABLES_FROM.with(|t| t.borrow_mut().0 = Some(base_url.to_string()));
    let config = lock.config();
    let prefill = config.options.prefill.phone_number.as_deref();
    phone_parts_ready(lock, prefill.unwrap_or_default(), &start_region(&config).0);
}

/// Text that may hold links (`<a href="https://…">terms</a>` in `signUpTerms`): links become
/// real links, everything else stays text.
pub(crate) fn render_rich(text: &str) -> impl IntoView {
    rich_text(text)
        .into_iter()
        .map(|part| match part {
            Rich::Text(t) => t.into_any(),
            Rich::Link { href, text } => {
                view! { <a href=href target="_blank" rel="noopener noreferrer">{text}</a> }
                    .into_any()
            }
        })
        .collect_view()
}

/// The login widget, shown by [`Lock::show`]: a modal, or inline when the `container` option is
/// set.
///
/// Mount it once; it renders nothing while the lock is hidden. On the server (`ssr`) it renders
/// nothing at all, and in the browser it draws itself only after hydration, so a server-rendered
/// page hydrates without a mismatch whether the widget is open or not.
///
/// ```no_run
/// use leptos::prelude::*;
/// use leptos_passwordless::{AuthResult, Lock, LockConfig, LockOptions, LockPasswordless};
///
/// #[component]
/// fn Login() -> impl IntoView {
///     let lock = Lock::new(LockConfig::new("my-client-id", "tenant.eu.auth0.com", LockOptions::default()).unwrap());
///     let opener = lock.clone();
///     view! {
///         <button on:click=move |_| opener.show()>"Log in"</button>
///         <LockPasswordless lock
///             on_authenticated=|result: AuthResult| leptos::logging::log!("{:?}", result.id_token_payload)
///             on_error=|e: leptos_passwordless::AuthError| leptos::logging::warn!("{}", e.error_description)/>
///     }
/// }
/// ```
#[component]
pub fn LockPasswordless(
    /// The widget instance to render (its options, events and state).
    lock: Lock,
    /// Called with the tokens when a login completes (Lock's `authenticated`).
    #[prop(optional, into)]
    on_authenticated: Option<Callback<AuthResult>>,
    /// Called when a login fails for good: Lock's `authorization_error`, and
    /// `unrecoverable_error` (with that as its `error`).
    #[prop(optional, into)]
    on_error: Option<Callback<AuthError>>,
) -> impl IntoView {
    if on_authenticated.is_some() || on_error.is_some() {
        let id = lock.on_any(move |event| match event {
            LockEvent::Authenticated(result) => {
                if let Some(f) = on_authenticated {
                    f.run(result.clone());
                }
            }
            LockEvent::AuthorizationError(e) => {
                if let Some(f) = on_error {
                    f.run(e.clone());
                }
            }
            LockEvent::UnrecoverableError(description) => {
                if let Some(f) = on_error {
                    f.run(AuthError {
                        error: "unrecoverable_error".into(),
                        error_description: description.clone(),
                    });
                }
            }
            _ => {}
        });
        let owner = lock.clone();
        on_cleanup(move || {
            owner.off(id);
        });
    }
    // False on the server and while hydrating; effects run only in the browser, after it.
    let mounted = RwSignal::new(false);
    let strict_csp = lock.config().options.strict_csp;
    Effect::new(move |_| {
        // Under a strict CSP the page links lock-passwordless.css itself (and with
        // `external-style`, the JS bundle's loader has put it in).
        #[cfg(not(feature = "external-style"))]
        if !strict_csp {
            browser::inject_style(STYLE_ID, STYLE);
        }
        #[cfg(feature = "external-style")]
        let _ = strict_csp;
        mounted.set(true);
    });
    let open = {
        let lock = lock.clone();
        move || mounted.get() && lock.is_open()
    };
    // Built when it opens, dropped when it closes (`<Show>` would do the same with more code).
    let shown = Memo::new(move |_| open());
    (move || {
        shown
            .get()
            .then(|| view! { <Modal lock=lock.clone()/> }.into_any())
    })
    .into_any()
}

/// The country the phone screen starts with, and whether the tenant's geo lookup may still
/// change it: `defaultLocation`, else the country of a prefilled `+…` number, else (asking the
/// tenant) the browser language's region, else US.
fn start_region(config: &crate::options::LockConfig) -> (String, bool) {
    let prefill = config
        .options
        .prefill
        .phone_number
        .as_deref()
        .unwrap_or_default();
    let chosen = config
        .options
        .default_location
        .as_ref()
        .map(|c| c.to_ascii_uppercase())
        .or_else(|| {
            PhoneNumber::parse(prefill, "US")
                .ok()
                .and_then(|p| p.region().map(str::to_string))
                .filter(|_| prefill.trim_start().starts_with('+'))
        });
    let ask_tenant = chosen.is_none();
    let region = chosen
        .or_else(|| browser::language_region().filter(|r| phone::country(r).is_some()))
        .unwrap_or_else(|| "US".into());
    (region, ask_tenant)
}

#[component]
fn Modal(lock: Lock) -> impl IntoView {
    let flow = Flow::new(lock.clone());
    let config = (*lock.config()).clone();
    let ids = Ids::for_config(&config);
    provide_context(ids);
    // The texts: a signal, as the chosen language's file lands after the widget shows.
    let dictionary = lock.dictionary();
    let closable = config.closable();
    let inline = config.inline();
    let autofocus = config.autofocus();

    // Focus returns where it was when the modal closes.
    let previous = browser::FocusReturn::capture();
    on_cleanup(move || previous.restore());

    let close = {
        let lock = lock.clone();
        move || {
            if closable {
                lock.hide();
            }
        }
    };
    let dialog = NodeRef::<leptos::html::Div>::new();
    let close_on_esc = close.clone();
    let on_keydown = move |e: ev::KeyboardEvent| match e.key().as_str() {
        "Escape" => close_on_esc(),
        "Tab" if !inline => {
            if let Some(d) = dialog.get_untracked() {
                browser::trap_tab(&e, &d);
            }
        }
        _ => {}
    };
    lock.emit(&LockEvent::Screen("socialOrPhoneNumber ready"));

    // Typed values live here, above the screens, so errors and "back" never lose them.
    let prefill = config
        .options
        .prefill
        .phone_number
        .clone()
        .unwrap_or_default();
    let (start_region, ask_tenant) = start_region(&config);
    let phone_text = RwSignal::new(prefill.clone());
    let region = RwSignal::new(start_region.clone());
    // Set once the user picks a country (or a `+…` number picks one).
    let picked = RwSignal::new(false);
    let prefilled = prefill.clone();
    if ask_tenant {
        let geo_config = config.clone();
        leptos::task::spawn_local(async move {
            let Some(found) = crate::api::geoloc_country(&geo_config).await else {
                return;
            };
            // Only while nothing was picked or typed: never move the ground under the user.
            let untouched = picked.try_get_untracked() == Some(false)
                && phone_text.try_get_untracked().as_deref() == Some(prefill.as_str())
                && !browser::early_screen_touched();
            if untouched && phone::country(&found).is_some() {
                region.set(found);
            }
        });
    }
    // With fetched phone tables: the parts the number and the country need are fetched, and
    // when one arrives the number typed so far is formatted, and a `+…` number picks its country
    // as it would have at once (a prefilled one only without `defaultLocation`).
    if cfg!(feature = "fetched-phone-tables") {
        let parts_lock = lock.clone();
        Effect::new(move |_| {
            phone_parts_ready(&parts_lock, &phone_text.get(), &region.get());
        });
        let arrived = tables_arrived();
        let pick_from_prefill = config.options.default_location.is_none();
        Effect::new(move |first: Option<()>| {
            arrived.track();
            if first.is_none() {
                return;
            }
            let text = phone_text.get_untracked();
            let typed = phone::as_you_type(&text, &region.get_untracked());
            let may_pick = text != prefilled || (pick_from_prefill && !picked.get_untracked());
            if let Some(r) = typed
                .region
                .filter(|r| may_pick && *r != region.get_untracked())
            {
                region.set(r);
                picked.set(true);
            }
            if typed.text != text {
                // The caret stays after the same digit (the user may be typing).
                browser::rewrite_focused_field(&ids.id("phone"), &typed.text, |old, at| {
                    phone::caret_after(&typed.text, phone::significant_before(old, at))
                });
                phone_text.set(typed.text);
            }
        });
    }
    let code_text = RwSignal::new(String::new());

    let flash = lock.flash();
    let banner = move || {
        if let Some(e) = flow.error() {
            return Some(view! { <div class="lpw-banner lpw-banner--error" role="alert">{e.message(&dictionary.get())}</div> }.into_any());
        }
        let step = flow.step();
        flash
            .get()
            .filter(|_| matches!(step, Step::Phone | Step::Sending))
            .map(|m| {
                let class = match m.kind {
                    FlashKind::Error => "lpw-banner lpw-banner--error",
                    FlashKind::Success => "lpw-banner lpw-banner--success",
                    FlashKind::Info => "lpw-banner lpw-banner--info",
                };
                view! { <div class=class role="status">{m.text}</div> }.into_any()
            })
    };
    // A memo, so a screen is rebuilt only when the step changes (not on every state update).
    let step = Memo::new(move |_| flow.step());
    let ready_lock = lock.clone();
    let ready = Memo::new(move |_| ready_lock.client_state() == ClientState::Ready);
    if autofocus {
        Effect::new(move |_| match (ready.get(), step.get()) {
            (false, _) => {}
            (true, Step::Phone) => browser::focus_soon(ids.id("phone")),
            (true, Step::Code) => browser::focus_soon(ids.id("code")),
            _ => {}
        });
    }
    let screen_config = config.clone();
    let client_lock = lock.clone();
    // Rebuilt when the step or the texts change; what was typed lives above, in signals.
    let screen = move || {
        let screen_dict = dictionary.get();
        if !ready.get() {
            return match client_lock.client_state() {
                ClientState::Failed(_) => view! { <p class="lpw-status lpw-banner--error" role="alert">{screen_dict.text("error.passwordless.lock.fallback")}</p> }.into_any(),
                _ => view! { <p class="lpw-status" role="status" aria-busy="true">{screen_dict.text("loadingLabel")}</p> }.into_any(),
            };
        }
        match step.get() {
        Step::Phone | Step::Sending => {
            view! { <PhoneScreen flow config=screen_config.clone() dict=screen_dict.clone() phone_text region picked/> }.into_any()
        }
        Step::Code | Step::Resending | Step::Verifying => {
            view! { <CodeScreen flow config=screen_config.clone() dict=screen_dict.clone() code_text/> }.into_any()
        }
        Step::Redirecting => {
            view! { <p class="lpw-status" role="status">{screen_dict.text("redirectingLabel")}</p> }.into_any()
        }
        Step::Done => {
            view! { <p class="lpw-status lpw-success" role="status">{screen_dict.text("success.logIn")}</p> }
                .into_any()
        }
    }
    };
    let show_back = Memo::new(move |_| step.get() == Step::Code);
    let theme = config.options.theme.clone();
    let primary = theme.primary_color.clone().unwrap_or_default();
    let root_class = format!(
        "lpw-root{}{}",
        if inline { " lpw-inline" } else { "" },
        match theme.color_scheme.as_str() {
            "light" => " lpw-light",
            "dark" => " lpw-dark",
            _ => "",
        }
    );
    let language = config
        .options
        .language
        .clone()
        .unwrap_or_else(|| "en".into());
    let dir = if crate::i18n::is_rtl(&language) {
        "rtl"
    } else {
        "ltr"
    };
    let text = move |key: &'static str| move || dictionary.with(|d| d.text(key));
    view! {
        <div class=root_class lang=language dir=dir style:--lpw-primary=move || (!primary.is_empty()).then(|| primary.clone())>
            {(!inline).then(|| view! { <div class="lpw-overlay"></div> })}
            <div class="lpw-modal" node_ref=dialog
                role=if inline { "region" } else { "dialog" }
                aria-modal=(!inline).then_some("true")
                aria-labelledby=ids.id("title") on:keydown=on_keydown>
                <div class="lpw-header">
                    {move || show_back.get().then(|| view! {
                        <button type="button" class="lpw-back" aria-label=text("backLabel")
                            on:click=move |_| flow.back()>"←"</button>
                    })}
                    {theme.logo.clone().map(|src| view! { <img class="lpw-logo" src=src alt=""/> })}
                    <h2 id=ids.id("title") class="lpw-title">{text("title")}</h2>
                    {closable.then(|| {
                        let close = close.clone();
                        view! {
                            <button type="button" class="lpw-close" aria-label=text("closeLabel")
                                on:click=move |_| close()>"×"</button>
                        }
                    })}
                </div>
                <div aria-live="polite">{banner}</div>
                {screen}
            </div>
        </div>
    }
}

/// The submit button: text, or an arrow with the text as its label.
pub(crate) fn submit_button(
    labeled: bool,
    busy: Memo<bool>,
    idle: String,
    working: String,
) -> impl IntoView {
    let label = idle.clone();
    view! {
        <button type="submit" class="lpw-submit" disabled=busy aria-label=(!labeled).then_some(label)>
            {move || match (labeled, busy.get()) {
                (true, true) => working.clone(),
                (true, false) => idle.clone(),
                (false, _) => "→".to_string(),
            }}
        </button>
    }
    .into_any()
}
