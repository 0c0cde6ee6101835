//! `/metrics` for Prometheus, as Mailpit's `--enable-prometheus` offers it:
//! `true` serves it on the HTTP listener (behind the UI's auth, if any); an
//! address gives it a listener of its own, unauthenticated like Mailpit's.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use super::error::ApiError;
use super::{HttpState, Route, routed};
use crate::app::App;
use crate::running::StartError;
use crate::shutdown::Shutdown;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where `--enable-prometheus` puts `/metrics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prometheus {
    /// Not served.
    Off,
    /// On the HTTP listener.
    OnHttp,
    /// On a listener of its own.
    Listen(SocketAddr),
}

impl Prometheus {
    /// Reads the flag: a boolean word, or an address.
    pub fn parse(value: Option<&str>) -> Result<Prometheus, String> {
        let Some(value) = value.map(str::trim) else {
            return Ok(Prometheus::Off);
        };
        match value.to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" | "off" => Ok(Prometheus::Off),
            "1" | "true" | "yes" | "on" => Ok(Prometheus::OnHttp),
            _ => value.parse().map(Prometheus::Listen).map_err(|_| {
                format!("--enable-prometheus {value:?}: give true, false or an address such as 0.0.0.0:9090")
            }),
        }
    }
}

/// The route on the HTTP listener, when metrics go there.
pub fn route(state: &HttpState) -> Router<Arc<HttpState>> {
    if state.app.settings.prometheus != Prometheus::OnHttp {
        return Router::new();
    }
    routed(table())
}

/// The route [`route`] serves when metrics go on the HTTP listener.
pub fn table() -> Vec<Route> {
    vec![(
        "/metrics",
        Method::GET,
        get(|State(state): State<Arc<HttpState>>| async move { metrics(&state.app).await }),
    )]
}

async fn metrics(app: &App) -> Result<Response, ApiError> {
    let text = app.metrics_text().await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

/// A bound listener of its own for `/metrics`.
pub struct MetricsServer {
    /// Where it listens (port 0 resolved).
    pub addr: SocketAddr,
    listener: TcpListener,
    app: Arc<App>,
}

/// Binds `/metrics`'s own listener, when the settings ask for one.
pub async fn bind(app: &Arc<App>) -> Result<Option<MetricsServer>, StartError> {
    let Prometheus::Listen(addr) = app.settings.prometheus else {
        return Ok(None);
    };
    let (listener, addr) = crate::listen::bind_tcp(addr).await?;
    Ok(Some(MetricsServer {
        addr,
        listener,
        app: app.clone(),
    }))
}

impl MetricsServer {
    /// Serves until shutdown.
    pub async fn serve(self, mut shutdown: Shutdown) {
        let app = self.app;
        let router = Router::new().route(
            "/metrics",
            get(move || {
                let app = app.clone();
                async move { metrics(&app).await }
            }),
        );
        let served = axum::serve(self.listener, router)
            .with_graceful_shutdown(async move { shutdown.wait().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "metrics listener failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mailpits_forms() {
        assert_eq!(Prometheus::parse(None), Ok(Prometheus::Off));
        assert_eq!(Prometheus::parse(Some("false")), Ok(Prometheus::Off));
        assert_eq!(Prometheus::parse(Some("TRUE")), Ok(Prometheus::OnHttp));
        assert_eq!(
            Prometheus::parse(Some("127.0.0.1:9090")),
            Ok(Prometheus::Listen("127.0.0.1:9090".parse().unwrap()))
        );
        assert!(Prometheus::parse(Some("sometimes")).is_err());
    }
}
