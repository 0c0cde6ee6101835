//! Where the SMTP and HTTP listeners listen: a TCP address, or a Unix-domain
//! socket (`unix:/path/to.sock:0660`, as Mailpit writes it).
//!
//! A Unix socket suits a catcher that only local processes (or a reverse
//! proxy) should reach: no port to collide with, and file permissions decide
//! who may connect.

use std::fmt;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use tokio::net::{TcpListener, UnixListener};

use crate::running::StartError;

/// A listen address as the command line gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Listen {
    /// `HOST:PORT`.
    Tcp(SocketAddr),
    /// `unix:/path[:MODE]`.
    Unix(UnixSocket),
}

/// A Unix-domain socket to listen on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnixSocket {
    /// The socket file's path.
    pub path: PathBuf,
    /// The file's permission bits, `0o660` (owner and group) unless given.
    pub mode: u32,
}

/// The permissions of a socket file whose address names none.
const DEFAULT_MODE: u32 = 0o660;

impl Listen {
    /// The TCP address, if this is one.
    pub fn tcp(&self) -> Option<SocketAddr> {
        match self {
            Listen::Tcp(addr) => Some(*addr),
            Listen::Unix(_) => None,
        }
    }
}

/// A bound listener: TCP, or a Unix socket.
pub(crate) enum Bound {
    Tcp(TcpListener),
    Unix(BoundUnix),
}

impl Listen {
    /// Binds the listener; with it, the TCP address (the real port when 0
    /// was asked for), or None for a Unix socket.
    pub(crate) async fn bind(&self) -> Result<(Bound, Option<SocketAddr>), StartError> {
        match self {
            Listen::Tcp(addr) => {
                let (listener, bound) = bind_tcp(*addr).await?;
                Ok((Bound::Tcp(listener), Some(bound)))
            }
            Listen::Unix(socket) => {
                let bound = socket.bind().map_err(|source| StartError::BindUnix {
                    path: socket.path.clone(),
                    source,
                })?;
                Ok((Bound::Unix(bound), None))
            }
        }
    }
}

/// Binds a TCP listener; returns it with its address (the real port when
/// 0 was asked for).
pub(crate) async fn bind_tcp(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let error = |source| StartError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(error)?;
    let bound = listener.local_addr().map_err(error)?;
    Ok((listener, bound))
}

impl From<SocketAddr> for Listen {
    fn from(addr: SocketAddr) -> Listen {
        Listen::Tcp(addr)
    }
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(value: &str) -> Result<Listen, String> {
        match value.strip_prefix("unix:") {
            Some(rest) => UnixSocket::parse(rest).map(Listen::Unix),
            None => value
                .parse()
                .map(Listen::Tcp)
                .map_err(|_| format!("{value:?} is neither HOST:PORT nor unix:/path[:mode]")),
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(addr) => addr.fmt(f),
            Listen::Unix(socket) => write!(f, "unix:{}:{:04o}", socket.path.display(), socket.mode),
        }
    }
}

impl UnixSocket {
    /// `/path` or `/path:MODE`, MODE in octal (`0660`, `660`). A path may
    /// hold colons: only a last part of three or four octal digits is a mode.
    fn parse(rest: &str) -> Result<UnixSocket, String> {
        let (path, mode) = match rest.rsplit_once(':') {
            Some((path, mode)) if is_mode(mode) => (path, parse_mode(mode)?),
            _ => (rest, DEFAULT_MODE),
        };
        if path.is_empty() {
            return Err("unix: needs a socket path, as in unix:/run/mailcatch.sock:0660".into());
        }
        Ok(UnixSocket {
            path: PathBuf::from(path),
            mode,
        })
    }

    /// Binds the socket. A socket file left by a process that is gone is
    /// replaced; a live one, or a file that is not a socket, is an error,
    /// so two servers never fight over one path.
    pub(crate) fn bind(&self) -> std::io::Result<BoundUnix> {
        remove_stale(&self.path)?;
        let listener = UnixListener::bind(&self.path)?;
        let bound = BoundUnix {
            listener,
            file: SocketFile(self.path.clone()),
        };
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(self.mode))?;
        Ok(bound)
    }
}

fn is_mode(part: &str) -> bool {
    (3..=4).contains(&part.len()) && part.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

fn parse_mode(part: &str) -> Result<u32, String> {
    u32::from_str_radix(part, 8)
        .ok()
        .filter(|mode| *mode <= 0o777)
        .ok_or_else(|| format!("{part:?} is not a file mode like 0660"))
}

fn remove_stale(path: &Path) -> std::io::Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !metadata.file_type().is_socket() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "the path exists and is not a socket",
        ));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            "another process is listening on this socket",
        ));
    }
    std::fs::remove_file(path)
}

/// A bound Unix socket.
pub(crate) struct BoundUnix {
    pub(crate) listener: UnixListener,
    /// Held as long as the listener serves.
    pub(crate) file: SocketFile,
}

/// A socket file, removed when dropped (at shutdown), so the next start
/// finds the path free.
pub(crate) struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(path: &str, mode: u32) -> Listen {
        Listen::Unix(UnixSocket {
            path: path.into(),
            mode,
        })
    }

    #[test]
    fn parses_tcp_and_unix_addresses() {
        let tcp: Listen = "127.0.0.1:1025".parse().unwrap();
        assert_eq!(tcp.tcp(), Some("127.0.0.1:1025".parse().unwrap()));
        assert_eq!(
            "unix:/tmp/m.sock:0660".parse(),
            Ok(unix("/tmp/m.sock", 0o660))
        );
        assert_eq!(
            "unix:/tmp/m.sock:600".parse(),
            Ok(unix("/tmp/m.sock", 0o600))
        );
        assert_eq!("unix:/tmp/m.sock".parse(), Ok(unix("/tmp/m.sock", 0o660)));
        assert_eq!(
            "unix:/tmp/a:b.sock".parse(),
            Ok(unix("/tmp/a:b.sock", 0o660))
        );
        assert_eq!(
            unix("/tmp/m.sock", 0o660).to_string(),
            "unix:/tmp/m.sock:0660"
        );
    }

    #[test]
    fn refuses_what_is_neither() {
        assert!("unix:".parse::<Listen>().is_err());
        assert!("unix::0660".parse::<Listen>().is_err());
        assert!("localhost".parse::<Listen>().is_err());
        // Not octal, so part of the path.
        assert_eq!(
            "unix:/tmp/m.sock:0999".parse(),
            Ok(unix("/tmp/m.sock:0999", 0o660))
        );
    }

    #[tokio::test]
    async fn binds_replaces_a_stale_socket_and_refuses_a_live_one() {
        let dir = std::env::temp_dir().join(format!("mailcatch-listen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let socket = UnixSocket {
            path: dir.join("s.sock"),
            mode: 0o600,
        };
        let bound = socket.bind().unwrap();
        let mode = std::fs::metadata(&socket.path)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(
            socket.bind().err().map(|e| e.kind()),
            Some(std::io::ErrorKind::AddrInUse)
        );
        drop(bound);
        assert!(!socket.path.exists(), "removed at drop");
        // A socket file left behind by a crash: the next bind replaces it.
        drop(std::os::unix::net::UnixListener::bind(&socket.path).unwrap());
        assert!(socket.path.exists());
        drop(socket.bind().unwrap());
        std::fs::write(&socket.path, b"not a socket").unwrap();
        assert!(socket.bind().is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
