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

pub mod access;

pub use access::{Permission, Role};

/// The caller, as its verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// `sub`: who it is, for the logs' and the audit trail's sake.
    pub subject: String,
    /// The organization whose data it may see and change (the organization claim, `org` by
    /// default): every record it makes is that organization's.
    pub organization: String,
    /// Its roles (the roles claim, `roles` by default); names that are no role are dropped.
    pub roles: Vec<Role>,
}

/// The shortest development key taken: 32 bytes, HS256's own key size.
pub const MIN_LOCAL_KEY: usize = 32;

/// Why a function will not check development tokens itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalKeyError {
    /// `HMS_LOCAL_JWT_SECRET` is set in a stage that is not `local`.
    #[error(
        "HMS_LOCAL_JWT_SECRET is set in stage {0}: development tokens are taken only in the local stage"
    )]
    OutsideLocal(String),
    /// The key is too short to resist guessing.
    #[error("HMS_LOCAL_JWT_SECRET is {0} bytes: a development key is at least 32")]
    Short(usize),
}

/// Why a request is refused: 401 without a valid token, 403 without the permission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token.
    #[error("no bearer token: send Authorization: Bearer <token>")]
    Missing,
    /// A token that does not verify, or that does not say who is calling for which
    /// organization.
    #[error("the token is not valid: {0}")]
    Invalid(String),
    /// A valid token whose roles do not allow the route.
    #[error("{permission} needs the role {needed}; the token's roles are [{held}]")]
    Forbidden {
        /// What the route takes.
        permission: Permission,
        /// The roles that hold it.
        needed: String,
        /// The roles the caller has.
        held: String,
    },
}

impl AuthError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Missing | Self::Invalid(_) => 401,
            Self::Forbidden { .. } => 403,
        }
    }
}

/// A development token's standard claims; the organization and roles ride beside them under
/// the configured names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Subject.
    #[serde(default)]
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
    /// Every other claim (the organization, the roles).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
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

/// The names of the claims that carry a caller's organization and roles: `org` and `roles` by
/// default; Cognito or another OIDC issuer may name them otherwise (`HMS_ORG_CLAIM`,
/// `HMS_ROLES_CLAIM`, set from the template).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    /// The organization claim.
    pub organization: String,
    /// The roles claim.
    pub roles: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            organization: "org".into(),
            roles: "roles".into(),
        }
    }
}

impl ClaimNames {
    /// From `HMS_ORG_CLAIM` and `HMS_ROLES_CLAIM`, each defaulted.
    pub fn from_env() -> Self {
        let named = |var: &str, default: String| {
            std::env::var(var)
                .ok()
                .filter(|v| !v.is_empty())
                .unwrap_or(default)
        };
        let default = Self::default();
        Self {
            organization: named("HMS_ORG_CLAIM", default.organization),
            roles: named("HMS_ROLES_CLAIM", default.roles),
        }
    }
}

/// How this process checks callers.
#[derive(Clone)]
pub struct Verifier {
    /// The development key, issuer and audience, when tokens are checked here (locally).
    local: Option<LocalKey>,
    /// Where the organization and roles are.
    names: ClaimNames,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("local", &self.local.is_some())
            .field("names", &self.names)
            .finish()
    }
}

/// Role names from a claim: a JSON array, or text as an authorizer passes one on (`[a b]`,
/// `a,b`, `a b`).
fn role_names(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        serde_json::Value::String(text) => text
            .trim_matches(|c| c == '[' || c == ']')
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        _ => vec![],
    }
}

impl Verifier {
    /// Trusts the API's authorizer only (AWS).
    pub fn authorizer(names: ClaimNames) -> Self {
        Self { local: None, names }
    }

    /// Checks tokens against `secret` (HS256) for `issuer` and `audience` (the local stack).
    pub fn local(secret: &[u8], issuer: &str, audience: &str, names: ClaimNames) -> Self {
        Self {
            local: Some(LocalKey {
                secret: secret.to_vec(),
                issuer: issuer.to_string(),
                audience: audience.to_string(),
            }),
            names,
        }
    }

    /// From `STAGE`, `HMS_LOCAL_JWT_SECRET`, `JWT_ISSUER`, `JWT_AUDIENCE` and the claim names:
    /// see [`from_settings`](Self::from_settings).
    pub fn from_env() -> Result<Self, LocalKeyError> {
        let stage = std::env::var("STAGE").ok();
        let secret = std::env::var("HMS_LOCAL_JWT_SECRET").ok();
        Self::from_settings(
            stage.as_deref(),
            secret.as_deref(),
            &std::env::var("JWT_ISSUER").unwrap_or_else(|_| "hms-ach-local".into()),
            &std::env::var("JWT_AUDIENCE").unwrap_or_else(|_| "hms-ach".into()),
            ClaimNames::from_env(),
        )
    }

    /// Local checking of development tokens only in the `local` stage, with a key of at least
    /// [`MIN_LOCAL_KEY`] bytes; the authorizer's claims in every other stage. A development
    /// key set anywhere else is refused, not ignored: a function started so is misconfigured,
    /// and says so instead of serving.
    pub fn from_settings(
        stage: Option<&str>,
        secret: Option<&str>,
        issuer: &str,
        audience: &str,
        names: ClaimNames,
    ) -> Result<Self, LocalKeyError> {
        match (stage, secret.filter(|s| !s.is_empty())) {
            (Some("local"), Some(secret)) if secret.len() >= MIN_LOCAL_KEY => {
                Ok(Self::local(secret.as_bytes(), issuer, audience, names))
            }
            (Some("local"), Some(secret)) => Err(LocalKeyError::Short(secret.len())),
            (_, Some(_)) => Err(LocalKeyError::OutsideLocal(
                stage.unwrap_or("unset").to_string(),
            )),
            (_, None) => Ok(Self::authorizer(names)),
        }
    }

    /// The caller of a request: from the authorizer's claims (AWS), or, when this verifier
    /// checks tokens itself, from the `Authorization` header. A token that names no subject or
    /// no organization is refused: it cannot be held to one organization's data.
    pub fn caller(
        &self,
        authorizer_claims: Option<&HashMap<String, String>>,
        authorization: Option<&str>,
    ) -> Result<Caller, AuthError> {
        let Some(key) = &self.local else {
            let claims = authorizer_claims.ok_or(AuthError::Missing)?;
            let get = |name: &str| claims.get(name).cloned().unwrap_or_default();
            let roles = serde_json::Value::String(get(&self.names.roles));
            return self.identify(get("sub"), get(&self.names.organization), &roles);
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
        let organization = claims
            .other
            .get(&self.names.organization)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        let roles = claims
            .other
            .get(&self.names.roles)
            .cloned()
            .unwrap_or_default();
        self.identify(claims.sub, organization, &roles)
    }

    fn identify(
        &self,
        subject: String,
        organization: String,
        roles: &serde_json::Value,
    ) -> Result<Caller, AuthError> {
        if subject.trim().is_empty() {
            return Err(AuthError::Invalid(
                "the token names no subject (sub)".into(),
            ));
        }
        if organization.trim().is_empty() {
            return Err(AuthError::Invalid(format!(
                "the token names no organization (claim {:?})",
                self.names.organization
            )));
        }
        let mut roles: Vec<Role> = role_names(roles)
            .iter()
            .filter_map(|r| Role::parse(r))
            .collect();
        roles.sort_unstable();
        roles.dedup();
        Ok(Caller {
            subject,
            organization,
            roles,
        })
    }
}

impl Caller {
    /// Refuses a caller none of whose roles holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AuthError> {
        if self.roles.iter().any(|r| r.may(permission)) {
            return Ok(());
        }
        let names = |roles: &[Role]| roles.iter().map(|r| r.name()).collect::<Vec<_>>().join(" ");
        Err(AuthError::Forbidden {
            permission,
            needed: names(&permission.roles()),
            held: names(&self.roles),
        })
    }
}

/// What a development token says.
#[derive(Debug, Clone)]
pub struct TokenRequest<'a> {
    /// Who it is for.
    pub subject: &'a str,
    /// Its organization.
    pub organization: &'a str,
    /// Its roles.
    pub roles: &'a [Role],
    /// How long it is valid (negative for one already expired, in tests).
    pub lifetime: chrono::TimeDelta,
}

/// A development token for the local stack, signed with `secret`: the organization and roles
/// under the default claim names, and the scopes those roles hold (for an authorizer).
pub fn mint(
    secret: &[u8],
    issuer: &str,
    audience: &str,
    request: &TokenRequest<'_>,
) -> Result<String, AuthError> {
    let names = ClaimNames::default();
    let mut other = serde_json::Map::new();
    other.insert(names.organization, request.organization.into());
    other.insert(
        names.roles,
        request
            .roles
            .iter()
            .map(|r| r.name())
            .collect::<Vec<_>>()
            .into(),
    );
    let claims = Claims {
        sub: request.subject.into(),
        iss: issuer.into(),
        aud: Audience::One(audience.into()),
        scope: access::scopes_of(request.roles).join(" "),
        exp: (chrono::Utc::now() + request.lifetime).timestamp(),
        nbf: None,
        other,
    };
    sign(secret, &claims)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: &[u8] = b"a development secret of enough length";

    fn local() -> Verifier {
        Verifier::local(SECRET, "hms-ach-local", "hms-ach", ClaimNames::default())
    }

    fn token(secret: &[u8], issuer: &str, audience: &str, lifetime: chrono::TimeDelta) -> String {
        let request = TokenRequest {
            subject: "user-1",
            organization: "clinic-a",
            roles: &[Role::Billing],
            lifetime,
        };
        mint(secret, issuer, audience, &request).unwrap()
    }

    #[test]
    fn a_local_token_is_checked_for_signature_issuer_audience_and_expiry_and_names_its_roles() {
        let verifier = local();
        let hour = chrono::TimeDelta::hours(1);
        let token = token(SECRET, "hms-ach-local", "hms-ach", hour);
        let caller = verifier
            .caller(None, Some(&format!("Bearer {token}")))
            .unwrap();
        assert_eq!(caller.subject, "user-1");
        assert_eq!(caller.organization, "clinic-a");
        assert_eq!(caller.roles, [Role::Billing]);
        assert_eq!(caller.require(Permission::SubmitClaims), Ok(()));
        let refused = caller.require(Permission::RedriveClaims).unwrap_err();
        assert_eq!(refused.status(), 403);
        assert_eq!(
            refused.to_string(),
            "RedriveClaims needs the role admin; the token's roles are [billing]"
        );

        assert_eq!(verifier.caller(None, None), Err(AuthError::Missing));
        assert_eq!(
            verifier.caller(None, Some("Basic abc")),
            Err(AuthError::Missing)
        );
        let other_key = self::token(
            b"another secret entirely, also long",
            "hms-ach-local",
            "hms-ach",
            hour,
        );
        let other_issuer = self::token(SECRET, "someone-else", "hms-ach", hour);
        let other_audience = self::token(SECRET, "hms-ach-local", "other", hour);
        let expired = self::token(
            SECRET,
            "hms-ach-local",
            "hms-ach",
            chrono::TimeDelta::hours(-2),
        );
        // The same claims under `alg: none` and no signature; then a payload whose roles were
        // widened after signing.
        let (_, rest) = token.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        let unsigned = format!(
            "{}.{payload}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#)
        );
        let mut claims: Claims =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        claims
            .other
            .insert("roles".into(), serde_json::json!(["billing", "admin"]));
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
    fn a_token_without_a_subject_or_an_organization_is_refused() {
        let verifier = local();
        let hour = chrono::TimeDelta::hours(1);
        for (subject, organization, why) in [
            ("", "clinic-a", "names no subject"),
            ("user-1", "", "names no organization (claim \"org\")"),
        ] {
            let request = TokenRequest {
                subject,
                organization,
                roles: &[Role::Billing],
                lifetime: hour,
            };
            let token = mint(SECRET, "hms-ach-local", "hms-ach", &request).unwrap();
            let err = verifier
                .caller(None, Some(&format!("Bearer {token}")))
                .unwrap_err();
            assert_eq!(err.status(), 401);
            assert!(err.to_string().contains(why), "{err}");
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
            scope: String::new(),
            exp,
            nbf,
            other: serde_json::Map::new(),
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
    fn behind_the_authorizer_its_claims_are_used_under_the_configured_names() {
        let names = ClaimNames {
            organization: "custom:org".into(),
            roles: "cognito:groups".into(),
        };
        let verifier = Verifier::authorizer(names);
        let claims = HashMap::from([
            ("sub".to_string(), "user-2".to_string()),
            ("custom:org".to_string(), "clinic-b".to_string()),
            ("cognito:groups".to_string(), "[finance admin]".to_string()),
        ]);
        let caller = verifier.caller(Some(&claims), None).unwrap();
        assert_eq!(caller.organization, "clinic-b");
        assert_eq!(caller.roles, [Role::Finance, Role::Admin]);
        assert!(caller.require(Permission::SubmitClaims).is_err());
        assert_eq!(caller.require(Permission::RedriveClaims), Ok(()));
        // Under the default names the organization is missing.
        let err = Verifier::authorizer(ClaimNames::default())
            .caller(Some(&claims), None)
            .unwrap_err();
        assert_eq!(err.status(), 401);
        // A bearer token alone is not trusted where the authorizer should have run.
        assert_eq!(
            verifier.caller(None, Some("Bearer x")),
            Err(AuthError::Missing)
        );
    }
}

#[cfg(test)]
mod stage_tests {
    use super::*;

    #[test]
    fn development_tokens_are_taken_only_in_the_local_stage_with_a_long_key() {
        let long = "k".repeat(MIN_LOCAL_KEY);
        let settings = |stage, secret| {
            Verifier::from_settings(stage, secret, "iss", "aud", ClaimNames::default())
        };
        assert!(settings(Some("local"), Some(long.as_str())).is_ok_and(|v| v.local.is_some()));
        assert_eq!(
            settings(Some("local"), Some("k")).err(),
            Some(LocalKeyError::Short(1))
        );
        for stage in [Some("prod"), Some("dev"), None] {
            let err = settings(stage, Some(long.as_str())).err();
            assert!(
                matches!(err, Some(LocalKeyError::OutsideLocal(_))),
                "{stage:?}"
            );
            assert!(settings(stage, None).is_ok_and(|v| v.local.is_none()));
            assert!(settings(stage, Some("")).is_ok_and(|v| v.local.is_none()));
        }
    }
}
