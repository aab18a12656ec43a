//! The country selector: a button and a searchable list of regions.

use leptos::ev;
use leptos::prelude::*;

use crate::browser;
use crate::phone;

/// The country selector: a button showing the country, opening a searchable list (name, ISO
/// code and dial code all match) driven by the arrow keys, Enter and Esc.
#[component]
pub(super) fn CountryPicker(
    region: RwSignal<String>,
    picked: RwSignal<bool>,
    language: String,
    label: String,
    search_label: String,
    empty_text: String,
) -> impl IntoView {
    // Flags where the platform draws them, region codes where it would draw boxes.
    let flags = browser::draws_flags();
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
        // In the language's own order (`Intl.Collator`): "Émirats" among the E's.
        let before = browser::collator(&language);
        crate::sort_small(&mut list, |a, b| before(&a.1, &b.1));
        list
    };
    // The names folded for searching once, by the browser's own Unicode tables.
    let folded: Vec<String> = countries
        .iter()
        .map(|(_, name)| phone::fold_with(name, browser::search_form))
        .collect();
    let folded = StoredValue::new(folded);
    let countries = StoredValue::new(countries);
    let empty_text = StoredValue::new(empty_text);
    let list_label = StoredValue::new(label.clone());
    let open = RwSignal::new(false);
    let query = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let matches = Memo::new(move |_| {
        let q = phone::fold_with(query.get().trim(), browser::search_form);
        countries.with_value(|list| {
            folded.with_value(|names| {
                list.iter()
                    .zip(names)
                    .enumerate()
                    .filter(|(_, ((c, _), name))| c.matches_folded(name, &q))
                    .map(|(i, _)| i)
                    .collect::<Vec<usize>>()
            })
        })
    });
    let shown = move || {
        let code = region.get();
        countries.with_value(|list| {
            list.iter()
                .find(|(c, _)| c.code == code)
                .map(|(c, name)| format!("{} {name} +{}", c.mark(flags), c.dial_code))
                .unwrap_or(code)
        })
    };
    let ids = super::Ids::current();
    let option_id = move |code: &str| ids.id(&format!("country-{code}"));
    let active_code = move || {
        let i = *matches.get().get(active.get())?;
        countries.with_value(|list| Some(list[i].0.code.clone()))
    };
    let scroll_active = move |later: bool| {
        if let Some(code) = active_code() {
            browser::scroll_into_view(option_id(&code), later);
        }
    };
    let choose = move |code: String| {
        region.set(code);
        picked.set(true);
        open.set(false);
        browser::focus_soon(ids.id("country"));
    };
    let toggle = move |_| {
        let now = !open.get_untracked();
        if now {
            query.set(String::new());
            let code = region.get_untracked();
            let at = countries.with_value(|l| l.iter().position(|(c, _)| c.code == code));
            active.set(at.unwrap_or(0));
            browser::focus_soon(ids.id("country-search"));
            scroll_active(true);
        }
        open.set(now);
    };
    let on_key = move |e: ev::KeyboardEvent| {
        let count = matches.with_untracked(Vec::len);
        match e.key().as_str() {
            "ArrowDown" if count > 0 => {
                e.prevent_default();
                active.set((active.get_untracked() + 1).min(count - 1));
                scroll_active(false);
            }
            "ArrowUp" => {
                e.prevent_default();
                active.set(active.get_untracked().saturating_sub(1));
                scroll_active(false);
            }
            "Home" | "End" if count > 0 => {
                e.prevent_default();
                active.set(if e.key() == "Home" { 0 } else { count - 1 });
                scroll_active(false);
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
                browser::focus_soon(ids.id("country"));
            }
            _ => {}
        }
    };
    view! {
        <span id=ids.id("country-label") class="lpw-label">{label.clone()}</span>
        <button type="button" id=ids.id("country") class="lpw-country" value=move || region.get()
            aria-haspopup="listbox" aria-expanded=move || open.get().to_string()
            aria-labelledby=format!("{} {}", ids.id("country-label"), ids.id("country")) on:click=toggle>
            <span class="lpw-country-value">{shown}</span>
            <span class="lpw-country-caret" aria-hidden="true">"▾"</span>
        </button>
        <Show when=move || open.get()>
            <div class="lpw-country-pane">
                <input id=ids.id("country-search") class="lpw-input" type="text" role="combobox"
                    autocomplete="off" spellcheck="false"
                    aria-label=search_label.clone() placeholder=search_label.clone()
                    aria-expanded=move || (!matches.with(Vec::is_empty)).to_string()
                    aria-controls=move || (!matches.with(Vec::is_empty)).then(|| ids.id("country-list"))
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
                    <ul id=ids.id("country-list") class="lpw-country-list" role="listbox" aria-label=label>
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
                                    <span aria-hidden="true" class="lpw-country-mark">{c.mark(flags)}</span>
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
    .into_any()
}
