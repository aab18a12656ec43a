//! The client's address for rate limits and brute-force counting.
//!
//! Behind a load balancer every request comes from the balancer, so its forwarding headers must
//! name the client — but only a trusted peer may say so: from anyone else a `Forwarded` or
//! `X-Forwarded-For` header is a lie an attacker chooses. So the headers are read only when the
//! socket peer is in `tenant.trusted_proxies`, and then from the right: each trusted hop names
//! the one before it, and the first address that is not a trusted proxy is the client.
//! IPv6 clients are keyed by their /64, the block one subscriber usually gets.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::HeaderMap;

use crate::config::ProxyRange;
use crate::Tenant;

/// The rate-limit key of the request's client: an IPv4 address or an IPv6 /64.
pub struct ClientIp(pub String);

impl axum::extract::FromRequestParts<Arc<Tenant>> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        t: &Arc<Tenant>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self(match peer {
            Some(peer) => rate_key(client_address(
                peer,
                &parts.headers,
                &t.config.tenant.trusted_proxies,
            )),
            None => "unknown".into(),
        }))
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ProxyRange]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|r| r.0.contains(&ip));
    let mut client = canonical(peer);
    if !is_trusted(client) {
        return client;
    }
    for hop in forwarded_chain(headers).into_iter().rev() {
        match hop {
            Some(ip) => {
                client = canonical(ip);
                if !is_trusted(client) {
                    return client;
                }
            }
            // `unknown`, an obfuscated name or garbage: the hop that added it is the client
            // as far as anyone can tell.
            None => return client,
        }
    }
    client
}

/// The addresses the forwarding headers list, client first. `Forwarded` (RFC 7239) wins over
/// `X-Forwarded-For` when both are present; several header lines are one list, in order.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let lines = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or("\u{0}"))
            .collect::<Vec<_>>()
    };
    let forwarded = lines("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|line| line.split(','))
            .map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(value.trim().trim_matches('"')))
                })?
            })
            .collect();
    }
    lines("x-forwarded-for")
        .iter()
        .flat_map(|line| line.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]:4711`.
fn parse_node(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
}

/// IPv4-mapped IPv6 (`::ffff:192.0.2.1`, as dual-stack sockets report IPv4 peers) is IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// IPv4 as is; IPv6 by its /64 (one subscriber can pick any of 2^64 addresses).
pub fn rate_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> Vec<ProxyRange> {
        list.iter()
            .map(|s| ProxyRange::try_from(s.to_string()).unwrap())
            .collect()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", "for=198.51.100.8"),
        ]);
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &[]),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_address(ip("203.0.113.5"), &h, &trusted(&["127.0.0.1/32"])),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_hops_before_it_do_not_count() {
        let t = trusted(&["10.0.0.0/8", "127.0.0.1"]);
        // The client sent `X-Forwarded-For: 1.2.3.4` itself; the balancer appended the real one.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7")]);
        assert_eq!(client_address(ip("10.1.2.3"), &h, &t), ip("198.51.100.7"));
        // Two trusted hops: the edge proxy's entry and then the internal one's.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.9.9.9")]);
        assert_eq!(client_address(ip("127.0.0.1"), &h, &t), ip("198.51.100.7"));
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.9"),
        ]);
        assert_eq!(client_address(ip("10.1.2.3"), &h, &t), ip("198.51.100.9"));
        // A trusted peer that forwards nothing is itself the client.
        assert_eq!(
            client_address(ip("10.1.2.3"), &HeaderMap::new(), &t),
            ip("10.1.2.3")
        );
        // Garbage stops the walk at the hop that added it.
        let h = headers(&[("x-forwarded-for", "198.51.100.7, not-an-ip")]);
        assert_eq!(client_address(ip("10.1.2.3"), &h, &t), ip("10.1.2.3"));
    }

    #[test]
    fn forwarded_is_read_as_rfc_7239_writes_it() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = headers(&[(
            "forwarded",
            r#"for=1.2.3.4, for="[2001:db8:cafe::17]:4711";proto=https, for=10.0.0.2;by=10.0.0.1"#,
        )]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &h, &t),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "For=192.0.2.60:4711;proto=http")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("192.0.2.60"));
        // `Forwarded` wins over `X-Forwarded-For`.
        let h = headers(&[
            ("forwarded", "for=192.0.2.60"),
            ("x-forwarded-for", "192.0.2.99"),
        ]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("192.0.2.60"));
        // An obfuscated identifier hides the client: the proxy that saw it stands in.
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_is_limited_per_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(rate_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(rate_key(ip("2001:db8:1:2:ffff:1:2:3")), "2001:db8:1:2::/64");
        assert_ne!(rate_key(ip("2001:db8:1:3::1")), "2001:db8:1:2::/64");
        assert_eq!(rate_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(rate_key(ip("192.0.2.1")), "192.0.2.1");
        let t = trusted(&["::ffff:127.0.0.1/128", "127.0.0.1"]);
        let h = headers(&[("x-forwarded-for", "192.0.2.5")]);
        assert_eq!(
            client_address(ip("::ffff:127.0.0.1"), &h, &t),
            ip("192.0.2.5")
        );
    }

    #[test]
    fn proxy_ranges_parse_addresses_and_cidrs_and_refuse_the_rest() {
        assert!(ProxyRange::try_from("127.0.0.1".to_string()).is_ok());
        assert!(ProxyRange::try_from("10.0.0.0/8".to_string()).is_ok());
        assert!(ProxyRange::try_from("fd00::/8".to_string()).is_ok());
        let e = ProxyRange::try_from("10.0.0.0/33".to_string()).unwrap_err();
        assert!(e.contains("10.0.0.0/33"), "{e}");
        assert!(ProxyRange::try_from("localhost".to_string()).is_err());
    }
}
