//! The server: leptos_axum renders every route, serves the hydrate build from `pkg/`, and the
//! widget's phone tables from `/phone-tables/`.
//!
//! Settings, as cargo-leptos passes them: `LEPTOS_SITE_ADDR` (default 127.0.0.1:3000),
//! `LEPTOS_SITE_ROOT` (the folder holding `pkg/`), `LEPTOS_OUTPUT_NAME`; and `LPW_TENANT`, the
//! tenant's URL (default http://127.0.0.1:4000, the demo tenant of `cargo xtask demo`).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use passwordless_ssr_example::{shell, App, Site, PHONE_TABLES};

#[tokio::main]
async fn main() {
    let mut options = get_configuration(None)
        .expect("the Leptos settings")
        .leptos_options;
    if options.output_name.is_empty() {
        options.output_name = "passwordless_ssr_example".into();
    }
    let addr = options.site_addr;
    let site = Site {
        tenant: std::env::var("LPW_TENANT").unwrap_or_else(|_| "http://127.0.0.1:4000".into()),
        origin: format!("http://{addr}"),
    };
    let routes = generate_route_list({
        let site = site.clone();
        move || view! { <App site=site.clone()/> }
    });
    let app = Router::new()
        .route(
            &format!("{PHONE_TABLES}/{{file}}"),
            axum::routing::get(phone_table),
        )
        .leptos_routes(&options, routes, {
            let (options, site) = (options.clone(), site.clone());
            move || shell(options.clone(), site.clone())
        })
        .fallback(leptos_axum::file_and_error_handler({
            let site = site.clone();
            move |options| shell(options, site.clone())
        }))
        .with_state(options);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("the site address is free");
    println!("listening on http://{addr}");
    axum::serve(listener, app.into_make_service())
        .await
        .expect("the server runs");
}

/// `/phone-tables/{code}.txt`: a calling code's part of the widget's phone tables, which the
/// hydrated widget fetches when it first needs it. The parts change only with the crate's
/// version, so they may be cached for as long as the wasm is.
async fn phone_table(Path(file): Path<String>) -> impl IntoResponse {
    match leptos_passwordless::phone::table_file(&file) {
        Some(text) => Ok((
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            text,
        )),
        None => Err((StatusCode::NOT_FOUND, "no such part of the phone tables")),
    }
}
