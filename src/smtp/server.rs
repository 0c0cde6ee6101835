//! Placeholder transport; replaced by the real one.
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::shutdown::Shutdown;
use crate::{App, StartError};

pub struct SmtpServer {
    pub addr: SocketAddr,
    pub smtps_addr: Option<SocketAddr>,
    listener: TcpListener,
    _app: Arc<App>,
}

pub async fn bind(app: Arc<App>) -> Result<SmtpServer, StartError> {
    let addr = app.config.smtp.bind;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok(SmtpServer {
        addr,
        smtps_addr: None,
        listener,
        _app: app,
    })
}

impl SmtpServer {
    pub async fn serve(self, mut shutdown: Shutdown) {
        let _ = &self.listener;
        shutdown.wait().await;
    }
}
