//! Who may download what: the API key of `/reports`, signed download links, and the app
//! download endpoint's Basic authentication and `Signature` header. Every comparison with a secret is
//! constant-time.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A secret key that requests present, kept as its SHA-256 so that comparing a presented
/// key takes the same time whatever its length and content.
pub struct Key([u8; 32]);

impl Key {
    pub fn new(secret: &str) -> Key {
        Key(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn matches(&self, presented: &[u8]) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented).into();
        digest.ct_eq(&self.0).into()
    }
}

/// Signs and checks download links: `/download/{id}/{type}?expires=UNIX&sig=HEX` where
/// `sig` is the hex HMAC-SHA256, keyed with `link_secret`, of
/// `GET\n/download/{id}/{type}\n{expires}` (id and type as decoded from the path).
pub struct LinkSigner {
    key: Vec<u8>,
    /// How far in the future a link may expire (link_minutes, plus a minute of leeway).
    max_lifetime: chrono::Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// No `expires` or `sig`, or not numbers and hex.
    Malformed,
    /// The signature does not match: tampered with, or signed with another secret.
    BadSignature,
    Expired(DateTime<Utc>),
}

impl LinkSigner {
    pub fn new(secret: &str, link_minutes: u32) -> LinkSigner {
        LinkSigner {
            key: secret.as_bytes().to_vec(),
            max_lifetime: chrono::Duration::minutes(i64::from(link_minutes) + 1),
        }
    }

    fn mac(&self, id: &str, kind: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(format!("GET\n/download/{id}/{kind}\n{expires}").as_bytes());
        mac
    }

    pub fn sign(&self, id: &str, kind: &str, expires: i64) -> String {
        hex::encode(self.mac(id, kind, expires).finalize().into_bytes())
    }

    /// Checks a link's `expires` and `sig` query values at `now`: the signature first,
    /// so that nothing about a forged link is revealed.
    pub fn verify(
        &self,
        id: &str,
        kind: &str,
        expires: Option<&str>,
        sig: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), LinkError> {
        let (Some(expires), Some(sig)) = (expires, sig) else {
            return Err(LinkError::Malformed);
        };
        let expires_at: i64 = expires.parse().map_err(|_| LinkError::Malformed)?;
        let sig = hex::decode(sig).map_err(|_| LinkError::Malformed)?;
        self.mac(id, kind, expires_at)
            .verify_slice(&sig)
            .map_err(|_| LinkError::BadSignature)?;
        let when = DateTime::from_timestamp(expires_at, 0).ok_or(LinkError::Malformed)?;
        if when <= now {
            return Err(LinkError::Expired(when));
        }
        if when > now + self.max_lifetime {
            // Signed with our secret but for longer than link_minutes allows now.
            return Err(LinkError::BadSignature);
        }
        Ok(())
    }
}

/// The app download endpoint's signature: SHA-256 of `app_id|filename|secret`.
pub fn app_signature(app_id: &str, filename: &str, secret: &str) -> [u8; 32] {
    Sha256::digest(format!("{app_id}|{filename}|{secret}").as_bytes()).into()
}

/// Whether a `Signature` header holds `expected` in hex (either case).
pub fn signature_matches(header: Option<&[u8]>, expected: &[u8; 32]) -> bool {
    let Some(h) = header else { return false };
    let Ok(given) = hex::decode(h.trim_ascii()) else {
        return false;
    };
    given.len() == expected.len() && bool::from(given.ct_eq(expected))
}

/// The user and password of an `Authorization: Basic …` header.
pub fn basic_credentials(header: Option<&[u8]>) -> Option<(String, Vec<u8>)> {
    use base64::Engine as _;
    let h = std::str::from_utf8(header?).ok()?;
    let (scheme, value) = h.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some((user, decoded[colon + 1..].to_vec()))
}

/// The API key of an `Authorization: Bearer …` or `X-API-Key` header.
pub fn api_key<'h>(
    authorization: Option<&'h [u8]>,
    x_api_key: Option<&'h [u8]>,
) -> Option<&'h [u8]> {
    if let Some(k) = x_api_key {
        return Some(k.trim_ascii());
    }
    let h = authorization?.trim_ascii();
    let (scheme, value) = h.split_at(h.iter().position(|&b| b == b' ')?);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| value.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn links_in_and_after_their_lifetime_and_tampered() {
        let s = LinkSigner::new("k".repeat(32).as_str(), 30);
        let now = t("2026-11-23T12:00:00Z");
        let exp = now.timestamp() + 1800;
        let sig = s.sign("Daily_Views", "VIEWS", exp);
        let e = exp.to_string();
        assert_eq!(
            s.verify("Daily_Views", "VIEWS", Some(&e), Some(&sig), now),
            Ok(())
        );
        let later = now + chrono::Duration::seconds(1800);
        assert!(matches!(
            s.verify("Daily_Views", "VIEWS", Some(&e), Some(&sig), later),
            Err(LinkError::Expired(_))
        ));
        let longer = (exp + 3600).to_string();
        assert_eq!(
            s.verify("Daily_Views", "VIEWS", Some(&longer), Some(&sig), now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.verify("Daily_Views", "CLICKS", Some(&e), Some(&sig), now),
            Err(LinkError::BadSignature)
        );
        assert_eq!(
            s.verify("Daily_Views", "VIEWS", Some(&e), None, now),
            Err(LinkError::Malformed)
        );
        assert_eq!(
            s.verify("Daily_Views", "VIEWS", Some(&e), Some("zz"), now),
            Err(LinkError::Malformed)
        );
        // Valid for our secret, but longer than link_minutes allows.
        let far = now.timestamp() + 86_400;
        let far_sig = s.sign("Daily_Views", "VIEWS", far);
        assert_eq!(
            s.verify(
                "Daily_Views",
                "VIEWS",
                Some(&far.to_string()),
                Some(&far_sig),
                now
            ),
            Err(LinkError::BadSignature)
        );
    }

    #[test]
    fn app_signature_matches_the_python_sample() {
        // hashlib.sha256("YOUR-APP-ID|Report_-_test_20210217.zip|YOUR-SECRET-KEY"
        //   .encode('utf-8')).hexdigest()
        let sig = app_signature(
            "YOUR-APP-ID",
            "Report_-_test_20210217.zip",
            "YOUR-SECRET-KEY",
        );
        let hex = hex::encode(sig);
        assert_eq!(hex.len(), 64);
        assert!(signature_matches(Some(hex.as_bytes()), &sig));
        assert!(signature_matches(Some(hex.to_uppercase().as_bytes()), &sig));
        assert!(!signature_matches(Some(&hex.as_bytes()[..62]), &sig));
        assert!(!signature_matches(None, &sig));
    }

    #[test]
    fn credentials() {
        assert_eq!(
            basic_credentials(Some(b"Basic YWNtZTpzM2NyZXQ=")),
            Some(("acme".to_string(), b"s3cret".to_vec()))
        );
        assert_eq!(basic_credentials(Some(b"Bearer x")), None);
        assert_eq!(basic_credentials(Some(b"Basic !!")), None);
        assert_eq!(api_key(Some(b"Bearer abc"), None), Some(&b"abc"[..]));
        assert_eq!(api_key(Some(b"bearer  abc "), None), Some(&b"abc"[..]));
        assert_eq!(api_key(None, Some(b"xyz")), Some(&b"xyz"[..]));
        assert_eq!(api_key(Some(b"Basic abc"), None), None);
        let k = Key::new("secret");
        assert!(k.matches(b"secret"));
        assert!(!k.matches(b"secreT"));
        assert!(!k.matches(b""));
    }
}
