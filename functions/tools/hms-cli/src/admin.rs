//! `hms claims`: operator commands on stored claims, through the API as any client calls it
//! (the route checks the token's organization and role), so that an operator needs no access
//! to the tables themselves.

use std::process::ExitCode;

use clap::Subcommand;

/// What `hms claims` does.
#[derive(Debug, Subcommand)]
pub enum ClaimsCommand {
    /// Move dead-lettered claims back into the submissions queue (`POST
    /// /ach/admin/claims/{id}/redrive`; the token needs the admin role). Exit 0 when every
    /// claim was redriven, 1 when one was not.
    Redrive {
        /// The API's base URL (default: `HMS_API_URL`).
        #[arg(long)]
        api: Option<String>,
        /// A bearer token (default: `HMS_TOKEN`).
        #[arg(long)]
        token: Option<String>,
        /// The claims (`clm_…`).
        #[arg(required = true)]
        claims: Vec<String>,
    },
}

/// `hms routes`: `METHOD PATH SCOPE ROLE...`, a line per route.
pub fn routes() -> anyhow::Result<ExitCode> {
    for route in hms_auth::access::ROUTES {
        let roles: Vec<&str> = route.permission.roles().iter().map(|r| r.name()).collect();
        outln!(
            "{} {} {} {}",
            route.method,
            route.path,
            route.permission.scope(),
            roles.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `command`.
pub fn run(command: ClaimsCommand) -> anyhow::Result<ExitCode> {
    match command {
        ClaimsCommand::Redrive { api, token, claims } => {
            let from_env = |given: Option<String>, var: &str| {
                given
                    .or_else(|| std::env::var(var).ok())
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| anyhow::anyhow!("give --{} or set {var}", var.to_lowercase()))
            };
            let api = from_env(api, "HMS_API_URL")?;
            let token = from_env(token, "HMS_TOKEN")?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(redrive(&api, &token, &claims))
        }
    }
}

async fn redrive(api: &str, token: &str, claims: &[String]) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let mut all = true;
    for id in claims {
        let url = format!(
            "{}/ach/admin/claims/{id}/redrive",
            api.trim_end_matches('/')
        );
        let response = client.post(&url).bearer_auth(token).send().await?;
        let status = response.status();
        let bytes = response.bytes().await.unwrap_or_default();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status.is_success() {
            let state = body.pointer("/state").and_then(|s| s.as_str());
            outln!("{id}: {}", state.unwrap_or("redriven"));
        } else {
            all = false;
            let reason = body
                .pointer("/issue/0/details/text")
                .or_else(|| body.pointer("/reason"))
                .and_then(|r| r.as_str())
                .unwrap_or("no reason given");
            outln!("{id}: not redriven ({status}): {reason}");
        }
    }
    Ok(if all {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
