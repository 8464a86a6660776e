//! Rendering: a run's outputs become files in the run's spool directory. Each file is
//! written under a hidden temporary name, fsynced and only then renamed to its final
//! name, so a file in the spool is always complete.

pub mod csv;
mod fields;
pub mod naming;
pub mod preview;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDateTime;

use crate::config::recipients::Recipient;
use crate::config::{Compression, Config, Output, Report};
use crate::fsutil::{self, BackgroundWriter, Hashing};
use crate::ledger::FileRecord;
use crate::schedule::Window;
use crate::source;

use self::csv::CsvRenderer;
use self::naming::{compressed_name, NameValues};

/// What a run renders: which report, which window, which names.
pub struct RenderJob<'a> {
    pub config: &'a Config,
    pub report: &'a Report,
    pub window: &'a Window,
    /// When the run is for, local to the report.
    pub run: NaiveDateTime,
    pub token: &'a str,
    /// A `send-test` run: its file names start with `TEST_`.
    pub test: bool,
    /// The recipient the run is for: its columns fill `{recipient.COLUMN}`.
    pub recipient: Option<&'a Recipient>,
}

impl RenderJob<'_> {
    /// The uncompressed file name of one output.
    pub fn csv_name(&self, kind: &str) -> Result<String> {
        let name = self
            .report
            .file_name
            .render_for(
                self.recipient,
                &NameValues {
                    kind,
                    name: &self.report.name,
                    from: self.window.from.naive_local(),
                    last: self.window.last_instant().naive_local(),
                    run: self.run,
                    token: self.token,
                    date_format: &self.report.date_format,
                },
            )
            .and_then(|n| {
                if self.test {
                    naming::test_name(&n)
                } else {
                    Ok(n)
                }
            });
        name.map_err(|e| match self.recipient {
            Some(r) => anyhow::anyhow!(
                "report \"{}\", recipient \"{}\": file_name: {e}",
                self.report.name,
                r.key.escape_default()
            ),
            None => anyhow::anyhow!("report \"{}\": {e}", self.report.name),
        })
    }
}

/// Renders one output of the job, its rows streamed from `rows`, into `dir` (a run
/// directory of the spool); `progress` is told the row count as rows are written. A
/// failure to write the file (a full disk) is reported as such, naming the file, not as
/// a failure of the source. On failure, temporary files may be left in `dir`: the
/// caller (the engine, which owns the spool) removes them.
pub fn render_output(
    job: &RenderJob<'_>,
    output: &Output,
    rows: source::Rows<'_>,
    dir: &Path,
    progress: &crate::progress::Progress,
) -> Result<FileRecord> {
    let name = job.csv_name(&output.kind)?;
    let tmp = fsutil::temp_name(dir, &name, "render");
    let writing = || format!("writing {}", tmp.display());
    let file = fsutil::create_private(&tmp).with_context(writing)?;
    let (out, write_error) = WatchedWriter::new(BackgroundWriter::new(file));
    let mut renderer = CsvRenderer::new(out, &job.report.csv).with_context(writing)?;
    progress.start(&format!("{} {}", job.report.name, output.kind));
    let p = progress.clone();
    renderer.on_progress(move |rows| p.rows(rows));
    let keep = preview::rows_wanted(job.config, job.report);
    let mut sink = preview::PreviewSink::new(&mut renderer, keep);
    let streamed = rows.stream(&mut sink);
    let shown = sink.into_preview();
    if let Some(e) = write_error.take() {
        // The source stopped because its rows could not be written.
        return Err(e).with_context(writing);
    }
    streamed.with_context(|| format!("report \"{}\", output {}", job.report.name, output.kind))?;
    let rows = renderer.rows();
    let (file, bytes, plain_sha) = renderer
        .finish()
        .and_then(|w| w.into_inner().finish().map_err(Into::into))
        .with_context(writing)?;
    file.sync_all().with_context(writing)?;
    progress.finish();
    let compression = match job.report.csv.compress_above {
        Some(limit) if bytes <= limit => Compression::None,
        _ => job.report.csv.compression,
    };
    let final_name = compressed_name(&name, compression);
    let target = dir.join(&final_name);
    let (bytes, sha256) = if compression == Compression::None {
        (bytes, plain_sha)
    } else {
        let ctmp = fsutil::temp_name(dir, &final_name, "compress");
        let r = compress(&tmp, &ctmp, &name, compression)
            .with_context(|| format!("compressing {name} into {}", ctmp.display()))?;
        std::fs::remove_file(&tmp)?;
        std::fs::rename(&ctmp, &tmp)?;
        r
    };
    if keep > 0 {
        preview::save(dir, &final_name, &shown)?;
    }
    fsutil::commit(&tmp, &target)
        .with_context(|| format!("moving {} into place", target.display()))?;
    Ok(FileRecord {
        kind: output.kind.clone(),
        name: final_name,
        rows,
        bytes,
        sha256,
    })
}

/// A writer that keeps the first error of the writer it wraps, so that a failure to
/// write the file is told apart from a failure of the source that was feeding it.
struct WatchedWriter<W: Write> {
    inner: W,
    error: std::rc::Rc<std::cell::RefCell<Option<std::io::Error>>>,
}

/// The first write error of a `WatchedWriter`, if any.
struct WriteError(std::rc::Rc<std::cell::RefCell<Option<std::io::Error>>>);

impl WriteError {
    fn take(&self) -> Option<std::io::Error> {
        self.0.borrow_mut().take()
    }
}

impl<W: Write> WatchedWriter<W> {
    fn new(inner: W) -> (Self, WriteError) {
        let error = std::rc::Rc::new(std::cell::RefCell::new(None));
        (
            WatchedWriter {
                inner,
                error: error.clone(),
            },
            WriteError(error),
        )
    }

    fn into_inner(self) -> W {
        self.inner
    }

    fn keep<T>(&self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            let mut slot = self.error.borrow_mut();
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
fn compress(src: &Path, dst: &Path, inner_name: &str, how: Compression) -> Result<(u64, String)> {
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

/// Writes one output as CSV to `out`, its rows streamed from `rows` (for `run --output
/// -`); returns the row count.
pub fn render_to(
    job: &RenderJob<'_>,
    output: &Output,
    rows: source::Rows<'_>,
    out: impl Write,
) -> Result<u64> {
    let mut renderer = CsvRenderer::new(out, &job.report.csv)?;
    rows.stream(&mut renderer)
        .with_context(|| format!("report \"{}\", output {}", job.report.name, output.kind))?;
    let rows = renderer.rows();
    renderer.finish()?.flush()?;
    Ok(rows)
}
