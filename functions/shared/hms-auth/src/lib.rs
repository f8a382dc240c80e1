//! Who is calling and what they may do: the Lambdas check it, `hms token` mints local tokens
//! (a crate of its own so that the CLI does not carry the AWS SDK). In AWS the HttpApi's JWT
//! authorizer has checked the token and passes its claims on; the function still checks the
//! route's scope. Locally no authorizer runs, so the same check first validates the bearer token itself against the
//! development key (`HMS_LOCAL_JWT_SECRET`, HS256, never set in AWS), and `hms token` mints
//! such tokens.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};

/// The scopes the routes ask for.
pub mod scope {
    /// `POST /ach/queryEligibility`.
    pub const ELIGIBILITY_READ: &str = "eligibility:read";
    /// `POST /ach/submitClaim`.
    pub const CLAIMS_WRITE: &str = "claims:write";
    /// `GET /ach/claims/{id}`, `POST /ach/claimStatus`.
    pub const CLAIMS_READ: &str = "claims:read";
}

/// The caller, as its token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `sub`: scopes idempotency keys, so two clients' keys never meet.
    pub subject: String,
    /// The granted scopes.
    pub scopes: Vec<String>,
}

/// Why a request is refused: 401 without a valid token, 403 without the scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token.
    #[error("no bearer token: send Authorization: Bearer <token>")]
    Missing,
    /// A token that does not verify.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// A valid token without the route's scope.
    #[error("the token lacks the scope {0}")]
    Forbidden(&'static str),
}

impl AuthError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Missing | Self::Invalid(_) => 401,
            Self::Forbidden(_) => 403,
        }
    }
}

/// A development token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Subject.
    pub sub: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: Audience,
    /// Space-separated scopes, as OAuth 2 writes them.
    #[serde(default)]
    pub scope: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// A token's `aud`: one audience, or several (RFC 7519 allows both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(a) => a == audience,
            Self::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

/// The only signature the development tokens use; any other `alg` (`none` above all) is refused.
const ALGORITHM: &str = "HS256";

/// Clock skew allowed on `exp` and `nbf`, in seconds (as jwt libraries commonly allow).
const LEEWAY_SECONDS: i64 = 60;

type HmacSha256 = Hmac<sha2::Sha256>;

/// A compact JWS header: all this crate reads of it.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
}

/// The development key, issuer and audience the local stack's tokens are checked against.
#[derive(Clone)]
struct LocalKey {
    secret: Vec<u8>,
    issuer: String,
    audience: String,
}

impl LocalKey {
    /// The claims of `token` (a compact JWS) once its signature, issuer, audience and times
    /// check out; every refusal says which check failed.
    fn verify(&self, token: &str, now: i64) -> Result<Claims, AuthError> {
        let invalid = |why: &str| AuthError::Invalid(why.to_string());
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("not a compact JWS (header.payload.signature)"));
        };
        let decode = |part: &str, what: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| invalid(&format!("the {what} is not base64url")))
        };
        let head: Header = serde_json::from_slice(&decode(header, "header")?)
            .map_err(|e| invalid(&format!("the header is not a JWS header: {e}")))?;
        if head.alg != ALGORITHM {
            return Err(invalid(&format!(
                "the algorithm is {:?}; only {ALGORITHM} is accepted",
                head.alg
            )));
        }
        // Checked before the payload is read: nothing unsigned is parsed further.
        signing_mac(&self.secret, header, payload)?
            .verify_slice(&decode(signature, "signature")?)
            .map_err(|_| invalid("the signature does not verify"))?;
        let claims: Claims = serde_json::from_slice(&decode(payload, "payload")?)
            .map_err(|e| invalid(&format!("the claims are not valid: {e}")))?;
        if claims.iss != self.issuer {
            return Err(invalid(&format!("the issuer is not {}", self.issuer)));
        }
        if !claims.aud.contains(&self.audience) {
            return Err(invalid(&format!("the audience is not {}", self.audience)));
        }
        if claims.exp + LEEWAY_SECONDS <= now {
            return Err(invalid("the token has expired"));
        }
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECONDS > now) {
            return Err(invalid("the token is not valid yet"));
        }
        Ok(claims)
    }
}

/// HMAC-SHA256 under `secret` over a JWS's signing input, `header.payload` (both base64url),
/// for signing and verifying alike.
fn signing_mac(secret: &[u8], header: &str, payload: &str) -> Result<HmacSha256, AuthError> {
    let mut mac = HmacSha256::new_from_slice(secret)
        .map_err(|_| AuthError::Invalid("the development key cannot be used".into()))?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    Ok(mac)
}

/// `claims` signed with `secret` as a compact JWS (HS256).
fn sign(secret: &[u8], claims: &Claims) -> Result<String, AuthError> {
    let unwritable = |e: serde_json::Error| AuthError::Invalid(format!("unwritable claims: {e}"));
    let header = serde_json::to_vec(&Header {
        alg: ALGORITHM.into(),
        typ: Some("JWT".into()),
    })
    .map_err(unwritable)?;
    let header = URL_SAFE_NO_PAD.encode(header);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(unwritable)?);
    let signature = URL_SAFE_NO_PAD.encode(
        signing_mac(secret, &header, &payload)?
            .finalize()
            .into_bytes(),
    );
    Ok(format!("{header}.{payload}.{signature}"))
}

/// How this process checks callers.
#[derive(Clone)]
pub struct Verifier {
    /// The development key, issuer and audience, when tokens are checked here (locally).
    local: Option<LocalKey>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("local", &self.local.is_some())
            .finish()
    }
}

impl Verifier {
    /// Trusts the API's authorizer only (AWS).
    pub fn authorizer() -> Self {
        Self { local: None }
    }

    /// Checks tokens against `secret` (HS256) for `issuer` and `audience` (the local stack).
    pub fn local(secret: &[u8], issuer: &str, audience: &str) -> Self {
        Self {
            local: Some(LocalKey {
                secret: secret.to_vec(),
                issuer: issuer.to_string(),
                audience: audience.to_string(),
            }),
        }
    }

    /// From `HMS_LOCAL_JWT_SECRET`, `JWT_ISSUER` and `JWT_AUDIENCE`: local checking when the
    /// secret is set, the authorizer otherwise.
    pub fn from_env() -> Self {
        match std::env::var("HMS_LOCAL_JWT_SECRET") {
            Ok(secret) if !secret.is_empty() => Self::local(
                secret.as_bytes(),
                &std::env::var("JWT_ISSUER").unwrap_or_else(|_| "hms-ach-local".into()),
                &std::env::var("JWT_AUDIENCE").unwrap_or_else(|_| "hms-ach".into()),
            ),
            _ => Self::authorizer(),
        }
    }

    /// The caller of a request: from the authorizer's claims (AWS), or, when this verifier
    /// checks tokens itself, from the `Authorization` header.
    pub fn caller(
        &self,
        authorizer_claims: Option<&HashMap<String, String>>,
        authorization: Option<&str>,
    ) -> Result<Caller, AuthError> {
        let Some(key) = &self.local else {
            let claims = authorizer_claims.ok_or(AuthError::Missing)?;
            let scopes = claims
                .get("scope")
                .or_else(|| claims.get("scp"))
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
            return Ok(Caller {
                subject: claims.get("sub").cloned().unwrap_or_default(),
                scopes,
            });
        };
        let token = authorization
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        let claims = key.verify(token, chrono::Utc::now().timestamp())?;
        Ok(Caller {
            subject: claims.sub,
            scopes: claims
                .scope
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        })
    }
}

impl Caller {
    /// Refuses a caller without `scope`.
    pub fn require(&self, scope: &'static str) -> Result<(), AuthError> {
        if self.scopes.iter().any(|s| s == scope) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(scope))
        }
    }
}

/// A development token for the local stack, signed with `secret`.
pub fn mint(
    secret: &[u8],
    issuer: &str,
    audience: &str,
    subject: &str,
    scopes: &[&str],
    lifetime: chrono::TimeDelta,
) -> Result<String, AuthError> {
    let claims = Claims {
        sub: subject.into(),
        iss: issuer.into(),
        aud: Audience::One(audience.into()),
        scope: scopes.join(" "),
        exp: (chrono::Utc::now() + lifetime).timestamp(),
        nbf: None,
    };
    sign(secret, &claims)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &[u8] = b"a development secret of enough length";

    #[test]
    fn a_local_token_is_checked_for_signature_issuer_audience_expiry_and_scope() {
        let verifier = Verifier::local(SECRET, "hms-ach-local", "hms-ach");
        let hour = chrono::TimeDelta::hours(1);
        let token = mint(
            SECRET,
            "hms-ach-local",
            "hms-ach",
            "clinic-1",
            &[scope::CLAIMS_WRITE],
            hour,
        )
        .unwrap();
        let caller = verifier
            .caller(None, Some(&format!("Bearer {token}")))
            .unwrap();
        assert_eq!(caller.subject, "clinic-1");
        assert_eq!(caller.require(scope::CLAIMS_WRITE), Ok(()));
        assert_eq!(
            caller.require(scope::CLAIMS_READ),
            Err(AuthError::Forbidden(scope::CLAIMS_READ))
        );
        assert_eq!(
            caller.require(scope::CLAIMS_READ).unwrap_err().status(),
            403
        );

        assert_eq!(verifier.caller(None, None), Err(AuthError::Missing));
        assert_eq!(
            verifier.caller(None, Some("Basic abc")),
            Err(AuthError::Missing)
        );
        let other_key = mint(
            b"another secret entirely, also long",
            "hms-ach-local",
            "hms-ach",
            "x",
            &[scope::CLAIMS_WRITE],
            hour,
        )
        .unwrap();
        let other_issuer = mint(
            SECRET,
            "someone-else",
            "hms-ach",
            "x",
            &[scope::CLAIMS_WRITE],
            hour,
        )
        .unwrap();
        let other_audience = mint(
            SECRET,
            "hms-ach-local",
            "other",
            "x",
            &[scope::CLAIMS_WRITE],
            hour,
        )
        .unwrap();
        let expired = mint(
            SECRET,
            "hms-ach-local",
            "hms-ach",
            "x",
            &[scope::CLAIMS_WRITE],
            chrono::TimeDelta::hours(-2),
        )
        .unwrap();
        // The same claims under `alg: none` and no signature; then a payload whose scope
        // was widened after signing.
        let (_, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let unsigned = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#)
        );
        let mut claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims.scope = format!("{} {}", scope::CLAIMS_WRITE, scope::CLAIMS_READ);
        let widened = format!(
            "{}.{}.{signature}",
            token.split('.').next().unwrap(),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap())
        );
        for (bad, why) in [
            (other_key, "the signature does not verify"),
            (other_issuer, "the issuer is not hms-ach-local"),
            (other_audience, "the audience is not hms-ach"),
            (expired, "the token has expired"),
            ("not.a.jwt".into(), "the header is not base64url"),
            ("a.b".into(), "not a compact JWS"),
            (
                unsigned,
                "the algorithm is \"none\"; only HS256 is accepted",
            ),
            (widened, "the signature does not verify"),
        ] {
            let err = verifier
                .caller(None, Some(&format!("Bearer {bad}")))
                .unwrap_err();
            assert!(matches!(err, AuthError::Invalid(_)), "{err}");
            assert!(err.to_string().contains(why), "{err} (expected: {why})");
            assert_eq!(err.status(), 401);
        }
    }

    #[test]
    fn an_audience_list_naming_ours_is_accepted_and_times_get_a_minute_of_leeway() {
        let key = LocalKey {
            secret: SECRET.to_vec(),
            issuer: "hms-ach-local".into(),
            audience: "hms-ach".into(),
        };
        let claims = |aud: Audience, exp: i64, nbf: Option<i64>| Claims {
            sub: "clinic-3".into(),
            iss: "hms-ach-local".into(),
            aud,
            scope: scope::CLAIMS_READ.into(),
            exp,
            nbf,
        };
        let now = 1_800_000_000;
        let many = Audience::Many(vec!["other".into(), "hms-ach".into()]);
        let token = sign(SECRET, &claims(many, now + 10, None)).unwrap();
        assert_eq!(key.verify(&token, now).unwrap().sub, "clinic-3");
        // Expired 30 s ago: within the leeway; 61 s ago: refused.
        let token = sign(
            SECRET,
            &claims(Audience::One("hms-ach".into()), now - 30, None),
        )
        .unwrap();
        assert!(key.verify(&token, now).is_ok());
        assert!(key.verify(&token, now + 31).is_err());
        let early = sign(
            SECRET,
            &claims(Audience::One("hms-ach".into()), now + 600, Some(now + 120)),
        )
        .unwrap();
        let err = key.verify(&early, now).unwrap_err();
        assert!(err.to_string().contains("not valid yet"), "{err}");
        assert!(key.verify(&early, now + 61).is_ok());
    }

    #[test]
    fn behind_the_authorizer_its_claims_are_used_and_their_absence_refused() {
        let verifier = Verifier::authorizer();
        let claims = HashMap::from([
            ("sub".to_string(), "clinic-2".to_string()),
            (
                "scope".to_string(),
                "eligibility:read claims:read".to_string(),
            ),
        ]);
        let caller = verifier.caller(Some(&claims), None).unwrap();
        assert_eq!(caller.require(scope::ELIGIBILITY_READ), Ok(()));
        assert!(caller.require(scope::CLAIMS_WRITE).is_err());
        // A bearer token alone is not trusted where the authorizer should have run.
        assert_eq!(
            verifier.caller(None, Some("Bearer x")),
            Err(AuthError::Missing)
        );
    }
}
