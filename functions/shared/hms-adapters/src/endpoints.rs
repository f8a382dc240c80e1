//! Webhook endpoints over HTTPS, under the URL policy: a name is resolved by us and only its
//! allowed addresses are connected to (so a name that resolves to a private or metadata
//! address, now or after a rebinding, is refused as the connection is made); an address
//! written in the URL is checked before anything is sent. No proxies, no redirects; the
//! answer's body is read up to a few kilobytes and dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hms_webhooks::policy::UrlPolicy;
use hms_webhooks::ports::{Answer, EndpointClient, Post, PostError};

/// How much of an answer's body is read (and dropped): enough to end the exchange cleanly.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024;

/// A name that resolved to no address the policy allows.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves to no address webhooks may be sent to")]
struct NoAllowedAddress(String);

/// Resolves names, keeping only the addresses the policy allows.
#[derive(Debug)]
struct AllowedAddresses(UrlPolicy);

impl reqwest::dns::Resolve for AllowedAddresses {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| policy.may_connect(a.ip()).is_ok())
                .collect();
            if found.is_empty() {
                return Err(
                    Box::new(NoAllowedAddress(host)) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(found.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Posts webhooks.
#[derive(Debug, Clone)]
pub struct HttpEndpoints {
    client: reqwest::Client,
    policy: UrlPolicy,
}

impl HttpEndpoints {
    /// A client under `policy`.
    pub fn new(policy: UrlPolicy) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(AllowedAddresses(policy)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .user_agent("HMS-ACH-Webhooks/1")
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self { client, policy })
    }
}

/// Whether `error` (or what caused it) is the resolver's refusal.
fn refused_by_resolver(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<NoAllowedAddress>() {
            return true;
        }
        cause = e.source();
    }
    false
}

impl EndpointClient for HttpEndpoints {
    async fn post(&self, post: Post) -> Result<Answer, PostError> {
        // An address written in the URL never reaches the resolver: checked here.
        self.policy
            .check(&post.url)
            .map_err(|e| PostError::Refused(e.to_string()))?;
        let started = Instant::now();
        let mut request = self
            .client
            .post(&post.url)
            .timeout(post.timeout)
            .body(post.body);
        for (name, value) in &post.headers {
            request = request.header(*name, value);
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(PostError::Timeout(post.timeout)),
            Err(e) if refused_by_resolver(&e) => return Err(PostError::Refused(e.to_string())),
            Err(e) => {
                return Err(PostError::Unreachable(e.without_url().to_string()));
            }
        };
        let status = response.status().as_u16();
        let mut read = 0;
        while read < MAX_ANSWER_BYTES {
            match tokio::time::timeout(Duration::from_secs(1), response.chunk()).await {
                Ok(Ok(Some(chunk))) => read += chunk.len(),
                _ => break,
            }
        }
        Ok(Answer {
            status,
            latency: started.elapsed(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn post(url: &str) -> Post {
        Post {
            url: url.into(),
            headers: vec![("content-type", "application/json".into())],
            body: b"{}".to_vec(),
            timeout: Duration::from_secs(2),
        }
    }

    #[tokio::test]
    async fn a_name_or_address_that_is_not_public_is_refused_before_anything_is_sent() {
        let endpoints = HttpEndpoints::new(UrlPolicy::DEPLOYED).unwrap();
        for url in [
            // localhost by name resolves to loopback: refused as the connection is made.
            "https://localhost.:9/hook",
            "https://127.0.0.1:9/hook",
            "https://169.254.169.254/latest/meta-data/",
            "http://example.com/hook",
        ] {
            let sent = endpoints.post(post(url)).await;
            assert!(
                matches!(sent, Err(PostError::Refused(_))),
                "{url}: {sent:?}"
            );
        }
    }

    #[tokio::test]
    async fn the_resolver_keeps_only_allowed_addresses_of_a_name() {
        use reqwest::dns::Resolve as _;
        use std::str::FromStr as _;
        let name = || reqwest::dns::Name::from_str("localhost").unwrap();
        // A name that resolves to loopback (as a rebinding attacker's would) gives nothing
        // to connect to in a deployed stage, and the error says why.
        let refused = AllowedAddresses(UrlPolicy::DEPLOYED).resolve(name()).await;
        let error = refused.err().unwrap();
        assert!(refused_by_resolver(error.as_ref()), "{error}");
        let local = AllowedAddresses(UrlPolicy::LOCAL)
            .resolve(name())
            .await
            .unwrap();
        assert!(local.into_iter().all(|a| a.ip().is_loopback()));
    }

    #[tokio::test]
    async fn the_local_stage_posts_to_loopback_and_reads_the_status() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            if let Ok((mut socket, _)) = listener.accept().await {
                let mut buf = vec![0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let endpoints = HttpEndpoints::new(UrlPolicy::LOCAL).unwrap();
        let answer = endpoints
            .post(post(&format!(
                "http://127.0.0.1:{port}/records/ach/callback"
            )))
            .await
            .unwrap();
        assert_eq!(answer.status, 204);
    }
}
