//! The client's address, for rate limits and the sign-in throttle. By default the socket's
//! peer: headers are the client's word and are ignored. Behind proxies listed in
//! `SLOTPAY_TRUSTED_PROXIES` (the TLS proxy every deployment has), the address is read from
//! what they add: `X-Forwarded-For` (or RFC 7239 `Forwarded: for=`), from the right, skipping
//! the trusted proxies themselves, so the first address a trusted proxy did not vouch for is
//! the client. Addresses a client prepends to the header are never reached.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};
use ipnet::IpNet;

/// The client address of a request from `peer` with `headers`.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> String {
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer.to_string();
    }
    let chain = forwarded_chain(headers);
    // Right to left: each hop was added by the one after it; the first hop that is not a
    // trusted proxy is the client. A hop that does not parse ends the trust.
    let mut client = peer;
    for hop in chain.iter().rev() {
        match hop {
            Some(ip) if is_trusted(ip) => client = *ip,
            Some(ip) => return ip.to_string(),
            None => break,
        }
    }
    client.to_string()
}

/// The addresses the proxies recorded, oldest first: `Forwarded`'s `for=` when present,
/// else `X-Forwarded-For`. An entry that is not an address is `None`.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.trim().split_once('='))
                    .find(|(k, _)| k.eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v))
            })
            .collect();
    }
    values(header::HeaderName::from_static("x-forwarded-for"))
        .iter()
        .map(|v| parse_node(v))
        .collect()
}

/// An address as proxies write it: `203.0.113.7`, `"[2001:db8::1]:443"`, `203.0.113.7:80`.
fn parse_node(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_matches('"');
    if let Ok(ip) = t.parse() {
        return Some(ip);
    }
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    t.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn only_trusted_proxies_are_believed() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy = Some("10.0.0.5".parse().unwrap());
        let stranger = Some("198.51.100.1".parse().unwrap());
        let xff = headers(&[("x-forwarded-for", "192.0.2.1, 203.0.113.9, 10.0.0.7")]);
        assert_eq!(client_ip(proxy, &xff, &trusted), "203.0.113.9");
        assert_eq!(client_ip(stranger, &xff, &trusted), "198.51.100.1");
        assert_eq!(client_ip(proxy, &xff, &[]), "10.0.0.5");
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &trusted), "10.0.0.5");
        let fwd = headers(&[(
            "forwarded",
            "for=192.0.2.60;proto=http, for=\"[2001:db8:cafe::17]:4711\"",
        )]);
        assert_eq!(client_ip(proxy, &fwd, &trusted), "2001:db8:cafe::17");
        let junk = headers(&[("x-forwarded-for", "203.0.113.1, not-an-address")]);
        assert_eq!(client_ip(proxy, &junk, &trusted), "10.0.0.5");
        assert_eq!(client_ip(None, &xff, &trusted), "unknown");
    }
}
