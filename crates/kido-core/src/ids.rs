//! Random identifiers and secrets in Logto's formats.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `len` characters drawn uniformly from `alphabet` by rejection sampling.
fn random_string(alphabet: &[u8], len: usize) -> String {
    let rng = SystemRandom::new();
    // Largest multiple of the alphabet size below 256: bytes above it would bias the draw.
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        if rng.fill(&mut buf).is_err() {
            // The system RNG does not fail on supported platforms; retrying is the only sane answer.
            continue;
        }
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// Draws once from the random generator, whose first use seeds it (aws-lc collects CPU
/// jitter entropy: tens of milliseconds). Meant for a spare thread at start: at the lowest
/// CPU priority it overlaps with opening the database and does not slow the rest of the
/// start, and the first key or id made later finds the generator ready.
pub fn warm_up_random() {
    // On Linux the nice value is per thread: this one only. Failure is harmless.
    let _ = rustix::process::setpriority_process(None, 19);
    let _ = SystemRandom::new().fill(&mut [0u8; 1]);
}

/// One-time verification code: 6 decimal digits.
pub fn new_code() -> String {
    random_string(b"0123456789", 6)
}

/// Entity id: 21 lowercase alphanumerics.
pub fn new_id() -> String {
    random_string(LOWER_ALNUM, 21)
}

/// User and organization id: 12 lowercase alphanumerics (Logto's short ids).
pub fn new_short_id() -> String {
    random_string(LOWER_ALNUM, 12)
}

/// Client secret: 32 mixed-case alphanumerics (about 190 bits).
pub fn new_secret() -> String {
    random_string(ALNUM, 32)
}

/// Token id (`jti`): 21 mixed-case alphanumerics.
pub fn new_token_id() -> String {
    random_string(ALNUM, 21)
}

/// Bearer secret handed to a browser or client (codes, tokens, cookies): 43 mixed-case
/// alphanumerics, about 256 bits.
pub fn new_opaque_token() -> String {
    random_string(ALNUM, 43)
}

/// How a bearer secret is stored and looked up: SHA-256, base64url. A database leak then
/// hands out no usable token.
pub fn digest(secret: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let id = new_id();
        assert_eq!(id.len(), 21);
        assert!(id.bytes().all(|b| LOWER_ALNUM.contains(&b)));
        assert_eq!(new_short_id().len(), 12);
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(new_id(), new_id());
    }
}
