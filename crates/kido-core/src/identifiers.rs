//! The shapes of sign-in identifiers as Logto accepts them (email, phone) and the email
//! domain organizations provision by: pure rules every module checking an address shares.

/// Logto's email shape: `local@domain.tld`, no spaces, at most 128 characters.
pub fn is_email(v: &str) -> bool {
    v.len() <= 128
        && !v.chars().any(char::is_whitespace)
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.split('.').count() >= 2
                && domain.split('.').all(|p| !p.is_empty())
        })
}

/// The lower-cased domain of an email address `is_email` accepts (exactly one `@`): what
/// organizations' just-in-time provisioning matches. `None` for anything else.
pub fn email_domain(email: &str) -> Option<String> {
    is_email(email).then(|| email.split_once('@').map(|(_, d)| d.to_ascii_lowercase())).flatten()
}

/// Logto's phone shape: digits only (country code included, no `+`).
pub fn is_phone(v: &str) -> bool {
    !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_need_one_at_a_local_part_and_a_dotted_domain() {
        assert!(is_email("alice@example.com"));
        assert!(!is_email("alice@example"));
        assert!(!is_email("@example.com"));
        assert!(!is_email("a@b@example.com"));
        assert!(!is_email("alice @example.com"));
        assert!(!is_email(&format!("{}@example.com", "a".repeat(120))));
    }

    #[test]
    fn the_domain_of_an_email_is_lower_cased_and_only_of_valid_addresses() {
        assert_eq!(email_domain("Alice@Example.COM").as_deref(), Some("example.com"));
        assert_eq!(email_domain("not-an-email"), None);
    }

    #[test]
    fn phones_are_digits_only() {
        assert!(is_phone("15550001"));
        assert!(!is_phone("+15550001"));
        assert!(!is_phone(""));
    }
}
