//! Passkey sign-in (a WebAuthn credential as the first factor) in a sign-in in progress:
//! the challenge of a ceremony begun without an identifier (kept beside the state, see
//! `store`), and the verification record a ceremony ends in, which identifies its user and
//! proves a second factor at once (the authenticator verified the user).

use serde::{Deserialize, Serialize};

/// A challenge issued to a browser, accepted once and until it expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasskeyChallenge {
    pub challenge: String,
    /// Epoch ms.
    pub expires_at: i64,
}

impl PasskeyChallenge {
    pub fn live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

/// Logto's `SignInPasskey` verification record: one per interaction, a new one replaces it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInPasskeyRecord {
    pub id: String,
    /// Whose passkeys the ceremony asked for (identifier route), or whose passkey answered.
    pub user_id: String,
    /// The ceremony's challenge until an answer to it is checked (single use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<PasskeyChallenge>,
    pub verified: bool,
}

impl SignInPasskeyRecord {
    /// The challenge, taken out: a second answer finds none. `None` when there is none left
    /// or it expired at `now`.
    pub fn take_challenge(&mut self, now: i64) -> Option<String> {
        self.challenge.take().filter(|c| c.live(now)).map(|c| c.challenge)
    }

    /// Whether the record proves that `user_id` signed in with a passkey.
    pub fn proves(&self, user_id: &str) -> bool {
        self.verified && self.user_id == user_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_at: i64) -> SignInPasskeyRecord {
        let challenge = Some(PasskeyChallenge { challenge: "c".into(), expires_at });
        SignInPasskeyRecord { id: "v".into(), user_id: "u".into(), challenge, verified: false }
    }

    #[test]
    fn a_challenge_is_taken_once_and_only_while_live() {
        let mut live = record(100);
        assert_eq!(live.take_challenge(99).as_deref(), Some("c"));
        assert_eq!(live.take_challenge(99), None);
        let mut expired = record(100);
        assert_eq!(expired.take_challenge(100), None);
        assert!(expired.challenge.is_none(), "an expired challenge is spent too");
    }

    #[test]
    fn only_a_verified_record_of_the_user_proves_them() {
        let mut r = record(100);
        assert!(!r.proves("u"));
        r.verified = true;
        assert!(r.proves("u") && !r.proves("w"));
    }
}
