//! Checking a `kind = "s3"` destination: where objects go, credentials, encryption,
//! multipart sizes and link lifetime.

use std::ops::Range;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawS3Dest;

impl Checker<'_> {
    pub(super) fn s3_dest(
        &mut self,
        r: &RawS3Dest,
        s: &Subject,
        span: &Range<usize>,
    ) -> DestinationKind {
        let (bucket, prefix) = self.s3_location(r, s, span);
        let access_key_id = self.secret(&r.access_key_id, s, "access_key_id");
        let secret_access_key = self.secret(&r.secret_access_key, s, "secret_access_key");
        match (&r.access_key_id, &r.secret_access_key) {
            (Some(a), None) => self.err(
                a.span(),
                s,
                "secret_access_key",
                "`access_key_id` needs `secret_access_key`",
            ),
            (None, Some(a)) => self.err(
                a.span(),
                s,
                "access_key_id",
                "`secret_access_key` needs `access_key_id`",
            ),
            _ => {}
        }
        let session_token = self.secret(&r.session_token, s, "session_token");
        let sse = self.s3_sse(r, s);
        let part_mb =
            self.limit(&r.part_size_mb, s, "part_size_mb", limits::S3_PART_SIZE_MB) as u64;
        let threshold_mb = self.limit(
            &r.multipart_threshold_mb,
            s,
            "multipart_threshold_mb",
            limits::S3_MULTIPART_THRESHOLD_MB,
        ) as u64;
        DestinationKind::S3(S3Dest {
            bucket: bucket.unwrap_or_default(),
            prefix,
            region: r.region.as_ref().map_or_else(
                || limits::DEFAULT_S3_REGION.to_string(),
                |v| v.get_ref().clone(),
            ),
            endpoint: r.endpoint.as_ref().map(|v| v.get_ref().clone()),
            path_style: r.path_style.as_ref().is_some_and(|v| *v.get_ref()),
            access_key_id,
            secret_access_key,
            session_token,
            sse,
            content_type: r.content_type.as_ref().map(|v| v.get_ref().clone()),
            link_minutes: self.limit(&r.link_minutes, s, "link_minutes", limits::S3_LINK_MINUTES)
                as u32,
            part_size: part_mb * 1024 * 1024,
            multipart_threshold: threshold_mb * 1024 * 1024,
        })
    }

    /// The bucket, the key prefix and the endpoint.
    fn s3_location(
        &mut self,
        r: &RawS3Dest,
        s: &Subject,
        span: &Range<usize>,
    ) -> (Option<String>, String) {
        let bucket = self.required(&r.bucket, s, "bucket", span, "the bucket name");
        if let (Some(b), Some(v)) = (&bucket, &r.bucket) {
            let ok = (3..=63).contains(&b.len())
                && b.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-');
            if !ok {
                self.err(
                    v.span(),
                    s,
                    "bucket",
                    "a bucket name is 3 to 63 lowercase letters, digits, `.` and `-`",
                );
            }
        }
        let prefix = r
            .prefix
            .as_ref()
            .map_or_else(String::new, |p| p.get_ref().clone());
        if let Some(p) = &r.prefix {
            if prefix.starts_with('/') || prefix.split('/').any(|c| c == "..") {
                self.err(
                    p.span(),
                    s,
                    "prefix",
                    "a key prefix cannot start with `/` or contain `..`",
                );
            }
        }
        if let Some(e) = &r.endpoint {
            if !(e.get_ref().starts_with("https://") || e.get_ref().starts_with("http://")) {
                self.err(
                    e.span(),
                    s,
                    "endpoint",
                    "expected a URL such as https://s3.example.com",
                );
            }
        }
        (bucket, prefix)
    }

    /// Server-side encryption: `sse` and the KMS key that goes with it.
    fn s3_sse(&mut self, r: &RawS3Dest, s: &Subject) -> Option<Sse> {
        let sse = match r.sse.as_ref().map(|v| (v, v.get_ref().as_str())) {
            None => None,
            Some((_, "AES256")) => Some(Sse::Aes256),
            Some((_, "aws:kms")) => Some(Sse::Kms {
                key_id: r.sse_kms_key_id.as_ref().map(|k| k.get_ref().clone()),
            }),
            Some((v, other)) => {
                self.err(
                    v.span(),
                    s,
                    "sse",
                    format!(
                        "\"{}\" is not allowed; allowed: AES256, aws:kms",
                        other.escape_default()
                    ),
                );
                None
            }
        };
        if let (Some(k), false) = (&r.sse_kms_key_id, matches!(sse, Some(Sse::Kms { .. }))) {
            self.err(k.span(), s, "sse_kms_key_id", "goes with sse = \"aws:kms\"");
        }
        sse
    }
}
