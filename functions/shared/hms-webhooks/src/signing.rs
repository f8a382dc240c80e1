//! Signatures as the Standard Webhooks specification has them: the secret is `whsec_` and
//! the base64 of its key; a message is signed as `v1,` and the base64 of the HMAC-SHA256 of
//! `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` holds one or more
//! signatures separated by spaces (two while a rotated secret still signs). Receivers
//! verify with any published implementation, not ours.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};

/// The prefix of a secret's text.
pub const SECRET_PREFIX: &str = "whsec_";

/// How many random bytes a new secret has (the specification asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// How far a receiver lets a timestamp be from its clock (the specification's five minutes).
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// A signing secret: the key of the HMAC. Its text is shown once, when made.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(Vec<u8>);

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key: a log line must not sign for anyone.
        f.write_str("SigningSecret(…)")
    }
}

/// Why a secret or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The text is not `whsec_` and base64 of 24 to 64 bytes.
    #[error("a signing secret is whsec_ and the base64 of 24 to 64 bytes")]
    NotASecret,
    /// The system's random source failed.
    #[error("no randomness for a new secret: {0}")]
    NoRandomness(String),
    /// The timestamp is not a number of seconds.
    #[error("the webhook-timestamp header is not a number of seconds")]
    BadTimestamp,
    /// The timestamp is further from now than the tolerance.
    #[error("the webhook-timestamp is {0} s from now; at most {TOLERANCE_SECONDS} s is taken")]
    Stale(i64),
    /// No signature of the header matches.
    #[error("no v1 signature in webhook-signature matches the message")]
    NoMatch,
}

impl SigningSecret {
    /// A new secret from the system's random source.
    pub fn generate() -> Result<Self, SigningError> {
        let mut key = vec![0u8; SECRET_BYTES];
        getrandom::fill(&mut key).map_err(|e| SigningError::NoRandomness(e.to_string()))?;
        Ok(Self(key))
    }

    /// A secret from its text (`whsec_…`), as stored or as a receiver is given it.
    pub fn parse(text: &str) -> Result<Self, SigningError> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SigningError::NotASecret)?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SigningError::NotASecret)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SigningError::NotASecret);
        }
        Ok(Self(key))
    }

    /// Its text: `whsec_` and the base64 of the key.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// The `v1,` signature of the message `id` sent at `timestamp` (Unix seconds) with `body`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!("v1,{}", STANDARD.encode(self.mac(id, timestamp, body)))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
        // HMAC takes a key of any length: this cannot fail.
        let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.0) else {
            return vec![];
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }

    /// Checks a message as a receiver does: the timestamp within the tolerance of `now`
    /// (Unix seconds), and one `v1` signature of `signatures` (the header, space-separated)
    /// matching, compared in constant time.
    pub fn verify(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), SigningError> {
        let at: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| SigningError::BadTimestamp)?;
        let off = now.saturating_sub(at);
        if off.abs() > TOLERANCE_SECONDS {
            return Err(SigningError::Stale(off));
        }
        let expected = self.mac(id, at, body);
        let matches = signatures
            .split(' ')
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|s| STANDARD.decode(s).ok())
            .any(|given| constant_time_eq(&given, &expected));
        if matches {
            Ok(())
        } else {
            Err(SigningError::NoMatch)
        }
    }
}

/// Whether `a` equals `b`, in time that depends on their lengths only.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `webhook-signature` header for a message: a signature by each secret that signs now
/// (the current one, and the one it replaced while that still signs).
pub fn signature_header(
    secrets: &[&SigningSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| s.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The specification's own example (and Svix's libraries' test vector).
    #[test]
    fn the_specifications_example_is_signed_as_it_says() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        secret
            .verify(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                "1614265330",
                &format!("v1,bm90IGl0 {signature}"),
                body,
                1_614_265_330 + 60,
            )
            .unwrap();
    }

    #[test]
    fn a_tampered_body_a_stale_timestamp_or_another_secret_fails_verification() {
        let secret = SigningSecret::generate().unwrap();
        let other = SigningSecret::generate().unwrap();
        assert_ne!(secret, other);
        let sig = secret.sign("msg_1", 1_000_000, b"{}");
        let verify = |s: &SigningSecret, body: &[u8], now: i64| {
            s.verify("msg_1", "1000000", &sig, body, now)
        };
        assert_eq!(verify(&secret, b"{}", 1_000_000), Ok(()));
        assert_eq!(
            verify(&secret, b"{ }", 1_000_000),
            Err(SigningError::NoMatch)
        );
        assert_eq!(verify(&other, b"{}", 1_000_000), Err(SigningError::NoMatch));
        assert_eq!(
            verify(&secret, b"{}", 1_000_000 + 301),
            Err(SigningError::Stale(301))
        );
        assert_eq!(
            secret.verify("msg_1", "soon", &sig, b"{}", 1_000_000),
            Err(SigningError::BadTimestamp)
        );
    }

    #[test]
    fn a_secret_round_trips_through_its_text_and_never_prints_its_key() {
        let secret = SigningSecret::generate().unwrap();
        let text = secret.to_text();
        assert!(text.starts_with("whsec_"));
        assert_eq!(SigningSecret::parse(&text).unwrap(), secret);
        assert!(!format!("{secret:?}").contains(text.trim_start_matches("whsec_")));
        for bad in [
            "",
            "whsec_",
            "whsec_!!!",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_AAAA",
        ] {
            assert_eq!(
                SigningSecret::parse(bad),
                Err(SigningError::NotASecret),
                "{bad}"
            );
        }
    }

    #[test]
    fn while_a_rotated_secret_still_signs_both_signatures_are_sent() {
        let old = SigningSecret::generate().unwrap();
        let new = SigningSecret::generate().unwrap();
        let header = signature_header(&[&new, &old], "msg_2", 7, b"x");
        assert_eq!(header.split(' ').count(), 2);
        new.verify("msg_2", "7", &header, b"x", 7).unwrap();
        old.verify("msg_2", "7", &header, b"x", 7).unwrap();
    }
}
