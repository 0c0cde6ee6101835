//! `mailcatch load FILE|DIR…`: `.eml` files and mbox files submitted to a
//! running instance over SMTP, so each arrives as any mail does (envelope,
//! chaos, routing to mailboxes, the live feed) with its bytes unchanged.
//! The envelope comes from the headers: From as the sender, To, Cc and Bcc
//! as recipients, as `sendmail -t` does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::MAX_FILE_BYTES;
use crate::sendmail;

/// Submits every message in `paths` to the SMTP server at `smtp`.
pub async fn load(paths: &[PathBuf], smtp: &str) -> ExitCode {
    let files = match files(paths) {
        Ok(files) => files,
        Err(error) => {
            eprintln!("mailcatch load: {error}");
            return ExitCode::from(1);
        }
    };
    let mut sent = 0usize;
    let mut failed = 0usize;
    for file in &files {
        let messages = match read(file) {
            Ok(messages) => messages,
            Err(error) => {
                eprintln!("mailcatch load: {}: {error}", file.display());
                failed += 1;
                continue;
            }
        };
        for message in messages {
            match sendmail::submit_from_headers(smtp, &message).await {
                Ok(()) => sent += 1,
                Err(error) => {
                    eprintln!("mailcatch load: {}: {error}", file.display());
                    failed += 1;
                }
            }
        }
    }
    eprintln!("mailcatch load: {sent} messages sent to {smtp}, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The files named, with a directory standing for its `.eml` and `.mbox`
/// files (not recursive), in name order.
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let entries =
                std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension().is_some_and(|ext| {
                            ext.eq_ignore_ascii_case("eml") || ext.eq_ignore_ascii_case("mbox")
                        })
                })
                .collect();
            found.sort();
            out.extend(found);
        } else if path.is_file() {
            out.push(path.clone());
        } else {
            return Err(format!("{}: no such file or directory", path.display()));
        }
    }
    Ok(out)
}

/// A file's messages: one for an `.eml`, every message of an mbox (a file
/// whose first line starts with `From `).
fn read(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let size = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    if data.starts_with(b"From ") {
        Ok(split_mbox(&data))
    } else if data.iter().all(u8::is_ascii_whitespace) {
        Err("empty".into())
    } else {
        Ok(vec![data])
    }
}

/// Splits an mbox (mboxrd/mboxo) at its `From ` separator lines, dropping
/// them and undoing the `>From ` quoting of body lines.
fn split_mbox(data: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            messages.extend(current.take().filter(|m| !m.is_empty()));
            current = Some(Vec::new());
            continue;
        }
        let Some(message) = current.as_mut() else {
            continue;
        };
        let quoted = line.iter().position(|&b| b != b'>');
        match quoted {
            Some(n) if n > 0 && line[n..].starts_with(b"From ") => {
                message.extend_from_slice(&line[1..])
            }
            _ => message.extend_from_slice(line),
        }
    }
    messages.extend(current.filter(|m| !m.is_empty()));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_an_mbox_and_unquotes_from_lines() {
        let mbox = b"From a@b Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From here\n>>From there\n\nFrom c@d Tue Jan  2 00:00:00 2024\nSubject: two\n\nbody\n";
        let messages = split_mbox(mbox);
        assert_eq!(messages.len(), 2);
        assert_eq!(
            messages[0],
            b"Subject: one\n\nFrom here\n>From there\n\n".to_vec()
        );
        assert_eq!(messages[1], b"Subject: two\n\nbody\n".to_vec());
    }
}
