//! Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA-1, 6 digits, 30-second
//! steps, one step of clock drift either way — what authenticator apps speak. Pure functions;
//! replay (a code's step used twice) is refused by the store's conditional update.

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use data_encoding::BASE32_NOPAD;
use subtle::ConstantTimeEq;

pub const DIGITS: usize = 6;
pub const STEP_SECS: i64 = 30;
/// Steps of drift accepted on each side of the current one.
const DRIFT_STEPS: i64 = 1;
/// Random bytes of a generated secret (RFC 4226 recommends 160 bits).
const SECRET_BYTES: usize = 20;
/// Bounds of a secret given by an operator, in base32 characters (80 to 320 bits).
pub const SECRET_MIN_CHARS: usize = 16;
pub const SECRET_MAX_CHARS: usize = 64;

/// A fresh secret in base32 (no padding), as apps and `otpauth://` URIs carry it.
pub fn generate_secret() -> Option<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    SystemRandom::new().fill(&mut bytes).ok()?;
    Some(BASE32_NOPAD.encode(&bytes))
}

/// The key bytes of a base32 secret (case and spaces forgiven, padding optional); `None` when
/// it is not base32 or outside the length bounds.
pub fn decode_secret(secret: &str) -> Option<Vec<u8>> {
    let normalized: String = secret.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    let normalized = normalized.trim_end_matches('=');
    if !(SECRET_MIN_CHARS..=SECRET_MAX_CHARS).contains(&normalized.len()) {
        return None;
    }
    // Base32 without padding must end on a whole byte: 8 characters make 5 bytes.
    let tail = normalized.len() % 8;
    if matches!(tail, 1 | 3 | 6) {
        return None;
    }
    BASE32_NOPAD.decode(normalized.as_bytes()).ok()
}

/// The secret normalised for storage (upper case, no spaces or padding); `None` when invalid.
pub fn normalize_secret(secret: &str) -> Option<String> {
    decode_secret(secret).map(|bytes| BASE32_NOPAD.encode(&bytes))
}

/// The time step a moment falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// RFC 4226's HOTP value for `counter`, as `DIGITS` decimal digits.
fn hotp(key: &[u8], counter: i64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac[mac.len() - 1] & 0x0f);
    let binary = (u32::from(mac[offset] & 0x7f) << 24)
        | (u32::from(mac[offset + 1]) << 16)
        | (u32::from(mac[offset + 2]) << 8)
        | u32::from(mac[offset + 3]);
    format!("{:0width$}", binary % 10u32.pow(DIGITS as u32), width = DIGITS)
}

/// The code of the step a moment falls in (tests and the hosted pages' own checks).
pub fn code_at(key: &[u8], unix_secs: i64) -> String {
    hotp(key, step_at(unix_secs))
}

/// The step `code` is valid for at `unix_secs` (the current one or one either side), or
/// `None`. Every candidate is compared, in constant time, whatever matched first.
pub fn matching_step(key: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_secs);
    let mut found = None;
    for step in (now - DRIFT_STEPS)..=(now + DRIFT_STEPS) {
        if bool::from(hotp(key, step).as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI an authenticator app scans: label `issuer:account`, the secret and
/// the parameters spelled out (apps assume them anyway).
pub fn key_uri(issuer: &str, account: &str, secret: &str) -> String {
    let label = format!("{}:{}", encode(issuer), encode(account));
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        encode(issuer)
    )
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_KEY: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_rfc_6238_sha1_vectors_in_six_digits() {
        // RFC 6238 appendix B (8 digits); 6 digits are the same value's last six.
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(RFC_KEY, time), eight[2..], "t={time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_one_either_side_only() {
        let t = 1_234_567_890;
        let code = code_at(RFC_KEY, t);
        assert_eq!(matching_step(RFC_KEY, &code, t), Some(step_at(t)));
        assert_eq!(matching_step(RFC_KEY, &code, t + STEP_SECS), Some(step_at(t)));
        assert_eq!(matching_step(RFC_KEY, &code, t - STEP_SECS), Some(step_at(t)));
        assert_eq!(matching_step(RFC_KEY, &code, t + 2 * STEP_SECS), None);
        assert_eq!(matching_step(RFC_KEY, &code, t - 2 * STEP_SECS), None);
        assert_eq!(matching_step(RFC_KEY, &format!(" {code} "), t), Some(step_at(t)));
        for bad in ["", "12345", "1234567", "abcdef", "12 456"] {
            assert_eq!(matching_step(RFC_KEY, bad, t), None, "{bad:?}");
        }
    }

    #[test]
    fn secrets_are_base32_within_bounds() {
        let secret = generate_secret().unwrap();
        assert_eq!(secret.len(), 32);
        assert_eq!(decode_secret(&secret).unwrap().len(), SECRET_BYTES);
        assert_eq!(normalize_secret("jbsw y3dp ehpk 3pxp").as_deref(), Some("JBSWY3DPEHPK3PXP"));
        assert_eq!(normalize_secret("JBSWY3DPEHPK3PXP====").as_deref(), Some("JBSWY3DPEHPK3PXP"));
        for bad in ["", "JBSWY3DP", "JBSWY3DPEHPK3PX1", "JBSWY3DPEHPK3PXP!", &"A".repeat(72)] {
            assert_eq!(decode_secret(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_key_uri_names_issuer_account_and_parameters() {
        let uri = key_uri("auth.example.com", "Ada Lovelace", "JBSWY3DPEHPK3PXP");
        assert_eq!(
            uri,
            "otpauth://totp/auth.example.com:Ada%20Lovelace?secret=JBSWY3DPEHPK3PXP&issuer=auth.example.com\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
