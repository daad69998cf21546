//! Kido's calls to other servers (HTTP connectors today; identity providers and webhooks
//! next): bounded in time, never following redirects, and refusing private, loopback and
//! link-local addresses unless the operator allows them (`KIDO_OUTBOUND_ALLOW_PRIVATE`), so a
//! tenant administrator cannot point Kido at the network behind it. Host names are checked
//! where they are resolved, for the addresses the connection then uses (no second lookup a
//! DNS answer could change between check and connect).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whole-request bound of an outgoing call, and of its connection.
pub const TIMEOUT: Duration = Duration::from_secs(10);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether `ip` is an address of the public internet (not loopback, private, link-local,
/// carrier-grade NAT, multicast, documentation or otherwise reserved).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                return is_public_v4(Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// Why an outgoing call was refused before it was made.
pub fn refusal(host: &str) -> String {
    format!(
        "{host} is a private, loopback or link-local address; Kido does not call those unless the operator sets KIDO_OUTBOUND_ALLOW_PRIVATE=true"
    )
}

/// Refuses a URL whose host is an address literal that is not public (host names are
/// checked when they are resolved).
pub fn check_url(url: &url::Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{url}: only http and https URLs are called"));
    }
    let ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(url::Host::Domain(_)) => return Ok(()),
        None => return Err(format!("{url}: no host")),
    };
    if allow_private || is_public(ip) { Ok(()) } else { Err(refusal(&ip.to_string())) }
}

/// Resolves a host name and refuses it when any of its addresses is not public: a name
/// answering one public and one private address could otherwise be steered to the latter.
pub async fn resolve(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> =
        tokio::net::lookup_host((host, port)).await.map_err(|e| format!("{host} does not resolve: {e}"))?.collect();
    if addrs.is_empty() {
        return Err(format!("{host} does not resolve"));
    }
    if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(refusal(host));
    }
    Ok(addrs)
}

/// reqwest's resolver, checking every answer.
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs = resolve(name.as_str(), 0, allow_private).await.map_err(std::io::Error::other)?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client of outgoing calls. Blocking (it reads the system's root certificates):
/// build it off the async workers.
pub fn build_client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .user_agent(concat!("Kido/", env!("CARGO_PKG_VERSION")))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_and_reserved_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn address_literals_in_urls_are_checked() {
        let url = |s: &str| url::Url::parse(s).unwrap();
        assert!(check_url(&url("http://127.0.0.1:9/x"), false).unwrap_err().contains("KIDO_OUTBOUND_ALLOW_PRIVATE"));
        assert!(check_url(&url("http://[::1]/x"), false).is_err());
        assert!(check_url(&url("http://127.0.0.1:9/x"), true).is_ok());
        assert!(check_url(&url("https://8.8.8.8/x"), false).is_ok());
        assert!(check_url(&url("https://example.com/x"), false).is_ok(), "names are checked when resolved");
        assert!(check_url(&url("ftp://example.com/x"), true).is_err());
    }

    #[tokio::test]
    async fn names_resolving_to_loopback_are_refused_unless_allowed() {
        assert!(resolve("localhost", 80, false).await.unwrap_err().contains("KIDO_OUTBOUND_ALLOW_PRIVATE"));
        assert!(resolve("localhost", 80, true).await.is_ok());
    }
}
