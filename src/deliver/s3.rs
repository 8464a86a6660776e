//! The S3 destination (aws-sdk-s3): each file goes to `s3://bucket/prefix+name`, in one
//! PUT, or above `multipart_threshold_mb` as a multipart upload of `part_size_mb`
//! parts. Bodies are streamed from the spooled file (whole files and parts alike), so
//! memory stays bounded whatever the size; a few parts are in flight at once. The size
//! of the stored object is checked afterwards, and a presigned GET link valid for
//! `link_minutes` is made for each file (shown in the receipt, `status` and notify mails).
//!
//! Credentials come from the destination's `access_key_id`/`secret_access_key`
//! references, else from the standard AWS chain (environment, profile, web identity,
//! container or instance metadata). The AWS SDK is asynchronous: a small tokio runtime
//! lives inside this module only, for the length of one delivery.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::SharedHttpClient;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, RequestChecksumCalculation};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, ServerSideEncryption};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls;
use chrono::Utc;
use tokio::task::JoinSet;

use super::{Delivered, Delivery, Transient};
use crate::config::{S3Dest, Sse};
use crate::ledger::{FileRecord, Link};
use crate::render::naming;

/// Parts uploaded at once; memory holds none of them (they stream from disk).
const PARALLEL_PARTS: usize = 8;
/// S3's limit on the number of parts of one object.
const MAX_PARTS: u64 = 10_000;

pub fn deliver(dest: &S3Dest, d: &Delivery<'_>) -> Result<Delivered> {
    let rt = runtime()?;
    rt.block_on(async {
        let client = client(dest).await?;
        for f in d.files {
            let key = key_of(dest, &f.name);
            upload(&client, dest, &d.spool.join(&f.name), &key, f)
                .await
                .with_context(|| format!("uploading {} to s3://{}/{key}", f.name, dest.bucket))?;
        }
        let links = presign_with(&client, dest, d.files).await?;
        Ok(Delivered {
            detail: format!(
                "{} in s3://{}/{}",
                crate::ui::count(d.files.len() as u64, "file", "files"),
                dest.bucket,
                dest.prefix
            ),
            links,
        })
    })
}

/// Fresh download links for files this destination has uploaded (no network needed).
pub fn presign(dest: &S3Dest, files: &[FileRecord]) -> Result<Vec<Link>> {
    let rt = runtime()?;
    rt.block_on(async {
        let client = client(dest).await?;
        presign_with(&client, dest, files).await
    })
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    crate::runtime::for_client("the S3 client's runtime")
}

fn key_of(dest: &S3Dest, name: &str) -> String {
    format!("{}{name}", dest.prefix)
}

/// The SDK's HTTPS client on rustls with ring: the crypto stack the SMTP and PostgreSQL
/// connections use too, so the binary carries one.
fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

async fn client(dest: &S3Dest) -> Result<Client> {
    let region = Region::new(dest.region.clone());
    let mut builder = match (&dest.access_key_id, &dest.secret_access_key) {
        (Some(id), Some(secret)) => {
            let id = id.resolve().map_err(|e| anyhow!("access_key_id: {e}"))?;
            let secret = secret
                .resolve()
                .map_err(|e| anyhow!("secret_access_key: {e}"))?;
            let token = dest
                .session_token
                .as_ref()
                .map(|t| t.resolve().map_err(|e| anyhow!("session_token: {e}")))
                .transpose()?;
            let creds = Credentials::new(
                id.expose(),
                secret.expose(),
                token.map(|t| t.expose().to_string()),
                None,
                "reportctl",
            );
            aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .http_client(https_client())
                .region(region)
                .credentials_provider(creds)
        }
        _ => {
            let shared = aws_config::defaults(BehaviorVersion::latest())
                .http_client(https_client())
                .region(region)
                .load()
                .await;
            aws_sdk_s3::config::Builder::from(&shared)
        }
    };
    if let Some(endpoint) = &dest.endpoint {
        builder = builder.endpoint_url(endpoint);
    }
    let config = builder
        .force_path_style(dest.path_style)
        // Transient failures of one request are retried here; the delivery as a whole
        // is retried by `deliver` and by later run-due calls.
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(30))
                .read_timeout(Duration::from_secs(300))
                .build(),
        )
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .build();
    Ok(Client::from_conf(config))
}

/// An SDK failure as one message that says what to do; network trouble, timeouts, 5xx
/// and throttling are transient.
fn sdk_error<E>(e: SdkError<E, HttpResponse>, what: &str) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e
        .as_service_error()
        .and_then(|s| s.code())
        .map(str::to_string);
    let message = e
        .as_service_error()
        .and_then(|s| s.message())
        .map(str::to_string);
    let text = match (&code, status) {
        (Some(c), Some(s)) => format!(
            "{c} (HTTP {s}){}",
            message.map(|m| format!(": {m}")).unwrap_or_default()
        ),
        (None, Some(s)) => format!("HTTP {s}"),
        _ => DisplayErrorContext(&e).to_string(),
    };
    let transient = match &e {
        SdkError::TimeoutError(_) | SdkError::ResponseError(_) => true,
        SdkError::DispatchFailure(f) => f.is_io() || f.is_timeout(),
        _ => {
            status.is_some_and(|s| s >= 500 || s == 429)
                || matches!(
                    code.as_deref(),
                    Some("SlowDown" | "RequestTimeout" | "Throttling" | "ThrottlingException")
                )
        }
    };
    if transient {
        return anyhow::Error::new(Transient(format!("{what}: {text}")));
    }
    let hint = match (code.as_deref(), status) {
        (Some("SignatureDoesNotMatch" | "InvalidAccessKeyId" | "AccessDenied"), _)
        | (_, Some(403)) => {
            "; the server refused the credentials: check access_key_id and secret_access_key (or the AWS credentials of the environment) and the bucket's permissions"
        }
        (Some("NoSuchBucket"), _) => "; check `bucket` (and `endpoint`, `region`)",
        _ => "",
    };
    anyhow!("{what}: {text}{hint}")
}

fn sse(dest: &S3Dest) -> (Option<ServerSideEncryption>, Option<String>) {
    match &dest.sse {
        None => (None, None),
        Some(Sse::Aes256) => (Some(ServerSideEncryption::Aes256), None),
        Some(Sse::Kms { key_id }) => (Some(ServerSideEncryption::AwsKms), key_id.clone()),
    }
}

fn content_type(dest: &S3Dest, name: &str) -> String {
    dest.content_type
        .clone()
        .unwrap_or_else(|| naming::content_type(name).to_string())
}

async fn body(path: &Path, offset: u64, len: u64) -> Result<ByteStream> {
    ByteStream::read_from()
        .path(path)
        .offset(offset)
        .length(Length::Exact(len))
        .buffer_size(256 * 1024)
        .build()
        .await
        .with_context(|| format!("reading {}", path.display()))
}

async fn upload(
    client: &Client,
    dest: &S3Dest,
    path: &Path,
    key: &str,
    f: &FileRecord,
) -> Result<()> {
    if f.bytes >= dest.multipart_threshold {
        multipart(client, dest, path, key, f).await?;
    } else {
        let (sse, kms_key) = sse(dest);
        client
            .put_object()
            .bucket(&dest.bucket)
            .key(key)
            .content_type(content_type(dest, &f.name))
            .content_length(f.bytes as i64)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms_key)
            .body(body(path, 0, f.bytes).await?)
            .send()
            .await
            .map_err(|e| sdk_error(e, "PUT"))?;
    }
    let head = client
        .head_object()
        .bucket(&dest.bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| sdk_error(e, "checking the uploaded object"))?;
    let stored = head.content_length().unwrap_or(-1);
    if stored != f.bytes as i64 {
        bail!(
            "the stored object has {stored} bytes, the file {}; the upload is incomplete",
            f.bytes
        );
    }
    Ok(())
}

async fn multipart(
    client: &Client,
    dest: &S3Dest,
    path: &Path,
    key: &str,
    f: &FileRecord,
) -> Result<()> {
    let (sse, kms_key) = sse(dest);
    let created = client
        .create_multipart_upload()
        .bucket(&dest.bucket)
        .key(key)
        .content_type(content_type(dest, &f.name))
        .set_server_side_encryption(sse)
        .set_ssekms_key_id(kms_key)
        .send()
        .await
        .map_err(|e| sdk_error(e, "starting a multipart upload"))?;
    let upload_id = created
        .upload_id()
        .ok_or_else(|| anyhow!("the server started a multipart upload without an id"))?
        .to_string();
    let result = parts(client, dest, path, key, &upload_id, f.bytes).await;
    let completed = match result {
        Ok(parts) => client
            .complete_multipart_upload()
            .bucket(&dest.bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error(e, "completing the multipart upload"))
            .map(|_| ()),
        Err(e) => Err(e),
    };
    if completed.is_err() {
        let _ = client
            .abort_multipart_upload()
            .bucket(&dest.bucket)
            .key(key)
            .upload_id(&upload_id)
            .send()
            .await;
    }
    completed
}

/// Uploads the parts, `PARALLEL_PARTS` at a time; returns them in order.
async fn parts(
    client: &Client,
    dest: &S3Dest,
    path: &Path,
    key: &str,
    upload_id: &str,
    size: u64,
) -> Result<Vec<CompletedPart>> {
    let part_size = dest.part_size.max(size.div_ceil(MAX_PARTS));
    let count = size.div_ceil(part_size).max(1);
    let mut done = Vec::with_capacity(count as usize);
    let mut running = JoinSet::new();
    let mut next = 0u64;
    while next < count || !running.is_empty() {
        while next < count && running.len() < PARALLEL_PARTS {
            let offset = next * part_size;
            let len = part_size.min(size - offset);
            let number = (next + 1) as i32;
            let request = client
                .upload_part()
                .bucket(&dest.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .content_length(len as i64)
                .body(body(path, offset, len).await?);
            running.spawn(async move {
                let out = request
                    .send()
                    .await
                    .map_err(|e| sdk_error(e, &format!("uploading part {number}")))?;
                let etag = out
                    .e_tag()
                    .ok_or_else(|| anyhow!("part {number}: the server returned no ETag"))?;
                Ok::<_, anyhow::Error>(
                    CompletedPart::builder()
                        .e_tag(etag)
                        .part_number(number)
                        .build(),
                )
            });
            next += 1;
        }
        if let Some(joined) = running.join_next().await {
            done.push(joined.context("an upload task failed")??);
        }
    }
    done.sort_by_key(|p| p.part_number());
    Ok(done)
}

async fn presign_with(client: &Client, dest: &S3Dest, files: &[FileRecord]) -> Result<Vec<Link>> {
    let lifetime = Duration::from_secs(u64::from(dest.link_minutes) * 60);
    let mut links = Vec::new();
    for f in files {
        let key = key_of(dest, &f.name);
        let now = Utc::now();
        let config = PresigningConfig::expires_in(lifetime)
            .map_err(|e| anyhow!("link_minutes = {}: {e}", dest.link_minutes))?;
        let request = client
            .get_object()
            .bucket(&dest.bucket)
            .key(&key)
            .presigned(config)
            .await
            .map_err(|e| sdk_error(e, &format!("making the download link of {}", f.name)))?;
        links.push(Link {
            file: f.name.clone(),
            url: request.uri().to_string(),
            expires: now + chrono::Duration::from_std(lifetime).expect("lifetime fits"),
        });
    }
    Ok(links)
}
