//! Checking a `kind = "sftp"` destination: the server, its host key, one way to log in
//! and the timeouts.

use std::ops::Range;

use crate::config::check::Checker;
use crate::config::diag::Subject;
use crate::config::limits;
use crate::config::model::*;
use crate::config::raw::RawSftpDest;

impl Checker<'_> {
    pub(super) fn sftp_dest(
        &mut self,
        r: &RawSftpDest,
        s: &Subject,
        span: &Range<usize>,
    ) -> DestinationKind {
        let host = self.required(&r.host, s, "host", span, "the SFTP server's host name");
        let user = self.required(
            &r.user,
            s,
            "user",
            span,
            "the login name on the SFTP server",
        );
        let path = self.required(
            &r.path,
            s,
            "path",
            span,
            "the remote directory the files go to",
        );
        let accept_new = r.accept_new_host_key.as_ref().is_some_and(|a| *a.get_ref());
        let known_hosts = match &r.known_hosts {
            // Trusting new keys creates the file on first use.
            Some(k) if accept_new => self.path(k.get_ref()),
            Some(k) => self.existing_path(k, s, "known_hosts"),
            None => self.path(limits::DEFAULT_KNOWN_HOSTS),
        };
        let agent = r.agent.as_ref().is_some_and(|a| *a.get_ref());
        let password = self.secret(&r.password, s, "password");
        let passphrase = self.secret(&r.key_passphrase, s, "key_passphrase");
        let key_file = r
            .key_file
            .as_ref()
            .map(|k| self.existing_path(k, s, "key_file"));
        let ways = usize::from(key_file.is_some())
            + usize::from(agent)
            + usize::from(r.password.is_some());
        if ways != 1 {
            self.err(span.clone(), s, "key_file", "give exactly one way to log in: `key_file` (with optional `key_passphrase`), `agent = true`, or `password`");
        }
        if r.key_passphrase.is_some() && key_file.is_none() {
            self.err(
                span.clone(),
                s,
                "key_passphrase",
                "`key_passphrase` goes with `key_file`",
            );
        }
        let auth = match (key_file, agent, password) {
            (Some(file), _, _) => SftpAuth::Key { file, passphrase },
            (None, true, _) => SftpAuth::Agent,
            (None, false, Some(p)) => SftpAuth::Password(p),
            _ => SftpAuth::Agent,
        };
        DestinationKind::Sftp(SftpDest {
            host: host.unwrap_or_default(),
            port: self.limit(&r.port, s, "port", limits::SFTP_PORT) as u16,
            user: user.unwrap_or_default(),
            path: path.unwrap_or_default(),
            known_hosts,
            accept_new_host_key: accept_new,
            auth,
            create_dirs: r.create_dirs.as_ref().is_some_and(|a| *a.get_ref()),
            connect_timeout: self.duration(
                &r.connect_timeout_seconds,
                s,
                "connect_timeout_seconds",
                limits::SFTP_CONNECT_TIMEOUT,
            ),
            io_timeout: self.duration(
                &r.io_timeout_seconds,
                s,
                "io_timeout_seconds",
                limits::SFTP_IO_TIMEOUT,
            ),
        })
    }
}
