//! Who is calling: the client IP (trusting proxies only when configured) and a device name.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use crate::state::AppState;

/// The caller's IP and User-Agent.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The TCP peer, or the right-most untrusted `X-Forwarded-For` hop behind a trusted proxy.
    pub ip: Option<IpAddr>,
    /// The User-Agent as sent (cut to 512 characters), or empty.
    pub user_agent: String,
}

/// The client IP per docs/concepts.md.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    // Walk from the proxy backwards; the first hop we do not trust is the client. When every
    // hop is trusted the left-most one is the furthest we can see.
    hops.iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(hops.first())
        .copied()
        .or(Some(peer))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .chars()
                    .take(512)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Caller {
            ip: client_ip(peer, &parts.headers, &state.settings.trusted_proxies),
            user_agent,
        })
    }
}

/// A readable device name from a User-Agent: "Firefox 132 on Linux", "okhttp 4.12 on Android",
/// "tessera-client 0.1", or "Unknown device".
pub fn device_name(user_agent: &str) -> String {
    let parsed = woothee::parser::Parser::new().parse(user_agent);
    let os = parsed
        .as_ref()
        .map(|p| p.os)
        .filter(|os| !os.is_empty() && *os != "UNKNOWN");
    if let Some(p) = parsed
        .as_ref()
        .filter(|p| p.name != "UNKNOWN" && !p.name.is_empty())
    {
        let major = p.version.split('.').next().unwrap_or("");
        let name = if major.is_empty() || major == "UNKNOWN" {
            p.name.to_string()
        } else {
            format!("{} {major}", p.name)
        };
        return match os {
            Some(os) => format!("{name} on {os}"),
            None => name,
        };
    }
    // Libraries and CLIs send `product/version (details)`; show the product and its version.
    let product = user_agent.split_whitespace().next().unwrap_or("");
    let (name, version) = product.split_once('/').unwrap_or((product, ""));
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(60)
        .collect();
    if name.is_empty() {
        return "Unknown device".into();
    }
    let version: String = version.split('.').take(2).collect::<Vec<_>>().join(".");
    let lower = user_agent.to_ascii_lowercase();
    let os = ["Android", "iOS", "Linux", "Windows", "Mac OS X", "Darwin"]
        .into_iter()
        .find(|os| lower.contains(&os.to_ascii_lowercase()));
    let mut out = if version.is_empty() {
        name
    } else {
        format!("{name} {version}")
    };
    if let Some(os) = os {
        out = format!("{out} on {os}");
    }
    out.chars().take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_devices() {
        let ff = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0";
        assert_eq!(device_name(ff), "Firefox 132 on Linux");
        assert_eq!(
            device_name("okhttp/4.12.0 (Android 14)"),
            "okhttp 4.12 on Android"
        );
        assert_eq!(device_name("tessera-client/0.1.0"), "tessera-client 0.1");
        assert_eq!(device_name(""), "Unknown device");
    }

    #[test]
    fn forwarded_for_only_from_trusted_peers() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "6.6.6.6, 1.2.3.4, 10.0.0.7".parse().unwrap(),
        );
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "8.8.8.8".parse().unwrap();
        assert_eq!(
            client_ip(Some(proxy), &h, &trusted),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(client_ip(Some(stranger), &h, &trusted), Some(stranger));
        assert_eq!(
            client_ip(Some(proxy), &HeaderMap::new(), &trusted),
            Some(proxy)
        );
    }
}
