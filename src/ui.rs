//! The default UI: a modal (or inline box) over the headless hook.

use leptos::ev;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;

use crate::browser;
use crate::hook::{use_passwordless, Passwordless};
use crate::i18n::{rich_text, Dictionary, Rich};
use crate::lock::{ClientState, Lock, LockEvent};
use crate::machine::Step;
use crate::options::FlashKind;
use crate::otp::OtpCode;
use crate::phone::{self, PhoneNumber};

const STYLE_ID: &str = "lpw-style";
const STYLE: &str = include_str!("../style/lock.css");
const FOCUSABLE: &str =
    "button:not([disabled]), input:not([disabled]), select:not([disabled]), a[href], [tabindex]:not([tabindex='-1'])";

/// Adds the widget's stylesheet to the document once.
fn inject_style() {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if doc.get_element_by_id(STYLE_ID).is_some() {
        return;
    }
    if let (Ok(style), Some(head)) = (doc.create_element("style"), doc.head()) {
        style.set_id(STYLE_ID);
        style.set_text_content(Some(STYLE));
        let _ = head.append_child(&style);
    }
}

/// Focuses the element with `id` once the current render has reached the DOM.
fn focus_soon(id: &'static str) {
    wasm_bindgen_futures::spawn_local(async move {
        browser::sleep_ms(0).await;
        let el = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(id))
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(el) = el {
            let _ = el.focus();
        }
    });
}

/// Keeps Tab and Shift+Tab inside `container`.
fn trap_tab(e: &ev::KeyboardEvent, container: &web_sys::Element) {
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

/// Text that may hold links (`<a href="https://…">terms</a>` in `signUpTerms`): links become
/// real links, everything else stays text.
fn render_rich(text: &str) -> impl IntoView {
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
/// Mount it once; it renders nothing while the lock is hidden.
#[component]
pub fn LockPasswordless(
    /// The widget instance to render.
    lock: Lock,
) -> impl IntoView {
    // Under a strict CSP the page links lock-passwordless.css itself.
    if !lock.config().options.strict_csp {
        inject_style();
    }
    let open = {
        let lock = lock.clone();
        move || lock.is_open()
    };
    view! {
        <Show when=open>
            <Modal lock=lock.clone()/>
        </Show>
    }
}

#[component]
fn Modal(lock: Lock) -> impl IntoView {
    let flow = use_passwordless(lock.clone());
    let config = (*lock.config()).clone();
    // The texts: a signal, as the chosen language's file lands after the widget shows.
    let dictionary = lock.dictionary();
    let closable = config.closable();
    let inline = config.inline();
    let autofocus = config.autofocus();

    // Focus returns where it was when the modal closes.
    let previous = StoredValue::new(SendWrapper::new(
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element()),
    ));
    on_cleanup(move || {
        if let Some(el) = previous
            .get_value()
            .take()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = el.focus();
        }
    });

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
                trap_tab(&e, &d);
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
    let code_text = RwSignal::new(String::new());

    let banner_flow = flow.clone();
    let flash = lock.flash();
    let banner = move || {
        if let Some(e) = banner_flow.error() {
            return Some(view! { <div class="lpw-banner lpw-banner--error" role="alert">{e.message(&dictionary.get())}</div> }.into_any());
        }
        let step = banner_flow.step();
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
    let back_flow = flow.clone();
    let screen_flow = flow.clone();
    let step_flow = flow.clone();
    // A memo, so a screen is rebuilt only when the step changes (not on every state update).
    let step = Memo::new(move |_| step_flow.step());
    let ready_lock = lock.clone();
    let ready = Memo::new(move |_| ready_lock.client_state() == ClientState::Ready);
    if autofocus {
        Effect::new(move |_| match (ready.get(), step.get()) {
            (false, _) => {}
            (true, Step::Phone) => focus_soon("lpw-phone"),
            (true, Step::Code) => focus_soon("lpw-code"),
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
            view! { <PhoneScreen flow=screen_flow.clone() config=screen_config.clone() dict=screen_dict.clone() phone_text region picked/> }.into_any()
        }
        Step::Code | Step::Resending | Step::Verifying => {
            view! { <CodeScreen flow=screen_flow.clone() config=screen_config.clone() dict=screen_dict.clone() code_text/> }.into_any()
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
    let show_back = move || step.get() == Step::Code;
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
                aria-labelledby="lpw-title" on:keydown=on_keydown>
                <header class="lpw-header">
                    <Show when=show_back>
                        <button type="button" class="lpw-back" aria-label=text("backLabel")
                            on:click={
                                let f = back_flow.clone();
                                move |_| f.back()
                            }>"←"</button>
                    </Show>
                    {theme.logo.clone().map(|src| view! { <img class="lpw-logo" src=src alt=""/> })}
                    <h2 id="lpw-title" class="lpw-title">{text("title")}</h2>
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
fn submit_button(labeled: bool, busy: Memo<bool>, idle: String, working: String) -> impl IntoView {
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
}

#[component]
fn PhoneScreen(
    flow: Passwordless,
    config: crate::options::LockConfig,
    dict: Dictionary,
    phone_text: RwSignal<String>,
    region: RwSignal<String>,
    picked: RwSignal<bool>,
) -> impl IntoView {
    let invalid = RwSignal::new(false);
    let language = config
        .options
        .language
        .clone()
        .unwrap_or_else(|| "en".into());
    let must_accept = config.options.must_accept_terms;
    let accepted = RwSignal::new(false);
    let terms_missing = RwSignal::new(false);
    let step_flow = flow.clone();
    let sending = Memo::new(move |_| step_flow.step() == Step::Sending);
    let submit_flow = flow.clone();
    let on_submit = move |e: ev::SubmitEvent| {
        e.prevent_default();
        if must_accept && !accepted.get_untracked() {
            terms_missing.set(true);
            return;
        }
        match PhoneNumber::parse(&phone_text.get_untracked(), &region.get_untracked()) {
            Ok(number) => {
                invalid.set(false);
                if let Some(r) = number.region() {
                    region.set(r.to_string());
                }
                submit_flow.submit_phone(number);
            }
            Err(_) => invalid.set(true),
        }
    };
    // As you type: the region's grouping, the caret after the same digit, and a `+…` or `00…`
    // number switching the country.
    let on_input = move |e: ev::Event| {
        let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let mut value = input.value();
        let caret = input.selection_start().ok().flatten().unwrap_or(0) as usize;
        let mut keep = phone::significant_before(&value, caret);
        let old = phone_text.get_untracked();
        let deleting = e
            .dyn_ref::<web_sys::InputEvent>()
            .is_some_and(|ie| ie.input_type().starts_with("delete"));
        let count = |t: &str| phone::significant_before(t, usize::MAX);
        if deleting && count(&value) == count(&old) && keep > 0 {
            // Only a space or bracket was deleted: delete the digit before it instead.
            let mut seen = 0;
            value = value
                .chars()
                .filter(|&c| {
                    if phone::is_significant(c) {
                        seen += 1;
                        return seen != keep;
                    }
                    true
                })
                .collect();
            keep -= 1;
        }
        let typed = phone::as_you_type(&value, &region.get_untracked());
        if let Some(r) = typed.region.filter(|r| *r != region.get_untracked()) {
            region.set(r);
            picked.set(true);
        }
        input.set_value(&typed.text);
        let at = phone::caret_after(&typed.text, keep) as u32;
        let _ = input.set_selection_range(at, at);
        phone_text.set(typed.text);
        invalid.set(false);
    };
    let placeholder_dict = dict.clone();
    let placeholder = move || {
        phone::country(&region.get())
            .and_then(|c| c.example())
            .unwrap_or_else(|| placeholder_dict.text("phoneNumberInputPlaceholder"))
    };
    let invalid_text = dict.text("error.passwordless.bad.phone_number");
    let terms_text = dict.text("signUpTerms");
    let terms_error = dict.text("error.signUp.social_signup_needs_terms_acception");
    let show_terms = config.options.show_terms || must_accept;
    view! {
        <form class="lpw-body" on:submit=on_submit novalidate>
            <p class="lpw-instructions">{render_rich(&dict.text("passwordlessSMSInstructions"))}</p>
            <CountryPicker region=region picked=picked language=language
                label=dict.text("countryLabel") search_label=dict.text("countrySearchLabel")
                empty_text=dict.text("countryNoMatch")/>
            <label class="lpw-label" for="lpw-phone">{dict.text("phoneNumberInputLabel")}</label>
            <input id="lpw-phone" class="lpw-input" type="tel" name="phone" autocomplete="tel"
                placeholder=placeholder
                aria-invalid=move || invalid.get().to_string()
                aria-describedby="lpw-phone-error"
                prop:value=move || phone_text.get()
                on:input=on_input/>
            <p id="lpw-phone-error" class="lpw-field-error" role="alert">
                {move || invalid.get().then(|| invalid_text.clone())}
            </p>
            {show_terms.then(|| if must_accept {
                view! {
                    <label class="lpw-terms lpw-terms--accept">
                        <input type="checkbox" id="lpw-terms-accept"
                            on:change=move |e| { accepted.set(event_target_checked(&e)); terms_missing.set(false); }/>
                        <span>{render_rich(&terms_text)}</span>
                    </label>
                    <p class="lpw-field-error" role="alert">{move || terms_missing.get().then(|| terms_error.clone())}</p>
                }.into_any()
            } else {
                view! { <p class="lpw-terms">{render_rich(&terms_text)}</p> }.into_any()
            })}
            {submit_button(config.options.theme.labeled_submit_button, sending, dict.text("submitLabel"), dict.text("sendingLabel"))}
        </form>
    }
}

/// The country selector: a button showing the country, opening a searchable list (name, ISO
/// code and dial code all match) driven by the arrow keys, Enter and Esc.
#[component]
fn CountryPicker(
    region: RwSignal<String>,
    picked: RwSignal<bool>,
    language: String,
    label: String,
    search_label: String,
    empty_text: String,
) -> impl IntoView {
    // One Intl.DisplayNames for the whole list, in the UI language.
    let countries: Vec<(phone::Country, String)> = {
        let names = browser::RegionNames::new(&language);
        let mut list: Vec<_> = phone::countries()
            .into_iter()
            .map(|c| {
                let name = names.name(&c.code).unwrap_or_else(|| c.code.clone());
                (c, name)
            })
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        list
    };
    let countries = StoredValue::new(countries);
    let empty_text = StoredValue::new(empty_text);
    let list_label = StoredValue::new(label.clone());
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let matches = Memo::new(move |_| {
        let q = query.get();
        countries.with_value(|list| {
            list.iter()
                .enumerate()
                .filter(|(_, (c, name))| c.matches(name, &q))
                .map(|(i, _)| i)
                .collect::<Vec<usize>>()
        })
    });
    let shown = move || {
        let code = region.get();
        countries.with_value(|list| {
            list.iter()
                .find(|(c, _)| c.code == code)
                .map(|(c, name)| format!("{} {name} +{}", c.flag(), c.dial_code))
                .unwrap_or(code)
        })
    };
    let option_id = |code: &str| format!("lpw-country-{code}");
    let active_code = move || {
        let i = *matches.get().get(active.get())?;
        countries.with_value(|list| Some(list[i].0.code.clone()))
    };
    let scroll_active = move || {
        if let Some(el) = active_code().and_then(|code| {
            web_sys::window()?
                .document()?
                .get_element_by_id(&option_id(&code))
        }) {
            el.scroll_into_view_with_bool(false);
        }
    };
    let choose = move |code: String| {
        region.set(code);
        picked.set(true);
        open.set(false);
        focus_soon("lpw-country");
    };
    let toggle = move |_| {
        let now = !open.get_untracked();
        if now {
            query.set(String::new());
            let code = region.get_untracked();
            let at = countries.with_value(|l| l.iter().position(|(c, _)| c.code == code));
            active.set(at.unwrap_or(0));
            focus_soon("lpw-country-search");
            wasm_bindgen_futures::spawn_local(async move {
                browser::sleep_ms(0).await;
                scroll_active();
            });
        }
        open.set(now);
    };
    let on_key = move |e: ev::KeyboardEvent| {
        let count = matches.with_untracked(Vec::len);
        match e.key().as_str() {
            "ArrowDown" if count > 0 => {
                e.prevent_default();
                active.set((active.get_untracked() + 1).min(count - 1));
                scroll_active();
            }
            "ArrowUp" => {
                e.prevent_default();
                active.set(active.get_untracked().saturating_sub(1));
                scroll_active();
            }
            "Home" | "End" if count > 0 => {
                e.prevent_default();
                active.set(if e.key() == "Home" { 0 } else { count - 1 });
                scroll_active();
            }
            "Enter" => {
                e.prevent_default();
                if let Some(code) = active_code() {
                    choose(code);
                }
            }
            "Escape" => {
                // Closes the list, not the whole login box.
                e.prevent_default();
                e.stop_propagation();
                open.set(false);
                focus_soon("lpw-country");
            }
            _ => {}
        }
    };
    view! {
        <span id="lpw-country-label" class="lpw-label">{label.clone()}</span>
        <button type="button" id="lpw-country" class="lpw-country" value=move || region.get()
            aria-haspopup="listbox" aria-expanded=move || open.get().to_string()
            aria-labelledby="lpw-country-label lpw-country" on:click=toggle>
            <span class="lpw-country-value">{shown}</span>
            <span class="lpw-country-caret" aria-hidden="true">"▾"</span>
        </button>
        <Show when=move || open.get()>
            <div class="lpw-country-pane">
                <input id="lpw-country-search" class="lpw-input" type="text" role="combobox"
                    autocomplete="off" spellcheck="false"
                    aria-label=search_label.clone() placeholder=search_label.clone()
                    aria-expanded=move || (!matches.with(Vec::is_empty)).to_string()
                    aria-controls=move || (!matches.with(Vec::is_empty)).then_some("lpw-country-list")
                    aria-autocomplete="list"
                    aria-activedescendant=move || active_code().map(|c| option_id(&c))
                    prop:value=move || query.get()
                    on:input=move |e| { query.set(event_target_value(&e)); active.set(0); }
                    on:keydown=on_key/>
                {move || {
                    let list = matches.get();
                    if list.is_empty() {
                        // A listbox may not be empty: say so instead.
                        return view! { <p class="lpw-country-empty" role="status">{empty_text.get_value()}</p> }.into_any();
                    }
                    let label = list_label.get_value();
                    view! {
                    <ul id="lpw-country-list" class="lpw-country-list" role="listbox" aria-label=label>
                        {countries.with_value(|all| list.iter().enumerate().map(|(n, &i)| {
                            let (c, name) = &all[i];
                            let code = c.code.clone();
                            let pick = code.clone();
                            let current = region.get_untracked() == code;
                            view! {
                                <li id=option_id(&code) role="option" class="lpw-country-option"
                                    aria-selected=move || (active.get() == n).to_string()
                                    data-current=current.then_some("true")
                                    on:mousedown=move |e: ev::MouseEvent| e.prevent_default()
                                    on:click=move |_| choose(pick.clone())>
                                    <span aria-hidden="true">{c.flag()}</span>
                                    " " {name.clone()}
                                    <span class="lpw-country-dial">{format!("+{}", c.dial_code)}</span>
                                </li>
                            }
                        }).collect_view())}
                    </ul>
                    }.into_any()
                }}
            </div>
        </Show>
    }
}

/// Digits only (full-width ones too), at most `max`.
fn digits_of(text: &str, max: usize) -> String {
    text.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .take(max)
        .collect()
}

/// Asks the browser for the code from the SMS (WebOTP), where it has the API; the request is
/// aborted with `controller` (manual submit, back, close).
fn web_otp(controller: &web_sys::AbortController, on_code: impl FnOnce(String) + 'static) {
    use js_sys::Reflect;
    let window = match web_sys::window() {
        Some(w) => w,
        None => return,
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
        if let Ok(credential) = wasm_bindgen_futures::JsFuture::from(promise).await {
            if let Some(code) = Reflect::get(&credential, &"code".into())
                .ok()
                .and_then(|c| c.as_string())
            {
                on_code(code);
            }
        }
    });
}

#[component]
fn CodeScreen(
    flow: Passwordless,
    config: crate::options::LockConfig,
    dict: Dictionary,
    code_text: RwSignal<String>,
) -> impl IntoView {
    let step_flow = flow.clone();
    let verifying = Memo::new(move |_| step_flow.step() == Step::Verifying);
    let phone = flow
        .phone()
        .map(|p| p.international().to_string())
        .unwrap_or_default();
    let length = config.options.code_length;
    let auto_submit = config.options.auto_submit_code;
    let format_error = RwSignal::new(false);
    let webotp = StoredValue::new(SendWrapper::new(web_sys::AbortController::new().ok()));
    let abort_webotp = move || {
        if let Some(c) = webotp.get_value().as_ref() {
            c.abort();
        }
    };
    on_cleanup(abort_webotp);
    let submit_flow = flow.clone();
    let submit = move || match OtpCode::parse(&code_text.get_untracked(), length) {
        Ok(code) => {
            format_error.set(false);
            abort_webotp();
            submit_flow.submit_code(code);
        }
        Err(_) => format_error.set(true),
    };
    let on_submit = {
        let submit = submit.clone();
        move |e: ev::SubmitEvent| {
            e.prevent_default();
            submit();
        }
    };
    let typed = {
        let submit = submit.clone();
        move |value: String| {
            let digits = digits_of(&value, length);
            let complete = digits.len() == length;
            code_text.set(digits);
            format_error.set(false);
            if complete && auto_submit {
                submit();
            }
        }
    };
    let on_input = {
        let typed = typed.clone();
        move |e: ev::Event| typed(event_target_value(&e))
    };
    // Pasting "123 456" or "123-456" must not be cut short by maxlength.
    let on_paste = {
        let typed = typed.clone();
        move |e: ev::ClipboardEvent| {
            if let Some(text) = e.clipboard_data().and_then(|d| d.get_data("text").ok()) {
                e.prevent_default();
                typed(text);
            }
        }
    };
    if let Some(controller) = webotp.get_value().as_ref() {
        let typed = typed.clone();
        web_otp(controller, typed);
    }
    let resend_flow = flow.clone();
    let countdown_flow = flow.clone();
    let (resend_action, resend_countdown) =
        (dict.text("resendCodeAction"), dict.text("resendCountdown"));
    let resend_label = move || match countdown_flow.resend_in() {
        0 => resend_action.clone(),
        n => crate::i18n::format(&resend_countdown, &[&n.to_string()]),
    };
    let resend_flow2 = flow.clone();
    let resend_disabled = move || resend_flow2.resend_in() > 0 || resend_flow2.pending();
    let code_error = dict.format("error.login.lock.code_format", &[&length.to_string()]);
    let different_flow = flow.clone();
    view! {
        <form class="lpw-body" on:submit=on_submit novalidate>
            <p class="lpw-instructions">{dict.format("passwordlessSMSCodeInstructions", &[&phone])}</p>
            <label class="lpw-label" for="lpw-code">{dict.text("codeInputLabel")}</label>
            <input id="lpw-code" class="lpw-input lpw-code" type="text" name="code"
                inputmode="numeric" autocomplete="one-time-code" maxlength=length.to_string()
                pattern="[0-9]*"
                placeholder=dict.text("codeInputPlaceholder")
                aria-invalid=move || format_error.get().to_string()
                aria-describedby="lpw-code-error"
                prop:value=move || code_text.get()
                on:input=on_input on:paste=on_paste/>
            <p id="lpw-code-error" class="lpw-field-error" role="alert">
                {move || format_error.get().then(|| code_error.clone())}
            </p>
            <button type="button" class="lpw-link lpw-resend" disabled=resend_disabled
                on:click=move |_| resend_flow.resend()>
                <span aria-live="polite">{resend_label}</span>
            </button>
            <button type="button" class="lpw-link lpw-different"
                on:click=move |_| { abort_webotp(); different_flow.back() }>
                {dict.text("useDifferentNumberAction")}
            </button>
            {submit_button(config.options.theme.labeled_submit_button, verifying, dict.text("submitLabel"), dict.text("verifyingLabel"))}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::digits_of;

    #[test]
    fn code_input_keeps_digits_only_up_to_the_length() {
        assert_eq!(digits_of("123 - 456", 6), "123456");
        assert_eq!(digits_of("１２３４５６７", 6), "123456");
        assert_eq!(digits_of("12ab", 6), "12");
        assert_eq!(digits_of("98765432", 4), "9876");
    }
}
