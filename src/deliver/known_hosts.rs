//! Checking an SSH server's host key against an OpenSSH `known_hosts` file, port-aware
//! (`[host]:2222 ssh-ed25519 …` entries, as `ssh-keyscan -p 2222 host` writes them).
//!
//! The file is read line by line: lines libssh2 cannot parse (certificate authorities,
//! key types it does not know) are skipped instead of failing the whole file, and
//! `@revoked` keys are refused. An unknown or changed key refuses the connection with
//! the key's SHA256 fingerprint and the commands that trust it; an unknown key is added
//! only with `accept_new_host_key = true`, and a changed key is never replaced.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine;
use sha2::{Digest, Sha256};
use ssh2::{CheckResult, HostKeyType, KnownHostFileKind, MethodType, Session};

use crate::config::SftpDest;

/// The host key of a server as OpenSSH shows it: `SHA256:` and unpadded base64.
pub fn fingerprint(key: &[u8]) -> String {
    let digest = Sha256::digest(key);
    format!(
        "SHA256:{}",
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest)
    )
}

fn type_name(kind: HostKeyType) -> &'static str {
    match kind {
        HostKeyType::Rsa => "ssh-rsa",
        HostKeyType::Dss => "ssh-dss",
        HostKeyType::Ecdsa256 => "ecdsa-sha2-nistp256",
        HostKeyType::Ecdsa384 => "ecdsa-sha2-nistp384",
        HostKeyType::Ecdsa521 => "ecdsa-sha2-nistp521",
        HostKeyType::Ed25519 => "ssh-ed25519",
        HostKeyType::Unknown => "unknown",
    }
}

/// How the host appears in known_hosts: `host` on port 22, `[host]:port` otherwise.
fn pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// The known_hosts lines that are plain entries (no marker, not a comment).
fn entries(text: &str) -> impl Iterator<Item = (&str, &str, &str)> {
    text.lines().filter_map(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            return None;
        }
        let mut fields = line.split_whitespace();
        Some((fields.next()?, fields.next()?, fields.next()?))
    })
}

/// Before the handshake: prefer the host key types known_hosts has for this server, so
/// that a server with several keys shows the one that can be checked.
pub fn prefer_known_types(session: &Session, dest: &SftpDest) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(&dest.known_hosts) else {
        return Ok(());
    };
    let want = pattern(&dest.host, dest.port);
    let mut algorithms: Vec<&str> = Vec::new();
    for (hosts, kind, _) in entries(&text) {
        if !hosts.split(',').any(|h| h == want) {
            continue;
        }
        let algos: &[&str] = match kind {
            "ssh-rsa" => &["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            "ssh-ed25519"
            | "ecdsa-sha2-nistp256"
            | "ecdsa-sha2-nistp384"
            | "ecdsa-sha2-nistp521"
            | "ssh-dss" => std::slice::from_ref(&kind),
            _ => &[],
        };
        for a in algos {
            if !algorithms.contains(a) {
                algorithms.push(a);
            }
        }
    }
    if !algorithms.is_empty() {
        session
            .method_pref(MethodType::HostKey, &algorithms.join(","))
            .map_err(|e| anyhow!("choosing host key types: {}", e.message()))?;
    }
    Ok(())
}

/// After the handshake: the server's key must be in known_hosts for this host and port.
pub fn check(session: &Session, dest: &SftpDest) -> Result<()> {
    let (key, kind) = session
        .host_key()
        .ok_or_else(|| anyhow!("the server sent no host key"))?;
    let file = &dest.known_hosts;
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", file.display())),
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(key);
    let revoked = text.lines().any(|l| {
        let mut f = l.split_whitespace();
        f.next() == Some("@revoked") && f.nth(2) == Some(encoded.as_str())
    });
    let fp = fingerprint(key);
    let what = format!("{} {fp}", type_name(kind));
    let hp = format!("{}:{}", dest.host, dest.port);
    if revoked {
        bail!(
            "the host key of {hp} ({what}) is marked @revoked in {}; nothing was uploaded",
            file.display()
        );
    }
    let mut known = session
        .known_hosts()
        .map_err(|e| anyhow!("reading known hosts: {}", e.message()))?;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('@') {
            continue;
        }
        // A line libssh2 cannot read (a key type it does not know) cannot match.
        let _ = known.read_str(line, KnownHostFileKind::OpenSSH);
    }
    let pat = pattern(&dest.host, dest.port);
    let scan = if dest.port == 22 {
        format!("ssh-keyscan {}", dest.host)
    } else {
        format!("ssh-keyscan -p {} {}", dest.port, dest.host)
    };
    match known.check_port(&dest.host, dest.port, key) {
        CheckResult::Match => Ok(()),
        CheckResult::NotFound if dest.accept_new_host_key => {
            append(file, &format!("{pat} {} {encoded}", type_name(kind)))?;
            crate::ui::warn(format!(
                "sftp: trusted the new host key of {hp} ({what}) and added it to {} (accept_new_host_key = true)",
                file.display()
            ));
            Ok(())
        }
        CheckResult::NotFound => bail!(
            "the host key of {hp} is not in {} (the server offers {what}); nothing was uploaded. \
             If this is the server's key (compare the fingerprint with its administrator's), trust it with: \
             {scan} >> {}   (or set accept_new_host_key = true to trust a new server's key on first use)",
            file.display(),
            file.display()
        ),
        CheckResult::Mismatch => bail!(
            "the host key of {hp} does not match {}: the server offers {what}, which is not the key recorded for it; nothing was uploaded. \
             Someone may be intercepting the connection, or the server's key was replaced. \
             If the change is expected, remove the old key with: ssh-keygen -R '{pat}' -f {}, then trust the new one with: {scan} >> {}",
            file.display(),
            file.display(),
            file.display()
        ),
        CheckResult::Failure => bail!(
            "could not check the host key of {hp} against {}",
            file.display()
        ),
    }
}

/// Appends one line to known_hosts, creating the file (and its directory) if needed.
fn append(file: &Path, line: &str) -> Result<()> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let needs_newline = std::fs::read(file)
        .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
        .unwrap_or(false);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .with_context(|| format!("opening {}", file.display()))?;
    let text = format!("{}{line}\n", if needs_newline { "\n" } else { "" });
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .with_context(|| format!("adding the host key to {}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_look_like_openssh() {
        // SHA-256 of the key blob, base64 without padding.
        let fp = fingerprint(b"abc");
        assert_eq!(fp, "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0");
    }

    #[test]
    fn patterns_are_port_aware() {
        assert_eq!(pattern("sftp.example.com", 22), "sftp.example.com");
        assert_eq!(pattern("127.0.0.1", 2222), "[127.0.0.1]:2222");
    }

    #[test]
    fn entries_skip_comments_and_markers() {
        let text = "# c\n@cert-authority *.x ssh-ed25519 AAAA\n[h]:2 ssh-ed25519 KEY comment\n\n";
        let got: Vec<_> = entries(text).collect();
        assert_eq!(got, vec![("[h]:2", "ssh-ed25519", "KEY")]);
    }
}
