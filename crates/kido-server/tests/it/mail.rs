//! Loopback receivers for what connectors send: a small SMTP server (EHLO, AUTH, MAIL,
//! RCPT, DATA) and an HTTP endpoint that records JSON posts.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct Mail {
    pub auth: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

impl Mail {
    /// A header's value (encoded words decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        let (head, _) = self.data.split_once("\r\n\r\n")?;
        let prefix = format!("{}:", name.to_ascii_lowercase());
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut()
                && line.starts_with([' ', '\t'])
            {
                v.push_str(line.trim_start());
                continue;
            }
            if value.is_some() {
                break;
            }
            if line.to_ascii_lowercase().starts_with(&prefix) {
                value = Some(line[prefix.len()..].trim().to_owned());
            }
        }
        value.map(|v| decode_words(&v))
    }

    /// The body, transfer encoding undone.
    pub fn body(&self) -> String {
        let (_, body) = self.data.split_once("\r\n\r\n").unwrap_or(("", &self.data));
        let encoding = self.header("Content-Transfer-Encoding").unwrap_or_default().to_ascii_lowercase();
        match encoding.as_str() {
            "base64" => {
                let clean: String = body.chars().filter(|c| !c.is_whitespace()).collect();
                String::from_utf8(STANDARD.decode(clean).unwrap()).unwrap()
            }
            "quoted-printable" => quoted_printable(body),
            _ => body.to_owned(),
        }
    }

    /// The first run of six digits in the body: the code.
    pub fn code(&self) -> String {
        six_digits(&self.body()).unwrap_or_else(|| panic!("no code in {}", self.body()))
    }
}

fn six_digits(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(5)).find_map(|i| {
        let run = &bytes[i..i + 6];
        let bounded =
            (i == 0 || !bytes[i - 1].is_ascii_digit()) && bytes.get(i + 6).is_none_or(|b| !b.is_ascii_digit());
        (bounded && run.iter().all(u8::is_ascii_digit)).then(|| String::from_utf8(run.to_vec()).unwrap())
    })
}

fn decode_words(v: &str) -> String {
    let mut out = String::new();
    for part in v.split_whitespace() {
        if let Some(inner) = part.strip_prefix("=?").and_then(|p| p.strip_suffix("?=")) {
            let mut pieces = inner.splitn(3, '?');
            let (_, enc, text) = (pieces.next(), pieces.next().unwrap_or(""), pieces.next().unwrap_or(""));
            if enc.eq_ignore_ascii_case("b") {
                out.push_str(&String::from_utf8(STANDARD.decode(text).unwrap()).unwrap());
            } else {
                out.push_str(&quoted_printable(&text.replace('_', " ")));
            }
        } else {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(part);
        }
    }
    out
}

fn quoted_printable(s: &str) -> String {
    let s = s.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let raw = s.as_bytes();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'='
            && i + 2 < raw.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&raw[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            bytes.push(b);
            i += 3;
            continue;
        }
        bytes.push(raw[i]);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A loopback SMTP server that accepts every message and any credentials.
pub struct SmtpServer {
    pub port: u16,
    received: mpsc::UnboundedReceiver<Mail>,
}

impl SmtpServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, received) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let _ = session(stream, tx).await;
                });
            }
        });
        Self { port, received }
    }

    /// The next message, waiting up to ten seconds.
    pub async fn next(&mut self) -> Mail {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("no mail arrived within 10 s")
            .unwrap()
    }

    /// Asserts that nothing arrives within `wait`.
    pub async fn assert_quiet(&mut self, wait: Duration) {
        if let Ok(Some(mail)) = tokio::time::timeout(wait, self.received.recv()).await {
            panic!("unexpected mail to {:?}", mail.to);
        }
    }

    /// The SMTP connector config pointing at this server.
    pub fn config(&self) -> Value {
        let template = |usage: &str, subject: &str| {
            serde_json::json!({"usageType": usage, "contentType": "text/plain", "subject": subject,
                               "content": format!("{usage} code: {{{{code}}}} ({{{{locale}}}})")})
        };
        serde_json::json!({
            "host": "127.0.0.1",
            "port": self.port,
            "auth": {"user": "kido", "pass": "smtp-secret"},
            "fromEmail": "Kido <noreply@kido.test>",
            "templates": [
                template("SignIn", "Sign-in code"),
                template("Register", "Registration code"),
                template("ForgotPassword", "Reset code"),
                template("Generic", "Your code"),
            ]
        })
    }
}

async fn session(stream: tokio::net::TcpStream, tx: mpsc::UnboundedSender<Mail>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 kido-test ESMTP\r\n").await?;
    let mut mail = Mail { auth: None, from: String::new(), to: Vec::new(), data: String::new() };
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            write.write_all(b"250-kido-test\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n").await?;
        } else if upper.starts_with("AUTH PLAIN") {
            let creds = command.split_whitespace().nth(2).unwrap_or_default();
            let decoded = String::from_utf8(STANDARD.decode(creds).unwrap_or_default()).unwrap_or_default();
            mail.auth = Some(decoded.trim_start_matches('\0').replace('\0', ":"));
            write.write_all(b"235 2.7.0 Authentication successful\r\n").await?;
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = command[10..].trim().to_owned();
            write.write_all(b"250 OK\r\n").await?;
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(command[8..].trim().trim_matches(['<', '>']).to_owned());
            write.write_all(b"250 OK\r\n").await?;
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            mail.data = data;
            let _ = tx.send(mail.clone());
            mail.to.clear();
            write.write_all(b"250 OK queued\r\n").await?;
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            write.write_all(b"250 OK\r\n").await?;
        }
    }
}

/// A loopback HTTP endpoint that records each POSTed JSON body and its Authorization.
pub struct HttpReceiver {
    pub url: String,
    received: mpsc::UnboundedReceiver<(Option<String>, Value)>,
    pub fail: Arc<Mutex<bool>>,
}

impl HttpReceiver {
    pub async fn start() -> Self {
        use axum::extract::State;
        use axum::http::{HeaderMap, StatusCode};
        type Shared = (mpsc::UnboundedSender<(Option<String>, Value)>, Arc<Mutex<bool>>);
        async fn receive(State((tx, fail)): State<Shared>, headers: HeaderMap, body: axum::Json<Value>) -> StatusCode {
            if *fail.lock().unwrap() {
                return StatusCode::SERVICE_UNAVAILABLE;
            }
            let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned());
            let _ = tx.send((auth, body.0));
            StatusCode::NO_CONTENT
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/messages", listener.local_addr().unwrap());
        let (tx, received) = mpsc::unbounded_channel();
        let fail = Arc::new(Mutex::new(false));
        let app = axum::Router::new().route("/messages", axum::routing::post(receive)).with_state((tx, fail.clone()));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, received, fail }
    }

    pub async fn next(&mut self) -> (Option<String>, Value) {
        tokio::time::timeout(Duration::from_secs(10), self.received.recv())
            .await
            .expect("no message arrived within 10 s")
            .unwrap()
    }
}
