//! Rendering: a run's outputs become files in the run's spool directory. Each file is
//! written under a hidden temporary name, fsynced and only then renamed to its final
//! name, so a file in the spool is always complete.

pub mod csv;
pub mod naming;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDateTime;

use crate::config::{Compression, Config, Report};
use crate::fsutil::{self, Hashing};
use crate::schedule::Window;
use crate::source;

use self::csv::CsvRenderer;
use self::naming::{compressed_name, NameValues};

/// A finished file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// The output's type (`VIEWS`).
    pub kind: String,
    pub name: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
}

/// What a run renders: which report, which window, which names.
pub struct RenderJob<'a> {
    pub config: &'a Config,
    pub report: &'a Report,
    pub window: &'a Window,
    /// When the run is for, local to the report.
    pub run: NaiveDateTime,
    pub token: &'a str,
}

impl RenderJob<'_> {
    /// The uncompressed file name of one output.
    pub fn csv_name(&self, kind: &str) -> Result<String> {
        self.report
            .file_name
            .render(&NameValues {
                kind,
                name: &self.report.name,
                from: self.window.from.naive_local(),
                last: self.window.last_instant().naive_local(),
                run: self.run,
                token: self.token,
                date_format: &self.report.date_format,
            })
            .map_err(|e| anyhow::anyhow!("report \"{}\": {e}", self.report.name))
    }
}

/// Renders every output of the job into `dir`; `progress` is told the row count as
/// rows are written.
pub fn render_all(
    job: &RenderJob<'_>,
    dir: &Path,
    progress: &crate::progress::Progress,
) -> Result<Vec<RenderedFile>> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    remove_temp_files(dir)?;
    let mut files = Vec::new();
    for output in &job.report.outputs {
        let name = job.csv_name(&output.kind)?;
        let tmp = fsutil::temp_name(dir, &name, "render");
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        // Hashed on the way to the disk, so that an uncompressed file is not read back.
        let out = Hashing::new(BufWriter::with_capacity(256 * 1024, file));
        let mut renderer = CsvRenderer::new(out, &job.report.csv)?;
        progress.start(&format!("{} {}", job.report.name, output.kind));
        let p = progress.clone();
        renderer.on_progress(move |rows| p.rows(rows));
        source::query(job.config, job.report, output, job.window, &mut renderer)
            .with_context(|| format!("report \"{}\", output {}", job.report.name, output.kind))?;
        let rows = renderer.rows();
        let (buf, bytes, sha256) = renderer.finish()?.finish();
        let file = buf
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.sync_all()?;
        progress.finish();
        let compression = match job.report.csv.compress_above {
            Some(limit) if bytes <= limit => Compression::None,
            _ => job.report.csv.compression,
        };
        let final_name = compressed_name(&name, compression);
        let target = dir.join(&final_name);
        let (bytes, sha256) = if compression == Compression::None {
            (bytes, sha256)
        } else {
            let ctmp = fsutil::temp_name(dir, &final_name, "compress");
            let r = compress(&tmp, &ctmp, &name, compression)
                .with_context(|| format!("compressing {name}"))?;
            std::fs::remove_file(&tmp)?;
            std::fs::rename(&ctmp, &tmp)?;
            r
        };
        fsutil::commit(&tmp, &target)
            .with_context(|| format!("moving {} into place", target.display()))?;
        files.push(RenderedFile {
            kind: output.kind.clone(),
            name: final_name,
            rows,
            bytes,
            sha256,
        });
    }
    Ok(files)
}

/// Compresses `src` into `dst` (gzip stream, or a zip archive holding `inner_name`);
/// returns the size and SHA-256 of the result.
fn compress(src: &Path, dst: &Path, inner_name: &str, how: Compression) -> Result<(u64, String)> {
    let mut input = File::open(src)?;
    let size = input.metadata()?.len();
    let out = Hashing::new(BufWriter::with_capacity(256 * 1024, File::create(dst)?));
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

/// Removes temporary files a killed process left behind.
fn remove_temp_files(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if fsutil::is_temp_name(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The spool directory of the run with `token`.
pub fn spool_dir(config: &Config, token: &str) -> PathBuf {
    config.settings.spool.join(token)
}

/// Writes the job's single output as CSV to `out` (for `run --output -`).
pub fn render_to(job: &RenderJob<'_>, out: impl Write) -> Result<u64> {
    let output = match job.report.outputs.as_slice() {
        [one] => one,
        _ => anyhow::bail!(
            "report \"{}\" has {} outputs; --output - writes one: use --output DIR",
            job.report.name,
            job.report.outputs.len()
        ),
    };
    let mut renderer = CsvRenderer::new(out, &job.report.csv)?;
    source::query(job.config, job.report, output, job.window, &mut renderer)
        .with_context(|| format!("report \"{}\", output {}", job.report.name, output.kind))?;
    let rows = renderer.rows();
    renderer.finish()?.flush()?;
    Ok(rows)
}
