//! Serving a pickup store's files: finding the current file of (report, type) in the
//! store's index, opening it, and sending it in bounded pieces with the download
//! headers.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::http::{encode_segment, Note};
use super::Served;
use crate::pickup::{self, Entry};
use crate::render::naming;

/// The store's index entry of the current file of (report, type): `pickup::current`,
/// which reads files, on a thread that may block.
pub(super) async fn current(
    s: &Served,
    key: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Entry>> {
    let (root, id, key, keep_days) = (
        s.store.path.clone(),
        s.id.clone(),
        key.to_string(),
        s.store.keep_days,
    );
    tokio::task::spawn_blocking(move || pickup::current(&root, &id, &key, keep_days, now)).await?
}

/// The store's index entry of (report, type), current or not: `pickup::read` on a
/// thread that may block.
pub(super) async fn latest(s: &Served, key: &str) -> anyhow::Result<Option<Entry>> {
    let (root, id, key) = (s.store.path.clone(), s.id.clone(), key.to_string());
    tokio::task::spawn_blocking(move || pickup::read(&root, &id, &key)).await?
}

/// The current file of (report, type) when `accept` takes it, opened. A writer may
/// replace the file between reading the index and opening it: then the index is read
/// again.
pub(super) async fn open_current(
    s: &Served,
    key: &str,
    now: DateTime<Utc>,
    accept: impl Fn(&Entry) -> bool,
) -> anyhow::Result<Option<(Entry, tokio::fs::File)>> {
    for _ in 0..3 {
        let Some(entry) = current(s, key, now).await? else {
            return Ok(None);
        };
        if !accept(&entry) {
            return Ok(None);
        }
        let path = entry.path(&s.store.path, &s.id);
        match tokio::fs::File::open(&path).await {
            Ok(f) => return Ok(Some((entry, f))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("opening {}", path.display())))
            }
        }
    }
    Ok(None)
}

/// A download's `Content-Type`: the file's type, CSV said to be UTF-8.
fn content_type(name: &str) -> &'static str {
    match naming::content_type(name) {
        "text/csv" => "text/csv; charset=utf-8",
        other => other,
    }
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266): a plain ASCII fallback
/// and the exact name.
fn disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{plain}\"; filename*=UTF-8''{}",
        encode_segment(name)
    )
}

/// The size of the pieces a file is sent in. A client that stops reading holds one
/// piece in the server until the send timeout: small enough for a thousand stalled
/// downloads, large enough for few reads.
const CHUNK: usize = 64 * 1024;

/// The file, read in `CHUNK`s on the blocking pool. Each piece is a new buffer handed
/// to the connection, and nothing is read ahead: a stalled download holds one piece.
fn pieces(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<axum::body::Bytes>> + Send {
    futures_util::stream::try_unfold(Some(file), |file| async move {
        let Some(mut file) = file else {
            return Ok(None);
        };
        let (file, piece) = tokio::task::spawn_blocking(move || {
            use std::io::Read as _;
            let mut buf = vec![0u8; CHUNK];
            let n = loop {
                match file.read(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    r => break r?,
                }
            };
            buf.truncate(n);
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(std::io::Error::other)??;
        if piece.is_empty() {
            return Ok(None);
        }
        Ok(Some((axum::body::Bytes::from(piece), Some(file))))
    })
}

pub(super) async fn file_response(entry: &Entry, file: tokio::fs::File) -> Response {
    let len = match file.metadata().await {
        Ok(m) => m.len(),
        Err(_) => entry.bytes,
    };
    let stream = pieces(file.into_std().await);
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&entry.file)),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if let Ok(v) = HeaderValue::from_str(&disposition(&entry.file)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", entry.sha256)) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp.extensions_mut()
        .insert(Note(std::borrow::Cow::Owned(entry.file.clone())));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_headers() {
        assert_eq!(content_type("a.zip"), "application/zip");
        assert_eq!(content_type("a.csv.gz"), "application/gzip");
        assert_eq!(content_type("a.csv"), "text/csv; charset=utf-8");
        assert_eq!(content_type("a.CSV"), "text/csv; charset=utf-8");
        assert_eq!(
            disposition("VIEWS_Vues é.csv"),
            "attachment; filename=\"VIEWS_Vues _.csv\"; filename*=UTF-8''VIEWS_Vues%20%C3%A9.csv"
        );
    }
}
