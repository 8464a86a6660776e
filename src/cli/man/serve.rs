//! The extra sections of `reportctl-serve(1)`: running under systemd and behind a
//! reverse proxy (docs/serve.md says the same, with more).

/// A block of a man page section: a paragraph, or an example shown as is.
pub enum Block {
    Text(&'static str),
    Example(&'static str),
}

use Block::*;

pub const SECTIONS: &[(&str, &[Block])] = &[
    (
        "PICKUP API",
        &[
            Text("GET /reports and GET /reports/{id} need Authorization: Bearer KEY or X-API-Key: KEY (serve.api_key); each report has a links array of {type, url, expires, file, bytes, rows, sha256, from, to, generated, available_until}. 401 without the key, 404 for an unknown id."),
            Text("GET /download/{id}/{type}?expires=UNIX&sig=HEX is a link's url: sig is the hex HMAC-SHA256, keyed with serve.link_secret, of \"GET\\n/download/{id}/{type}\\n{expires}\". 200 with the current file of that type, 403 when the link was tampered with, 410 once it expired (ask GET /reports/{id} again), 404 when no current file is left."),
            Text("GET /campaign_reports/rest_api/{app_id}/{filename} (the app download endpoint, for naming = \"dated-zip\" destinations with an app_id): Basic auth with the app id and its api_key, and Signature: hex(sha256(app_id|filename|signature_secret)). In order: 400 for an unknown app; 401 with an empty body for missing or wrong credentials or signature; 400 for a malformed file name, a file older than keep_days or no such file; else 200 with the zip."),
            Text("Errors have the JSON body {\"error\":{\"attribute\":...,\"message\":...,\"type\":\"BAD REQUEST\",\"request_id\":...}}; every response has an X-Request-Id header, which the request's log line shows too."),
        ],
    ),
    (
        "RUNNING UNDER SYSTEMD",
        &[
            Text("run-due writes the pickup store and serve reads it: run both as one user, or give the store's group read access. Secrets can come from systemd credentials, e.g. api_key = { file = \"/run/credentials/reportctl-serve.service/api_key\" }. Give TimeoutStopSec more than shutdown_grace_seconds, so that downloads in flight finish on systemctl stop."),
            Example("[Unit]\nDescription=reportctl pickup API\nAfter=network-online.target\nWants=network-online.target\n\n[Service]\nType=exec\nUser=reportctl\nGroup=reportctl\nExecStart=/usr/local/bin/reportctl --config /srv/reports/reports.toml serve\nLoadCredential=api_key:/etc/reportctl/api_key\nLoadCredential=link_secret:/etc/reportctl/link_secret\nKillSignal=SIGTERM\nTimeoutStopSec=40\nRestart=on-failure\nNoNewPrivileges=yes\nProtectSystem=strict\nProtectHome=yes\nPrivateTmp=yes\nReadOnlyPaths=/srv/reports\nLimitNOFILE=65536\n\n[Install]\nWantedBy=multi-user.target"),
        ],
    ),
    (
        "BEHIND A REVERSE PROXY",
        &[
            Text("Keep serve.listen on 127.0.0.1, terminate TLS in the proxy and set serve.public_url to the address clients use, so that links point there. A path prefix stripped by the proxy works too: links are signed over the path serve sees. Links carry their signature in the query string: log the path only. serve logs the proxy's address as the client, and counts every connection as the proxy's: set serve.max_connections_per_client to serve.max_connections and limit clients in the proxy."),
            Example("log_format pickup '$remote_addr [$time_local] \"$request_method $uri\" $status';\n\nserver {\n    listen 443 ssl;\n    server_name reports.example.com;\n    access_log /var/log/nginx/reports.log pickup;\n    client_max_body_size 16k;\n    location / {\n        proxy_pass http://127.0.0.1:8080;\n        proxy_http_version 1.1;\n        proxy_set_header Connection \"\";\n        proxy_buffering off;\n        proxy_read_timeout 300s;\n    }\n}"),
        ],
    ),
];
