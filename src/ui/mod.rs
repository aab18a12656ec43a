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
const STYLE: &str = include_str!("../../style/lock.css");

thread_local! {
    static TABLES_READY: ArcRwSignal<bool> = ArcRwSignal::new(phone::tables_ready());
}

/// Whether the phone tables are in, as a signal: always true unless the crate was built with
/// `fetched-phone-tables` and they have not arrived yet.
pub(crate) fn tables_ready() -> ArcRwSignal<bool> {
    TABLES_READY.with(Clone::clone)
}

/// Fetches the phone tables from `url` (the `phone-tables.txt` that `cargo xtask bundle` ships)
/// and installs them, for a build with `fetched-phone-tables`. Widgets already on the page catch
/// up when they arrive: the typed number is formatted, a waiting submit goes on. Once installed,
/// further calls return at once.
#[cfg(feature = "fetched-phone-tables")]
#[cfg_attr(docsrs, doc(cfg(feature = "fetched-phone-tables")))]
pub async fn load_phone_tables(url: &str) -> Result<(), String> {
    if !phone::tables_ready() {
        let text = browser::fetch_text(url)
            .await
            .map_err(|e| format!("the phone tables could not load from {url}: {e}"))?;
        phone::install_tables(text)?;
    }
    let ready = tables_ready();
    if !ready.get_untracked() {
        ready.set(true);
    }
    Ok(())
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
        // Under a strict CSP the page links lock-passwordless.css itself.
        if !strict_csp {
            browser::inject_style(STYLE_ID, STYLE);
        }
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
    // The default country: `defaultLocation`, else the country of a prefilled `+…` number, else
    // the tenant's geo lookup (below, when it answers), else the browser language's region,
    // else US.
    let chosen = config
        .options
        .default_location
        .clone()
        .map(|c| c.to_ascii_uppercase())
        .or_else(|| {
            PhoneNumber::parse(&prefill, "US")
                .ok()
                .and_then(|p| p.region().map(str::to_string))
                .filter(|_| prefill.trim_start().starts_with('+'))
        });
    let ask_tenant = chosen.is_none();
    let start_region = chosen
        .or_else(|| browser::language_region().filter(|r| phone::country(r).is_some()))
        .unwrap_or_else(|| "US".into());
    let phone_text = RwSignal::new(prefill.clone());
    let region = RwSignal::new(start_region.clone());
    // Set once the user picks a country (or a `+…` number picks one).
    let picked = RwSignal::new(false);
    if ask_tenant {
        let geo_config = config.clone();
        leptos::task::spawn_local(async move {
            let Some(found) = crate::api::geoloc_country(&geo_config).await else {
                return;
            };
            // Only while nothing was picked or typed: never move the ground under the user.
            let untouched = picked.try_get_untracked() == Some(false)
                && phone_text.try_get_untracked().as_deref() == Some(prefill.as_str());
            if untouched && phone::country(&found).is_some() {
                region.set(found);
            }
        });
    }
    // With fetched phone tables: once they arrive, the number typed so far is formatted, and a
    // prefilled `+…` number picks its country as it would have at the start.
    if !phone::tables_ready() {
        let ready = tables_ready();
        let pick_from_prefill = config.options.default_location.is_none();
        Effect::new(move |_| {
            if !ready.get() {
                return;
            }
            let typed = phone::as_you_type(&phone_text.get_untracked(), &region.get_untracked());
            if let Some(r) = typed
                .region
                .filter(|_| pick_from_prefill && !picked.get_untracked())
            {
                region.set(r);
                picked.set(true);
            }
            phone_text.set(typed.text);
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
                <header class="lpw-header">
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
                </header>
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
