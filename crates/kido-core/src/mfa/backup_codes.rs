//! Backup codes: ten codes of ten hex digits, each good for one sign-in. A set is stored
//! sealed on its verification row (its owner may read it again, as Logto allows); sets bound
//! before that keep salted digests (the verification's id is the salt).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

use crate::ids;

pub const COUNT: usize = 10;
/// Hex digits of a code (40 bits).
pub const LENGTH: usize = 10;

/// A fresh set of codes.
pub fn generate() -> Option<Vec<String>> {
    let rng = SystemRandom::new();
    (0..COUNT)
        .map(|_| {
            let mut bytes = [0u8; LENGTH / 2];
            rng.fill(&mut bytes).ok()?;
            Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
        })
        .collect()
}

/// Whether `code` has a backup code's shape (operators may supply their own set).
pub fn is_well_formed(code: &str) -> bool {
    code.len() == LENGTH && code.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A set an operator or user supplies, lowercased and trimmed: `COUNT` distinct well-formed
/// codes, or `None`.
pub fn normalize_set(given: &[String]) -> Option<Vec<String>> {
    let codes: Vec<String> = given.iter().map(|c| c.trim().to_ascii_lowercase()).collect();
    if codes.len() != COUNT || !codes.iter().all(|c| is_well_formed(c)) {
        return None;
    }
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    (unique.len() == COUNT).then_some(codes)
}

/// Whether `given` is `code`, compared in constant time (case and blanks forgiven).
pub fn matches(code: &str, given: &str) -> bool {
    use subtle::ConstantTimeEq;
    let given = given.trim().to_ascii_lowercase();
    bool::from(code.as_bytes().ct_eq(given.as_bytes()))
}

/// What a set bound before sets were sealed stored for `code` of the verification
/// `verification_id`.
pub fn digest(verification_id: &str, code: &str) -> String {
    ids::digest(&format!("kido-backup-code:{verification_id}:{}", code.trim().to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_is_ten_distinct_hex_codes() {
        let codes = generate().unwrap();
        assert_eq!(codes.len(), COUNT);
        assert!(codes.iter().all(|c| is_well_formed(c)));
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
    }

    #[test]
    fn digests_are_salted_by_verification_and_forgive_case() {
        assert_eq!(digest("v1", "abcdef0123"), digest("v1", " ABCDEF0123 "));
        assert_ne!(digest("v1", "abcdef0123"), digest("v2", "abcdef0123"));
        assert!(!is_well_formed("abcdef012"));
        assert!(!is_well_formed("abcdefg123"));
    }

    #[test]
    fn a_supplied_set_is_ten_distinct_codes_and_matches_forgive_case() {
        let codes = generate().unwrap();
        let shouted: Vec<String> = codes.iter().map(|c| format!(" {} ", c.to_uppercase())).collect();
        assert_eq!(normalize_set(&shouted), Some(codes.clone()));
        assert_eq!(normalize_set(&codes[..9]), None);
        let mut repeated = codes.clone();
        repeated[1] = repeated[0].clone();
        assert_eq!(normalize_set(&repeated), None);
        assert!(matches(&codes[0], &codes[0].to_uppercase()));
        assert!(!matches(&codes[0], &codes[1]));
    }
}
