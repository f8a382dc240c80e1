//! The simulator over HTTP/1.1 (hyper), bound where the caller says (127.0.0.1 locally).

use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::Simulator;

/// The largest request body taken (an 837 batch of a few thousand claims fits).
const MAX_BODY: usize = 64 << 20;

async fn answer(
    sim: Arc<Simulator>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Ok(Response::builder()
                .status(413)
                .body(Full::new(Bytes::from(format!("body refused: {e}"))))
                .unwrap_or_default());
        }
    };
    let reply = sim.handle(&method, &path, &body);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    Ok(Response::builder()
        .status(reply.status)
        .header("content-type", reply.content_type)
        .body(Full::new(Bytes::from(reply.body)))
        .unwrap_or_default())
}

/// Serves `sim` on `listener` until the process ends.
pub async fn serve(listener: TcpListener, sim: Arc<Simulator>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let sim = Arc::clone(&sim);
        tokio::spawn(async move {
            let service = service_fn(move |request| answer(Arc::clone(&sim), request));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

/// Starts a simulator for `config` on a free port of 127.0.0.1 (in this runtime), and gives it
/// with its CORE endpoint's URL: how tests and benchmarks get a payer.
pub async fn start(config: crate::SimConfig) -> std::io::Result<(Arc<Simulator>, String)> {
    let sim = Arc::new(Simulator::new(config, None));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/core", listener.local_addr()?);
    tokio::spawn(serve(listener, Arc::clone(&sim)));
    Ok((sim, url))
}
