//! Rendering: a run's outputs become files in the run's spool directory. Each file is
//! written under a hidden temporary name, fsynced and only then renamed to its final
//! name, so a file in the spool is always complete.

pub mod csv;
mod fields;
pub mod jsonl;
pub mod naming;
pub mod parquet;
pub mod preview;
mod values;
mod write;
pub mod xlsx;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::NaiveDateTime;

use crate::config::recipients::Recipient;
use crate::config::{Compression, Config, Format, Output, Report};
use crate::fsutil::{self, BackgroundWriter};
use crate::ledger::FileRecord;
use crate::schedule::Window;
use crate::source;

use self::csv::CsvRenderer;
use self::jsonl::JsonlRenderer;
use self::naming::{compressed_name, with_extension, NameValues};
use self::parquet::ParquetRenderer;
use self::preview::Preview;
use self::write::{compress, WatchedWriter};
use self::xlsx::XlsxFile;

/// Counts the rows a renderer writes and tells a progress callback every 10,000.
#[derive(Default)]
pub struct RowCount {
    rows: u64,
    on_row: Option<Box<dyn FnMut(u64)>>,
}

impl RowCount {
    /// Calls `f` with the row count every 10,000 rows (for progress bars).
    pub fn on_progress(&mut self, f: impl FnMut(u64) + 'static) {
        self.on_row = Some(Box::new(f));
    }

    pub fn add(&mut self) {
        self.rows += 1;
        if self.rows.is_multiple_of(10_000) {
            if let Some(f) = &mut self.on_row {
                f(self.rows);
            }
        }
    }

    pub fn get(&self) -> u64 {
        self.rows
    }
}

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

    /// The uncompressed name of a file of `format` (see `naming::with_extension`).
    pub fn file_name(&self, kind: &str, format: Format) -> Result<String> {
        self.csv_name(kind).map(|n| with_extension(n, format))
    }

    fn context(&self, output: &Output) -> String {
        format!("report \"{}\", output {}", self.report.name, output.kind)
    }
}

/// Renders every file of the job into `dir` (a run directory of the spool): one per
/// output, except that xlsx outputs naming one `workbook` share a file, one sheet each
/// (its kind is the workbook's name, its rows the sum of its sheets'). See
/// `render_output`.
pub fn render_all(
    job: &RenderJob<'_>,
    dir: &Path,
    progress: &crate::progress::Progress,
) -> Result<Vec<FileRecord>> {
    naming::report_files(job.report)
        .into_iter()
        .map(|(kind, format, indexes)| {
            let outputs: Vec<&Output> = indexes.iter().map(|&i| &job.report.outputs[i]).collect();
            match (format, outputs.as_slice()) {
                (Format::Xlsx, _) if outputs[0].workbook.is_some() => {
                    render_workbook(job, kind, &outputs, dir, progress)
                }
                (_, [output]) => {
                    let rows =
                        source::open(job.config, job.report, output, (job.window, job.recipient));
                    render_output(job, output, rows, dir, progress)
                }
                _ => unreachable!("only workbooks hold several outputs"),
            }
        })
        .collect()
}

/// Renders one output of the job, its rows streamed from `rows`, into `dir` (a run
/// directory of the spool) in the output's format; `progress` is told the row count as
/// rows are written. A failure to write the file (a full disk) is reported as such,
/// naming the file, not as a failure of the source. On failure, temporary files may be
/// left in `dir`: the caller (the engine, which owns the spool) removes them.
pub fn render_output(
    job: &RenderJob<'_>,
    output: &Output,
    rows: source::Rows<'_>,
    dir: &Path,
    progress: &crate::progress::Progress,
) -> Result<FileRecord> {
    let name = job.file_name(&output.kind, output.format)?;
    let tmp = fsutil::temp_name(dir, &name, "render");
    progress.start(&format!("{} {}", job.report.name, output.kind));
    let written = match output.format {
        Format::Csv | Format::Jsonl | Format::Parquet => {
            render_stream(job, output, rows, &tmp, progress)?
        }
        Format::Xlsx => {
            let mut book = XlsxFile::new(dir)?;
            let (rows, preview) = render_sheet(&mut book, job, output, rows, progress)?;
            Written::saved(book, &tmp, rows, preview)?
        }
    };
    commit_file(job, &output.kind, name, &tmp, dir, written, progress)
}

/// Renders the xlsx outputs of one workbook, a sheet each, into one file named after
/// `kind` (the workbook's name).
fn render_workbook(
    job: &RenderJob<'_>,
    kind: &str,
    outputs: &[&Output],
    dir: &Path,
    progress: &crate::progress::Progress,
) -> Result<FileRecord> {
    let name = job.file_name(kind, Format::Xlsx)?;
    let tmp = fsutil::temp_name(dir, &name, "render");
    let mut book = XlsxFile::new(dir)?;
    let mut total = 0;
    let mut first = None;
    for output in outputs {
        progress.start(&format!("{} {}", job.report.name, output.kind));
        let rows = source::open(job.config, job.report, output, (job.window, job.recipient));
        let (n, shown) = render_sheet(&mut book, job, output, rows, progress)?;
        total += n;
        // The mail's preview of a workbook: its first sheet.
        first.get_or_insert(shown);
    }
    let written = Written::saved(book, &tmp, total, first.unwrap_or_default())?;
    commit_file(job, kind, name, &tmp, dir, written, progress)
}

/// Streams `rows` into `renderer`, keeping the first rows for the mail's preview (see
/// `preview`).
fn stream(
    job: &RenderJob<'_>,
    rows: source::Rows<'_>,
    renderer: &mut dyn source::RowSink,
) -> (Result<()>, Preview) {
    let keep = preview::rows_wanted(job.config, job.report);
    let mut sink = preview::PreviewSink::new(renderer, keep);
    let streamed = rows.stream(&mut sink);
    (streamed, sink.into_preview())
}

/// One output as a sheet of `book`; returns its row count and preview.
fn render_sheet(
    book: &mut XlsxFile,
    job: &RenderJob<'_>,
    output: &Output,
    rows: source::Rows<'_>,
    progress: &crate::progress::Progress,
) -> Result<(u64, Preview)> {
    let mut sheet = book.sheet(&output.kind, &job.report.csv);
    let p = progress.clone();
    sheet.count.on_progress(move |rows| p.rows(rows));
    let (streamed, shown) = stream(job, rows, &mut sheet);
    streamed.with_context(|| job.context(output))?;
    Ok((sheet.finish()?, shown))
}

/// What rendering a file gives: its rows, the file (written, not yet synced), its size
/// and SHA-256.
struct Written {
    rows: u64,
    file: File,
    bytes: u64,
    sha256: String,
    /// The first rows, for the mail's preview.
    preview: Preview,
}

impl Written {
    /// A workbook saved into `path`.
    fn saved(book: XlsxFile, path: &Path, rows: u64, preview: Preview) -> Result<Self> {
        let (file, bytes, sha256) = book
            .save(path)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Written {
            rows,
            file,
            bytes,
            sha256,
            preview,
        })
    }
}

/// One output as CSV, JSON Lines or Parquet into `tmp`, through a background writer.
fn render_stream(
    job: &RenderJob<'_>,
    output: &Output,
    rows: source::Rows<'_>,
    tmp: &Path,
    progress: &crate::progress::Progress,
) -> Result<Written> {
    let writing = || format!("writing {}", tmp.display());
    let file = fsutil::create_private(tmp).with_context(writing)?;
    let (out, write_error) = WatchedWriter::new(BackgroundWriter::new(file));
    let p = progress.clone();
    let ((streamed, shown), n, out) = if output.format == Format::Jsonl {
        let mut r = JsonlRenderer::new(out, &job.report.csv);
        r.count.on_progress(move |rows| p.rows(rows));
        let streamed = stream(job, rows, &mut r);
        (streamed, r.count.get(), r.finish())
    } else if output.format == Format::Parquet {
        let mut r = ParquetRenderer::new(out, &job.report.parquet).with_context(writing)?;
        r.count.on_progress(move |rows| p.rows(rows));
        let streamed = stream(job, rows, &mut r);
        (streamed, r.rows(), r.finish())
    } else {
        let mut r = CsvRenderer::new(out, &job.report.csv).with_context(writing)?;
        r.on_progress(move |rows| p.rows(rows));
        let streamed = stream(job, rows, &mut r);
        (streamed, r.rows(), r.finish())
    };
    if let Some(e) = write_error.take() {
        // The source stopped because its rows could not be written.
        return Err(e).with_context(writing);
    }
    streamed.with_context(|| job.context(output))?;
    let (file, bytes, sha) = out
        .and_then(|w| w.into_inner().finish().map_err(Into::into))
        .with_context(writing)?;
    Ok(Written {
        rows: n,
        file,
        bytes,
        sha256: sha,
        preview: shown,
    })
}

/// Syncs a rendered file, compresses it if the report says so, and moves it into place
/// under its final name.
fn commit_file(
    job: &RenderJob<'_>,
    kind: &str,
    name: String,
    tmp: &Path,
    dir: &Path,
    written: Written,
    progress: &crate::progress::Progress,
) -> Result<FileRecord> {
    let Written {
        rows,
        file,
        bytes,
        sha256: plain_sha,
        preview: shown,
    } = written;
    file.sync_all()
        .with_context(|| format!("writing {}", tmp.display()))?;
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
        let r = compress(tmp, &ctmp, &name, compression)
            .with_context(|| format!("compressing {name} into {}", ctmp.display()))?;
        std::fs::remove_file(tmp)?;
        std::fs::rename(&ctmp, tmp)?;
        r
    };
    if preview::rows_wanted(job.config, job.report) > 0 {
        preview::save(dir, &final_name, &shown)?;
    }
    fsutil::commit(tmp, &target)
        .with_context(|| format!("moving {} into place", target.display()))?;
    Ok(FileRecord {
        kind: kind.to_string(),
        name: final_name,
        rows,
        bytes,
        sha256,
    })
}

/// Writes one output to `out` in its format, its rows streamed from `rows` (for `run
/// --output -`); returns the row count. CSV and JSON Lines stream; xlsx is built in a
/// temporary directory and then copied, and only when standard output is not a
/// terminal (a binary file would garble it).
pub fn render_to(
    job: &RenderJob<'_>,
    output: &Output,
    rows: source::Rows<'_>,
    mut out: impl Write,
) -> Result<u64> {
    let context = || job.context(output);
    match output.format {
        Format::Csv => {
            let mut renderer = CsvRenderer::new(out, &job.report.csv)?;
            rows.stream(&mut renderer).with_context(context)?;
            let rows = renderer.rows();
            renderer.finish()?.flush()?;
            Ok(rows)
        }
        Format::Jsonl => {
            let mut renderer = JsonlRenderer::new(out, &job.report.csv);
            rows.stream(&mut renderer).with_context(context)?;
            let rows = renderer.count.get();
            renderer.finish()?.flush()?;
            Ok(rows)
        }
        Format::Xlsx | Format::Parquet => {
            use std::io::IsTerminal;
            let format = output.format.ext();
            if std::io::stdout().is_terminal() {
                bail!(
                    "report \"{}\", output {}: format = \"{format}\" is a binary file; --output - writes it only when standard output is redirected (`> file.{format}` or a pipe); or use --output DIR",
                    job.report.name,
                    output.kind
                );
            }
            // Built in a temporary directory, then copied: the xlsx writer needs a
            // file, the parquet writer a `Send` one.
            let dir = tempfile::tempdir().context("creating a temporary directory")?;
            let path = dir.path().join("out");
            let n = if output.format == Format::Xlsx {
                let mut book = XlsxFile::new(dir.path())?;
                let (n, _) = render_sheet(
                    &mut book,
                    job,
                    output,
                    rows,
                    &crate::progress::Progress::disabled(),
                )?;
                drop(book.save(&path)?);
                n
            } else {
                let file = BufWriter::new(File::create(&path)?);
                let mut renderer = ParquetRenderer::new(file, &job.report.parquet)?;
                rows.stream(&mut renderer).with_context(context)?;
                let n = renderer.rows();
                renderer.finish()?.flush()?;
                n
            };
            std::io::copy(&mut File::open(&path)?, &mut out)?;
            out.flush()?;
            Ok(n)
        }
    }
}
