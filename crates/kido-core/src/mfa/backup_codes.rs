//! Backup codes: ten codes of ten hex digits, shown once, each good for one sign-in. Stored
//! as salted digests (the verification's id is the salt), like verification codes.

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

/// What is stored for `code` of the backup-code verification `verification_id`.
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
}
