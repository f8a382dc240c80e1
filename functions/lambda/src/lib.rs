//! What every HMS-ACH Lambda shares: the core's use cases wired over the AWS adapters from the
//! environment ([`App::from_env`]), the caller's scope check ([`auth`]), the routes as HTTP
//! ([`routes`]), and JSON logs that carry the request id and never PHI ([`init_tracing`]).
//! Each function's `main` only picks its route.

pub use hms_auth as auth;
pub mod routes;

use std::collections::HashMap;
use std::path::PathBuf;

use hms_adapters::aws::{DynamoClaimStore, S3ObjectStore, SqsQueue};
use hms_adapters::{CoreGateway, Endpoints};
use hms_core::claim::{InstitutionalClaim, ProfessionalClaim};
use hms_core::partner::Connections;
use hms_core::ports::{NoRules, RuleEngine, RuleVerdict, SystemClock, Topic};
use hms_core::service::{Clearinghouse, RetryPolicy};

/// The payer rules a function runs: the registry in the rules bucket, or none when the bucket
/// holds no registry.
#[derive(Debug)]
pub enum Rules {
    /// No rule sets are deployed.
    None(NoRules),
    /// The registry's rule sets.
    Registry(Box<hms_rules::pipeline::RegistryRules>),
}

impl RuleEngine for Rules {
    fn professional(&self, claim: &ProfessionalClaim) -> RuleVerdict<ProfessionalClaim> {
        match self {
            Self::None(r) => r.professional(claim),
            Self::Registry(r) => r.professional(claim),
        }
    }
    fn institutional(&self, claim: &InstitutionalClaim) -> RuleVerdict<InstitutionalClaim> {
        match self {
            Self::None(r) => r.institutional(claim),
            Self::Registry(r) => r.institutional(claim),
        }
    }
}

/// The clearinghouse as a Lambda runs it.
pub type Service =
    Clearinghouse<DynamoClaimStore, S3ObjectStore, SqsQueue, CoreGateway, Rules, SystemClock>;

/// A function's state, made once per cold start: the use cases over their ports (the AWS
/// adapters unless a test gives others) and how callers are checked.
#[derive(Debug)]
pub struct App<
    S = DynamoClaimStore,
    O = S3ObjectStore,
    Q = SqsQueue,
    G = CoreGateway,
    R = Rules,
    C = SystemClock,
> {
    /// The use cases.
    pub service: Clearinghouse<S, O, Q, G, R, C>,
    /// How callers are checked.
    pub verifier: auth::Verifier,
}

/// Why a function could not start: a missing or wrong setting, named.
#[derive(Debug, thiserror::Error)]
#[error("cannot start: {0}")]
pub struct StartError(String);

fn setting(name: &str) -> Result<String, StartError> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| StartError(format!("the environment variable {name} is not set")))
}

/// A JSON configuration: from the variable `name` itself (the local stack), or from the SSM
/// parameter that `{name}_PARAMETER` names (AWS).
async fn configuration<T: serde::de::DeserializeOwned>(
    name: &str,
    ssm: &aws_sdk_ssm::Client,
) -> Result<T, StartError> {
    let text = match std::env::var(name) {
        Ok(text) if !text.is_empty() => text,
        _ => {
            let parameter = setting(&format!("{name}_PARAMETER"))?;
            ssm.get_parameter()
                .name(&parameter)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| {
                    StartError(format!(
                        "SSM parameter {parameter}: {}",
                        aws_sdk_ssm::error::DisplayErrorContext(e)
                    ))
                })?
                .parameter
                .and_then(|p| p.value)
                .ok_or_else(|| StartError(format!("SSM parameter {parameter} has no value")))?
        }
    };
    serde_json::from_str(&text).map_err(|e| StartError(format!("{name} is not valid: {e}")))
}

impl App {
    /// Wires the service from the environment (see `template.yaml` for the variables).
    pub async fn from_env() -> Result<Self, StartError> {
        let aws = aws_config::load_from_env().await;
        let s3 = {
            let mut config = aws_sdk_s3::config::Builder::from(&aws);
            // LocalStack serves buckets by path.
            if std::env::var("S3_FORCE_PATH_STYLE").is_ok_and(|v| v == "true") {
                config = config.force_path_style(true);
            }
            aws_sdk_s3::Client::from_conf(config.build())
        };
        let ssm = aws_sdk_ssm::Client::new(&aws);
        let endpoints: Endpoints = configuration("PAYER_ENDPOINTS", &ssm).await?;
        let connections: Connections = configuration("PAYER_CONNECTIONS", &ssm).await?;
        let gateway = CoreGateway::new(endpoints).map_err(|e| StartError(e.to_string()))?;
        let queue = SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            HashMap::from([
                (Topic::Submissions, setting("SUBMISSIONS_QUEUE_URL")?),
                (
                    Topic::SubmissionsDeadLetter,
                    setting("SUBMISSIONS_DLQ_URL")?,
                ),
                (Topic::ClaimEvents, setting("CLAIM_EVENTS_QUEUE_URL")?),
            ]),
        );
        let rules = match std::env::var("RULES_BUCKET") {
            Ok(bucket) if !bucket.is_empty() => {
                load_rules(S3ObjectStore::new(s3.clone(), bucket)).await?
            }
            _ => Rules::None(NoRules),
        };
        let service = Clearinghouse {
            store: DynamoClaimStore::new(
                aws_sdk_dynamodb::Client::new(&aws),
                setting("CLAIMS_TABLE")?,
            ),
            objects: S3ObjectStore::new(s3, setting("X12_BUCKET")?),
            queue,
            gateway,
            rules,
            clock: SystemClock,
            connections,
            retry: retry_policy()?,
        };
        Ok(Self {
            service,
            verifier: auth::Verifier::from_env(),
        })
    }
}

/// The retry schedule: the default, or `RETRY_FIRST_DELAY_SECONDS` / `RETRY_MAX_ATTEMPTS`
/// (the local stack shortens the first wait so a recovery is seen in seconds).
fn retry_policy() -> Result<RetryPolicy, StartError> {
    let mut policy = RetryPolicy::default();
    let number = |name: &str| -> Result<Option<u64>, StartError> {
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => v
                .parse()
                .map(Some)
                .map_err(|_| StartError(format!("{name} is not a whole number: {v:?}"))),
            _ => Ok(None),
        }
    };
    if let Some(seconds) = number("RETRY_FIRST_DELAY_SECONDS")? {
        policy.first_delay = std::time::Duration::from_secs(seconds);
    }
    if let Some(attempts) = number("RETRY_MAX_ATTEMPTS")? {
        policy.max_attempts = u32::try_from(attempts)
            .ok()
            .filter(|a| *a >= 1)
            .ok_or_else(|| {
                StartError(format!("RETRY_MAX_ATTEMPTS must be 1 or more: {attempts}"))
            })?;
    }
    Ok(policy)
}

/// The registry under `rules/` of the rules bucket, compiled components cached in /tmp; no
/// rules when the bucket holds no registry, a start error when it holds a broken one (a
/// function must not send claims past rules it failed to load).
async fn load_rules(bucket: S3ObjectStore) -> Result<Rules, StartError> {
    use hms_core::ports::ObjectStore;
    let present = bucket
        .get(&format!("rules/{}", hms_rules::registry::REGISTRY_FILE))
        .await
        .map_err(|e| StartError(e.to_string()))?
        .is_some();
    if !present {
        tracing::info!("the rules bucket holds no registry: no payer rules");
        return Ok(Rules::None(NoRules));
    }
    let host = hms_rules::host::RuleHost::new(hms_rules::host::Limits::default())
        .map_err(|e| StartError(e.to_string()))?;
    let cache = PathBuf::from("/tmp/hms-rules-cache");
    let registry =
        hms_rules::registry::Registry::open_store(&host, &bucket, "rules/", Some(&cache))
            .await
            .map_err(|e| StartError(e.to_string()))?;
    Ok(Rules::Registry(Box::new(
        hms_rules::pipeline::RegistryRules { host, registry },
    )))
}

/// Which route a function serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /ach/queryEligibility`.
    Eligibility,
    /// `POST /ach/submitClaim`.
    Submit,
    /// `GET /ach/claims/{id}`, `POST /ach/claimStatus`.
    Status,
}

/// A function's whole life: logs, the app from the environment (a start error ends the
/// process with its reason, as Lambda reports it), then `route` for every request.
pub async fn serve(route: Route) -> Result<(), lambda_http::Error> {
    init_tracing();
    let app = std::sync::Arc::new(App::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = std::sync::Arc::clone(&app);
        async move {
            let response = match route {
                Route::Eligibility => app.eligibility(request).await,
                Route::Submit => app.submit(request).await,
                Route::Status => app.status(request).await,
            };
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}

/// JSON logs, as CloudWatch reads them; the level from `RUST_LOG` (info by default).
pub fn init_tracing() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_current_span(true)
        .with_target(false)
        .try_init();
}
