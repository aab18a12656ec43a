//! URLs without a browser: percent-encoding, origins, and finding an authorization response in
//! a page's URL (and the URL without it).

use crate::token::{self, HashResponse};

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
pub fn encode_component(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
    out
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find(['/', '?', '#']) {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

/// The parameters `/authorize` puts in a query response; everything else in a query is the
/// app's own.
const RESPONSE_PARAMS: &[&str] = &["code", "state", "error", "error_description", "error_uri"];

/// An authorization response found in a page's URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlResponse {
    /// The part that holds it (`#…` or `?…`), for [`crate::webauth::WebAuth::resume`].
    pub part: String,
    /// Its `state`: the response is the widget's only when a transaction of this tab has it.
    pub state: String,
    /// The same URL without the response (path, the app's other query parameters, fragment).
    pub cleaned: String,
}

/// Finds an authorization response in a URL given as its path, query (`?…` or empty) and
/// fragment (`#…` or empty): tokens or an error in the fragment, or a code or an error in the
/// query. A candidate without a `state` is not a response (`?code=PROMO` is the app's).
pub fn find_response(path: &str, search: &str, hash: &str) -> Option<UrlResponse> {
    let state_of = |r: &HashResponse| match r {
        HashResponse::Tokens(p) => p.get("state").cloned(),
        HashResponse::Error { state, .. } => state.clone(),
    };
    let found = |part: &str, cleaned: String| {
        let state = token::parse_hash(part).as_ref().and_then(state_of)?;
        (!state.is_empty()).then(|| UrlResponse {
            part: part.to_string(),
            state,
            cleaned,
        })
    };
    if let Some(r) = found(hash, format!("{path}{search}")) {
        return Some(r);
    }
    let query = search.trim_start_matches('?');
    let has = |name: &str| query.split('&').any(|p| p.split('=').next() == Some(name));
    if has("code") || has("error") {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter(|p| !RESPONSE_PARAMS.contains(&p.split('=').next().unwrap_or_default()))
            .collect();
        let rest = if kept.is_empty() {
            String::new()
        } else {
            format!("?{}", kept.join("&"))
        };
        return found(search, format!("{path}{rest}{hash}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_finds_origins() {
        assert_eq!(encode_component("a b/ü~"), "a%20b%2F%C3%BC~");
        assert_eq!(
            origin_of("http://127.0.0.1:4000/x?y#z"),
            "http://127.0.0.1:4000"
        );
        assert_eq!(
            origin_of("https://t.eu.auth0.com"),
            "https://t.eu.auth0.com"
        );
    }

    #[test]
    fn a_fragment_response_is_found_and_removed_whole() {
        let r = find_response("/shop", "?x=1", "#access_token=a&id_token=i&state=S1").unwrap();
        assert_eq!(r.state, "S1");
        assert_eq!(r.part, "#access_token=a&id_token=i&state=S1");
        assert_eq!(r.cleaned, "/shop?x=1");
        let e = find_response(
            "/",
            "",
            "#error=access_denied&error_description=no&state=S2",
        );
        assert_eq!(e.unwrap().state, "S2");
    }

    #[test]
    fn a_query_response_keeps_the_apps_own_parameters() {
        let r = find_response("/cb", "?utm=mail&code=C&state=S&lang=fr", "#top").unwrap();
        assert_eq!(r.state, "S");
        assert_eq!(r.cleaned, "/cb?utm=mail&lang=fr#top");
        let r = find_response("/cb", "?code=C&state=S", "").unwrap();
        assert_eq!(r.cleaned, "/cb");
    }

    #[test]
    fn the_apps_own_code_or_anchor_is_not_a_response() {
        assert_eq!(find_response("/", "?code=PROMO", ""), None);
        assert_eq!(find_response("/", "?code=PROMO&state=", ""), None);
        assert_eq!(find_response("/", "", "#pricing"), None);
        assert_eq!(find_response("/", "", "#code=1"), None);
        assert_eq!(find_response("/", "?error=oops", ""), None);
        assert_eq!(find_response("/", "?page=2", "#state=x"), None);
    }
}
