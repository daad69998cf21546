//! Logto's password policy: length, character mix, common passwords (a built-in list, so it
//! works offline), repetition and sequences, user information and restricted words.

/// The longest password Kido takes anywhere (Logto's guard: 256): the Management API, the
/// Experience API and the hosted pages all refuse a longer one before hashing it.
pub const MAX_PASSWORD_LEN: usize = 256;

/// The one length rule for a password, wherever it comes in.
pub fn check_length(password: &str) -> Result<(), String> {
    if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
        return Err(format!("the password must be 1 to {MAX_PASSWORD_LEN} characters"));
    }
    Ok(())
}

use std::collections::HashSet;
use std::sync::OnceLock;

use kido_proto::sign_in_experience::{PasswordIssue, PasswordPolicy};
use serde_json::json;

/// What the policy needs to know about the user the password is for.
#[derive(Debug, Default, Clone)]
pub struct UserInfo {
    pub username: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
}

/// Shortest run counted as repetition (`aaa`) or sequence (`abc`, `321`, `qwe`).
const RUN: usize = 3;
/// Runs that count as sequences, read forwards or backwards.
const SEQUENCES: [&str; 14] = [
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz",
    "2wsx",
    "3edc",
    "4rfv",
    "5tgb",
    "6yhn",
    "7ujm",
    "8ik",
    "9ol",
];

fn common_passwords() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common_passwords.txt")
            .lines()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
            .collect()
    })
}

fn issue(code: &str, interpolation: Option<serde_json::Value>) -> PasswordIssue {
    PasswordIssue { code: format!("password_rejected.{code}"), interpolation }
}

fn is_supported(c: char) -> bool {
    c.is_ascii_alphanumeric() || c.is_ascii_punctuation() || c == ' '
}

/// Every way `password` breaks `policy` (empty when it passes), in Logto's order.
pub fn check(policy: &PasswordPolicy, password: &str, user: Option<&UserInfo>) -> Vec<PasswordIssue> {
    let mut issues = Vec::new();
    let length = password.chars().count() as u32;
    if length < policy.length.min {
        issues.push(issue("too_short", Some(json!({"min": policy.length.min}))));
    } else if length > policy.length.max {
        issues.push(issue("too_long", Some(json!({"max": policy.length.max}))));
    }
    if !password.chars().all(is_supported) {
        issues.push(issue("unsupported_characters", None));
    } else {
        let types = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| c.is_ascii_punctuation() || c == ' '),
        ];
        if (types.iter().filter(|t| **t).count() as u32) < policy.character_types.min {
            issues.push(issue("character_types", Some(json!({"min": policy.character_types.min}))));
        }
    }
    if policy.rejects.pwned && common_passwords().contains(&password.to_lowercase()) {
        issues.push(issue("pwned", None));
    }
    issues.extend(restricted(policy, password, user));
    issues
}

/// Repetition, sequences, restricted words and user info. Like Logto, these only count
/// when they make up (nearly) the whole password: more than max(1, length − 3) characters.
fn restricted(policy: &PasswordPolicy, password: &str, user: Option<&UserInfo>) -> Vec<PasswordIssue> {
    let lower: Vec<char> = password.to_lowercase().chars().collect();
    let n = lower.len();
    let mut flagged = vec![false; n];
    let mut found: Vec<&'static str> = Vec::new();
    let mut flag = |code: &'static str, from: usize, len: usize, flagged: &mut Vec<bool>| {
        for f in flagged.iter_mut().skip(from).take(len) {
            *f = true;
        }
        if !found.contains(&code) {
            found.push(code);
        }
    };
    let words: Vec<Vec<char>> =
        policy.rejects.words.iter().filter(|w| !w.is_empty()).map(|w| w.to_lowercase().chars().collect()).collect();
    let info = if policy.rejects.user_info { user.map(user_pieces).unwrap_or_default() } else { Vec::new() };
    for i in 0..n {
        let rest = &lower[i..];
        if policy.rejects.repetition_and_sequence {
            let run = rest.iter().take_while(|c| **c == rest[0]).count();
            if run >= RUN {
                flag("restricted.repetition", i, run, &mut flagged);
            }
            let seq = longest_sequence(rest);
            if seq >= RUN {
                flag("restricted.sequence", i, seq, &mut flagged);
            }
        }
        for w in &words {
            if rest.starts_with(w) {
                flag("restricted.words", i, w.len(), &mut flagged);
            }
        }
        for piece in &info {
            if rest.starts_with(piece) {
                flag("restricted.user_info", i, piece.len(), &mut flagged);
            }
        }
    }
    let covered = flagged.iter().filter(|f| **f).count();
    if covered > 1.max(n.saturating_sub(3)) {
        const ORDER: [&str; 4] =
            ["restricted.repetition", "restricted.sequence", "restricted.words", "restricted.user_info"];
        found.sort_by_key(|code| ORDER.iter().position(|o| o == code));
        found.into_iter().map(|code| issue(code, None)).collect()
    } else {
        Vec::new()
    }
}

/// Length of the longest prefix of `rest` that is a run of one of the sequences.
fn longest_sequence(rest: &[char]) -> usize {
    let mut best = 0;
    for seq in SEQUENCES {
        for forward in [true, false] {
            let chars: Vec<char> = if forward { seq.chars().collect() } else { seq.chars().rev().collect() };
            let Some(start) = chars.iter().position(|c| Some(c) == rest.first()) else { continue };
            let len = chars[start..].iter().zip(rest).take_while(|(a, b)| a == b).count();
            best = best.max(len);
        }
    }
    best
}

/// Name (whole, without spaces, and each word), username, email local part and phone.
fn user_pieces(user: &UserInfo) -> Vec<Vec<char>> {
    let mut pieces: Vec<String> = Vec::new();
    if let Some(n) = &user.name {
        pieces.push(n.to_lowercase());
        pieces.push(n.to_lowercase().split_whitespace().collect());
        pieces.extend(n.split_whitespace().map(str::to_lowercase));
    }
    pieces.extend(user.username.iter().map(|u| u.to_lowercase()));
    pieces.extend(user.email.iter().filter_map(|e| e.split_once('@')).map(|(local, _)| local.to_lowercase()));
    pieces.extend(user.phone.iter().cloned());
    pieces.into_iter().filter(|p| !p.is_empty()).map(|p| p.chars().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(password: &str, user: Option<&UserInfo>) -> Vec<String> {
        check(&PasswordPolicy::default(), password, user).into_iter().map(|i| i.code).collect()
    }

    #[test]
    fn default_policy() {
        assert!(codes("Tr0ub4dor&Horse", None).is_empty(), "{:?}", codes("Tr0ub4dor&Horse", None));
        assert!(codes("Password123!x", None).is_empty(), "a short sequence inside a password is fine");
        assert_eq!(codes("short", None), ["password_rejected.too_short"]);
        assert!(codes("123456aA", None).contains(&"password_rejected.pwned".to_owned()));
        assert!(codes("test_password", None).contains(&"password_rejected.pwned".to_owned()));
        assert_eq!(codes("aaaaaaaaaa", None), ["password_rejected.restricted.repetition"]);
        assert_eq!(codes("abcdefghij", None), ["password_rejected.restricted.sequence"]);
        assert_eq!(codes("qwertyuiopx", None), ["password_rejected.restricted.sequence"]);
        assert_eq!(codes("pässwörd-lang", None), ["password_rejected.unsupported_characters"]);
        let user =
            UserInfo { username: Some("johnny".into()), email: Some("jane.doe@x.test".into()), ..Default::default() };
        assert_eq!(
            codes("johnny1234", Some(&user)),
            ["password_rejected.restricted.sequence", "password_rejected.restricted.user_info"]
        );
        assert!(codes("johnnyjohnny", Some(&user)).contains(&"password_rejected.restricted.user_info".to_owned()));
        assert!(codes("jane.doe.xyz", Some(&user)).contains(&"password_rejected.restricted.user_info".to_owned()));
        assert!(codes("johnnyjohnny", None).is_empty());
    }

    #[test]
    fn stricter_policy() {
        let mut policy = PasswordPolicy::default();
        policy.character_types.min = 3;
        policy.rejects.words = vec!["kido".into()];
        let codes: Vec<String> = check(&policy, "kidokidokido", None).into_iter().map(|i| i.code).collect();
        assert_eq!(codes, ["password_rejected.character_types", "password_rejected.restricted.words"]);
    }
}
