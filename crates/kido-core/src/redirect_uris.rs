//! Which redirect URIs an application may register, and whether a requested one matches a
//! registered one. Every app type takes http(s) URLs; SPA and Native apps also take custom
//! schemes (`myapp://callback`, `com.example.app:/cb`); SPAs may register a subdomain
//! wildcard (`https://*.example.com/callback`). Matching stays a string comparison: exact,
//! or with the wildcard standing for exactly one DNS label.

use kido_proto::applications::ApplicationType;

/// Schemes that would run or read something in the browser instead of going to an app.
const REFUSED_SCHEMES: &[&str] = &["javascript", "data", "vbscript", "file", "about", "blob", "filesystem"];

/// Second-level labels that, under a country code, are public suffixes (`co.uk`,
/// `com.au`…): a wildcard right above them would cover every site there.
const PUBLIC_SECOND_LEVELS: &[&str] = &["co", "com", "net", "org", "gov", "edu", "ac", "or", "ne", "go", "mil"];

/// Whether an application of `app_type` may register `uri` as a redirect URI. No
/// fragments, no credentials, no dot segments; a `*` only as a whole leftmost host label
/// of an SPA's http(s) URI with a registrable domain after it.
pub fn is_valid(uri: &str, app_type: ApplicationType) -> bool {
    let wildcard = uri.contains('*');
    if wildcard && !is_valid_wildcard(uri, app_type) {
        return false;
    }
    // The wildcard checked, the rest must be a valid URI with a concrete label in its place.
    let concrete = uri.replacen("*.", "w.", 1);
    let Ok(url) = url::Url::parse(&concrete) else { return false };
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    if uri.split(['?', '#']).next().unwrap_or_default().split('/').any(|seg| matches!(seg, "." | ".." | "%2e" | "%2E"))
    {
        return false;
    }
    match url.scheme() {
        "http" | "https" => url.host().is_some(),
        scheme => {
            matches!(app_type, ApplicationType::Spa | ApplicationType::Native)
                && !REFUSED_SCHEMES.contains(&scheme)
                && uri.len() > scheme.len() + 1
        }
    }
}

/// `https://*.<registrable domain>[:port]/…`: an SPA only, one `*`, the whole first label.
fn is_valid_wildcard(uri: &str, app_type: ApplicationType) -> bool {
    if app_type != ApplicationType::Spa || uri.matches('*').count() != 1 {
        return false;
    }
    let Some((scheme, rest)) = uri.split_once("://") else { return false };
    if scheme != "https" && scheme != "http" {
        return false;
    }
    let Some(domain) = rest.strip_prefix("*.") else { return false };
    let host = domain.split(['/', '?', ':']).next().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    let is_label =
        |l: &&str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let [.., second, top] = labels.as_slice() else { return false };
    labels.iter().all(is_label)
        && top.bytes().all(|b| b.is_ascii_lowercase())
        && !(labels.len() == 2 && top.len() == 2 && PUBLIC_SECOND_LEVELS.contains(second))
}

/// Whether `requested` is what `registered` allows: the same string, or, for a wildcard
/// URI, the same string with one lower-case DNS label where the `*` is.
pub fn matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let Some((prefix, suffix)) = registered.split_once('*') else { return false };
    let Some(label) = requested.strip_prefix(prefix).and_then(|r| r.strip_suffix(suffix)) else { return false };
    (1..=63).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationType::{MachineToMachine, Native, Spa, Traditional};

    #[test]
    fn registration() {
        for ok in ["https://app.example.com/callback", "http://localhost:3000/cb?x=1"] {
            for t in [Native, Spa, Traditional] {
                assert!(is_valid(ok, t), "{ok} {t:?}");
            }
        }
        for ok in ["com.example.app:/callback", "io.kido.demo://cb", "myapp://callback"] {
            assert!(is_valid(ok, Native) && is_valid(ok, Spa), "{ok}");
            assert!(!is_valid(ok, Traditional) && !is_valid(ok, MachineToMachine), "{ok}");
        }
        for bad in [
            "not a url",
            "https://app.example.com/cb#frag",
            "https://u:p@example.com/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "https://example.com/a/../b",
        ] {
            for t in [Native, Spa, Traditional] {
                assert!(!is_valid(bad, t), "{bad} {t:?}");
            }
        }
    }

    #[test]
    fn wildcards() {
        assert!(is_valid("https://*.example.com/callback", Spa));
        assert!(is_valid("http://*.dev.example.com:8080/cb?x=1", Spa));
        assert!(is_valid("https://*.example.co.uk/cb", Spa));
        for t in [Native, Traditional] {
            assert!(!is_valid("https://*.example.com/callback", t));
        }
        for bad in [
            "https://*.com/x",
            "https://*.co.uk/x",
            "https://*/x",
            "https://a.*.example.com/x",
            "https://*a.example.com/x",
            "https://*.*.example.com/x",
            "https://*.example.com/*",
            "https://*.example.com:*/x",
            "*://app.example.com/x",
            "myapp*://cb",
            "https://*.example.com/cb#x",
            "https://*.127.0.0.1/x",
        ] {
            assert!(!is_valid(bad, Spa), "{bad}");
        }
    }

    #[test]
    fn matching() {
        let w = "https://*.example.com/callback";
        assert!(matches(w, "https://app.example.com/callback"));
        assert!(matches(w, w));
        for no in [
            "https://example.com/callback",
            "https://a.b.example.com/callback",
            "https://evil.com/.example.com/callback",
            "https://evil.com?.example.com/callback",
            "https://evil.com#.example.com/callback",
            "https://u@x.example.com/callback",
            "https://APP.example.com/callback",
            "https://app.example.com/callback/x",
            "http://app.example.com/callback",
        ] {
            assert!(!matches(w, no), "{no}");
        }
        assert!(matches("myapp://callback", "myapp://callback"));
        assert!(!matches("https://app.example.com/cb", "https://app.example.com/cb2"));
    }
}
