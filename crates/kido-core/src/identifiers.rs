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

/// A phone number as Logto stores it (libphonenumber's E.164 without the `+`): the digits
/// must start with an assigned country calling code and leave 2–17 digits of national
/// number; a national trunk prefix `0` written after the country code (`61 0412…`,
/// `44 07911…`) is dropped for the countries that dial one. `None`: not a phone number.
///
/// Why a table and not a phone library: the only rules Logto's answers depend on here are
/// the calling codes and the trunk `0`; the `phonenumber` crate would add megabytes of
/// per-region metadata for checks Logto does not make (it accepts any length in range).
pub fn normalize_phone(v: &str) -> Option<String> {
    if !is_phone(v) {
        return None;
    }
    let cc = (1..=3).map(|n| &v[..n.min(v.len())]).find(|cc| CALLING_CODES.binary_search(cc).is_ok())?;
    let mut national = &v[cc.len()..];
    if national.len() > 2 && national.starts_with('0') && TRUNK_ZERO.binary_search(&cc).is_ok() {
        national = &national[1..];
    }
    (2..=17).contains(&national.len()).then(|| format!("{cc}{national}"))
}

/// Assigned country calling codes (ITU-T E.164, those libphonenumber knows), sorted. The
/// set is prefix-free, so at most one of a number's first 1–3 digits matches.
const CALLING_CODES: &[&str] = &[
    "1", "20", "211", "212", "213", "216", "218", "220", "221", "222", "223", "224", "225", "226", "227", "228", "229",
    "230", "231", "232", "233", "234", "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245",
    "246", "247", "248", "249", "250", "251", "252", "253", "254", "255", "256", "257", "258", "260", "261", "262",
    "263", "264", "265", "266", "267", "268", "269", "27", "290", "291", "297", "298", "299", "30", "31", "32", "33",
    "34", "350", "351", "352", "353", "354", "355", "356", "357", "358", "359", "36", "370", "371", "372", "373",
    "374", "375", "376", "377", "378", "380", "381", "382", "383", "385", "386", "387", "389", "39", "40", "41", "420",
    "421", "423", "43", "44", "45", "46", "47", "48", "49", "500", "501", "502", "503", "504", "505", "506", "507",
    "508", "509", "51", "52", "53", "54", "55", "56", "57", "58", "590", "591", "592", "593", "594", "595", "596",
    "597", "598", "599", "60", "61", "62", "63", "64", "65", "66", "670", "672", "673", "674", "675", "676", "677",
    "678", "679", "680", "681", "682", "683", "685", "686", "687", "688", "689", "690", "691", "692", "7", "800",
    "808", "81", "82", "84", "850", "852", "853", "855", "856", "86", "870", "878", "880", "881", "882", "883", "886",
    "888", "90", "91", "92", "93", "94", "95", "960", "961", "962", "963", "964", "965", "966", "967", "968", "970",
    "971", "972", "973", "974", "975", "976", "977", "979", "98", "992", "993", "994", "995", "996", "998",
];

/// Calling codes of countries whose national (trunk) prefix is `0`, sorted. Not Italy or
/// San Marino (their leading 0 is part of the number), nor countries without a trunk
/// prefix (Spain, Denmark, Norway…) or with another one (NANP `1`, Russia `8`).
const TRUNK_ZERO: &[&str] = &[
    "20", "211", "212", "213", "218", "231", "232", "233", "234", "243", "249", "250", "251", "252", "254", "255",
    "256", "260", "261", "262", "263", "264", "265", "27", "291", "31", "32", "33", "353", "355", "358", "359", "373",
    "374", "380", "381", "382", "383", "385", "386", "387", "389", "40", "41", "421", "43", "44", "46", "49", "51",
    "53", "54", "55", "57", "58", "590", "591", "593", "594", "595", "596", "598", "60", "61", "62", "63", "64", "66",
    "81", "82", "84", "850", "855", "856", "86", "880", "886", "90", "91", "92", "93", "94", "95", "961", "962", "963",
    "964", "966", "967", "970", "971", "972", "976", "977", "98", "994", "995", "996",
];

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
    fn the_tables_are_sorted_and_calling_codes_prefix_free() {
        assert!(CALLING_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(TRUNK_ZERO.windows(2).all(|w| w[0] < w[1]));
        assert!(TRUNK_ZERO.iter().all(|cc| CALLING_CODES.contains(cc)));
        for a in CALLING_CODES {
            assert!(!CALLING_CODES.iter().any(|b| b != a && b.starts_with(a)), "{a} prefixes another code");
        }
    }

    #[test]
    fn phones_normalize_as_logto_stores_them() {
        assert_eq!(normalize_phone("610412345678").as_deref(), Some("61412345678"));
        assert_eq!(normalize_phone("4407911123456").as_deref(), Some("447911123456"));
        assert_eq!(normalize_phone("61412345678").as_deref(), Some("61412345678"), "idempotent");
        assert_eq!(normalize_phone("15551234567").as_deref(), Some("15551234567"));
        // Italy keeps its leading 0; the US has no trunk 0.
        assert_eq!(normalize_phone("390612345678").as_deref(), Some("390612345678"));
        assert_eq!(normalize_phone("8613800138000").as_deref(), Some("8613800138000"));
        for bad in ["99999", "", "+15551234567", "1", "61", "999123456", &format!("1{}", "2".repeat(18))] {
            assert_eq!(normalize_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn phones_are_digits_only() {
        assert!(is_phone("15550001"));
        assert!(!is_phone("+15550001"));
        assert!(!is_phone(""));
    }
}
