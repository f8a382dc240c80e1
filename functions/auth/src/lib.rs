//! Who is calling and what they may do: the Lambdas check it, `hms token` mints local tokens
//! (a crate of its own so that the CLI does not carry the AWS SDK). In AWS the HttpApi's JWT
//! authorizer has checked the token and passes its claims on; the function still checks the
//! route's scope. Locally no authorizer runs, so the same check first validates the bearer token itself against the
//! development key (`HMS_LOCAL_JWT_SECRET`, HS256, never set in AWS), and `hms token` mints
//! such tokens.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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
    pub aud: String,
    /// Space-separated scopes, as OAuth 2 writes them.
    pub scope: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
}

/// How this process checks callers.
#[derive(Clone)]
pub struct Verifier {
    /// The development key, issuer and audience, when tokens are checked here (locally).
    local: Option<(DecodingKey, String, String)>,
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
            local: Some((
                DecodingKey::from_secret(secret),
                issuer.to_string(),
                audience.to_string(),
            )),
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
        let Some((key, issuer, audience)) = &self.local else {
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
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok(Caller {
            subject: data.claims.sub,
            scopes: data
                .claims
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
        aud: audience.into(),
        scope: scopes.join(" "),
        exp: (chrono::Utc::now() + lifetime).timestamp(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| AuthError::Invalid(e.to_string()))
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
        for bad in [
            other_key,
            other_issuer,
            other_audience,
            expired,
            "not.a.jwt".into(),
        ] {
            let err = verifier
                .caller(None, Some(&format!("Bearer {bad}")))
                .unwrap_err();
            assert!(matches!(err, AuthError::Invalid(_)), "{err}");
            assert_eq!(err.status(), 401);
        }
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
