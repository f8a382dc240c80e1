//! What every HMS-ACH Lambda shares: the core's use cases wired over the AWS adapters from the
//! environment ([`App::from_env`]), the caller's scope check ([`auth`]), the routes as HTTP
//! ([`routes`]), and JSON logs that carry the request id and never PHI ([`init_tracing`]).
//! Each function's `main` only picks its route.

pub use hms_auth as auth;
pub mod drops;
pub mod http;
pub mod routes;
pub mod stream;
pub mod webhooks;

use std::collections::HashMap;

use hms_adapters::aws::{DynamoClaimStore, S3ObjectStore, SqsQueue};
use hms_adapters::{CoreGateway, Endpoints};
use hms_domain::partner::Connections;
pub use hms_service::ports::NoRules;
use hms_service::ports::{Adapters, RuleEngine, SystemClock, Topic};
use hms_service::service::{Clearinghouse, Timing};
use hms_service::tenancy::Organizations;

/// How a function comes by its payer rules at a cold start. Only the submit function runs
/// rules ([`Rules`], feature `rules`); the others take [`NoRules`] and so link no WebAssembly
/// runtime and fetch nothing from the rules bucket.
pub trait LoadRules: RuleEngine + Sized + Send + Sync + 'static {
    /// The rules the environment names, read through `s3`.
    fn from_env(
        s3: &aws_sdk_s3::Client,
    ) -> impl std::future::Future<Output = Result<Self, StartError>> + Send;
}

impl LoadRules for NoRules {
    async fn from_env(_: &aws_sdk_s3::Client) -> Result<Self, StartError> {
        Ok(NoRules)
    }
}

/// The payer rules the submit function runs: the registry in the rules bucket, or none when
/// the bucket holds no registry.
#[cfg(feature = "rules")]
#[derive(Debug)]
pub enum Rules {
    /// No rule sets are deployed.
    None(NoRules),
    /// The registry's rule sets.
    Registry(Box<hms_rules::pipeline::RegistryRules>),
}

#[cfg(feature = "rules")]
impl RuleEngine for Rules {
    fn review(&self, claim: &hms_domain::claims::Claim) -> hms_service::ports::RuleVerdict {
        match self {
            Self::None(r) => r.review(claim),
            Self::Registry(r) => r.review(claim),
        }
    }
}

#[cfg(feature = "rules")]
impl LoadRules for Rules {
    /// The registry under `rules/` of `RULES_BUCKET`: each rule set's artifact precompiled
    /// for this target (`hms rules publish`), fetched concurrently and loaded without
    /// compiling; no rules when the bucket holds no registry, a start error when it holds a
    /// broken one (a function must not send claims past rules it failed to load).
    async fn from_env(s3: &aws_sdk_s3::Client) -> Result<Self, StartError> {
        let bucket = match std::env::var("RULES_BUCKET") {
            Ok(bucket) if !bucket.is_empty() => S3ObjectStore::new(s3.clone(), bucket),
            _ => return Ok(Self::None(NoRules)),
        };
        // A rule set's log lines keep their text only in the local stage.
        let stage = std::env::var("STAGE").ok();
        let limits = hms_rules::host::Limits {
            logs: hms_rules::host::RuleLogs::for_stage(stage.as_deref()),
            ..hms_rules::host::Limits::default()
        };
        let host = hms_rules::host::RuleHost::new(limits).map_err(|e| StartError(e.to_string()))?;
        // Used only by a build with a compiler, for a registry without precompiled artifacts.
        let cache = std::path::PathBuf::from("/tmp/hms-rules-cache");
        let registry = hms_rules::registry::Registry::open_store_if_present(
            &host,
            &bucket,
            "rules/",
            Some(&cache),
        )
        .await
        .map_err(|e| StartError(e.to_string()))?;
        Ok(match registry {
            Some(registry) => Self::Registry(Box::new(hms_rules::pipeline::RegistryRules {
                host,
                registry,
            })),
            None => {
                tracing::info!("the rules bucket holds no registry: no payer rules");
                Self::None(NoRules)
            }
        })
    }
}

/// The ports as a Lambda has them: the AWS adapters, the CAQH CORE gateway, the rules `R`.
pub type AwsPorts<R = NoRules> =
    Adapters<DynamoClaimStore, S3ObjectStore, SqsQueue, CoreGateway, R, SystemClock>;

/// A function's state, made once per cold start: the use cases over their ports (the AWS
/// adapters unless a test gives others) and how callers are checked.
#[derive(Debug)]
pub struct App<P = AwsPorts> {
    /// The use cases.
    pub service: Clearinghouse<P>,
    /// How callers are checked.
    pub verifier: auth::Verifier,
    /// The drop zone payers' files land in (`DROP_BUCKET`), for the functions that read
    /// them: the remittance ingest, and fetchRemittance's X12 form.
    pub drops: Option<S3ObjectStore>,
}

/// The AWS SDK's configuration from the environment, over one HTTP client on rustls with
/// ring.
pub(crate) async fn aws_config() -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls;
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}

/// Why a function could not start: a missing or wrong setting, named.
#[derive(Debug, thiserror::Error)]
#[error("cannot start: {0}")]
pub struct StartError(pub(crate) String);

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

impl<R: LoadRules> App<AwsPorts<R>> {
    /// Wires the service from the environment (see `template.yaml` for the variables).
    pub async fn from_env() -> Result<Self, StartError> {
        let aws = aws_config().await;
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
        let organizations: Organizations = configuration("ORGANIZATIONS", &ssm).await?;
        let gateway = CoreGateway::new(endpoints).map_err(|e| StartError(e.to_string()))?;
        let queue = SqsQueue::new(
            aws_sdk_sqs::Client::new(&aws),
            HashMap::from([
                (Topic::Submissions, setting("SUBMISSIONS_QUEUE_URL")?),
                (Topic::ClaimEvents, setting("CLAIM_EVENTS_QUEUE_URL")?),
            ]),
        );
        let rules = R::from_env(&s3).await?;
        let drops = std::env::var("DROP_BUCKET")
            .ok()
            .filter(|b| !b.is_empty())
            .map(|bucket| S3ObjectStore::new(s3.clone(), bucket));
        let service = Clearinghouse {
            ports: Adapters {
                store: DynamoClaimStore::new(
                    aws_sdk_dynamodb::Client::new(&aws),
                    setting("CLAIMS_TABLE")?,
                ),
                objects: S3ObjectStore::new(s3, setting("X12_BUCKET")?),
                queue,
                gateway,
                rules,
                clock: SystemClock,
            },
            connections,
            organizations,
            timing: timing()?,
        };
        Ok(Self {
            service,
            verifier: auth::Verifier::from_env().map_err(|e| StartError(e.to_string()))?,
            drops,
        })
    }
}

/// The deadlines: the defaults, or `RETRY_FIRST_DELAY_SECONDS`, `RETRY_MAX_ATTEMPTS`,
/// `SEND_LEASE_SECONDS`, `PICKUP_GRACE_SECONDS` and `INTAKE_GRACE_SECONDS` (the local stack
/// shortens them so that a recovery is seen in seconds).
fn timing() -> Result<Timing, StartError> {
    let mut timing = Timing::default();
    let number = |name: &str| -> Result<Option<u64>, StartError> {
        match std::env::var(name) {
            Ok(v) if !v.is_empty() => v
                .parse()
                .map(Some)
                .map_err(|_| StartError(format!("{name} is not a whole number: {v:?}"))),
            _ => Ok(None),
        }
    };
    let seconds = std::time::Duration::from_secs;
    if let Some(s) = number("RETRY_FIRST_DELAY_SECONDS")? {
        timing.retry.first_delay = seconds(s);
    }
    if let Some(s) = number("SEND_LEASE_SECONDS")? {
        timing.send_lease = seconds(s);
    }
    if let Some(s) = number("PICKUP_GRACE_SECONDS")? {
        timing.pickup_grace = seconds(s);
    }
    if let Some(s) = number("INTAKE_GRACE_SECONDS")? {
        timing.intake_grace = seconds(s);
    }
    if let Some(attempts) = number("RETRY_MAX_ATTEMPTS")? {
        timing.retry.max_attempts = u32::try_from(attempts)
            .ok()
            .filter(|a| *a >= 1)
            .ok_or_else(|| {
                StartError(format!("RETRY_MAX_ATTEMPTS must be 1 or more: {attempts}"))
            })?;
    }
    Ok(timing)
}

/// A function's route: what it answers and the rules it runs. A function links only its own
/// route's code (a generic, not a match over all of them), which keeps each bootstrap to
/// what it serves.
pub trait Route: Send + Sync + 'static {
    /// The payer rules the route runs.
    type Rules: LoadRules;
    /// The answer to `request`.
    fn answer(
        app: &App<AwsPorts<Self::Rules>>,
        request: lambda_http::Request,
    ) -> impl std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send;
}

/// `POST /ach/queryEligibility`.
#[derive(Debug)]
pub struct Eligibility;

impl Route for Eligibility {
    type Rules = NoRules;
    async fn answer(
        app: &App,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        app.eligibility(request).await
    }
}

/// `POST /ach/submitClaim`.
#[cfg(feature = "rules")]
#[derive(Debug)]
pub struct Submit;

#[cfg(feature = "rules")]
impl Route for Submit {
    type Rules = Rules;
    async fn answer(
        app: &App<AwsPorts<Rules>>,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        app.submit(request).await
    }
}

/// `GET /ach/claims/{id}`, `POST /ach/claimStatus`.
#[derive(Debug)]
pub struct Status;

impl Route for Status {
    type Rules = NoRules;
    async fn answer(
        app: &App,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        app.status(request).await
    }
}

/// `POST /ach/fetchRemittance`, `GET /ach/remittances/exceptions`, `POST
/// /ach/remittances/exceptions/{id}/resolve`.
#[derive(Debug)]
pub struct Remittance;

impl Route for Remittance {
    type Rules = NoRules;
    async fn answer(
        app: &App,
        request: lambda_http::Request,
    ) -> lambda_http::Response<lambda_http::Body> {
        app.remittance(request).await
    }
}

/// A function's whole life: logs, the app with its route's rules from the environment (a
/// start error ends the process with its reason, as Lambda reports it), then the route for
/// every request.
pub async fn serve<T: Route>() -> Result<(), lambda_http::Error> {
    init_tracing();
    let app = std::sync::Arc::new(App::<AwsPorts<T::Rules>>::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request| {
        let app = std::sync::Arc::clone(&app);
        async move { Ok::<_, std::convert::Infallible>(T::answer(&app, request).await) }
    }))
    .await
}

/// JSON logs, as CloudWatch reads them; the level from `RUST_LOG` (info by default), within
/// what [`log_filter`] allows the stage.
pub fn init_tracing() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let stage = std::env::var("STAGE").ok();
    let rust_log = std::env::var("RUST_LOG").ok();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_target(false)
        .finish()
        .with(log_filter(stage.as_deref(), rust_log.as_deref()));
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// The crates that, below `info`, log what passes through them whole: the Lambda runtime the
/// raw event (a claim, the `Authorization` header), the AWS SDK and the HTTP clients the
/// bodies they send and receive (DynamoDB items, payer answers).
const RAW_LOGGERS: &[&str] = &[
    "lambda_runtime",
    "lambda_runtime_api_client",
    "lambda_http",
    "aws_lambda_events",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_sdk_dynamodb",
    "aws_sdk_s3",
    "aws_sdk_sqs",
    "aws_sdk_ssm",
    "aws_config",
    "hyper",
    "hyper_util",
    "reqwest",
    "h2",
    "rustls",
];

/// What is logged: our crates at `rust_log`'s level (info when unset or unreadable); the
/// crates that would log raw requests and bodies ([`RAW_LOGGERS`]) at `info` at most, unless
/// the stage is `local`, so that no setting of `RUST_LOG` in a deployed stage can put PHI or a
/// token into CloudWatch.
pub fn log_filter(
    stage: Option<&str>,
    rust_log: Option<&str>,
) -> tracing_subscriber::filter::Targets {
    use tracing_subscriber::filter::LevelFilter;
    let level = rust_log
        .and_then(|l| l.trim().parse::<tracing::Level>().ok())
        .map_or(LevelFilter::INFO, LevelFilter::from_level);
    let raw = if stage == Some("local") {
        level
    } else {
        level.min(LevelFilter::INFO)
    };
    RAW_LOGGERS.iter().fold(
        tracing_subscriber::filter::Targets::new().with_default(level),
        |targets, crate_name| targets.with_target(*crate_name, raw),
    )
}

#[cfg(test)]
mod log_tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn no_rust_log_turns_on_raw_event_logging_outside_the_local_stage() {
        for stage in [Some("prod"), Some("staging"), None] {
            let filter = log_filter(stage, Some("trace"));
            assert!(filter.would_enable("hms_service::submission", &Level::TRACE));
            assert!(
                !filter.would_enable("lambda_runtime::layers", &Level::DEBUG),
                "{stage:?}"
            );
            assert!(!filter.would_enable("aws_smithy_runtime::client", &Level::TRACE));
            assert!(filter.would_enable("lambda_runtime", &Level::INFO));
        }
        let local = log_filter(Some("local"), Some("trace"));
        assert!(local.would_enable("lambda_runtime::layers", &Level::TRACE));
        let unset = log_filter(Some("prod"), None);
        assert!(!unset.would_enable("hms_service", &Level::DEBUG));
        assert!(unset.would_enable("hms_service", &Level::INFO));
        let nonsense = log_filter(Some("prod"), Some("lambda_runtime=trace"));
        assert!(!nonsense.would_enable("lambda_runtime", &Level::DEBUG));
    }
}
