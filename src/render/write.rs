//! Writing a rendered file: a writer that tells write errors apart from source errors,
//! and compression of a finished file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Result;

use crate::config::Compression;
use crate::fsutil::{self, Hashing};

/// A writer that keeps the first error of the writer it wraps, so that a failure to
/// write the file is told apart from a failure of the source that was feeding it.
/// Shared through a mutex, so that it is `Send` as the parquet writer requires.
pub(super) struct WatchedWriter<W: Write> {
    inner: W,
    error: FirstError,
}

type FirstError = std::sync::Arc<std::sync::Mutex<Option<std::io::Error>>>;

/// The first write error of a `WatchedWriter`, if any.
pub(super) struct WriteError(FirstError);

impl WriteError {
    pub(super) fn take(&self) -> Option<std::io::Error> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

impl<W: Write> WatchedWriter<W> {
    pub(super) fn new(inner: W) -> (Self, WriteError) {
        let error = FirstError::default();
        (
            WatchedWriter {
                inner,
                error: error.clone(),
            },
            WriteError(error),
        )
    }

    pub(super) fn into_inner(self) -> W {
        self.inner
    }

    fn keep<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        }
        r
    }
}

impl<W: Write> Write for WatchedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.keep(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.keep(r)
    }
}

/// Compresses `src` into `dst` (gzip stream, or a zip archive holding `inner_name`);
/// returns the size and SHA-256 of the result.
pub(super) fn compress(
    src: &Path,
    dst: &Path,
    inner_name: &str,
    how: Compression,
) -> Result<(u64, String)> {
    let mut input = File::open(src)?;
    let size = input.metadata()?.len();
    let out = Hashing::new(BufWriter::with_capacity(
        256 * 1024,
        fsutil::create_private(dst)?,
    ));
    let out = match how {
        Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            std::io::copy(&mut input, &mut gz)?;
            gz.finish()?
        }
        Compression::Zip => {
            let mut zip = zip::ZipWriter::new_stream(out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .large_file(size >= u32::MAX as u64);
            zip.start_file(inner_name, options)?;
            std::io::copy(&mut input, &mut zip)?;
            zip.finish()?.into_inner()
        }
        Compression::None => unreachable!("nothing to compress"),
    };
    let (buf, bytes, sha) = out.finish();
    let file = buf.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok((bytes, sha))
}
